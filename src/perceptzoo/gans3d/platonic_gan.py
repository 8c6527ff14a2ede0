"""PlatonicGAN: 3D shape from unstructured 2D image collections (Henzler, Mitra & Ritschel,
ICCV 2019, "Escaping Plato's Cave: 3D Shape From Adversarial Rendering").

A voxel generator G: z -> v in (0, 1)^(N^3) (the 3D-GAN generator) is never shown a volume:
each generated volume is rendered at a pose R drawn from the view prior p(R) (azimuth
uniform, elevation within +-30 degrees, as the training views) by a differentiable
projection rho (`perceptzoo.gans3d.projection`: visual hull or absorption only), and a 2D
discriminator compares rho(G(z), R) with real, unposed silhouettes x:

    min_G max_D  E_x log D(x) + E_{z, R} log(1 - D(rho(G(z), R)))      (paper eq. 1-2)

(here with the non-saturating generator loss; the paper trains with the same two-player game).
Because D only ever sees images from every direction, the volume must explain them all: the
3D shape is learned from 2D views alone. `sample` returns renders (data space: images);
`generate_volumes` returns the voxels.

    >>> import perceptzoo
    >>> model = perceptzoo.build("platonic_gan", dataset="voxel_views16", channels=8)
    >>> model.generate_volumes(2).shape, model.sample(2).shape
    (torch.Size([2, 1, 16, 16, 16]), torch.Size([2, 1, 16, 16]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.gans3d.common import (
    check_image_shape,
    conv_discriminator,
    discriminator_loss,
    finite,
    frozen,
    generator_loss,
    init_weights,
    step,
    voxel_generator,
)
from perceptzoo.gans3d.projection import MODES, project, random_rotations


class PlatonicGAN(nn.Module):
    def __init__(self, cfg: PlatonicGANConfig):
        super().__init__()
        shape = tuple(cfg.data_shape)
        if len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
            raise UserError(f"platonic_gan learns from square silhouettes (1, N, N) "
                            f"(voxel_views16, voxel_views32), got data of shape {shape}")
        if cfg.projection not in MODES:
            raise UserError(f"unknown projection {cfg.projection!r}; use one of {MODES}")
        self.cfg = cfg
        n = shape[-1]
        self.generator = voxel_generator(cfg.latent_dim, cfg.channels, n)
        self.discriminator = conv_discriminator(2, n, cfg.channels)
        init_weights(self)
        # start from a sparse volume: with occupancies near 0.5 every ray of N voxels would
        # render opaque (1 - 0.5^N), a blank white image D rejects at once
        last = [m for m in self.generator.modules() if isinstance(m, nn.ConvTranspose3d)][-1]
        nn.init.constant_(last.bias, math.log(cfg.init_occupancy / (1 - cfg.init_occupancy)))

    def latent(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else next(self.parameters()).device
        return torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=device)

    def render(self, volumes: torch.Tensor, generator: torch.Generator | None = None
               ) -> torch.Tensor:
        """rho(v, R) at poses R ~ p(R): (B, 1, N, N) in [0, 1]."""
        poses = random_rotations(len(volumes), generator).to(volumes.device)
        return project(volumes, poses, self.cfg.projection)

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (0.5, 0.999)
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        real = batch[0].float()  # silhouettes 0/1
        with torch.no_grad():
            fake = self.render(self.generator(self.latent(len(real))))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        step(opt_d, loss_d)
        with frozen(self.discriminator):
            images = self.render(self.generator(self.latent(len(real))))
            loss_g = generator_loss(self.discriminator(images))
            step(opt_g, loss_g)
        return finite({"loss": loss_d.detach(), "loss_d": loss_d.detach(),
                       "loss_g": loss_g.detach(),
                       "d_real": torch.sigmoid(real_logits).mean().detach(),
                       "d_fake": torch.sigmoid(fake_logits).mean().detach()}, "PlatonicGAN")

    @torch.no_grad()
    def generate_volumes(self, num_samples: int, generator: torch.Generator | None = None
                         ) -> torch.Tensor:
        """Occupancies (B, 1, N, N, N) in (0, 1)."""
        return self.generator(self.latent(num_samples, generator))

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Silhouettes (B, 1, N, N) in {0, 1} (data space) of generated volumes at random
        poses, thresholded at 0.5."""
        if cond is not None:
            raise UserError("platonic_gan is unconditional; sample without cond")
        volumes = self.generate_volumes(num_samples, generator)
        return (self.render(volumes, generator) > 0.5).float()

    def check_data(self, info) -> None:
        check_image_shape("platonic_gan", self.cfg.data_shape, info)


@dataclass
class PlatonicGANConfig:
    data_shape: tuple[int, ...] = (1, 16, 16)
    """(1, N, N) silhouettes, N a power of two >= 8; filled from the dataset"""
    latent_dim: int = 64
    channels: int = 32
    projection: str = "absorption"
    """image formation: absorption (1 - prod(1 - v)) or visual_hull (1 - exp(-sum v))"""
    d_lr_scale: float = 0.1
    """the discriminator's learning rate over the generator's. At 1.0 (and 0.5) D rejected
    the first fog-like renders at once and G emptied its volumes for good (our reading: the
    output sigmoid saturates near 0 and passes little gradient back); at 0.1 absorption and
    visual hull both train (study results platonic_gan-voxel_views16-absorption, -sparse,
    -absorption_slow_d, -hull)"""
    init_occupancy: float = 0.05
    """occupancy the generator starts near (its output bias); small keeps first renders
    from saturating (at 0.5 every ray of N voxels renders opaque)"""

    @classmethod
    def tiny(cls) -> PlatonicGANConfig:
        return cls(latent_dim=8, channels=4)


PlatonicGAN = register("platonic_gan", PlatonicGANConfig, family="gans3d", runner="trainer",
                       default_dataset="voxel_views16",
                       train_defaults={"lr": 2e-4, "batch_size": 32, "schedule": "constant",
                                       "grad_clip": None})(PlatonicGAN)
