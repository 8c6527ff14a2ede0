"""Cameras, rays and renderers (the module shared with the 3D generators): rays point where the
camera looks; the volume-rendering quadrature is exact for piecewise-constant media; the mesh
and sphere-traced references agree."""

from __future__ import annotations

import math

import pytest
import torch

from perceptzoo.data.shapes import get_shape
from perceptzoo.implicit import cameras


def test_camera_rays_point_at_the_target():
    c2w = cameras.look_at((2.0, 1.0, 0.5))
    rot = c2w[:, :3]
    assert torch.allclose(rot.T @ rot, torch.eye(3), atol=1e-6)
    origins, dirs = cameras.camera_rays(c2w, 9, 9)
    centre = dirs[4 * 9 + 4]
    assert torch.allclose(centre, -torch.nn.functional.normalize(c2w[:, 3], dim=0), atol=1e-6)
    assert torch.allclose(origins, c2w[:, 3].expand(81, 3))


def test_volume_render_is_exact_for_a_homogeneous_slab():
    """Density sigma on [a, b] and nothing elsewhere: opacity 1 - exp(-sigma (b - a)), colour
    that opacity times the slab's colour over the background, whatever the sampling."""
    sigma, a, b = 3.0, 1.0, 1.5
    depths = cameras.stratified_depths(0.0, 3.0, 4, 300, torch.Generator().manual_seed(0))
    # one sample exactly at a and at b on every ray, so the slab is a union of intervals
    depths = torch.sort(torch.cat([depths, torch.tensor([[a, b]]).expand(4, 2)], 1)).values
    inside = (depths >= a) & (depths < b)
    densities = torch.where(inside, torch.tensor(sigma), torch.tensor(0.0))
    colors = torch.tensor([0.2, 0.4, 0.6]).expand(4, depths.shape[1], 3)
    out = cameras.volume_render(densities, colors, depths, background=1.0)
    alpha = 1 - math.exp(-sigma * (b - a))
    assert torch.allclose(out["opacity"], torch.full((4,), alpha), atol=1e-6)
    expected = alpha * torch.tensor([0.2, 0.4, 0.6]) + (1 - alpha)
    assert torch.allclose(out["rgb"], expected.expand(4, 3), atol=1e-6)
    assert ((out["depth"] >= a) & (out["depth"] <= b)).all()
    assert (out["weights"] >= 0).all() and (out["weights"].sum(1) <= 1 + 1e-6).all()


def test_volume_render_front_surface_hides_the_back_and_gradients_flow():
    depths = torch.linspace(0, 2, 201)[None]  # (1, S)
    dens = torch.zeros(1, 201)
    dens[0, 50:60] = 1e4  # opaque red slab at t = 0.5
    dens[0, 150:160] = 1e4  # opaque green slab behind it
    colors = torch.zeros(1, 201, 3)
    colors[0, 50:60, 0] = 1.0
    colors[0, 150:160, 1] = 1.0
    out = cameras.volume_render(dens, colors, depths)
    assert torch.allclose(out["rgb"], torch.tensor([[1.0, 0.0, 0.0]]), atol=1e-4)
    assert out["depth"].item() == pytest.approx(0.5, abs=0.01)
    soft = torch.full((1, 201), 0.5, requires_grad=True)
    cameras.volume_render(soft, colors, depths)["rgb"].sum().backward()
    assert soft.grad is not None and soft.grad.abs().sum() > 0


def test_stratified_depths_stay_in_their_bins():
    near, far = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 2.5])
    d = cameras.stratified_depths(near, far, 2, 8, torch.Generator().manual_seed(1))
    assert (d[:, 1:] > d[:, :-1]).all()
    width = (far - near) / 8
    k = torch.arange(8)
    assert ((d >= near[:, None] + k * width[:, None]) & (d <= near[:, None] + (k + 1)
                                                          * width[:, None])).all()
    mid = cameras.stratified_depths(1.0, 3.0, 1, 4)
    assert torch.allclose(mid, torch.tensor([[1.25, 1.75, 2.25, 2.75]]))


def test_reference_renders_of_mesh_and_sdf_agree():
    shape = get_shape("sphere")
    cam = cameras.orbit_cameras(1)[0]
    a = cameras.render_sdf(shape.analytic.sdf, cam, 24, 24)
    b = cameras.render_mesh(shape.mesh, cam, 24, 24)
    both = a["mask"] & b["mask"]
    assert (a["mask"] != b["mask"]).float().mean() < 0.03
    assert (a["depth"][both] - b["depth"][both]).abs().max() < 5e-3
    with torch.no_grad():  # normals come from autograd: rendering must not need grad mode
        c = cameras.render_sdf(shape.analytic.sdf, cam, 24, 24)
    assert torch.equal(a["rgb"], c["rgb"])


def test_ray_box_interval_brackets_the_cube():
    g = torch.Generator().manual_seed(2)
    origins = 2.5 * torch.nn.functional.normalize(torch.randn(100, 3, generator=g,
                                                              dtype=torch.float64), dim=-1)
    target = 0.3 * (torch.rand(100, 3, generator=g, dtype=torch.float64) - 0.5)
    dirs = torch.nn.functional.normalize(target - origins, dim=-1)
    t_in, t_out = cameras.ray_box_interval(origins, dirs, 1.0, near=0.1, far=6.0)
    assert (t_in < t_out).all()
    for t in (t_in + 1e-4, t_out - 1e-4, 0.5 * (t_in + t_out)):
        assert ((origins + t[:, None] * dirs).abs().amax(-1) <= 1.0).all()
    for t in (t_in - 1e-3, t_out + 1e-3):  # just outside on either side
        assert ((origins + t[:, None] * dirs).abs().amax(-1) > 1.0).all()
    away = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64).expand_as(origins)
    lo, hi = cameras.ray_box_interval(origins.abs() + 2.0, away, 1.0, near=0.5, far=4.0)
    assert (lo == 0.5).all() and (hi == 4.0).all()
