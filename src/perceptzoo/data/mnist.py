"""MNIST, Fashion-MNIST and the fixed binarized MNIST, from a local folder or a checked download.

Local layout (the same as the project's shared benchmark data, so `PERCEPTZOO_DATA` can point
at it): `mnist.npz` and `fashion_mnist.npz` hold `x_train` (60000, 28, 28) uint8, `y_train`,
`x_test` (10000, 28, 28), `y_test`; `binarized_mnist.npz` holds `train`, `valid`, `test`,
each bit-packed rows of 784 pixels (`np.packbits(x, axis=1)`).

Splits: for MNIST and Fashion-MNIST, train is the first 50,000 training images, valid the last
10,000, test the official 10,000. Binarized MNIST is the fixed Larochelle-Murray binarization
(Salakhutdinov & Murray 2008; Larochelle & Murray 2011) with its own 50k/10k/10k split; only
its test split has labels (the test set is MNIST's test set stably sorted by label).

When the file is absent, `load` downloads the canonical files, parses them, and checks the
sha256 of every decoded array against the pinned value below before writing the `.npz`
atomically. (The pins are of the decoded pixels, not of the archives, so any faithful mirror or
compression of the same data passes, and a corrupted or different file fails.)
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo, check_once, data_dir
from perceptzoo.errors import UserError

_IMAGE = dict(data_shape=(1, 28, 28), num_classes=10)
INFOS = {
    "mnist": DatasetInfo(
        "mnist", num_levels=256, value_range=(0.0, 255.0),
        split_sizes={"train": 50000, "valid": 10000, "test": 10000},
        description="MNIST (LeCun et al. 1998), 256 grey levels", **_IMAGE,
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", num_levels=256, value_range=(0.0, 255.0),
        split_sizes={"train": 50000, "valid": 10000, "test": 10000},
        description="Fashion-MNIST (Xiao et al. 2017), 256 grey levels", **_IMAGE,
    ),
    "binarized_mnist": DatasetInfo(
        "binarized_mnist", num_levels=2, value_range=(0.0, 1.0),
        split_sizes={"train": 50000, "valid": 10000, "test": 10000},
        description="fixed binarized MNIST (Larochelle & Murray 2011), 50k/10k/10k", **_IMAGE,
    ),
}

# Canonical sources. Each array: (file name, sha256 of the decoded array's bytes).
SOURCES: dict[str, dict] = {
    "mnist": {
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        "arrays": {
            "x_train": ("train-images-idx3-ubyte.gz",
                        "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
            "y_train": ("train-labels-idx1-ubyte.gz",
                        "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
            "x_test": ("t10k-images-idx3-ubyte.gz",
                       "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
            "y_test": ("t10k-labels-idx1-ubyte.gz",
                       "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
        },
    },
    "fashion_mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "arrays": {
            "x_train": ("train-images-idx3-ubyte.gz",
                        "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"),
            "y_train": ("train-labels-idx1-ubyte.gz",
                        "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"),
            "x_test": ("t10k-images-idx3-ubyte.gz",
                       "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"),
            "y_test": ("t10k-labels-idx1-ubyte.gz",
                       "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
        },
    },
    "binarized_mnist": {
        "mirrors": ["http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"],
        "arrays": {  # sha256 of the unpacked (N, 784) uint8 0/1 array
            "train": ("binarized_mnist_train.amat",
                      "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a"),
            "valid": ("binarized_mnist_valid.amat",
                      "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e"),
            "test": ("binarized_mnist_test.amat",
                     "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86"),
        },
    },
}

#: Test labels of binarized MNIST: MNIST's test set, stably sorted by label.
BINARIZED_TEST_LABELS = np.repeat(
    np.arange(10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
)


def sha256_of(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def urlopen_fetch(url: str, dest: Path) -> None:
    """Download `url` to `dest` (the default fetch; tests pass their own)."""
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as f:
        while chunk := response.read(1 << 20):
            f.write(chunk)


def parse_idx(raw: bytes) -> np.ndarray:
    """Parse an IDX file (LeCun's format: magic, big-endian dims, then uint8 data)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"IDX file truncated: expected {int(np.prod(dims))} values")
    return data.reshape(dims)


def _decode(name: str, path: Path) -> np.ndarray:
    """A downloaded file as an array: .amat text rows (binarized MNIST) or (gzipped) IDX."""
    if name == "binarized_mnist":
        return np.loadtxt(path, dtype=np.uint8, ndmin=2)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw)


def download(
    name: str,
    root: Path,
    fetch: Callable[[str, Path], None] = urlopen_fetch,
    mirrors: list[str] | None = None,
) -> Path:
    """Fetch `name` from its canonical source, verify each array's sha256, write `name.npz`.

    Nothing is written unless every array checks out; the file appears by an atomic rename.
    """
    source = SOURCES[name]
    root.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        for key, (filename, expected) in source["arrays"].items():
            errors = []
            for mirror in mirrors or source["mirrors"]:
                dest = Path(tmp) / filename
                try:
                    fetch(mirror + filename, dest)
                    array = _decode(name, dest)
                except Exception as err:  # try the next mirror
                    errors.append(f"{mirror}{filename}: {err}")
                    continue
                if sha256_of(array) != expected:
                    errors.append(f"{mirror}{filename}: checksum mismatch")
                    continue
                arrays[key] = array
                break
            else:
                raise UserError(
                    f"could not download {name} ({'; '.join(errors)}); put {name}.npz in "
                    f"{root} by hand or point PERCEPTZOO_DATA at a folder that has it"
                )
        if name == "binarized_mnist":
            arrays = {k: np.packbits(v, axis=1) for k, v in arrays.items()}
        target = root / f"{name}.npz"
        partial = Path(tmp) / f"{name}.npz"
        np.savez_compressed(partial, **arrays)
        os.replace(partial, target)
    return target


@lru_cache(maxsize=4)
def _read(name: str, path: str) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    check_once(path, lambda: _mismatch(name, arrays))
    return arrays


def _mismatch(name: str, arrays: dict[str, np.ndarray]) -> str | None:
    """Which array of a local file differs from the pinned canonical sha256 (None: none)."""
    for key, (_, expected) in SOURCES[name]["arrays"].items():
        if key not in arrays:
            return f"array {key} is missing"
        array = arrays[key]
        if name == "binarized_mnist":
            array = np.unpackbits(array, axis=1)[:, :784]
        if sha256_of(array) != expected:
            return f"array {key} does not match its pinned sha256"
    return None


def load(name: str, split: str, root: Path | None = None, **download_kwargs) -> ArrayDataset:
    root = data_dir(root)
    path = root / f"{name}.npz"
    if not path.exists():
        download(name, root, **download_kwargs)
    try:
        arrays = _read(name, str(path))
    except UserError:
        raise
    except Exception as err:
        raise UserError(
            f"{path} is not a readable {name} file ({err}); delete it to re-download"
        ) from None
    info = INFOS[name]
    if name == "binarized_mnist":
        x = np.unpackbits(arrays[split], axis=1)[:, :784].reshape(-1, 1, 28, 28)
        y = BINARIZED_TEST_LABELS if split == "test" else None
    else:
        if split == "test":
            x, y = arrays["x_test"], arrays["y_test"]
        else:
            part = slice(0, 50000) if split == "train" else slice(50000, 60000)
            x, y = arrays["x_train"][part], arrays["y_train"][part]
        x = x[:, None]
    return ArrayDataset(
        torch.from_numpy(np.ascontiguousarray(x)),
        None if y is None else torch.from_numpy(y.astype(np.int64)),
        info,
        split,
    )
