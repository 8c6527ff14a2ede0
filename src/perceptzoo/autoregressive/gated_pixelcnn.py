"""Gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu,
"Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016), class-conditional.

Same factorisation as PixelCNN (raster order, R -> G -> B within a pixel), with two changes:

1. Gated activations (eq. 2, with the class embedding of eq. 4):

       y = tanh(W_f * x + V_f^T e(y)) ⊙ sigma(W_g * x + V_g^T e(y)).

2. Two stacks that together remove the blind spot (section 2.2, figure 1):
   - the vertical stack sees every pixel in the rows strictly above (first layer: a kxk
     convolution masked to the rows above the centre; later layers: rows above and the centre
     row, which is safe because their input already only describes rows above);
   - the horizontal stack sees the current row left of the pixel (a 1xk mask-A convolution,
     then 1xk mask-B ones with R -> G -> B channel masks) and receives the vertical stack's
     pre-activations through a 1x1 convolution; it has residual connections.
   Union of the two: all earlier pixels within reach, no blind spot (the causality test checks
   that every earlier pixel gets a non-zero gradient, where PixelCNN leaves some at zero).

Class conditioning: with labels in training (e.g. digits), p(x | y) is learned; `log_prob(x)`
without labels returns the exact marginal log sum_y p(y) p(x | y) under a uniform p(y), and
`sample` without `cond` draws class i % num_classes for row i. Trained without labels (e.g.
binarized MNIST, whose train split has none), it is an unconditional model: the extra "no
label" embedding row is used throughout. The buffer `trained_with_labels` records which.

Sampling: `cached=True` computes each layer of the vertical stack once per row and the
horizontal stack once per pixel (`MaskedConv2d.forward_row` / `forward_at`), instead of a full
forward pass per pixel and channel (`cached=False`, the family's naive sampler); both draw the
same uniforms. `log_prob` and `loss` are the family's (`common.Autoregressive`).

    >>> import perceptzoo
    >>> model = perceptzoo.build("gated_pixelcnn", data_shape=(1, 6, 6), num_levels=2,
    ...                          num_classes=3, hidden_channels=8)
    >>> model.sample(2, cond=torch.tensor([0, 2])).shape
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
class GatedPixelCNNConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """(C, H, W); filled from the dataset"""
    num_levels: int = 17
    """values per channel; filled from the dataset"""
    num_classes: int | None = 10
    """labels for conditioning; filled from the dataset (None: unconditional)"""
    hidden_channels: int = 32
    num_layers: int = 5
    """gated layers after the first one"""
    first_kernel: int = 7
    kernel: int = 3
    output: str = "auto"
    """auto | bernoulli | categorical | logistic_mixture (see common.py)"""
    num_mixtures: int = 5

    @classmethod
    def tiny(cls) -> GatedPixelCNNConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(hidden_channels=8, num_layers=1)


class GatedLayer(nn.Module):
    """One layer of both stacks (figure 2 of the paper)."""

    def __init__(self, in_ch: int, hidden: int, kernel: int, mask_type: str, groups: int,
                 num_embeddings: int):
        super().__init__()
        g = channel_groups(hidden, groups)
        gate_groups = torch.cat([g, g])  # tanh half and sigmoid half pair up by colour
        in_groups = None if mask_type == "A" else g
        self.v_conv = MaskedConv2d(in_ch, 2 * hidden, kernel, mask_type, vertical=True)
        self.h_conv = MaskedConv2d(in_ch, 2 * hidden, (1, kernel), mask_type, groups,
                                   in_groups=in_groups, out_groups=gate_groups)
        self.v_to_h = nn.Conv2d(2 * hidden, 2 * hidden, 1)  # v only sees rows above: no mask
        self.h_out = MaskedConv2d(hidden, hidden, 1, "B", groups, in_groups=g, out_groups=g)
        self.embed = nn.Embedding(num_embeddings, 4 * hidden)
        self.residual = mask_type == "B"

    @staticmethod
    def gate(a: torch.Tensor) -> torch.Tensor:
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)


@register("gated_pixelcnn", GatedPixelCNNConfig, default_dataset="digits",
          family="autoregressive", runner="trainer")
class GatedPixelCNN(Autoregressive, nn.Module):
    def __init__(self, cfg: GatedPixelCNNConfig):
        super().__init__()
        if len(cfg.data_shape) != 3:
            raise UserError(f"gated PixelCNN models images (C, H, W), not {cfg.data_shape}")
        self.cfg = cfg
        C = cfg.data_shape[0]
        self.num_dims = math.prod(cfg.data_shape)
        self.num_classes = cfg.num_classes or 0
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        P, hid = self.head.num_params, cfg.hidden_channels
        emb = self.num_classes + 1  # the last row: "no label"
        self.layers = nn.ModuleList(
            [GatedLayer(C, hid, cfg.first_kernel, "A", C, emb)]
            + [GatedLayer(hid, hid, cfg.kernel, "B", C, emb) for _ in range(cfg.num_layers)]
        )
        g = channel_groups(hid, C)
        self.out1 = MaskedConv2d(hid, hid, 1, "B", C, in_groups=g, out_groups=g)
        self.out2 = MaskedConv2d(hid, C * P, 1, "B", C, in_groups=g,
                                 out_groups=channel_groups(C * P, C))
        self.register_buffer("trained_with_labels", torch.zeros((), dtype=torch.bool))
        self.register_buffer("order", pixel_order(cfg.data_shape), persistent=False)

    def check_data(self, info) -> None:
        check_discrete("gated PixelCNN", info, self.cfg)

    # -- the network ------------------------------------------------------------------------
    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.out1.weight.dtype) * (2.0 / (self.cfg.num_levels - 1)) - 1.0

    def _labels(self, cond: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Class labels (B,), the extra "no label" row where there are none."""
        device = self.out1.weight.device
        if cond is None or self.num_classes == 0:
            return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)
        return cond.long().to(device)

    def _params_map(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) levels, labels (B,) -> (B, C, P, H, W)."""
        v = h = self._scale(x)
        for layer in self.layers:
            e_v, e_h = layer.embed(labels)[:, :, None, None].chunk(2, dim=1)  # (B, 2hid, 1, 1)
            v_pre = layer.v_conv(v)  # (B, 2hid, H, W): rows above only
            h_pre = layer.h_conv(h) + layer.v_to_h(v_pre)
            v = layer.gate(v_pre + e_v)
            h_new = layer.h_out(layer.gate(h_pre + e_h))
            h = h + h_new if layer.residual else h_new
        out = self.out2(F.relu(self.out1(F.relu(h))))  # (B, C P, H, W)
        B, _, H, W = out.shape
        return out.view(B, self.cfg.data_shape[0], self.head.num_params, H, W)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, C, H, W) -> (B, D, P); cond (B,) class labels or None (see common.py)."""
        out = self._params_map(x, self._labels(cond, x.shape[0]))
        return out.permute(0, 1, 3, 4, 2).reshape(x.shape[0], self.num_dims, -1)

    # -- sampling ---------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, cached: bool = True) -> torch.Tensor:
        """(num_samples, C, H, W) levels; `cond` (num_samples,) class labels."""
        C, H, W = self.cfg.data_shape
        device, dtype = self.out1.weight.device, self.out1.weight.dtype
        if cond is None and bool(self.trained_with_labels):
            cond = torch.arange(num_samples, device=device) % self.num_classes
        if cond is not None and self.num_classes == 0:
            raise UserError("this gated PixelCNN was built without classes; sample without cond")
        if not cached:
            return self.sample_naive(num_samples, cond=cond, generator=generator)
        labels = self._labels(cond, num_samples)
        x = torch.zeros(num_samples, C, H, W, device=device, dtype=dtype)
        caches = None
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    if j == 0 and c == 0:
                        caches = self._vertical_row(x, i, labels, caches)
                    params = self._params_at(x, i, j, labels, caches)[:, c]  # (B, P)
                    u = uniforms(num_samples, generator, device)
                    x[:, c, i, j] = self.head.sample(params, u).to(dtype)
        return x

    def _vertical_row(self, x, i, labels, caches):
        """Vertical stack at row i (it reads only rows < i, all known): fills the caches."""
        B, C, H, W = x.shape
        if caches is None:
            hid, dt = self.cfg.hidden_channels, x.dtype
            caches = {"v_in": [self._scale(x)] + [x.new_zeros(B, hid, H, W, dtype=dt)
                                                   for _ in self.layers[1:]],
                      "h_in": [None] + [x.new_zeros(B, hid, H, W) for _ in self.layers[1:]],
                      "v_pre": [None] * len(self.layers)}
        caches["v_in"][0] = self._scale(x)
        for k, layer in enumerate(self.layers):
            e_v = layer.embed(labels)[:, : 2 * self.cfg.hidden_channels, None]  # (B, 2hid, 1)
            v_pre = layer.v_conv.forward_row(caches["v_in"][k], i)  # (B, 2hid, W)
            caches["v_pre"][k] = v_pre
            if k + 1 < len(self.layers):
                caches["v_in"][k + 1][:, :, i] = layer.gate(v_pre + e_v)
        return caches

    def _params_at(self, x, i, j, labels, caches) -> torch.Tensor:
        """Horizontal stack and output at pixel (i, j) only: -> (B, C, P)."""
        h_in = self._scale(x)
        h = None
        for k, layer in enumerate(self.layers):
            e_h = layer.embed(labels)[:, 2 * self.cfg.hidden_channels :]  # (B, 2hid)
            v_pre = caches["v_pre"][k][:, :, j]  # (B, 2hid)
            h_pre = (layer.h_conv.forward_at(h_in, i, j)
                     + layer.v_to_h(v_pre[:, :, None, None])[:, :, 0, 0])
            h_new = layer.h_out.forward_at(layer.gate(h_pre + e_h)[:, :, None, None], 0, 0)
            h = h + h_new if layer.residual else h_new
            if k + 1 < len(self.layers):
                caches["h_in"][k + 1][:, :, i, j] = h
                h_in = caches["h_in"][k + 1]
        out = self.out1.forward_at(F.relu(h)[:, :, None, None], 0, 0)
        out = self.out2.forward_at(F.relu(out)[:, :, None, None], 0, 0)  # (B, C P)
        return out.view(x.shape[0], self.cfg.data_shape[0], self.head.num_params)
