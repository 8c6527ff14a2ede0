"""A linear autoencoder trained to convergence is PCA: same subspace, same error."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.autoencoders.linear import pca, pca_reconstruct, principal_angles
from perceptzoo.errors import UserError


def test_trained_linear_ae_spans_the_pca_subspace_with_pcas_error():
    torch.manual_seed(0)
    x = data.load("digits", "train").x[:400]
    k = 5
    model = perceptzoo.build("linear_ae", num_components=k).double()
    v = model.inputs(x)
    mean, components, _ = pca(v, k)
    pca_mse = (pca_reconstruct(v, mean, components) - v).pow(2).mean()
    model.initialize((x, None))
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=200, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = model.loss((x, None)).loss
        loss.backward()
        return loss

    opt.step(closure)
    mse = model.loss((x, None)).loss.detach()
    assert principal_angles(model.decoder.weight, components.T).max() < 1e-2  # radians
    assert abs(mse - pca_mse) / pca_mse < 0.01
    # and PCA is a lower bound no linear AE beats (Eckart-Young), up to round-off
    assert mse >= pca_mse - 1e-9


def test_principal_angles_of_known_subspaces():
    e = torch.eye(4, dtype=torch.float64)
    assert principal_angles(e[:, :2], e[:, :2] @ torch.tensor([[2.0, 1.0], [0.0, 3.0]],
                                                              dtype=torch.float64)).max() < 1e-7
    angles = principal_angles(e[:, :1], (e[:, :1] + e[:, 1:2]))
    assert angles.item() == pytest.approx(torch.pi / 4)


def test_pca_error_is_the_discarded_variance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 6, generator=g, dtype=torch.float64) * torch.arange(1, 7)
    mean, components, variances = pca(x, 3)
    err = (pca_reconstruct(x, mean, components) - x).pow(2).sum(1).mean()
    total = (x - mean).pow(2).sum(1).mean()
    assert err.item() == pytest.approx((total - variances.sum()).item(), rel=1e-9)


def test_bad_sizes_raise():
    with pytest.raises(UserError, match="num_components"):
        perceptzoo.build("linear_ae", num_components=65)
    with pytest.raises(UserError, match="PCA needs"):
        pca(torch.zeros(3, 5), 4)
