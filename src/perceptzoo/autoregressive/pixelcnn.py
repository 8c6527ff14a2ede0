"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks",
ICML 2016, sections 3.4-3.5), with cached sampling.

An image x of C colour channels is generated pixel by pixel in raster order and, within a
pixel, R then G then B:

    p(x) = prod_{i=1}^{H W} p(x_{i,R} | x_<i) p(x_{i,G} | x_<i, x_{i,R})
                            p(x_{i,B} | x_<i, x_{i,R}, x_{i,G})

(eq. 2). Every conditional comes out of one pass of a stack of masked convolutions
(`perceptzoo.nn.masked_conv`): a 7x7 mask-A convolution, residual blocks (figure 5: 1x1 ->
3x3 mask-B -> 1x1, with ReLUs), two 1x1 mask-B layers and a per-channel output. Training is
teacher forcing: the true image is the input and all H W C conditionals are scored at once.

Outputs (`output`): `bernoulli` for binary images, `categorical` (the paper's 256-way softmax,
any number of levels) or `logistic_mixture` (the discretized logistic mixture of PixelCNN++).

The blind spot: stacking 3x3 mask-B convolutions grows the receptive field as a triangle
that misses pixels to the right of the current column in the rows above (van den Oord et al.
2016b, figure 1). The causality test shows those pixels get exactly zero gradient here, and
none for the gated PixelCNN (`gated_pixelcnn.py`), which removes the blind spot.

Sampling: `sample(n, cached=False)` is the family's naive sampler (`common.Autoregressive`),
one full forward pass per pixel and channel (H W C passes over the whole image). `cached=True`
(the default) keeps every layer's activations and, for each new pixel, computes only that
pixel's activations in each layer (`MaskedConv2d.forward_at`): activations at earlier pixels
never change once their inputs are known, and a mask-B layer at (i, j) only reads its input at
pixels <= (i, j), so one position per layer is all a new pixel needs (the idea of Ramachandran
et al. 2017, "Fast generation for convolutional autoregressive models", without the strided
layers). Both samplers draw the same uniforms from the generator, so they produce the same
images.

    >>> import perceptzoo
    >>> model = perceptzoo.build("pixelcnn", data_shape=(1, 6, 6), num_levels=2, hidden_channels=8)
    >>> model.sample(2).shape
    torch.Size([2, 1, 6, 6])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.autoregressive.common import (
    Autoregressive,
    OutputHead,
    check_discrete,
    pixel_order,
    uniforms,
)
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.masked_conv import MaskedConv2d, channel_groups


@dataclass
class PixelCNNConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """(C, H, W); filled from the dataset"""
    num_levels: int = 17
    """values per channel; filled from the dataset"""
    hidden_channels: int = 32
    """h: residual blocks carry 2h channels and use h inside (figure 5)"""
    num_blocks: int = 5
    first_kernel: int = 7
    output: str = "auto"
    """auto (bernoulli for 2 levels, else categorical) | bernoulli | categorical |
    logistic_mixture"""
    num_mixtures: int = 5
    """logistics per conditional for output=logistic_mixture"""

    @classmethod
    def tiny(cls) -> PixelCNNConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(hidden_channels=8, num_blocks=1)


class ResidualBlock(nn.Module):
    """Figure 5: ReLU -> 1x1 (2h -> h) -> ReLU -> 3x3 mask B -> ReLU -> 1x1 (h -> 2h), + input."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        h = channels // 2
        self.reduce = MaskedConv2d(channels, h, 1, "B", groups)
        self.conv = MaskedConv2d(h, h, 3, "B", groups)
        self.expand = MaskedConv2d(h, channels, 1, "B", groups)


@register("pixelcnn", PixelCNNConfig, default_dataset="digits",
          family="autoregressive", runner="trainer")
class PixelCNN(Autoregressive, nn.Module):
    def __init__(self, cfg: PixelCNNConfig):
        super().__init__()
        if len(cfg.data_shape) != 3:
            raise UserError(f"PixelCNN models images (C, H, W), not shape {cfg.data_shape}")
        self.cfg = cfg
        C = cfg.data_shape[0]
        self.num_dims = math.prod(cfg.data_shape)
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        P = self.head.num_params
        h2 = 2 * cfg.hidden_channels
        self.conv_in = MaskedConv2d(C, h2, cfg.first_kernel, "A", C)
        self.blocks = nn.ModuleList(ResidualBlock(h2, C) for _ in range(cfg.num_blocks))
        self.out1 = MaskedConv2d(h2, h2, 1, "B", C)
        # output channel c * P + p is parameter p of colour c: groups of P channels
        self.out2 = MaskedConv2d(h2, C * P, 1, "B", C, out_groups=channel_groups(C * P, C))
        self.register_buffer("order", pixel_order(cfg.data_shape), persistent=False)

    def check_data(self, info) -> None:
        check_discrete("PixelCNN", info, self.cfg)

    # -- the network ------------------------------------------------------------------------
    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.conv_in.weight.dtype) * (2.0 / (self.cfg.num_levels - 1)) - 1.0

    def _params_map(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) levels -> (B, C, P, H, W) conditional parameters."""
        h = self.conv_in(self._scale(x))  # (B, 2h, H, W)
        for blk in self.blocks:
            r = blk.reduce(F.relu(h))  # (B, h, H, W)
            r = blk.expand(F.relu(blk.conv(F.relu(r))))  # (B, 2h, H, W)
            h = h + r
        out = self.out2(F.relu(self.out1(F.relu(h))))  # (B, C P, H, W)
        B, _, H, W = out.shape
        return out.view(B, self.cfg.data_shape[0], self.head.num_params, H, W)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, C, H, W) -> (B, D, P), D = C H W flattened (see common.py)."""
        out = self._params_map(x)
        return out.permute(0, 1, 3, 4, 2).reshape(x.shape[0], self.num_dims, -1)

    # -- sampling ---------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, cached: bool = True) -> torch.Tensor:
        """(num_samples, C, H, W) integer levels (float tensor). See the module docstring."""
        self.check_cond(cond)
        if not cached:
            return self.sample_naive(num_samples, generator=generator)
        C, H, W = self.cfg.data_shape
        device, dtype = self.conv_in.weight.device, self.conv_in.weight.dtype
        x = torch.zeros(num_samples, C, H, W, device=device, dtype=dtype)
        caches = self._empty_caches(num_samples, H, W)
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    params = self._params_at(x, i, j, caches)[:, c]  # (B, P)
                    u = uniforms(num_samples, generator, device)
                    x[:, c, i, j] = self.head.sample(params, u).to(dtype)
        return x

    def _empty_caches(self, B: int, H: int, W: int) -> list[torch.Tensor]:
        """Inputs of every spatial (k > 1) convolution, filled one pixel at a time."""
        w = self.conv_in.weight
        h = self.cfg.hidden_channels
        return [torch.zeros(B, h, H, W, device=w.device, dtype=w.dtype) for _ in self.blocks]

    def _params_at(self, x: torch.Tensor, i: int, j: int, caches) -> torch.Tensor:
        """The network at pixel (i, j) only, updating the caches: -> (B, C, P)."""
        h = self.conv_in.forward_at(self._scale(x), i, j)  # (B, 2h); reads x at <= (i, j)
        for blk, cache in zip(self.blocks, caches):
            r = blk.reduce.forward_at(F.relu(h)[:, :, None, None], 0, 0)  # 1x1: pointwise
            cache[:, :, i, j] = F.relu(r)
            r = F.relu(blk.conv.forward_at(cache, i, j))  # reads the cache at <= (i, j)
            h = h + blk.expand.forward_at(r[:, :, None, None], 0, 0)
        out = self.out1.forward_at(F.relu(h)[:, :, None, None], 0, 0)
        out = self.out2.forward_at(F.relu(out)[:, :, None, None], 0, 0)  # (B, C P)
        return out.view(x.shape[0], self.cfg.data_shape[0], self.head.num_params)
