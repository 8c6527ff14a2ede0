"""The dataset record every loader returns, and where local data lives."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset.

    data_shape: per-example shape, channels first for images, e.g. (1, 28, 28) or (2,).
    num_levels: discrete data takes the integer values 0..num_levels-1; None if continuous.
    value_range: (low, high) of the stored values.
    num_classes: number of labels, None if unlabelled.
    split_sizes: examples in train / valid / test.
    modality, sample_rate: how samples are written (see the fields).
    """

    name: str
    data_shape: tuple[int, ...]
    num_levels: int | None
    value_range: tuple[float, float]
    num_classes: int | None
    split_sizes: dict[str, int] = field(default_factory=dict)
    description: str = ""
    modality: str = "image"
    """how samples are written: image (PNG grid), points (scatter plot), audio (mu-law codes
    with `num_levels` levels, written as a WAV at `sample_rate`)"""
    sample_rate: int | None = None

    @property
    def num_dims(self) -> int:
        n = 1
        for s in self.data_shape:
            n *= s
        return n


@dataclass
class ArrayDataset:
    """One split held in memory: `x[i]` is an example, `y[i]` its label (or `y` is None)."""

    x: torch.Tensor
    y: torch.Tensor | None
    info: DatasetInfo
    split: str

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index):
        return self.x[index], None if self.y is None else self.y[index]


def data_dir(override: str | Path | None = None) -> Path:
    """The local data folder: `override`, else `$PERCEPTZOO_DATA`, else the user cache."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get("PERCEPTZOO_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "perceptzoo" / "data"


def _verified_cache() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "perceptzoo" / "verified.json"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_once(path: str | Path, check: Callable[[], str | None]) -> None:
    """Run `check()` (None if the file is intact, else what is wrong) the first time a data file
    is used, and again only when its size or modification time changes (remembered in the user
    cache, so a verified file costs nothing after). A failed check is a `UserError` naming the
    file and the fix."""
    from perceptzoo.errors import UserError

    path = Path(path)
    stat = path.stat()
    key, stamp = str(path.resolve()), [stat.st_size, stat.st_mtime_ns]
    store = _verified_cache()
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    if known.get(key) == stamp:
        return
    problem = check()
    if problem:
        raise UserError(f"{path} is corrupt ({problem}): delete it and it is downloaded again "
                        "(MNIST family), or copy an intact file there (the data README lists "
                        "each file's sha256)")
    known[key] = stamp
    try:
        from perceptzoo.io import write_json

        write_json(store, known)
    except OSError:  # a read-only home: verify again next time
        pass
