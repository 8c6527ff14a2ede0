"""IGR: after fitting a sphere's oriented points, ||grad f|| ~ 1 in the box and the zero level
set is the sphere (Chamfer bound); contract tests for the loss."""

from __future__ import annotations

import pytest
import torch

from perceptzoo.implicit import sampling
from perceptzoo.implicit.igr import IGR, IGRConfig
from perceptzoo.implicit.mesh import extract_mesh
from perceptzoo.metrics.geometry import chamfer

TINY = {"hidden": 64, "layers": 4, "skip_layers": (), "points_per_batch": 512}


def _fit(steps: int, **cfg) -> IGR:
    torch.manual_seed(0)
    pts, nrm = sampling.get_shape("sphere").surface(2000, seed=0)
    model = IGR(IGRConfig(**{**TINY, **cfg}))
    data = model.make_dataset(pts, nrm if model.cfg.use_normals else None)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    gen = torch.Generator().manual_seed(0)
    for step in range(steps):
        if step in (steps // 2, 3 * steps // 4):
            for group in opt.param_groups:
                group["lr"] /= 4
        out = model.loss(model.batch(data, gen))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model


def _grad_norm_deviation(model: IGR, n: int = 5000):
    x = sampling.uniform_points(n, torch.Generator().manual_seed(1)).requires_grad_(True)
    (g,) = torch.autograd.grad(model(x).sum(), x)
    return (g.norm(dim=-1) - 1).abs(), x.detach().norm(dim=-1)


@pytest.fixture(scope="module")
def fitted() -> IGR:
    return _fit(600, lambda_eikonal=0.5)


def test_gradient_norm_is_one_in_the_box(fitted):
    dev, radius = _grad_norm_deviation(fitted)
    # over the whole box [-1, 1]^3, 99 % of points within 0.05 of a unit gradient
    assert torch.quantile(dev, 0.99) < 0.05
    assert dev.mean() < 0.03
    # the true SDF ||x|| - r has a kink at the centre: a smooth f must have grad f = 0 at its
    # minimum there, so the bound holds for every point only away from it
    assert dev[radius > 0.3].max() < 0.1


def test_zero_level_set_is_the_sphere(fitted):
    shape = sampling.get_shape("sphere")
    gt, _ = shape.surface(20_000, seed=3)
    mesh = extract_mesh(fitted.field, resolution=64)
    reference = extract_mesh(shape.analytic.sdf, resolution=64)  # the same extraction, exact f
    ours = chamfer(mesh.sample(20_000, seed=4), gt)["chamfer_l1"]
    exact = chamfer(reference.sample(20_000, seed=4), gt)["chamfer_l1"]
    assert ours < 0.01  # stated bound: 1 % of the box half-width (sphere radius 0.5)
    assert ours < exact + 0.003  # within 0.003 of what the exact SDF gives at 64^3


def test_loss_contract_and_gradients_reach_every_parameter():
    pts, nrm = sampling.get_shape("torus").surface(300)
    for cfg in ({}, {"use_normals": False}, {"lambda_eikonal": 0.0}):
        model = IGR(IGRConfig(**{**TINY, **cfg}))
        data = model.make_dataset(pts, nrm)
        assert data["sigmas"].shape == (300,) and (data["sigmas"] > 0).all()
        out = model.loss(model.batch(data, torch.Generator().manual_seed(0)))
        assert torch.isfinite(out.loss) and set(out.metrics) == {"surface", "normal", "eikonal",
                                                                 "loss"}
        out.loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # without the eikonal term the loss does not depend on the off-surface samples
    model = IGR(IGRConfig(**TINY, lambda_eikonal=0.0))
    data = model.make_dataset(pts, nrm)
    a = model.batch(data, torch.Generator().manual_seed(0))
    b = (a[0], a[1], a[2] + 0.3)
    assert model.loss(a).loss.item() == pytest.approx(model.loss(b).loss.item())


def test_geometric_init_starts_as_a_sphere():
    model = IGR(IGRConfig(hidden=256, layers=6))
    x = torch.tensor([[0.0, 0.0, 0.0], [0.95, 0.0, 0.0], [0.0, -0.95, 0.0]])
    f = model(x)
    assert f[0] < 0 < f[1] and f[2] > 0


@pytest.mark.slow
def test_eikonal_term_is_what_makes_f_a_distance():
    with_term = _grad_norm_deviation(_fit(600, lambda_eikonal=0.5))[0].mean()
    without = _grad_norm_deviation(_fit(600, lambda_eikonal=0.0, use_normals=False))[0].mean()
    assert with_term < 0.03 < without
