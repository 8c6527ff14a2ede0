"""Bars and stripes (MacKay 2003, ch. 43; the classic test set for Boltzmann machines and
tiny autoregressive models): binary H x W images whose rows are all equal (stripes) or whose
columns are all equal (bars).

There are 2^H + 2^W - 2 distinct images (the all-0 and all-1 images are both bars and stripes).
The data distribution here is uniform over them, so its exact entropy is log(2^H + 2^W - 2)
nats: on the default 3 x 4 images, 22 patterns and log 22 = 3.091 nats, 12 binary dimensions
(small enough to enumerate all 4,096 inputs). Splits are seeded i.i.d. draws: 2,000 train,
500 valid, 500 test.

    >>> from perceptzoo.data import bars_stripes
    >>> bars_stripes.patterns(3, 4).shape
    torch.Size([22, 1, 3, 4])
"""

from __future__ import annotations

import itertools
import math

import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo

SHAPE = (1, 3, 4)
SIZES = {"train": 2000, "valid": 500, "test": 500}
INFO = DatasetInfo(
    name="bars_stripes",
    data_shape=SHAPE,
    num_levels=2,
    value_range=(0.0, 1.0),
    num_classes=None,
    split_sizes=SIZES,
    description="bars and stripes 3x4, uniform over the 22 patterns, seeded 2000/500/500 draws",
)


def patterns(height: int, width: int) -> torch.Tensor:
    """Every distinct bars-or-stripes image: (2^H + 2^W - 2, 1, H, W) uint8."""
    found = set()
    for rows in itertools.product((0, 1), repeat=height):  # stripes: constant rows
        found.add(tuple(v for r in rows for v in [r] * width))
    for cols in itertools.product((0, 1), repeat=width):  # bars: constant columns
        found.add(tuple(cols) * height)
    return torch.tensor(sorted(found), dtype=torch.uint8).view(-1, 1, height, width)


def entropy_nats(height: int = 3, width: int = 4) -> float:
    """Exact entropy of the uniform distribution over the patterns (the best possible NLL)."""
    return math.log(2**height + 2**width - 2)


def load(split: str) -> ArrayDataset:
    pats = patterns(*SHAPE[1:])
    seed = {"train": 0, "valid": 1, "test": 2}[split]
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(len(pats), (SIZES[split],), generator=g)
    return ArrayDataset(pats[index].clone(), None, INFO, split)
