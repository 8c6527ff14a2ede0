"""Test settings: one torch thread, the shared benchmark data when it exists, and skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if "PERCEPTZOO_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["PERCEPTZOO_DATA"] = str(SHARED_DATA)


def _data_root() -> Path | None:
    root = os.environ.get("PERCEPTZOO_DATA")
    return Path(root) if root else None


@pytest.fixture
def shared_data() -> Path:
    """The folder with the real MNIST-family data, audio and meshes; skips when absent."""
    root = _data_root()
    if root is None or not (root / "binarized_mnist.npz").exists():
        pytest.skip("real data absent: set PERCEPTZOO_DATA to a folder with mnist.npz, "
                    "binarized_mnist.npz, fashion_mnist.npz (see README, Data)")
    return root
