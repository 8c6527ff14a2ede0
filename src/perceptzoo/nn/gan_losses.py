"""The adversarial losses and update helpers every GAN family shares (`gans`, and any other family
that trains a generator against a discriminator): one definition instead of one per family.

Losses, in the notation of Goodfellow et al. (2014) with D(x) = sigmoid(l(x)) for the logit l:

    V(G, D) = E_x log D(x) + E_z log(1 - D(G(z)))                          (eq. 1)
    discriminator:            minimise -V        = softplus(-l(x)) + softplus(l(G(z)))
    minimax generator:        minimise  E log(1 - D(G(z))) = -softplus(l(G(z)))
    non-saturating generator: minimise -E log D(G(z))      =  softplus(-l(G(z)))  (sec. 3)

The gradient penalty of WGAN-GP (Gulrajani et al. 2017, eq. 3) is
lambda E_xhat (||grad f(xhat)||_2 - 1)^2 on interpolates xhat = eps x + (1 - eps) G(z),
eps ~ U[0, 1] per example.

Updates: `frozen(D)` turns a network's gradients off for the other network's step, `step`
is one optimiser update (gradients averaged over the ranks of a torchrun job first, since the
Trainer wraps only `loss` models in DistributedDataParallel), `update_ema` the generator
average of Karras et al. (2018 sec. 4.1, 2019), `finite` the check that stops a diverged run.

    >>> import torch
    >>> from perceptzoo.nn.gan_losses import value_function
    >>> round(float(value_function(torch.zeros(4), torch.zeros(4))), 4)  # D = 1/2: -log 4
    -1.3863
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(G, D): -E log D(x) - E log(1 - D(G(z))) from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


GENERATOR_LOSSES = ("minimax", "non_saturating")


def check_generator_loss(kind: str) -> None:
    """A UserError for a generator loss name that is not one of GENERATOR_LOSSES."""
    if kind not in GENERATOR_LOSSES:
        raise UserError(f"unknown generator loss {kind!r}; use minimax or non_saturating")


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's loss: `minimax` E log(1 - D(G(z))) or `non_saturating` -E log D(G(z))."""
    check_generator_loss(kind)
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(G, D) = E log D(x) + E log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""
    return -discriminator_loss(real_logits, fake_logits)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *,
                     eps: torch.Tensor | None = None,
                     generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(E (||grad f(xhat)|| - 1)^2, mean ||grad f(xhat)||) on xhat = eps x + (1 - eps) x~.

    real, fake: (B, ...); eps: (B,) in [0, 1] (drawn when None). The penalty keeps its graph
    (create_graph) so it trains the critic.
    """
    if eps is None:
        eps = torch.rand(real.shape[0], generator=generator, device=real.device)
    eps = eps.to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(dim=1)
    return ((norm - 1) ** 2).mean(), norm.detach().mean()


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor) -> torch.Tensor:
    """R1 = E ||grad_x l(x)||^2 on real inputs (Mescheder, Geiger & Nowozin 2018, eq. 9; weighted
    gamma / 2 by the caller). `real_inputs` must require grad and `real_logits` come from them;
    the graph is kept (create_graph) so the penalty trains D."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Inside the block `module`'s parameters take no gradient (the other network's step)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def average_gradients(module: nn.Module) -> None:
    """Average `module`'s gradients over the ranks of a torchrun job (no-op in one process)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
         module: nn.Module | None = None) -> None:
    """zero_grad, backward, average `module`'s gradients over ranks (when given), step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if module is not None:
        average_gradients(module)
    optimizer.step()


def finite(metrics: dict[str, torch.Tensor | float], where: str) -> dict[str, float]:
    """The metrics as floats; a RuntimeError naming the ones that are not finite."""
    out = {k: float(v) for k, v in metrics.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"{where}: {bad} not finite; lower the learning rate (train.lr)")
    return out


def ema_decay_with_rampup(decay: float, steps_done: int, rampup: float = 0.05) -> float:
    """`decay`, or less early in training: the average's half-life (in steps) is at most
    `rampup` times the steps done (StyleGAN2-ADA's ema_rampup), so a short run's average is not
    dominated by its first, untrained steps. rampup <= 0 or decay <= 0: `decay` as it is."""
    if decay <= 0 or rampup <= 0:
        return decay
    half_life = min(math.log(0.5) / math.log(decay), rampup * steps_done)
    return 0.5 ** (1 / max(half_life, 1e-8))


@torch.no_grad()
def update_ema(ema: nn.Module, module: nn.Module, decay: float) -> None:
    """ema <- decay ema + (1 - decay) module, parameters and buffers (the generator average
    of Karras et al. 2018 sec. 4.1 and 2019)."""
    for e, p in zip(ema.parameters(), module.parameters()):
        e.lerp_(p, 1 - decay)
    for e, b in zip(ema.buffers(), module.buffers()):
        e.copy_(b)
