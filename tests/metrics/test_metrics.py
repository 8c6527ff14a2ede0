"""Metrics against closed forms: Frechet distance of Gaussians, MMD, precision/recall, units."""

from __future__ import annotations

import math

import pytest
import torch

from perceptzoo.metrics import (
    bits_per_dim,
    classifier,
    dequantized_nll,
    frechet_distance,
    mmd_rbf,
    precision_recall,
)


def test_frechet_distance_matches_the_gaussian_closed_form():
    g = torch.Generator().manual_seed(0)
    n, d = 200000, 3
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = 2.0 * torch.randn(n, d, generator=g, dtype=torch.float64) + 1.0
    # N(0, I) vs N(1, 4I): |mu|^2 + tr(I + 4I - 2 * 2I) = 3 + 3 * 1 = 6
    assert frechet_distance(a, b) == pytest.approx(6.0, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_precision_recall_of_identical_and_disjoint_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(500, 4, generator=g)
    assert precision_recall(real, real) == (1.0, 1.0)
    far = real + 100.0
    assert precision_recall(real, far) == (0.0, 0.0)
    half = torch.cat([real[:250], real[:250] + 100.0])  # half the samples off-manifold
    precision, recall = precision_recall(real, half)
    assert precision == pytest.approx(0.5, abs=0.01)
    two_modes = torch.cat([real[:250] - 10.0, real[250:] + 10.0])
    precision, recall = precision_recall(two_modes, real[250:] + 10.0)  # one mode dropped
    assert precision == 1.0 and recall == pytest.approx(0.5, abs=0.01)


def test_mmd_is_near_zero_for_one_distribution_and_positive_for_two():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1000, 2, generator=g), torch.randn(1000, 2, generator=g)
    assert abs(mmd_rbf(x, y)) < 5e-3
    assert mmd_rbf(x, y + 1.0) > 0.1


def test_units_and_the_dequantization_bound():
    assert bits_per_dim(math.log(2) * 784, 784) == pytest.approx(1.0)
    # a uniform density on [0,1]^D has NLL 0; dequantized it is the uniform discrete model's NLL
    assert float(dequantized_nll(torch.tensor(0.0), 784, 256)) == pytest.approx(784 * math.log(256))
    # on [-1, 1] (scale 2) the density is 2^-D: NLL D log 2, and the bound is unchanged
    on_pm1 = dequantized_nll(torch.tensor(-784 * math.log(2.0)), 784, 256, scale=2.0)
    assert float(on_pm1) == pytest.approx(784 * math.log(256))


@pytest.mark.parametrize("name, accuracy", [("digits", 0.95), ("mnist", 0.98),
                                             ("fashion_mnist", 0.88)])
def test_shipped_classifiers_load_and_record_their_accuracy(name, accuracy):
    if not classifier.has_classifier(name):
        pytest.fail(f"no shipped classifier for {name}: run benchmarks/train_classifiers.py")
    from safetensors import safe_open

    with safe_open(str(classifier.weights_path(name)), "pt") as f:
        assert float(f.metadata()["test_accuracy"]) >= accuracy
    size = 8 if name == "digits" else 28
    feats = classifier.features(name, torch.zeros(3, 1, size, size, dtype=torch.uint8))
    assert feats.shape == (3, classifier.FEATURE_DIM)


def test_the_reference_is_a_fixed_random_subset_of_the_split():
    from perceptzoo.metrics.frechet import reference_subset

    a, b = reference_subset(10_000, 1000), reference_subset(10_000, 1000)
    assert torch.equal(a, b) and len(a.unique()) == 1000 and torch.equal(a, a.sort().values)
    assert a.max() > 9000 and a.min() < 1000  # spread over the split, not its head
    assert torch.equal(reference_subset(360, 1000), torch.arange(360))


def test_the_mnist_floor_is_the_same_distribution_not_the_splits_head(shared_data):
    """MNIST's test split starts with its cleaner writers (SD-3): its first 1,000 images are
    26.7 in FD from 1,000 training images. The floor `evaluate`'s reference gives is that of
    two samples of one distribution."""
    from perceptzoo.bench.metrics import real_vs_real

    floor = real_vs_real("mnist", 1000, data_dir=shared_data)
    assert floor["real_vs_real_frechet_distance"] < 6.0
