"""beta-VAE: beta = 1 is the VAE's loss exactly, the KL term scales with beta, capacity anneals."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError

SMALL = dict(data_shape=(1, 6, 6), num_levels=2, latent_dim=3, hidden_sizes=(16,),
             activation="relu")


def _x() -> torch.Tensor:
    return (torch.rand(10, 1, 6, 6, generator=torch.Generator().manual_seed(0)) < 0.4).float()


def _loss(model, x, seed=0):
    torch.manual_seed(seed)
    return model.loss((x, None))


def test_beta_one_is_the_vae_loss_exactly():
    vae = perceptzoo.build("vae", **SMALL)
    beta_vae = perceptzoo.build("beta_vae", beta=1.0, **SMALL)
    beta_vae.load_state_dict(vae.state_dict(), strict=False)
    x = _x()
    assert torch.equal(_loss(vae, x).loss, _loss(beta_vae, x).loss)


def test_kl_term_scales_with_beta():
    x = _x().double()
    base = perceptzoo.build("beta_vae", beta=0.0, **SMALL).double()
    kl = _loss(base, x).metrics["kl_nats"]
    assert kl > 0
    for beta in (0.5, 2.0, 8.0):
        model = perceptzoo.build("beta_vae", beta=beta, **SMALL).double()
        model.load_state_dict(base.state_dict())
        diff = _loss(model, x).loss - _loss(base, x).loss
        assert diff.item() == pytest.approx(beta * kl, rel=1e-9)


def test_capacity_rises_linearly_and_is_counted_in_training_only():
    model = perceptzoo.build("beta_vae", capacity_max=20.0, capacity_steps=10, gamma=100.0,
                             **SMALL)
    x = _x()
    model.train()
    caps = [model.loss((x, None)).metrics["capacity_nats"] for _ in range(12)]
    assert caps[:3] == pytest.approx([0.0, 2.0, 4.0]) and caps[-1] == 20.0
    model.eval()
    model.loss((x, None))
    assert model.num_steps.item() == 12


def test_bad_beta_raises():
    with pytest.raises(UserError, match="beta must be >= 0"):
        perceptzoo.build("beta_vae", beta=-1.0)
    with pytest.raises(UserError, match="capacity"):
        perceptzoo.build("beta_vae", capacity_max=-3.0)
