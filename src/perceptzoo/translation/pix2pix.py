"""Pix2Pix: image-to-image translation with conditional adversarial networks
(Isola, Zhu, Zhou & Efros, CVPR 2017).

A generator G maps a source image s (here an edge map) to a target image; a PatchGAN
discriminator D judges (source, target) *pairs*, so it can tell a plausible digit that does not
fit its edges from one that does. The objective (eq. 4):

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),        lambda = 100
    L_cGAN = E_{s,y} log D(s, y) + E_s log(1 - D(s, G(s)))        (eq. 1)
    L_L1   = E_{s,y} || y - G(s) ||_1                           (eq. 3)

G is a U-Net with skips (`perceptzoo.nn.unet_pix2pix`); its only noise is dropout, kept on at
test time (sec. 2.1: "we provide noise only in the form of dropout"). D's objective is halved
(sec. 3.3), G uses the non-saturating loss, Adam lr 2e-4, betas (0.5, 0.999).

Data: the `mnist` digits and their Sobel edge maps (`perceptzoo.data.paired`): the batch's
digits are the targets, their edges the sources. `sample(n, cond=edges)` translates edge maps
(B, 1, H, W) in {0, 1}; `sample(n)` translates edge maps of `n` held-out test digits.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("pix2pix", dataset="mnist", channels=8, d_channels=8)
    >>> model.sample(2, cond=torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import PatchGAN
from perceptzoo.nn.unet_pix2pix import UNetPix2Pix
from perceptzoo.translation.common import (
    EdgesToDigits,
    EdgesToDigitsConfig,
    adam,
    discriminator_step,
    finite,
    frozen,
    generator_gan_loss,
    step,
    to_data_space,
)


class Pix2Pix(EdgesToDigits):
    who = "pix2pix"

    def __init__(self, cfg: Pix2PixConfig):
        super().__init__(cfg)
        c = cfg.data_shape[0]
        self.generator = UNetPix2Pix(c, c, cfg.channels, cfg.num_down, cfg.dropout,
                                     cfg.num_dropout)
        self.discriminator = PatchGAN(2 * c, cfg.d_channels, cfg.d_layers)

    # -- the networks ---------------------------------------------------------------------------
    def generate(self, source: torch.Tensor,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """G(s): sources (B, C, H, W) in [-1, 1] -> targets in [-1, 1]."""
        return self.generator(source, generator)

    def discriminate(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """D(s, y): the logit map of the pair, source and target concatenated on channels."""
        return self.discriminator(self.pair(source, target))

    @staticmethod
    def pair(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(s, y) on channels: what D judges."""
        if source.shape != target.shape:
            raise UserError(f"pix2pix's discriminator judges a source and a target of the same "
                            f"size, got {tuple(source.shape)} and {tuple(target.shape)}")
        return torch.cat([source, target], 1)

    @staticmethod
    def l1_loss(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L_L1 = E || y - G(s) ||_1 (eq. 3), mean over pixels."""
        return (fake - target).abs().mean()

    # -- training -------------------------------------------------------------------------------
    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        source, target = self.pairs(batch[0])
        fake = self.generate(source)
        # D: maximise log D(s, y) + log(1 - D(s, G(s))), halved (sec. 3.3)
        loss_d = discriminator_step(opt_d, [(self.discriminator, self.pair(source, target),
                                             self.pair(source, fake))], "vanilla")
        # G: non-saturating cGAN term + lambda L1 (eq. 4)
        with frozen(self.discriminator):
            loss_gan = generator_gan_loss([(self.discriminator, self.pair(source, fake))],
                                          "vanilla")
            loss_l1 = self.l1_loss(fake, target)
            loss_g = loss_gan + self.cfg.lambda_l1 * loss_l1
            step(opt_g, loss_g, self.generator)
        return finite({"loss": loss_g.detach(), "loss_d": loss_d,
                       "loss_g_gan": loss_gan.detach(), "l1": loss_l1.detach()}, "pix2pix")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[G, D]: Adam (0.5, 0.999) at the train lr."""
        return adam(self.cfg, train_cfg, self.generator, self.discriminator)

    # -- sampling -------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Translations (num_samples, C, H, W) in grey levels of edge maps `cond` (B, C, H, W)
        in {0, 1}; without cond, of the edge maps of held-out `source_dataset` test digits."""
        source = self.sources(num_samples, cond, generator)
        return to_data_space(self.generate(source, generator), self.cfg.num_levels)


@dataclass
class Pix2PixConfig(EdgesToDigitsConfig):
    dropout: float = 0.5
    num_dropout: int = 2
    """dropout layers (the bottleneck and the innermost decoder layers), on at test time too"""

    @classmethod
    def tiny(cls) -> Pix2PixConfig:
        return cls(channels=8, d_channels=8)


register("pix2pix", Pix2PixConfig, family="translation", runner="trainer",
         default_dataset="mnist", train_defaults={"lr": 2e-4, "batch_size": 32,
                                                  "schedule": "constant", "grad_clip": None}
         )(Pix2Pix)
