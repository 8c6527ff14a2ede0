"""Every dataset behind one API.

    >>> from perceptzoo import data
    >>> train = data.load("digits", "train")
    >>> train.x.shape, train.x.dtype, train.info.num_levels
    (torch.Size([1257, 1, 8, 8]), torch.uint8, 17)

`load(name, split)` returns an `ArrayDataset`: `x` (a tensor, examples first), `y` (integer
labels or None) and `info` (a `DatasetInfo`: per-example shape, value range, number of levels,
number of classes, split sizes). Discrete data keeps its integer levels 0..L-1 (uint8); models
turn them into what they need. Continuous data (the 2D toys) is float32.

Datasets: `digits` (scikit-learn's bundled 8x8, the embedded default, no network), `mnist`,
`fashion_mnist`, `binarized_mnist` (read from a local folder, downloaded and checksummed only
when absent; see `perceptzoo.data.mnist`), `toy2d:<name>` for the 2D toys (`toy2d` alone is
`toy2d:8gaussians`; see `perceptzoo.data.toy2d`), `bars_stripes` (tiny binary images with a
known distribution) and `fsdd` (spoken digits as mu-law codes, from the local `fsdd.npz`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from perceptzoo.data import (
    bars_stripes,
    digits,
    fsdd,
    mnist,
    moving_digits,
    printed_digits,
    sprites,
    toy2d,
    voxels,
)
from perceptzoo.data.base import SPLITS, ArrayDataset, DatasetInfo, data_dir
from perceptzoo.errors import UserError

_LOADERS: dict[str, Callable[[str, Path | None], ArrayDataset]] = {
    "digits": lambda split, root: digits.load(split),
    "mnist": lambda split, root: mnist.load("mnist", split, root),
    "fashion_mnist": lambda split, root: mnist.load("fashion_mnist", split, root),
    "binarized_mnist": lambda split, root: mnist.load("binarized_mnist", split, root),
    "bars_stripes": lambda split, root: bars_stripes.load(split),
    "fsdd": lambda split, root: fsdd.load(split, root),
    "sprites": lambda split, root: sprites.load(split),
    "printed_digits": lambda split, root: printed_digits.load(split),
    "moving_digits": lambda split, root: moving_digits.load(split, root),
    **{name: (lambda split, root, name=name: voxels.load(name, split)) for name in voxels.INFOS},
}
_INFOS = {"digits": digits.INFO, "bars_stripes": bars_stripes.INFO, "fsdd": fsdd.INFO,
          "sprites": sprites.INFO, "printed_digits": printed_digits.INFO,
          "moving_digits": moving_digits.INFO, **mnist.INFOS, **voxels.INFOS}


def list_datasets() -> list[str]:
    """Names `load` accepts (each toy is `toy2d:<name>`)."""
    return sorted(_LOADERS) + [f"toy2d:{n}" for n in toy2d.NAMES]


def _resolve(name: str) -> str:
    if name == "toy2d":
        return "toy2d:8gaussians"
    return name


def load(name: str, split: str = "train", data_dir: str | Path | None = None) -> ArrayDataset:
    """One split of a dataset. `data_dir` overrides the `PERCEPTZOO_DATA` setting."""
    name = _resolve(name)
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    root = Path(data_dir) if data_dir is not None else None
    if name.startswith("toy2d:"):
        return toy2d.load(name.split(":", 1)[1], split)
    if name not in _LOADERS:
        raise UserError(f"unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}")
    return _LOADERS[name](split, root)


def info(name: str, data_dir: str | Path | None = None) -> DatasetInfo:
    """Shape, levels, classes and split sizes of a dataset, without loading its pixels."""
    name = _resolve(name)
    if name in _INFOS:
        return _INFOS[name]
    if name.startswith("toy2d:"):
        return toy2d.info(name.split(":", 1)[1])
    raise UserError(f"unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}")


__all__ = ["ArrayDataset", "DatasetInfo", "SPLITS", "data_dir", "info", "list_datasets", "load"]
