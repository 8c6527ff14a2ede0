"""3D-GAN: a voxel generative adversarial network (Wu, Zhang, Xue, Freeman & Tenenbaum,
NeurIPS 2016, "Learning a Probabilistic Latent Space of Object Shapes via 3D
Generative-Adversarial Modeling").

G maps z ~ N(0, I) through 3D transposed convolutions to an occupancy grid in (0, 1)^(N^3);
D mirrors it with 3D convolutions. The objective is the GAN loss (eq. 1 of the paper)

    L = log D(x) + log(1 - D(G(z))),

with the non-saturating generator loss; sec. 3.1's adaptive training updates D only while its
accuracy on the last batch is below 80 % (`d_accuracy_threshold`). N is a power of two (16 or
32 here; 64 in the paper).

    >>> import perceptzoo
    >>> model = perceptzoo.build("voxel_gan", dataset="voxels16", channels=8, latent_dim=16)
    >>> model.sample(2).shape
    torch.Size([2, 1, 16, 16, 16])
"""

from __future__ import annotations

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


class VoxelGAN(nn.Module):
    """Generator `generator` z -> (B, 1, N, N, N) occupancy; discriminator volume -> logit."""

    def __init__(self, cfg: VoxelGANConfig):
        super().__init__()
        if len(cfg.data_shape) != 4 or len(set(cfg.data_shape[1:])) != 1 or cfg.data_shape[0] != 1:
            raise UserError(f"voxel_gan models (1, N, N, N) occupancy grids (voxels16, "
                            f"voxels32), got data of shape {tuple(cfg.data_shape)}")
        self.cfg = cfg
        n = cfg.data_shape[-1]
        self.generator = voxel_generator(cfg.latent_dim, cfg.channels, n)
        self.discriminator = conv_discriminator(3, n, cfg.channels)
        init_weights(self)

    def latent(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else next(self.parameters()).device
        return torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=device)

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[opt_g, opt_d]: Adam beta1 0.5; D's rate is `d_lr_scale` times G's (the paper uses
        G 0.0025, D 1e-5)."""
        betas = (0.5, 0.999)
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        real = batch[0].float()  # occupancy 0/1 is already in [0, 1]
        with torch.no_grad():
            fake = self.generator(self.latent(len(real)))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        accuracy = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
        if accuracy < self.cfg.d_accuracy_threshold:  # sec. 3.1: D only while not too good
            step(opt_d, loss_d)
        with frozen(self.discriminator):
            loss_g = generator_loss(self.discriminator(self.generator(self.latent(len(real)))))
            step(opt_g, loss_g)
        return finite({"loss": loss_d.detach(), "loss_d": loss_d.detach(),
                       "loss_g": loss_g.detach(), "d_accuracy": accuracy}, "VoxelGAN")

    @torch.no_grad()
    def generate(self, num_samples: int, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Occupancy probabilities (B, 1, N, N, N) in (0, 1)."""
        return self.generator(self.latent(num_samples, generator))

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 1, N, N, N) binary occupancy (probability > 0.5) as floats, in data space."""
        if cond is not None:
            raise UserError("voxel_gan is unconditional; sample without cond")
        return (self.generate(num_samples, generator) > 0.5).float()

    def check_data(self, info) -> None:
        check_image_shape("voxel_gan", self.cfg.data_shape, info)


@dataclass
class VoxelGANConfig:
    data_shape: tuple[int, ...] = (1, 16, 16, 16)
    """(1, N, N, N), N a power of two >= 8; filled from the dataset"""
    latent_dim: int = 64
    channels: int = 32
    """channels of D's first layer and G's last hidden layer (doubling towards 4^3)"""
    d_lr_scale: float = 0.1
    d_accuracy_threshold: float = 0.8
    """update D only while its batch accuracy is below this (Wu et al. sec. 3.1)"""

    @classmethod
    def tiny(cls) -> VoxelGANConfig:
        return cls(latent_dim=8, channels=4)


VoxelGAN = register("voxel_gan", VoxelGANConfig, family="gans3d", runner="trainer",
                    default_dataset="voxels16",
                    train_defaults={"lr": 1e-3, "batch_size": 32, "schedule": "constant",
                                    "grad_clip": None})(VoxelGAN)
