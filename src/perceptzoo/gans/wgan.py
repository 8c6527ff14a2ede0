"""WGAN (Arjovsky, Chintala & Bottou, ICML 2017) and WGAN-GP (Gulrajani et al., NeurIPS 2017).

A critic f (no sigmoid) estimates the Wasserstein-1 distance through its dual form

    W(p_d, p_m) = sup_{||f||_L <= 1} E_{x ~ p_d} f(x) - E_{z} f(G(z)),               (WGAN eq. 3)

the critic maximising it over n_critic steps per generator step, the generator minimising
-E f(G(z)). The Lipschitz constraint is enforced either by

- `clip`: weight clipping of every critic parameter to [-c, c] after each step, RMSProp,
  lr 5e-5, c = 0.01, n_critic = 5 (WGAN, Algorithm 1), or
- `gp`: the gradient penalty lambda E_xhat (||grad f(xhat)||_2 - 1)^2 on interpolates
  xhat = eps x + (1 - eps) G(z), eps ~ U[0, 1] (WGAN-GP eq. 3, Algorithm 1: lambda = 10,
  n_critic = 5, Adam lr 1e-4, betas (0, 0.9)); no batch norm in the critic (layer norm
  instead, sec. 4).

The penalty is zero for a 1-Lipschitz linear critic with unit-norm weights and nonzero
otherwise (tests/gans/test_wgan.py). Points (2D toys) use MLPs, images DCGAN-shaped
convolutions.

    >>> import perceptzoo
    >>> critic = perceptzoo.build("wgan_gp", dataset="toy2d:25gaussians")
    >>> critic.sample(2).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.gans.common import (
    GANBase,
    conv_discriminator,
    conv_generator,
    critic_batches,
    dcgan_init,
    finite,
    frozen,
    gradient_penalty,
    mlp_discriminator,
    mlp_generator,
    step,
)


@dataclass
class WGANConfig:
    data_shape: tuple[int, ...] = (2,)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = None
    latent_dim: int = 64
    hidden: tuple[int, ...] = (128, 128)
    """MLP hidden sizes of G and the critic (points)"""
    channels: int = 64
    """conv channels of G and the critic (images)"""
    lipschitz: str = "gp"
    """gp (gradient penalty) | clip (weight clipping)"""
    n_critic: int = 5
    """critic steps per generator step"""
    gp_weight: float = 10.0
    """lambda of the gradient penalty"""
    clip_value: float = 0.01
    """c of weight clipping"""
    beta1: float = 0.0
    beta2: float = 0.9
    d_lr_scale: float = 1.0

    @classmethod
    def tiny(cls) -> WGANConfig:
        return cls(latent_dim=8, hidden=(16,), channels=8, n_critic=2)


def check_config(cfg: WGANConfig) -> None:
    if cfg.n_critic < 1:
        raise UserError(f"n_critic must be >= 1 (critic steps per generator step), got "
                        f"{cfg.n_critic}; the papers use 5")
    if cfg.lipschitz not in ("gp", "clip"):
        raise UserError(f"lipschitz must be gp or clip, got {cfg.lipschitz!r}")
    if cfg.gp_weight < 0 or cfg.clip_value <= 0:
        raise UserError("gp_weight must be >= 0 and clip_value > 0")


class WGAN(GANBase):
    def __init__(self, cfg: WGANConfig):
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        shape = tuple(cfg.data_shape)
        if len(shape) == 3:
            self.generator = conv_generator(cfg.latent_dim, cfg.channels, shape)
            self.discriminator = conv_discriminator(
                shape, cfg.channels, norm="layer" if cfg.lipschitz == "gp" else "batch")
            dcgan_init(self)
        else:
            self.generator = mlp_generator(cfg.latent_dim, tuple(cfg.hidden), shape, False)
            self.discriminator = mlp_discriminator(shape, tuple(cfg.hidden))
        if cfg.lipschitz == "clip":  # the critic starts inside the clipping box
            self.clip_critic()

    def clip_critic(self) -> None:
        with torch.no_grad():
            for p in self.discriminator.parameters():
                p.clamp_(-self.cfg.clip_value, self.cfg.clip_value)

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        if self.cfg.lipschitz == "clip":  # WGAN Algorithm 1: RMSProp (momentum hurt, sec. 3)
            d_lr = train_cfg.lr * self.cfg.d_lr_scale
            return [torch.optim.RMSprop(self.generator.parameters(), lr=train_cfg.lr),
                    torch.optim.RMSprop(self.discriminator.parameters(), lr=d_lr)]
        return super().configure_optimizers(train_cfg)

    def critic_step(self, x_real: torch.Tensor, opt_d: torch.optim.Optimizer
                    ) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            fake = self.generator(self.latent(len(x_real)))
        f_real, f_fake = self.discriminator(x_real), self.discriminator(fake)
        distance = f_real.mean() - f_fake.mean()  # the critic's estimate of W
        loss = -distance
        metrics = {"wasserstein_estimate": distance.detach()}
        if self.cfg.lipschitz == "gp":
            penalty, norm = gradient_penalty(self.discriminator, x_real, fake)
            loss = loss + self.cfg.gp_weight * penalty
            metrics.update(gradient_penalty=penalty.detach(), grad_norm=norm)
        step(opt_d, loss, self.discriminator)
        if self.cfg.lipschitz == "clip":
            self.clip_critic()
        metrics["loss_d"] = loss.detach()
        return metrics

    def generator_step(self, batch_size: int, opt_g: torch.optim.Optimizer
                       ) -> dict[str, torch.Tensor]:
        with frozen(self.discriminator):
            loss = -self.discriminator(self.generator(self.latent(batch_size))).mean()
            step(opt_g, loss, self.generator)
        return {"loss_g": loss.detach()}

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """n_critic critic steps (each on 1/n_critic of the batch), then one generator step."""
        opt_g, opt_d = optimizers
        x = self.model_space(batch[0])
        for chunk in critic_batches(x, self.cfg.n_critic):
            metrics = self.critic_step(chunk, opt_d)
        metrics.update(self.generator_step(len(x) // self.cfg.n_critic or len(x), opt_g))
        metrics["loss"] = metrics["loss_d"]
        return finite(metrics, type(self).__name__)


@dataclass
class WGANClipConfig(WGANConfig):
    lipschitz: str = "clip"


@register("wgan", WGANClipConfig, family="gans", runner="trainer",
          default_dataset="toy2d:8gaussians",
          train_defaults={"lr": 5e-5, "batch_size": 320, "schedule": "constant",
                          "grad_clip": None})
class WGANClip(WGAN):
    """WGAN with weight clipping (Arjovsky et al. 2017, Algorithm 1)."""


@register("wgan_gp", WGANConfig, family="gans", runner="trainer",
          default_dataset="toy2d:8gaussians",
          train_defaults={"lr": 1e-4, "batch_size": 320, "schedule": "constant",
                          "grad_clip": None})
class WGANGP(WGAN):
    """WGAN-GP: the gradient penalty instead of clipping (Gulrajani et al. 2017)."""
