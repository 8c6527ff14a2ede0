"""scikit-learn's bundled 8x8 handwritten digits: the embedded default dataset.

1,797 images of 8x8 pixels with 17 grey levels (integers 0..16), 10 classes, shipped inside
the scikit-learn wheel, so it needs no network. The split is fixed: a permutation seeded with
0 puts 360 images in test, 180 in valid and the remaining 1,257 in train.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo

SIZES = {"train": 1257, "valid": 180, "test": 360}
INFO = DatasetInfo(
    name="digits",
    data_shape=(1, 8, 8),
    num_levels=17,
    value_range=(0.0, 16.0),
    num_classes=10,
    split_sizes=SIZES,
    description="scikit-learn 8x8 digits, 17 grey levels, seeded 1257/180/360 split",
)


@lru_cache(maxsize=1)
def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # imported here: sklearn takes seconds to import

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)  # (1797, 8, 8), values 0..16
    order = np.random.default_rng(0).permutation(len(images))
    return images, bunch.target.astype(np.int64), order


def load(split: str) -> ArrayDataset:
    images, labels, order = _arrays()
    n_test, n_valid = SIZES["test"], SIZES["valid"]
    index = {
        "test": order[:n_test],
        "valid": order[n_test : n_test + n_valid],
        "train": order[n_test + n_valid :],
    }[split]
    x = torch.from_numpy(images[index]).unsqueeze(1)  # (N, 1, 8, 8) uint8
    y = torch.from_numpy(labels[index])
    return ArrayDataset(x, y, INFO, split)
