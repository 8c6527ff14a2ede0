"""Masked 2-D convolution (PixelCNN, van den Oord et al. 2016, section 3.4 and figure 2).

The kernel is multiplied by a fixed 0/1 mask so that the output at pixel (i, j) sees only
pixels before (i, j) in raster order:

- type "A" (first layer): rows above, and the current row left of j; at the centre (i, j)
  itself, output colour group g sees input groups g' < g (R sees nothing of the current pixel,
  G sees R, B sees R and G).
- type "B" (later layers): the same, and at the centre group g also sees group g itself.
- vertical=True (the gated PixelCNN's vertical stack, van den Oord et al. 2016b): type "A"
  keeps the rows strictly above the centre (every column), type "B" those rows and the whole
  centre row; colour groups play no part (the stack never sees the current row's pixels).

Colour groups: with `num_groups = G`, channel c of a layer with n channels belongs to group
c * G // n (contiguous blocks), unless `in_groups` / `out_groups` give each channel's group.

`forward_at(x, i, j)` computes the output at the single pixel (i, j) from the (B, C, H, W) input
(a patch dot product), and `forward_row(x, i)` the outputs of row i, for samplers that
recompute only what a new pixel (or row) changes.

    >>> conv = MaskedConv2d(3, 12, 7, "A", num_groups=3)
    >>> conv(torch.zeros(1, 3, 8, 8)).shape
    torch.Size([1, 12, 8, 8])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def channel_groups(num_channels: int, num_groups: int) -> torch.Tensor:
    """Group of each channel: contiguous blocks, (num_channels,) long."""
    return torch.arange(num_channels) * num_groups // num_channels


def conv_mask(
    out_channels: int,
    in_channels: int,
    kernel_size: tuple[int, int],
    mask_type: str,
    num_groups: int = 1,
    vertical: bool = False,
    in_groups: torch.Tensor | None = None,
    out_groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """The (out, in, kh, kw) 0/1 mask described in the module docstring."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    kh, kw = kernel_size
    ci, cj = kh // 2, kw // 2
    mask = torch.zeros(out_channels, in_channels, kh, kw)
    if vertical:
        mask[:, :, :ci, :] = 1
        if mask_type == "B":
            mask[:, :, ci, :] = 1
        return mask
    mask[:, :, :ci, :] = 1  # rows above
    mask[:, :, ci, :cj] = 1  # left in the current row
    g_in = channel_groups(in_channels, num_groups) if in_groups is None else in_groups
    g_out = channel_groups(out_channels, num_groups) if out_groups is None else out_groups
    allowed = g_out[:, None] > g_in[None, :] if mask_type == "A" else g_out[:, None] >= g_in[None]
    mask[:, :, ci, cj] = allowed.float()
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded Conv2d whose kernel is multiplied by a causal mask (a buffer)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        mask_type: str = "B",
        num_groups: int = 1,
        vertical: bool = False,
        bias: bool = True,
        in_groups: torch.Tensor | None = None,
        out_groups: torch.Tensor | None = None,
    ):
        ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if ks[0] % 2 == 0 or ks[1] % 2 == 0:
            raise ValueError(f"masked convolutions need odd kernel sizes, got {ks}")
        super().__init__(in_channels, out_channels, ks, padding=(ks[0] // 2, ks[1] // 2),
                         bias=bias)
        self.register_buffer("mask", conv_mask(out_channels, in_channels, ks, mask_type,
                                               num_groups, vertical, in_groups, out_groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    def forward_at(self, x: torch.Tensor, i: int, j: int) -> torch.Tensor:
        """Output at pixel (i, j) only: x (B, C_in, H, W) -> (B, C_out)."""
        kh, kw = self.kernel_size
        ph, pw = kh // 2, kw // 2
        H, W = x.shape[-2:]
        top, bottom, left, right = i - ph, i + ph + 1, j - pw, j + pw + 1
        patch = x[:, :, max(top, 0) : min(bottom, H), max(left, 0) : min(right, W)]
        patch = F.pad(patch, (max(-left, 0), max(right - W, 0), max(-top, 0),
                              max(bottom - H, 0)))  # (B, C_in, kh, kw), zeros outside
        out = torch.einsum("bchw,ochw->bo", patch, self.weight * self.mask)
        return out if self.bias is None else out + self.bias

    def forward_row(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """Outputs of row i only: x (B, C_in, H, W) -> (B, C_out, W)."""
        kh = self.kernel_size[0]
        ph = kh // 2
        H = x.shape[-2]
        top, bottom = i - ph, i + ph + 1
        rows = x[:, :, max(top, 0) : min(bottom, H)]
        rows = F.pad(rows, (0, 0, max(-top, 0), max(bottom - H, 0)))  # (B, C_in, kh, W)
        out = F.conv2d(rows, self.weight * self.mask, self.bias, padding=(0, self.padding[1]))
        return out[:, :, 0]
