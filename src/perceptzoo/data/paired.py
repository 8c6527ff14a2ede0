"""Paired image domains for image-to-image translation: MNIST digits and their edge maps.

A pair is (source, target) = (edge map of a digit, the digit): the edges are the Sobel edges
`perceptzoo.data.edges.edge_map` makes for ControlNet and C-Flow, a deterministic function of
the digit, so the pairs need no storage beyond MNIST itself (Pix2Pix and BicycleGAN train on
the `mnist` dataset and derive their sources with `edge_source`).

Sources are binary maps in {0, 1}, (B, 1, H, W) uint8; targets are grey levels 0..L-1.

    >>> import torch
    >>> src = edge_source(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    >>> src.shape, int(src.max())
    (torch.Size([2, 1, 28, 28]), 0)
"""

from __future__ import annotations

import torch

from perceptzoo.data.edges import edge_map
from perceptzoo.errors import UserError

#: the Sobel threshold on [0, 1]-scaled images (edges.py's default; C-Flow uses the same)
EDGE_THRESHOLD = 1.0


def edge_source(x: torch.Tensor, num_levels: int = 256,
                threshold: float = EDGE_THRESHOLD) -> torch.Tensor:
    """Digits (B, 1, H, W) in levels 0..L-1 -> their edge maps (B, 1, H, W) uint8 in {0, 1}."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise UserError(f"edge maps are made of (B, 1, H, W) grey images, got shape "
                        f"{tuple(x.shape)}")
    return edge_map(x, num_levels, threshold)


def check_pair(source: torch.Tensor, target: torch.Tensor) -> None:
    """Refuse a pair whose images differ in size (a translation maps pixel to pixel)."""
    if source.shape[-2:] != target.shape[-2:] or source.shape[0] != target.shape[0]:
        raise UserError(f"a translation pair needs source and target images of the same size "
                        f"and count, got source {tuple(source.shape)} and target "
                        f"{tuple(target.shape)}; resize or crop one to the other")


def pairs(x: torch.Tensor, num_levels: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(edge maps, digits) for digits x (B, 1, H, W): the paired edges -> digits domain."""
    return edge_source(x, num_levels), x
