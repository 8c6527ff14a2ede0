"""IGR: the geometric init is the sphere SDF within a stated tolerance; after fitting a sphere's
oriented points, ||grad f|| ~ 1 in the box and the zero level set is the sphere (Chamfer
bound); contract tests for the loss."""

from __future__ import annotations

import pytest
import torch

from perceptzoo.data import shapes as sampling
from perceptzoo.implicit.igr import IGR, IGRConfig
from perceptzoo.implicit.mesh import extract_mesh
from perceptzoo.metrics.geometry import chamfer

TINY = {"hidden": 64, "layers": 4, "skip_layers": ()}
BATCH = 512


def _fit(steps: int, **cfg) -> IGR:
    torch.manual_seed(0)
    pts, nrm = sampling.get_shape("sphere").surface(2000, seed=0)
    model = IGR(IGRConfig(**{**TINY, **cfg}))
    data = model.cloud_dataset(pts, nrm if model.cfg.use_normals else None)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    gen = torch.Generator().manual_seed(0)
    for step in range(steps):
        if step in (steps // 2, 3 * steps // 4):
            for group in opt.param_groups:
                group["lr"] /= 4
        out = model.loss(model.batch(data, gen, BATCH))
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
        data = model.cloud_dataset(pts, nrm)
        assert data["sigmas"].shape == (300,) and (data["sigmas"] > 0).all()
        out = model.loss(model.batch(data, torch.Generator().manual_seed(0), BATCH))
        assert torch.isfinite(out.loss) and set(out.metrics) == {"surface", "normal", "eikonal",
                                                                 "loss"}
        out.loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # without the eikonal term the loss does not depend on the off-surface samples
    model = IGR(IGRConfig(**TINY, lambda_eikonal=0.0))
    data = model.cloud_dataset(pts, nrm)
    a = model.batch(data, torch.Generator().manual_seed(0), BATCH)
    b = (a[0], a[1], a[2] + 0.3)
    assert model.loss(a).loss.item() == pytest.approx(model.loss(b).loss.item())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_geometric_init_is_the_sphere_sdf_within_the_stated_tolerance(seed):
    """The decoder docstring's statement for IGR's default size (6 x 256, Softplus beta=100):
    |f(x) - (||x|| - r)| < 0.03 at ||x|| >= 0.25 and < 0.01 on average over [-1, 1]^3, and
    f(0) within 0.16 of -r (the kink of ||x|| at the origin is what a smooth network cannot
    have). SAL's weights alone gave f(0) = -0.25 and errors up to 0.41 here."""
    torch.manual_seed(seed)
    model = IGR(IGRConfig())
    x = sampling.uniform_points(20_000, torch.Generator().manual_seed(100 + seed))
    with torch.no_grad():
        err = (model(x) - (x.norm(dim=-1) - 0.5)).abs()
        f0 = model(torch.zeros(1, 3)).item()
    assert err[x.norm(dim=-1) >= 0.25].max() < 0.03
    assert err.mean() < 0.01
    assert abs(f0 + 0.5) < 0.16
    # the init leaves the global RNG where SAL's weights put it (no hidden draws)
    torch.manual_seed(seed)
    IGR(IGRConfig())
    after = torch.rand(1)
    torch.manual_seed(seed)
    from perceptzoo.implicit import decoders

    original = decoders.ImplicitMLP._fit_sphere
    try:
        decoders.ImplicitMLP._fit_sphere = lambda self: None
        IGR(IGRConfig())
    finally:
        decoders.ImplicitMLP._fit_sphere = original
    assert torch.equal(after, torch.rand(1))


@pytest.mark.slow
def test_eikonal_term_is_what_makes_f_a_distance():
    with_term = _grad_norm_deviation(_fit(600, lambda_eikonal=0.5))[0].mean()
    without = _grad_norm_deviation(_fit(600, lambda_eikonal=0.0, use_normals=False))[0].mean()
    assert with_term < 0.03 < without
