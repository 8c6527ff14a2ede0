"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein, ICLR 2017).

The generator is trained against the discriminator it would face after K more discriminator
updates, which lets it anticipate D's response and spread over the modes instead of collapsing:

    theta_D^0 = theta_D,   theta_D^{k+1} = theta_D^k + eta^k d f(theta_G, theta_D^k) / d theta_D^k
    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D))                  (eqs. 4-5)

and theta_G descends d f_K / d theta_G, the gradient flowing through all K updates
(create_graph). Both terms of f count: E log D(x; theta_D^K) depends on theta_G through
theta_D^K, and without it (only the fake term, as an earlier version here had it) the unrolled
GAN collapsed like the plain GAN (`surrogate_loss`). The real D still takes ordinary steps on f.

The K updates are Adam steps (the paper's appendix trains with Adam, and an SGD step of a small
lr would hardly move D) that start from the real D optimiser's moments, written
differentiably. They act on functional copies of D's parameters through
`torch.func.functional_call`, so the real D's parameters, gradients and optimiser state are
untouched by the unrolling (tested in tests/gans/test_unrolled_gan.py).

The 2D setting (the authors' notebook, github.com/poolio/unrolled_gan; the paper's appendix
was not reachable to verify): z ~ N(0, I_256), G an MLP with two hidden layers of 128, D on the
input scaled by 1/4, the minimax ("saturating") losses, Adam beta1 = 0.5, batch 512, K = 5,
D lr 1e-4, G lr 1e-3, 25,000 steps; each unrolled step is the optimiser's own update (moments
included) on the same minibatch. Our default trains both networks at lr 1e-3
(`train_defaults`): within the 1,000 steps a CPU affords, D at 1e-4 barely moves in 5 unrolled
steps and K = 5 collapsed like K = 0; at 1e-3 K = 5 covers all 8 ring modes by step 300 (3
seeds) while K = 0 sits on one. On the 25-Gaussian grid (std 0.1, spacing 1) 1,000 steps
left a blob over the square, no better than one Gaussian fitted to the data (high-quality
fraction 0.24 vs 0.25, both covering 25/25 modes); it sharpens slowly (0.37 at 3,000 steps),
which is why the grid recipe trains 3,000 (measurements in bench/recipes/gans.py).

On images `arch="conv"` takes DCGAN's networks (`common.conv_generator`, `conv_discriminator`),
as Metz et al.'s MNIST experiments use convolutional nets rather than MLPs, with no
normalisation in D. Measured on MNIST (batch 64, lr 2e-4, K = 5, seed 0): with DCGAN's
batch-norm D, G's samples shrank to one flat grey (their std 0.009 at step 240, D(G(z)) 0.08;
a batch of near-identical fakes normalises to the same features whatever they show, and the
unrolled gradient drives G there), and with a layer-norm D G kept a grey background at step
1,500; without normalisation D stays at D(G(z)) ~ 0.6 and G's samples spread (std 0.33 at step
240). The unrolled steps run D on copies of its buffers (`_functional_d`), so a D with running
statistics would keep them as they were.

    >>> import perceptzoo
    >>> model = perceptzoo.build("unrolled_gan", dataset="toy2d:8gaussians", unroll_steps=2)
    >>> model.sample(4).shape
    torch.Size([4, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.gans.common import (
    GANBase,
    average_gradients,
    check_generator_loss,
    conv_discriminator,
    conv_generator,
    dcgan_init,
    discriminator_loss,
    finite,
    generator_loss,
    mlp_discriminator,
    mlp_generator,
    step,
)


@dataclass
class UnrolledGANConfig:
    data_shape: tuple[int, ...] = (2,)
    num_levels: int | None = None
    latent_dim: int = 64
    hidden_g: tuple[int, ...] = (128, 128)
    hidden_d: tuple[int, ...] = (128,)
    input_scale: float = 0.25
    generator_loss: str = "minimax"
    """minimax (as Metz et al.) | non_saturating"""
    unroll_steps: int = 5
    """K, discriminator updates the generator looks through (0: a plain GAN)"""
    beta1: float = 0.5
    beta2: float = 0.999
    d_lr_scale: float = 1.0
    arch: str = "mlp"
    """mlp | conv (images: DCGAN's generator, its discriminator without normalisation)"""
    channels: int = 32
    """conv: the DCGAN width (hidden_g, hidden_d and input_scale are the MLPs')"""

    @classmethod
    def tiny(cls) -> UnrolledGANConfig:
        return cls(latent_dim=8, hidden_g=(16,), hidden_d=(16,), unroll_steps=2)


@register("unrolled_gan", UnrolledGANConfig, family="gans", runner="trainer",
          default_dataset="toy2d:8gaussians",
          train_defaults={"lr": 1e-3, "batch_size": 256, "schedule": "constant",
                          "grad_clip": None})
class UnrolledGAN(GANBase):
    def __init__(self, cfg: UnrolledGANConfig):
        super().__init__()
        if cfg.unroll_steps < 0:
            raise UserError(f"unroll_steps must be >= 0, got {cfg.unroll_steps}")
        check_generator_loss(cfg.generator_loss)  # no tensor op: builds are timed on meta
        self.cfg = cfg
        shape = tuple(cfg.data_shape)
        if cfg.arch == "conv":
            self.generator = conv_generator(cfg.latent_dim, cfg.channels, shape)
            self.discriminator = conv_discriminator(shape, cfg.channels, "none")
            dcgan_init(self)
        elif cfg.arch == "mlp":
            self.generator = mlp_generator(cfg.latent_dim, tuple(cfg.hidden_g), shape,
                                           len(shape) == 3)
            self.discriminator = mlp_discriminator(shape, tuple(cfg.hidden_d), cfg.input_scale)
        else:
            raise UserError(f"unknown arch {cfg.arch!r}; use mlp or conv (images)")

    def unrolled_parameters(self, real: torch.Tensor, fake: torch.Tensor,
                            opt_d: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """theta_D^K as a differentiable function of theta_G (through `fake`): K Adam steps on
        functional copies that start from the real D's parameters and Adam moments, each on
        the same minibatch (real, fake), as the authors' reference implementation unrolls its
        optimiser's update graph K times (github.com/poolio/unrolled_gan)."""
        names = [n for n, _ in self.discriminator.named_parameters()]
        params = dict(self.discriminator.named_parameters())
        group = opt_d.param_groups[0]
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        state = [opt_d.state.get(p, {}) for p in params.values()]
        m = [s["exp_avg"].detach() if "exp_avg" in s else torch.zeros_like(p)
             for s, p in zip(state, params.values())]
        v = [s["exp_avg_sq"].detach() if "exp_avg_sq" in s else torch.zeros_like(p)
             for s, p in zip(state, params.values())]
        t0 = int(state[0]["step"]) if "step" in state[0] else 0
        buffers = {n: b.clone() for n, b in self.discriminator.named_buffers()}
        for k in range(self.cfg.unroll_steps):
            loss = discriminator_loss(self._functional_d(params, real, buffers),
                                      self._functional_d(params, fake, buffers))
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            t = t0 + k + 1
            new = {}
            for i, (name, g) in enumerate(zip(names, grads)):
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
                new[name] = params[name] - lr * m_hat / ((v_hat + 1e-30).sqrt() + eps)
            params = new
        return params

    def _functional_d(self, params: dict[str, torch.Tensor], x: torch.Tensor,
                      buffers: dict[str, torch.Tensor]) -> torch.Tensor:
        """D's logits under `params`, with `buffers` (copies of D's: batch norm's running
        statistics) standing in for its own, so a functional call leaves the real D as it was."""
        return functional_call(self.discriminator, {**params, **buffers}, (x,))

    def surrogate_loss(self, real: torch.Tensor, fake: torch.Tensor,
                       params: dict[str, torch.Tensor]) -> torch.Tensor:
        """G's loss f_K against the discriminator `params` = theta_D^K(theta_G) (eq. 5).

        Both terms of f count: E log D(x; theta_D^K) depends on theta_G through theta_D^K,
        and its gradient is half of what lets G anticipate D's response. With the minimax
        loss this is f = V itself; with the non-saturating one, -E log D(G(z)) replaces
        E log(1 - D(G(z))). At K = 0 the first term is constant in theta_G: the plain GAN.
        """
        buffers = {n: b.clone() for n, b in self.discriminator.named_buffers()}
        real_logits = self._functional_d(params, real, buffers)
        fake_logits = self._functional_d(params, fake, buffers)
        return (generator_loss(fake_logits, self.cfg.generator_loss)
                - F.softplus(-real_logits).mean())

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """One real D step (eq. 6), then one G step on f_K through K unrolled D steps (eq. 5),
        both on the Trainer's batch."""
        opt_g, opt_d = optimizers
        x = self.model_space(batch[0])
        # 1. the real discriminator's step on f (theta_G fixed)
        with torch.no_grad():
            fake = self.generator(self.latent(len(x)))
        real_logits, fake_logits = self.discriminator(x), self.discriminator(fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        step(opt_d, loss_d, self.discriminator)
        # 2. the generator's step on f_K: the gradient flows through theta_D^K(theta_G)
        fake = self.generator(self.latent(len(x)))
        params = dict(self.discriminator.named_parameters())
        if self.cfg.unroll_steps > 0:
            params = self.unrolled_parameters(x, fake, opt_d)
        loss_g = self.surrogate_loss(x, fake, params)
        g_params = list(self.generator.parameters())
        grads = torch.autograd.grad(loss_g, g_params)  # only G's: D's .grad stays as it was
        opt_g.zero_grad(set_to_none=True)
        for p, g in zip(g_params, grads):
            p.grad = g
        average_gradients(self.generator)
        opt_g.step()
        return finite({"loss": loss_d.detach(), "loss_d": loss_d.detach(),
                       "loss_g": loss_g.detach(),
                       "d_real": torch.sigmoid(real_logits).mean().detach(),
                       "d_fake": torch.sigmoid(fake_logits).mean().detach()}, "UnrolledGAN")
