"""Edge maps of images, for paired domains (edges <-> digits: C-Flow, Pix2Pix, ControlNet).

`edge_map(x, num_levels)` marks pixels where the Sobel gradient magnitude of the image (scaled
to [0, 1]) exceeds `threshold`: a binary (B, 1, H, W) uint8 map, a deterministic function of
the image, so a dataset of (edge map, image) pairs needs no storage.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def edge_map(x: torch.Tensor, num_levels: int = 256, threshold: float = 1.0) -> torch.Tensor:
    """x: (B, 1, H, W) integer levels -> (B, 1, H, W) uint8 in {0, 1}."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"edge_map takes (B, 1, H, W) images, got {tuple(x.shape)}")
    img = x.float() / (num_levels - 1)
    kx = _SOBEL_X.to(img.device)[None, None]
    ky = kx.transpose(2, 3)
    gx = F.conv2d(img, kx, padding=1)
    gy = F.conv2d(img, ky, padding=1)
    return ((gx.pow(2) + gy.pow(2)).sqrt() > threshold).to(torch.uint8)
