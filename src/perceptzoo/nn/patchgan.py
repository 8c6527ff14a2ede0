"""The PatchGAN discriminator and the two GAN losses of image-to-image translation.

PatchGAN (Isola et al. 2017, sec. 3.2.2; Li & Wand 2016): a fully convolutional discriminator
that classifies each N x N patch as real or fake and outputs a map of logits, one per patch
(the "C64-C128-C256-C512" stack of strided 4x4 convolutions, LeakyReLU 0.2, normalisation on
all but the first layer). Pix2Pix feeds it the source and the target concatenated on channels,
so it judges the pair; CycleGAN and BicycleGAN feed it images of one domain.

Losses on the logit map l, averaged over patches and examples:

    vanilla (Goodfellow et al. 2014): real -log sigmoid(l) = softplus(-l), fake softplus(l)
    lsgan   (Mao et al. 2017, used by CycleGAN and BicycleGAN): real (l - 1)^2, fake l^2
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError

GAN_MODES = ("vanilla", "lsgan")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """instance (affine; batch norm at batch size 1, Isola et al. sec. 3.3) | batch | none."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise UserError(f"unknown normalisation {kind!r}; use instance, batch or none")


class PatchGAN(nn.Module):
    """(B, in_channels, H, W) -> logits (B, 1, H', W'), one per receptive-field patch.

    `num_layers` strided (stride 2) 4x4 convolutions double the channels from `channels`, then
    one stride-1 4x4 convolution and a stride-1 4x4 convolution to one logit channel (the
    paper's 70x70 discriminator is num_layers=3 at 256x256; at 28x28 num_layers=2 gives 5x5
    patches of 22x22 pixels' receptive field).
    """

    def __init__(self, in_channels: int, channels: int = 64, num_layers: int = 2,
                 norm: str = "instance"):
        super().__init__()
        if num_layers < 1:
            raise UserError(f"a PatchGAN needs num_layers >= 1, got {num_layers}")
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 4, 2, 1),
                                   nn.LeakyReLU(0.2, True)]
        c = channels
        for _ in range(num_layers - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1), norm_layer(norm, 2 * c),
                       nn.LeakyReLU(0.2, True)]
            c *= 2
        layers += [nn.Conv2d(c, 2 * c, 4, 1, 1), norm_layer(norm, 2 * c), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(2 * c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def gan_loss(logits: torch.Tensor, real: bool, mode: str = "vanilla") -> torch.Tensor:
    """The loss of `logits` for the label real (True) or fake (False), mean over patches."""
    if mode == "vanilla":
        return F.softplus(-logits).mean() if real else F.softplus(logits).mean()
    if mode == "lsgan":
        return ((logits - 1) ** 2).mean() if real else (logits ** 2).mean()
    raise UserError(f"unknown GAN loss {mode!r}; use one of {', '.join(GAN_MODES)}")
