"""The U-Net of DDPM, eps_theta(x_t, t, c) (Ho et al. 2020, sec. 4 and appendix B).

Shared by the families that need an image-to-image network with a time (or noise-level) input:
diffusion (`perceptzoo.diffusion`: the denoiser; ControlNet copies its encoder; latent diffusion
reuses its residual block), and the VAEs and GANs that want a U-Net.

A PixelCNN++-style U-Net (Ronneberger et al. 2015; Salimans et al. 2017) as used by DDPM:

- the time t enters through a sinusoidal embedding (Vaswani et al. 2017, sec. 3.5),
  emb(t)_{2i} = sin(t / 10000^{2i/d}), emb(t)_{2i+1} = cos(...), then a 2-layer MLP; real-valued
  t works the same way (continuous time);
- every resolution level has `num_res_blocks` residual blocks (group norm, SiLU, 3x3 conv, the
  time embedding added per channel, dropout, 3x3 conv, a skip connection), and self-attention
  blocks at the low resolutions named in `attention_levels` and in the middle;
- the encoder halves the resolution between levels, the decoder doubles it and concatenates the
  encoder's activations (the skips).

Optional class conditioning (`num_classes`): a label embedding is added to the time embedding;
label `num_classes` is the "null" label used for unconditional predictions (classifier-free
guidance). The encoder (time and label embeddings, input conv, down path, middle) is its own
module `UNetEncoder`, so ControlNet can copy it, and `forward` takes residuals to add into the
skips and the middle (`down_residuals`, `mid_residual`).

    >>> net = UNet(in_channels=1, channels=16, channel_mults=(1, 2), num_res_blocks=1)
    >>> net(torch.randn(2, 1, 8, 8), torch.tensor([3, 500])).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """t: (B,) integer or real steps -> (B, dim) sinusoidal features in `dtype`."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period)
                      * torch.arange(half, device=t.device, dtype=dtype) / half)
    args = t.to(dtype)[:, None] * freqs[None]  # (B, half)
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


def group_norm(channels: int, groups: int = 32) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(groups, channels), channels)


def zero_module(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """h = conv(act(norm(x))) + W emb; h = conv(dropout(act(norm(h)))); return skip(x) + h."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, dropout: float, groups: int):
        super().__init__()
        self.norm1, self.conv1 = group_norm(in_ch, groups), nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_ch)
        self.norm2, self.drop = group_norm(out_ch, groups), nn.Dropout(dropout)
        self.conv2 = zero_module(nn.Conv2d(out_ch, out_ch, 3, padding=1))  # block starts as id
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, out, H, W)
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """Self-attention over the H*W positions: x + proj(softmax(Q K^T / sqrt(d)) V)."""

    def __init__(self, channels: int, num_heads: int, groups: int):
        super().__init__()
        self.num_heads = num_heads if channels % num_heads == 0 else 1
        self.norm = group_norm(channels, groups)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_module(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.num_heads, c // self.num_heads, h * w)
        q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))  # (B, heads, HW, d)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, d)
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, emb=None) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.conv(F.interpolate(x, size=size, mode="nearest"))  # odd sizes: 7 -> 14


def _apply(layers: nn.ModuleList, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        h = layer(h, emb)
    return h


class UNetEncoder(nn.Module):
    """Embeddings, input conv, down path and middle block. Returns skips, middle and emb."""

    def __init__(self, in_channels, channels, channel_mults, num_res_blocks, attention_levels,
                 num_heads, dropout, groups, num_classes):
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        emb_dim = 4 * channels
        self.time_mlp = nn.Sequential(nn.Linear(channels, emb_dim), nn.SiLU(),
                                      nn.Linear(emb_dim, emb_dim))
        # label num_classes is the null label (classifier-free guidance)
        self.label_emb = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None
        self.input_conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.down = nn.ModuleList()  # one ModuleList per skip: [res, (attn)] or [downsample]
        self.skip_channels = [channels]
        ch = channels
        for level, mult in enumerate(channel_mults):
            for _ in range(num_res_blocks):
                block = [ResBlock(ch, channels * mult, emb_dim, dropout, groups)]
                ch = channels * mult
                if level in attention_levels:
                    block.append(AttentionBlock(ch, num_heads, groups))
                self.down.append(nn.ModuleList(block))
                self.skip_channels.append(ch)
            if level != len(channel_mults) - 1:
                self.down.append(nn.ModuleList([Downsample(ch)]))
                self.skip_channels.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb_dim, dropout, groups),
                                  AttentionBlock(ch, num_heads, groups),
                                  ResBlock(ch, ch, emb_dim, dropout, groups)])
        self.out_channels = ch

    def embed(self, t: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """(B,) steps and optional (B,) labels -> (B, 4 * channels)."""
        emb = self.time_mlp(timestep_embedding(t, self.channels,
                                               dtype=self.input_conv.weight.dtype))
        if self.label_emb is not None:
            if cond is None:  # unconditional: the null label
                cond = torch.full((t.shape[0],), self.num_classes, device=t.device)
            emb = emb + self.label_emb(cond.long())
        return emb

    def forward(self, x, t, cond=None, hint: torch.Tensor | None = None):
        """x: (B, C, H, W); `hint` (B, channels, H, W) is added after the input conv."""
        emb = self.embed(t, cond)
        h = self.input_conv(x)  # (B, channels, H, W)
        if hint is not None:
            h = h + hint
        skips = [h]
        for block in self.down:
            h = _apply(block, h, emb)
            skips.append(h)
        return skips, _apply(self.mid, h, emb), emb


class UNet(nn.Module):
    """eps_theta(x_t, t, cond) with the shape of x_t. `cond`: (B,) labels or None."""

    def __init__(self, in_channels: int = 1, out_channels: int | None = None, channels: int = 32,
                 channel_mults: tuple[int, ...] = (1, 2, 2), num_res_blocks: int = 1,
                 attention_levels: tuple[int, ...] = (2,), num_heads: int = 1,
                 dropout: float = 0.0, groups: int = 8, num_classes: int | None = None):
        super().__init__()
        self.encoder = UNetEncoder(in_channels, channels, channel_mults, num_res_blocks,
                                   attention_levels, num_heads, dropout, groups, num_classes)
        emb_dim = 4 * channels
        skip_ch = list(self.encoder.skip_channels)
        ch = self.encoder.out_channels
        self.up = nn.ModuleList()  # each: [res(concat skip), (attn)] and maybe an Upsample
        self.upsample = nn.ModuleDict()
        for level, mult in reversed(list(enumerate(channel_mults))):
            for i in range(num_res_blocks + 1):
                block = [ResBlock(ch + skip_ch.pop(), channels * mult, emb_dim, dropout, groups)]
                ch = channels * mult
                if level in attention_levels:
                    block.append(AttentionBlock(ch, num_heads, groups))
                self.up.append(nn.ModuleList(block))
                if level != 0 and i == num_res_blocks:
                    self.upsample[str(len(self.up) - 1)] = Upsample(ch)
        self.out = nn.Sequential(group_norm(ch, groups), nn.SiLU(),
                                 zero_module(nn.Conv2d(ch, out_channels or in_channels, 3,
                                                       padding=1)))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None, *,
                down_residuals: list[torch.Tensor] | None = None,
                mid_residual: torch.Tensor | None = None) -> torch.Tensor:
        """x_t: (B, C, H, W), t: (B,) (or a scalar) -> eps: (B, C, H, W)."""
        t = torch.as_tensor(t, device=x_t.device)
        if t.dim() == 0:
            t = t.expand(x_t.shape[0])
        skips, h, emb = self.encoder(x_t, t, cond)
        if down_residuals is not None:  # ControlNet: zero-conv outputs into the skips
            skips = [s + r for s, r in zip(skips, down_residuals)]
        if mid_residual is not None:
            h = h + mid_residual
        for i, block in enumerate(self.up):
            skip = skips.pop()
            h = _apply(block, torch.cat([h, skip], dim=1), emb)
            if str(i) in self.upsample:
                h = self.upsample[str(i)](h, skips[-1].shape[-2:])
        return self.out(h)
