"""Nonlinear autoencoders: the penalties are what they claim to be and do what they are for."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.errors import UserError


def test_contractive_penalty_equals_the_jacobian_norm_by_autograd():
    model = perceptzoo.build("autoencoder", code_size=100, hidden_sizes=(),
                             penalty="contractive").double()
    x = torch.randint(0, 17, (5, 1, 8, 8))
    h = model.encode(x)
    assert model.penalty(h).item() == pytest.approx(model.jacobian_norm(x).mean().item(),
                                                    rel=1e-10)


def _train(model, x, steps=300):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        out = model.loss((x[torch.randint(0, len(x), (64,), generator=g)], None))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model


def test_penalties_keep_an_overcomplete_code_from_copying():
    torch.manual_seed(0)
    x = data.load("digits", "train").x
    common = dict(code_size=128, hidden_sizes=())  # 128 code units for 64 pixels
    plain = _train(perceptzoo.build("autoencoder", **common), x)
    torch.manual_seed(0)
    contractive = _train(perceptzoo.build("autoencoder", penalty="contractive",
                                          penalty_weight=1.0, **common), x)
    torch.manual_seed(0)
    sparse = _train(perceptzoo.build("autoencoder", penalty="sparse", penalty_weight=1.0,
                                     **common), x)
    test = data.load("digits", "test").x[:200]
    assert contractive.jacobian_norm(test).mean() < 0.5 * plain.jacobian_norm(test).mean()
    assert sparse.encode(test).mean() < 0.5 * plain.encode(test).mean()


def test_bad_settings_raise():
    with pytest.raises(UserError, match="one-layer"):
        perceptzoo.build("autoencoder", penalty="contractive", hidden_sizes=(16,))
    with pytest.raises(UserError, match="unknown penalty"):
        perceptzoo.build("autoencoder", penalty="l3")
