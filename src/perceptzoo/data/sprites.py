"""Procedural sprites with known generative factors, after dSprites (Matthey et al. 2017).

Every combination of five independent factors is rendered once as a 32 x 32 binary image:

    shape        3   square, ellipse, heart
    scale        6   0.5 .. 1.0 of the largest size (a radius of 0.18 of the canvas)
    orientation 10   0 .. 2 pi (exclusive), counter-clockwise
    position_x   8   0.2 .. 0.8 of the canvas width
    position_y   8   0.2 .. 0.8 of the canvas height

3 * 6 * 10 * 8 * 8 = 11,520 images (dSprites has 737,280 at 64 x 64 with 40 orientations and
32 x 32 positions; this grid keeps the same factors at a size one CPU trains on in minutes).
A pixel is on when its centre lies inside the shape, so images are uint8 0/1 (`num_levels=2`).
`y` holds each image's five factor indices (N, 5), so disentanglement metrics
(`perceptzoo.metrics.disentanglement`) can compare latents with factors; `render(factors)`
draws any factor combinations, which the beta-VAE metric uses to make pairs that share one.
The splits are a fixed random partition (seed 0) of the grid: 80 % train, 10 % valid, 10 % test.

    >>> from perceptzoo.data import sprites
    >>> ds = sprites.load("train")
    >>> ds.x.shape, ds.y.shape
    (torch.Size([9216, 1, 32, 32]), torch.Size([9216, 5]))
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.errors import UserError

SIZE = 32
FACTOR_NAMES = ("shape", "scale", "orientation", "position_x", "position_y")
FACTOR_SIZES = (3, 6, 10, 8, 8)
SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, FACTOR_SIZES[1])
ORIENTATIONS = np.arange(FACTOR_SIZES[2]) * (2 * math.pi / FACTOR_SIZES[2])
POSITIONS = np.linspace(0.2, 0.8, FACTOR_SIZES[3])
RADIUS = 0.18
_FRACTIONS = {"train": (0.0, 0.8), "valid": (0.8, 0.9), "test": (0.9, 1.0)}
NUM_IMAGES = math.prod(FACTOR_SIZES)

INFO = DatasetInfo(
    "sprites", data_shape=(1, SIZE, SIZE), num_levels=2, value_range=(0.0, 1.0),
    num_classes=None,
    split_sizes={"train": 9216, "valid": 1152, "test": 1152},
    description="procedural dSprites-like sprites, 32x32 binary, 5 known factors "
                "(shape 3, scale 6, orientation 10, x 8, y 8)",
)


def all_factors() -> np.ndarray:
    """Every factor combination in row-major order: (11520, 5) int64 indices."""
    grids = np.meshgrid(*[np.arange(n) for n in FACTOR_SIZES], indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], 1).astype(np.int64)


def render(factors: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Images of factor indices (N, 5) -> (N, 1, 32, 32) uint8 in {0, 1}."""
    f = np.asarray(factors, dtype=np.int64).reshape(-1, 5)
    if f.size and ((f < 0).any() or (f >= np.array(FACTOR_SIZES)).any()):
        raise UserError(f"sprite factor indices must lie in 0..size-1 for sizes {FACTOR_SIZES}")
    centres = ((np.arange(SIZE) + 0.5) / SIZE).astype(np.float32)
    u, v = np.meshgrid(centres, centres[::-1], indexing="xy")  # v: up is +, row 0 is the top
    inside = np.zeros((len(f), SIZE, SIZE), dtype=bool)
    for shape in range(len(SHAPES)):
        rows = np.flatnonzero(f[:, 0] == shape)
        if not len(rows):
            continue
        g = f[rows]
        radius = (RADIUS * SCALES[g[:, 1]]).astype(np.float32)[:, None, None]
        theta = ORIENTATIONS[g[:, 2]].astype(np.float32)[:, None, None]
        du = u[None] - POSITIONS[g[:, 3]].astype(np.float32)[:, None, None]
        dv = v[None] - POSITIONS[g[:, 4]].astype(np.float32)[:, None, None]
        # coordinates in the sprite's own frame (rotated by -theta), in units of its radius
        a = (np.cos(theta) * du + np.sin(theta) * dv) / radius
        b = (-np.sin(theta) * du + np.cos(theta) * dv) / radius
        if shape == 0:
            inside[rows] = np.maximum(np.abs(a), np.abs(b)) <= 0.8
        elif shape == 1:
            inside[rows] = a**2 + (b / 0.5) ** 2 <= 1.0
        else:  # the heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3
            ha, hb = 1.15 * a, 1.15 * b + 0.15
            inside[rows] = (ha**2 + hb**2 - 1) ** 3 - ha**2 * hb**3 <= 0
    return torch.from_numpy(inside.astype(np.uint8))[:, None]


@lru_cache(maxsize=1)
def _everything() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    factors = all_factors()
    images = torch.cat([render(factors[i : i + 2048]) for i in range(0, len(factors), 2048)])
    order = torch.randperm(len(factors), generator=torch.Generator().manual_seed(0))
    return images, torch.from_numpy(factors), order


def load(split: str = "train") -> ArrayDataset:
    """One split: x (N, 1, 32, 32) uint8 0/1, y (N, 5) factor indices."""
    if split not in _FRACTIONS:
        raise UserError(f"unknown split {split!r}; use train, valid or test")
    images, factors, order = _everything()
    lo, hi = _FRACTIONS[split]
    index = order[round(lo * NUM_IMAGES) : round(hi * NUM_IMAGES)]
    return ArrayDataset(images[index], factors[index], INFO, split)


def load_all() -> ArrayDataset:
    """The whole factor grid in row-major factor order (what disentanglement is scored on)."""
    images, factors, _ = _everything()
    return ArrayDataset(images, factors, INFO, "all")
