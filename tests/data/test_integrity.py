"""Local data files are checked against their pinned checksums on first use, not only after a
download: one changed pixel, or a truncated file, is named with the fix."""

from __future__ import annotations

import numpy as np
import pytest

from perceptzoo import data
from perceptzoo.data import fsdd, mnist
from perceptzoo.errors import UserError


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mnist._read.cache_clear()
    fsdd._windows.cache_clear()
    yield
    mnist._read.cache_clear()
    fsdd._windows.cache_clear()


def test_one_changed_pixel_of_binarized_mnist_is_caught(shared_data, tmp_path, fresh_cache):
    with np.load(shared_data / "binarized_mnist.npz") as f:
        arrays = {k: f[k].copy() for k in f.files}
    local = tmp_path / "local"
    local.mkdir()
    np.savez_compressed(local / "binarized_mnist.npz", **arrays)
    assert len(data.load("binarized_mnist", "test", local)) == 10_000  # an intact copy loads
    mnist._read.cache_clear()
    arrays["test"][0, 0] ^= 0b1000_0000  # one pixel of one test image
    np.savez_compressed(local / "binarized_mnist.npz", **arrays)
    with pytest.raises(UserError, match=r"binarized_mnist.npz is corrupt.*test.*delete it"):
        data.load("binarized_mnist", "test", local)


def test_a_truncated_fsdd_file_is_named_with_the_fix(shared_data, tmp_path, fresh_cache):
    local = tmp_path / "local"
    local.mkdir()
    (local / "fsdd.npz").write_bytes((shared_data / "fsdd.npz").read_bytes()[:100_000])
    with pytest.raises(UserError, match=r"fsdd.npz is corrupt"):
        data.load("fsdd", "test", local)
