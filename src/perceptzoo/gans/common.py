"""What every GAN in this family shares: data <-> model space, the adversarial losses, the
gradient penalty, the MLP and convolutional networks, and the base class with `sample`.

Losses, in the notation of Goodfellow et al. (2014) with D(x) = sigmoid(l(x)) for the logit l:

    V(G, D) = E_x log D(x) + E_z log(1 - D(G(z)))                          (eq. 1)
    discriminator:            minimise -V        = softplus(-l(x)) + softplus(l(G(z)))
    minimax generator:        minimise  E log(1 - D(G(z))) = -softplus(l(G(z)))
    non-saturating generator: minimise -E log D(G(z))      =  softplus(-l(G(z)))  (sec. 3)

Wasserstein (Arjovsky et al. 2017, eq. 3) with a critic f: the critic minimises
E f(G(z)) - E f(x), the generator minimises -E f(G(z)). The gradient penalty of WGAN-GP
(Gulrajani et al. 2017, eq. 3) is lambda E_xhat (||grad f(xhat)||_2 - 1)^2 on interpolates
xhat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per example.

Every update is a plain optimiser step on one network with the other frozen (its parameters'
`requires_grad` off for the other's step), so a discriminator step changes no generator
parameter and vice versa (tests/gans/test_gan.py). Under `torchrun` each rank averages its
gradients over ranks (`average_gradients`) before stepping: the Trainer wraps only `loss`
models in DistributedDataParallel, so the GANs synchronise themselves.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp


# -- data space <-> model space ------------------------------------------------------------------
def to_model_space(x: torch.Tensor, num_levels: int | None) -> torch.Tensor:
    """Integer levels 0..L-1 -> floats in [-1, 1]; continuous data (2D toys) unchanged."""
    if num_levels is None:
        return x.float()
    return x.float() / (num_levels - 1) * 2 - 1


def to_data_space(x: torch.Tensor, num_levels: int | None) -> torch.Tensor:
    """[-1, 1] -> integer levels 0..L-1 (as floats); continuous data unchanged."""
    if num_levels is None:
        return x
    return ((x + 1) / 2 * (num_levels - 1)).round().clamp(0, num_levels - 1)


# -- losses ------------------------------------------------------------------------------------
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(G, D): -E log D(x) - E log(1 - D(G(z))) from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str) -> torch.Tensor:
    """The generator's loss: `minimax` E log(1 - D(G(z))) or `non_saturating` -E log D(G(z))."""
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    raise UserError(f"unknown generator loss {kind!r}; use minimax or non_saturating")


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(G, D) = E log D(x) + E log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""
    return -discriminator_loss(real_logits, fake_logits)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *,
                     eps: torch.Tensor | None = None,
                     generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(E (||grad f(xhat)|| - 1)^2, mean ||grad f(xhat)||) on xhat = eps x + (1 - eps) x~.

    real, fake: (B, ...) in model space; eps: (B,) in [0, 1] (drawn when None). The penalty
    keeps its graph (create_graph) so it trains the critic.
    """
    if eps is None:
        eps = torch.rand(real.shape[0], generator=generator, device=real.device)
    eps = eps.to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(dim=1)
    return ((norm - 1) ** 2).mean(), norm.detach().mean()


# -- helpers of the update ------------------------------------------------------------------------
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


def critic_batches(x: torch.Tensor, k: int) -> list[torch.Tensor]:
    """The Trainer's batch split into k minibatches, one per discriminator step (Goodfellow
    et al.'s Algorithm 1 draws a fresh minibatch for each of the k steps); a batch smaller
    than k is reused whole."""
    if k < 1:
        raise UserError(f"the number of discriminator steps per generator step must be >= 1, "
                        f"got {k}; use 1 (alternating updates) or more")
    return list(x.tensor_split(k)) if len(x) >= k else [x] * k


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise UserError(f"{name} must be positive, got {value}")


# -- networks ----------------------------------------------------------------------------------
def mlp_generator(latent_dim: int, hidden: tuple[int, ...], data_shape: tuple[int, ...],
                  images: bool) -> nn.Module:
    """z (B, Q) -> x (B, *data_shape); tanh output for images in [-1, 1], linear for points."""
    net = mlp([latent_dim, *hidden, math.prod(data_shape)],
              activation=nn.ReLU, out_activation=nn.Tanh if images else None)
    return nn.Sequential(net, nn.Unflatten(1, tuple(data_shape)))


def mlp_discriminator(data_shape: tuple[int, ...], hidden: tuple[int, ...],
                      input_scale: float = 1.0) -> nn.Module:
    """x (B, *data_shape) -> logit (B,), LeakyReLU(0.2) hidden layers; `input_scale`
    multiplies the input first (Metz et al. scale the 2D toys by 1/4)."""
    net = mlp([math.prod(data_shape), *hidden, 1], activation=lambda: nn.LeakyReLU(0.2))
    return nn.Sequential(Scale(input_scale), nn.Flatten(1), net, nn.Flatten(0))


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def check_image_shape(data_shape: tuple[int, ...], who: str) -> tuple[int, int, int]:
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] % 4:
        raise UserError(f"{who} needs square images with a side divisible by 4 (8x8 digits, "
                        f"28x28 MNIST), got shape {tuple(data_shape)}")
    return tuple(data_shape)  # type: ignore[return-value]


def conv_generator(latent_dim: int, channels: int, data_shape: tuple[int, ...],
                   batch_norm: bool = True) -> nn.Module:
    """DCGAN generator: z (B, Q) -> (B, C, H, W) in [-1, 1] for H = W = 4s.

    A fractionally strided convolution projects z to s x s x 2ch (the DCGAN 'project and
    reshape' as a convolution, so no fully connected hidden layer), two more double the side
    (s -> 2s -> 4s); batch norm and ReLU between, tanh at the output (Radford et al. 2016, sec. 3).
    """
    c, h, _ = check_image_shape(data_shape, "a convolutional generator")
    s = h // 4
    norm = nn.BatchNorm2d if batch_norm else (lambda n: nn.Identity())
    return nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, 2 * channels, s, 1, 0, bias=False),  # (B, 2ch, s, s)
        norm(2 * channels), nn.ReLU(True),
        nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),    # (B, ch, 2s, 2s)
        norm(channels), nn.ReLU(True),
        nn.ConvTranspose2d(channels, c, 4, 2, 1, bias=False),               # (B, C, 4s, 4s)
        nn.Tanh(),
    )


def conv_discriminator(data_shape: tuple[int, ...], channels: int, norm: str = "batch"
                       ) -> nn.Module:
    """DCGAN discriminator: (B, C, 4s, 4s) -> logit (B,). Strided convolutions halve the side
    twice, LeakyReLU(0.2), batch norm on all but the input layer; the last convolution covers
    the s x s map (no fully connected layer). norm: batch | layer | none (a WGAN-GP critic must
    not use batch norm: the penalty is per example, Gulrajani et al. sec. 4)."""
    c, h, _ = check_image_shape(data_shape, "a convolutional discriminator")
    s = h // 4
    if norm == "batch":
        second: nn.Module = nn.BatchNorm2d(2 * channels)
    elif norm == "layer":
        second = nn.GroupNorm(1, 2 * channels)
    elif norm == "none":
        second = nn.Identity()
    else:
        raise UserError(f"unknown discriminator norm {norm!r}; use batch, layer or none")
    return nn.Sequential(
        nn.Conv2d(c, channels, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # (B, ch, 2s, 2s)
        nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=False), second,          # (B, 2ch, s, s)
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(2 * channels, 1, s, 1, 0, bias=False),                        # (B, 1, 1, 1)
        nn.Flatten(0),
    )


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. (2016) sec. 4: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# -- the base every GAN here builds on -----------------------------------------------------------
class GANBase(nn.Module):
    """A generator `self.generator` (z -> model space) and a discriminator or critic
    `self.discriminator` (model space -> logit or score). Subclasses write `train_step`.

    Config fields used here: data_shape, num_levels, latent_dim, lr, beta1, beta2.
    """

    cfg: object

    def latent(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), (num_samples, latent_dim) on the model's device."""
        device = next(self.generator.parameters()).device
        return torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=device)

    def model_space(self, x: torch.Tensor) -> torch.Tensor:
        return to_model_space(x, self.cfg.num_levels)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G(z) in model space."""
        return self.generator(z)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """(num_samples, *data_shape) in data space: grey levels 0..L-1 as floats for images,
        points for 2D toys."""
        if cond is not None:
            raise UserError(f"{type(self).__name__} is unconditional; sample without cond")
        return to_data_space(self.generate(self.latent(num_samples, generator)),
                             self.cfg.num_levels)

    def check_data(self, info) -> None:
        if tuple(info.data_shape) != tuple(self.cfg.data_shape):
            raise UserError(f"this {type(self).__name__} was built for data of shape "
                            f"{tuple(self.cfg.data_shape)}, not {info.name} "
                            f"{tuple(info.data_shape)}; train it on that dataset")
        if info.num_levels != self.cfg.num_levels:
            raise UserError(f"this {type(self).__name__} was built for {self.cfg.num_levels} "
                            f"levels, {info.name} has {info.num_levels}")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[opt_g, opt_d]: Adam with the paper's betas; the D learning rate is train lr times
        the config's `d_lr_scale` when it has one."""
        betas = (self.cfg.beta1, self.cfg.beta2)
        d_lr = train_cfg.lr * getattr(self.cfg, "d_lr_scale", 1.0)
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(), lr=d_lr, betas=betas)]

    @property
    def images(self) -> bool:
        return len(self.cfg.data_shape) == 3


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, module: nn.Module) -> None:
    """zero_grad, backward, average over ranks, step: one network's update."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(module)
    optimizer.step()


def finite(metrics: dict[str, torch.Tensor | float], where: str) -> dict[str, float]:
    out = {k: float(v) for k, v in metrics.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"{where}: {bad} not finite; lower the learning rate (train.lr)")
    return out


# -- shared by the progressive and style-based generators -----------------------------------------
class MinibatchStd(nn.Module):
    """Karras et al. (2018) sec. 3: append the standard deviation of each feature over the
    minibatch (groups of `group_size`), averaged to one value per group, as an extra channel,
    so D can see a batch's variety. (B, C, H, W) -> (B, C + 1, H, W)."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = min(self.group_size, b)
        while b % g:  # a group size that divides the batch
            g -= 1
        y = x.reshape(g, b // g, c, h, w)
        std = (y.var(0, unbiased=False) + 1e-8).sqrt()          # (B/g, C, H, W)
        std = std.mean(dim=(1, 2, 3))                            # (B/g,)
        std = std.repeat(g).reshape(b, 1, 1, 1).expand(b, 1, h, w)
        return torch.cat([x, std], 1)


@torch.no_grad()
def update_ema(ema: nn.Module, module: nn.Module, decay: float) -> None:
    """ema <- decay ema + (1 - decay) module, parameters and buffers (the generator average
    of Karras et al. 2018 sec. 4.1 and 2019)."""
    for e, p in zip(ema.parameters(), module.parameters()):
        e.lerp_(p, 1 - decay)
    for e, b in zip(ema.buffers(), module.buffers()):
        e.copy_(b)
