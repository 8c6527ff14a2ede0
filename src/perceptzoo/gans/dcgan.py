"""DCGAN: Deep Convolutional GANs (Radford, Metz & Chintala, ICLR 2016).

The GAN objective of Goodfellow et al. (2014) with the non-saturating generator loss, trained
with the architecture guidelines of sec. 3:

- strided convolutions in D and fractionally strided (transposed) convolutions in G, no pooling;
- batch norm in both, except G's output layer and D's input layer;
- no fully connected hidden layers (z is projected by a 1x1 -> s x s transposed convolution,
  D ends in a convolution over the last s x s map);
- ReLU in G with tanh at the output, LeakyReLU(0.2) in D;
- weights ~ N(0, 0.02), Adam lr 2e-4 with beta1 = 0.5 (sec. 4).

Images (C, 4s, 4s): digits 8x8 (s = 2), MNIST 28x28 (s = 7). `tests/gans/test_dcgan.py`
checks each rule on the built networks.

    >>> import perceptzoo
    >>> model = perceptzoo.build("dcgan", dataset="digits", channels=16)
    >>> model.sample(2).shape
    torch.Size([2, 1, 8, 8])
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
    discriminator_loss,
    finite,
    frozen,
    generator_loss,
    step,
)


@dataclass
class DCGANConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape (C, H, W), H = W divisible by 4; filled from the dataset"""
    num_levels: int | None = 17
    latent_dim: int = 100
    channels: int = 64
    """channels of the layer next to the image; the inner layer has twice as many"""
    k: int = 1
    """discriminator steps per generator step"""
    beta1: float = 0.5
    beta2: float = 0.999
    d_lr_scale: float = 1.0

    @classmethod
    def tiny(cls) -> DCGANConfig:
        return cls(latent_dim=8, channels=8)


@register("dcgan", DCGANConfig, family="gans", runner="trainer", default_dataset="digits",
          train_defaults={"lr": 2e-4, "batch_size": 64, "schedule": "constant",
                          "grad_clip": None})
class DCGAN(GANBase):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        if cfg.num_levels is None:
            raise UserError("DCGAN models images with grey levels; use digits, mnist or "
                            "fashion_mnist (2D points: the gan or wgan_gp models)")
        if cfg.k < 1:
            raise UserError(f"k must be >= 1, got {cfg.k}")
        self.cfg = cfg
        self.generator = conv_generator(cfg.latent_dim, cfg.channels, tuple(cfg.data_shape))
        self.discriminator = conv_discriminator(tuple(cfg.data_shape), cfg.channels, "batch")
        dcgan_init(self)

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        x = self.model_space(batch[0])
        for chunk in critic_batches(x, self.cfg.k):
            with torch.no_grad():
                fake = self.generator(self.latent(len(chunk)))
            real_logits, fake_logits = self.discriminator(chunk), self.discriminator(fake)
            loss_d = discriminator_loss(real_logits, fake_logits)
            step(opt_d, loss_d, self.discriminator)
        with frozen(self.discriminator):
            loss_g = generator_loss(self.discriminator(self.generator(self.latent(len(x)))),
                                    "non_saturating")
            step(opt_g, loss_g, self.generator)
        return finite({"loss": loss_d.detach(), "loss_d": loss_d.detach(),
                       "loss_g": loss_g.detach(),
                       "d_real": torch.sigmoid(real_logits).mean().detach(),
                       "d_fake": torch.sigmoid(fake_logits).mean().detach()}, "DCGAN")
