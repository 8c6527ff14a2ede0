"""Moving digits: one MNIST digit bouncing inside a 28x28 frame, a short video per example
(in the spirit of Moving MNIST, Srivastava et al. 2015, shrunk to what 2 CPU cores can train).

Each video takes the digit's central 20x20 box (where MNIST keeps its ink), starts it at a
random position in the 28x28 frame with a random velocity of 1 or 2 pixels per frame in each
axis, and reflects it off the walls, for `NUM_FRAMES` frames. Train and valid videos use
digits of MNIST's train split (the first 45,000 and the last 5,000), test videos the test digits;
every split is a pure function of its seed. The source domain of vid2vid is the video of the
frames' Sobel edge maps (`perceptzoo.data.paired.edge_source`).

Layout: so that every tool that writes image grids shows a video as a film strip, an example
is stored as one (1, 28, 28 * T) image, frames side by side; `frames(x)` turns a batch into
(B, T, 1, 28, 28) and `strip(v)` back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.errors import UserError

NUM_FRAMES = 8
SIDE = 28
BOX = 20
SIZES = {"train": 6000, "valid": 500, "test": 1000}
SEEDS = {"train": 0, "valid": 1, "test": 2}

INFO = DatasetInfo(
    name="moving_digits", data_shape=(1, SIDE, SIDE * NUM_FRAMES), num_levels=256,
    value_range=(0.0, 255.0), num_classes=10, split_sizes=dict(SIZES),
    description=f"{NUM_FRAMES}-frame videos of an MNIST digit bouncing in a 28x28 frame, "
                "stored as film strips (1, 28, 28*T)")


def frames(x: torch.Tensor, num_frames: int = NUM_FRAMES) -> torch.Tensor:
    """Film strips (B, C, H, W*T) -> videos (B, T, C, H, W)."""
    b, c, h, wt = x.shape
    if wt % num_frames:
        raise UserError(f"a film strip of width {wt} does not hold {num_frames} frames")
    return x.reshape(b, c, h, num_frames, wt // num_frames).permute(0, 3, 1, 2, 4)


def strip(v: torch.Tensor) -> torch.Tensor:
    """Videos (B, T, C, H, W) -> film strips (B, C, H, W*T)."""
    b, t, c, h, w = v.shape
    return v.permute(0, 2, 3, 1, 4).reshape(b, c, h, t * w)


def bounce(digits: np.ndarray, seed: int, num_frames: int = NUM_FRAMES) -> np.ndarray:
    """MNIST digits (N, 28, 28) uint8 -> videos (N, T, 1, 28, 28) of each digit bouncing."""
    rng = np.random.default_rng(seed)
    n = len(digits)
    box = digits[:, 4:4 + BOX, 4:4 + BOX]
    room = SIDE - BOX
    pos = rng.integers(0, room + 1, size=(n, 2))
    vel = rng.choice([-2, -1, 1, 2], size=(n, 2))
    out = np.zeros((n, num_frames, 1, SIDE, SIDE), dtype=np.uint8)
    for t in range(num_frames):
        for i in range(n):
            r, c = pos[i]
            out[i, t, 0, r:r + BOX, c:c + BOX] = box[i]
        pos = pos + vel
        low, high = pos < 0, pos > room           # reflect off the walls
        pos = np.where(low, -pos, np.where(high, 2 * room - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return out


@lru_cache(maxsize=3)
def _split(split: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    from perceptzoo.data import mnist

    source = mnist.load("mnist", "test" if split == "test" else "train",
                        None if root is None else Path(root))
    rng = np.random.default_rng(100 + SEEDS[split])
    pool = np.arange(len(source)) if split != "valid" else np.arange(45000, 50000)
    if split == "train":
        pool = np.arange(45000)
    idx = rng.choice(pool, SIZES[split], replace=False)
    videos = bounce(source.x[idx, 0].numpy(), SEEDS[split])
    return strip(torch.from_numpy(videos)), source.y[idx].clone()


def load(split: str, root: Path | None = None) -> ArrayDataset:
    x, y = _split(split, None if root is None else str(root))
    return ArrayDataset(x.clone(), y.clone(), INFO, split)
