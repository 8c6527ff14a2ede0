"""The Pix2Pix U-Net generator (Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1).

An encoder-decoder whose i-th encoder layer is concatenated to the decoder layer of the same
side ("skip connections ... between each layer i and layer n - i"), so low-level detail (the
edges' positions) passes straight to the output. Encoder: 4x4 stride-2 convolutions with
LeakyReLU 0.2 (no normalisation on the first); a 3x3 bottleneck at the smallest side; decoder:
4x4 stride-2 transposed convolutions with ReLU, dropout on the bottleneck and the innermost
decoder layers (`num_dropout` of them in all), tanh
out. Dropout is the generator's noise: it stays on at test time (sec. 2.1), and its masks are
drawn from the `generator` handed to `forward`, so sampling is seeded.

Side H must be divisible by 2^num_down (28 = 4 * 7: num_down = 2).
"""

from __future__ import annotations

import torch
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import norm_layer


def dropout(h: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout that is always on, masks drawn from `generator` (on h's device)."""
    if p <= 0:
        return h
    keep = torch.rand(h.shape, generator=generator, device=h.device) >= p
    return h * keep / (1 - p)


class UNetPix2Pix(nn.Module):
    """(B, in_channels, H, W) in [-1, 1] -> (B, out_channels, H, W) in [-1, 1]."""

    def __init__(self, in_channels: int, out_channels: int, channels: int = 32,
                 num_down: int = 2, dropout: float = 0.5, num_dropout: int = 1,
                 norm: str = "instance", max_mult: int = 8):
        super().__init__()
        if num_down < 1:
            raise UserError(f"the U-Net needs num_down >= 1, got {num_down}")
        if not 0 <= dropout < 1:
            raise UserError(f"dropout must be in [0, 1), got {dropout}")
        self.num_down, self.p, self.num_dropout = num_down, dropout, num_dropout
        widths = [channels * min(2 ** i, max_mult) for i in range(num_down)]
        self.down = nn.ModuleList()
        c_in = in_channels
        for i, w in enumerate(widths):
            self.down.append(nn.Sequential(
                nn.Conv2d(c_in, w, 4, 2, 1), nn.Identity() if i == 0 else norm_layer(norm, w),
                nn.LeakyReLU(0.2, True)))
            c_in = w
        self.bottleneck = nn.Sequential(nn.Conv2d(c_in, c_in, 3, 1, 1), norm_layer(norm, c_in),
                                        nn.ReLU(True))
        self.up = nn.ModuleList()
        for i in reversed(range(num_down)):  # decoder layer i takes [u_{i+1}, e_i]
            out = out_channels if i == 0 else widths[i - 1]
            block: list[nn.Module] = [nn.ConvTranspose2d(2 * widths[i], out, 4, 2, 1)]
            block += [nn.Tanh()] if i == 0 else [norm_layer(norm, out), nn.ReLU(True)]
            self.up.append(nn.Sequential(*block))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        side = x.shape[-1]
        if x.shape[-2] % 2 ** self.num_down or side % 2 ** self.num_down:
            raise UserError(f"the U-Net with {self.num_down} down-samplings needs sides "
                            f"divisible by {2 ** self.num_down}, got {tuple(x.shape[-2:])}")
        skips = []
        h = x
        for layer in self.down:
            h = layer(h)                                  # (B, w_i, H / 2^(i+1), ...)
            skips.append(h)
        h = self.bottleneck(h)
        if self.num_dropout >= 1:
            h = dropout(h, self.p, generator)
        for j, layer in enumerate(self.up):
            h = layer(torch.cat([h, skips[-1 - j]], 1))   # skip from the mirrored encoder layer
            if j + 1 < self.num_dropout and j < len(self.up) - 1:
                h = dropout(h, self.p, generator)
        return h
