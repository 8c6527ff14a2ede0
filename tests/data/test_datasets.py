"""Datasets: documented shapes, levels and splits; the checked download; exact toy densities."""

from __future__ import annotations

import gzip
import http.server
import math
import threading
from functools import partial

import numpy as np
import pytest
import torch

from perceptzoo import data
from perceptzoo.data import mnist, toy2d
from perceptzoo.errors import UserError


def test_digits_is_the_documented_fixed_split():
    splits = {s: data.load("digits", s) for s in data.SPLITS}
    assert {s: len(d) for s, d in splits.items()} == {"train": 1257, "valid": 180, "test": 360}
    for d in splits.values():
        assert d.x.shape[1:] == (1, 8, 8) and d.x.dtype == torch.uint8
        assert int(d.x.max()) <= 16 and d.info.num_levels == 17
    assert sum(len(d) for d in splits.values()) == 1797  # every image in exactly one split
    assert sum(int(d.y.bincount().min() > 0) for d in splits.values()) == 3  # all classes
    assert torch.equal(data.load("digits", "test").x, splits["test"].x)  # fixed


@pytest.mark.parametrize("name, levels, sizes", [
    ("mnist", 256, (50000, 10000, 10000)),
    ("fashion_mnist", 256, (50000, 10000, 10000)),
    ("binarized_mnist", 2, (50000, 10000, 10000)),
])
def test_mnist_family_shapes(shared_data, name, levels, sizes):
    for split, size in zip(data.SPLITS, sizes):
        d = data.load(name, split)
        assert d.x.shape == (size, 1, 28, 28) and d.x.dtype == torch.uint8
        assert int(d.x.max()) == levels - 1 and d.info.num_levels == levels
    assert data.load(name, "test").y.shape == (10000,)


def test_pinned_checksums_match_the_real_files(shared_data):
    for name, source in mnist.SOURCES.items():
        with np.load(shared_data / f"{name}.npz") as f:
            for key, (_, expected) in source["arrays"].items():
                array = f[key]
                if name == "binarized_mnist":
                    array = np.unpackbits(array, axis=1)[:, :784]
                assert mnist.sha256_of(array) == expected, (name, key)


def _idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist_server(tmp_path, monkeypatch):
    """A local HTTP server with a small MNIST in the canonical file format, and pins for it."""
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 60000, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 10000, dtype=np.uint8)}
    served = tmp_path / "served"
    served.mkdir()
    pins = {}
    for key, (filename, _) in mnist.SOURCES["mnist"]["arrays"].items():
        (served / filename).write_bytes(_idx_gz(arrays[key]))
        pins[key] = (filename, mnist.sha256_of(arrays[key]))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setitem(mnist.SOURCES, "mnist", {"mirrors": [url], "arrays": pins})
    yield arrays, served
    server.shutdown()


def test_download_fetches_verifies_and_loads(fake_mnist_server, tmp_path):
    arrays, _ = fake_mnist_server
    root = tmp_path / "cache"
    mnist._read.cache_clear()
    test = mnist.load("mnist", "test", root)
    assert (root / "mnist.npz").exists()
    np.testing.assert_array_equal(test.x[:, 0].numpy(), arrays["x_test"])
    np.testing.assert_array_equal(mnist.load("mnist", "valid", root).x[:, 0].numpy(),
                                  arrays["x_train"][50000:])


def test_download_rejects_a_corrupted_file(fake_mnist_server, tmp_path):
    _, served = fake_mnist_server
    name = "t10k-labels-idx1-ubyte.gz"
    labels = np.frombuffer(gzip.decompress((served / name).read_bytes())[8:], np.uint8).copy()
    labels[0] = (labels[0] + 1) % 10
    (served / name).write_bytes(_idx_gz(labels))
    root = tmp_path / "cache"
    with pytest.raises(UserError, match="checksum mismatch"):
        mnist.download("mnist", root)
    assert not (root / "mnist.npz").exists()  # nothing half-written


def test_download_with_an_injected_fetch(tmp_path, monkeypatch):
    """The fetch function is a parameter: no network, and a failing mirror falls through."""
    small = np.ones((3, 784), dtype=np.uint8)
    text = "\n".join(" ".join(str(v) for v in row) for row in small)
    pins = {k: (f"{k}.amat", mnist.sha256_of(small)) for k in ("train", "valid", "test")}
    monkeypatch.setitem(mnist.SOURCES, "binarized_mnist", {"mirrors": ["a/", "b/"],
                                                           "arrays": pins})
    calls = []

    def fetch(url, dest):
        calls.append(url)
        if url.startswith("a/"):
            raise OSError("mirror down")
        dest.write_text(text)

    mnist.download("binarized_mnist", tmp_path, fetch=fetch)
    with np.load(tmp_path / "binarized_mnist.npz") as f:
        assert np.unpackbits(f["test"], axis=1)[:, :784].sum() == 3 * 784
    assert calls[:2] == ["a/train.amat", "b/train.amat"]


def test_unknown_names_are_user_errors():
    with pytest.raises(UserError, match="known datasets"):
        data.load("cifar10")
    with pytest.raises(UserError, match="known"):
        data.load("toy2d:donut")
    with pytest.raises(UserError, match="split"):
        data.load("digits", "validation")


@pytest.mark.parametrize("name", [n for n in toy2d.NAMES if toy2d.has_log_prob(n)])
def test_toy_densities_integrate_to_one_and_match_the_sampler(name):
    # 1. the density integrates to 1 over a fine grid
    h = 0.01
    axis = torch.arange(-3 + h / 2, 3, h, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    density = toy2d.log_prob(name, grid).exp().reshape(len(axis), len(axis))
    assert abs(float(density.sum() * h * h) - 1) < 2e-3
    # 2. the sampler draws from that density: bin masses agree within sampling error
    n = 40000
    x = toy2d.sample(name, n, torch.Generator().manual_seed(0)).double()
    edges = torch.linspace(-3, 3, 13, dtype=torch.float64)
    cells = len(axis) // 12
    mass = density.reshape(12, cells, 12, cells).sum((1, 3)) * h * h
    ix = torch.bucketize(x[:, 0].contiguous(), edges[1:-1])
    iy = torch.bucketize(x[:, 1].contiguous(), edges[1:-1])
    ones = torch.ones(n, dtype=torch.float64)
    counts = torch.zeros(12, 12, dtype=torch.float64).index_put_((ix, iy), ones,
                                                                  accumulate=True)
    assert ((counts / n - mass).abs() <= 5 * (mass / n).sqrt() + 2e-3).all()


def test_toys_without_closed_form_say_so():
    assert toy2d.log_prob("moons", torch.zeros(3, 2)) is None
    d = data.load("toy2d:spirals", "test")
    assert d.x.shape == (5000, 2) and d.info.num_levels is None
    assert math.isclose(data.info("toy2d").split_sizes["train"], 20000)
