"""MIG and the beta-VAE metric on representations whose disentanglement is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perceptzoo.errors import UserError
from perceptzoo.metrics.disentanglement import beta_vae_score, mig, mutual_information

SIZES = (3, 6, 5)


@pytest.fixture
def factors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, SIZES, size=(4000, 3))


def test_mutual_information_of_a_variable_with_itself_is_its_entropy():
    a = np.repeat(np.arange(4), 24)
    assert mutual_information(a, a) == pytest.approx(np.log(4))
    assert mutual_information(a, np.tile(np.arange(4), 24)) == pytest.approx(0.0, abs=1e-12)


def test_mig_is_one_for_axis_aligned_codes_and_low_for_mixed_ones(factors):
    rng = np.random.default_rng(1)
    aligned = factors[:, [2, 0, 1]].astype(float) * np.array([0.3, 2.0, -1.0])
    noise = rng.normal(size=(len(factors), 2))  # two latents that carry nothing
    score = mig(np.c_[aligned, noise], factors)["mig"]
    assert score > 0.95
    mixed = factors.astype(float) @ rng.normal(size=(3, 3))  # every latent mixes every factor
    assert mig(mixed, factors)["mig"] < 0.5 * score
    duplicated = np.c_[factors[:, 0], factors[:, 0], factors[:, 1], factors[:, 2]].astype(float)
    per_factor = mig(duplicated, factors)["mig_per_factor"]
    assert per_factor[0] == pytest.approx(0.0, abs=1e-9) and per_factor[1] > 0.95


def test_beta_vae_score_names_the_fixed_factor_of_a_disentangled_code():
    def images_of(v: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(v, dtype=torch.float32)

    perfect = beta_vae_score(lambda x: x * torch.tensor([1.0, 0.5, 2.0]), images_of, SIZES,
                             pairs_per_point=16, num_train=300, num_eval=200)
    assert perfect["beta_vae_score"] > 0.95
    g = torch.Generator().manual_seed(0)
    random = beta_vae_score(lambda x: torch.randn(len(x), 3, generator=g), images_of, SIZES,
                            pairs_per_point=16, num_train=300, num_eval=200)
    assert random["beta_vae_score"] < 0.6


def test_bad_shapes_raise():
    with pytest.raises(UserError, match="same N"):
        mig(np.zeros((5, 3)), np.zeros((4, 2)))
    with pytest.raises(UserError, match="at least 2 latents"):
        mig(np.zeros((5, 1)), np.zeros((5, 2)))
