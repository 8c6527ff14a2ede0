"""The mode-coverage metric agrees with the toy data's own mixtures."""

from __future__ import annotations

import pytest
import torch

from perceptzoo import data
from perceptzoo.errors import UserError
from perceptzoo.metrics.modes import mode_coverage


@pytest.mark.parametrize("name,k", [("8gaussians", 8), ("25gaussians", 25)])
def test_the_data_covers_every_mode(name, k):
    x = data.load(f"toy2d:{name}", "test").x[:2500]
    r = mode_coverage(x, name)
    assert r["modes_covered"] == k == r["num_modes"]
    assert r["high_quality_fraction"] > 0.98  # 3 std in 2-D holds 98.9 %
    assert r["mode_kl"] < 0.02


def test_a_collapsed_sampler_covers_one_mode():
    x = torch.tensor([[2.0, 0.0]]) + 0.05 * torch.randn(1000, 2)
    r = mode_coverage(x, "8gaussians")
    assert r["modes_covered"] == 1 and r["high_quality_fraction"] == 1.0
    assert r["mode_kl"] == pytest.approx(torch.log(torch.tensor(8.0)).item(), abs=1e-6)
    far = mode_coverage(torch.zeros(100, 2), "8gaussians")
    assert far["modes_covered"] == 0 and far["high_quality_fraction"] == 0.0


def test_bad_input():
    with pytest.raises(UserError, match="8gaussians"):
        mode_coverage(torch.zeros(3, 2), "moons")
    with pytest.raises(UserError, match="N, 2"):
        mode_coverage(torch.zeros(3, 3), "8gaussians")


@pytest.mark.parametrize("name,k", [("8gaussians", 8), ("25gaussians", 25)])
def test_the_gaussian_baseline_covers_every_mode_at_low_quality(name, k):
    """The baseline mode_study reports beside each model: one Gaussian with the data's mean
    and covariance already "covers" every mode, with about a quarter of its samples within
    3 std of one; a model's high-quality fraction has to beat that."""
    from perceptzoo.gans.mode_study import gaussian_baseline

    r = gaussian_baseline(f"toy2d:{name}")
    assert r["modes_covered"] == k
    assert 0.15 < r["high_quality_fraction"] < 0.35
