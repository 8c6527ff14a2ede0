"""Marching cubes over any points-to-values function: sphere area and volume within 1 % at
128^3, torus within 2 %; chunking changes nothing; PLY/OBJ round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh

from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError
from perceptzoo.implicit.mesh import extract_mesh, grid_points, save_mesh


def test_sphere_area_and_volume_within_1_percent_at_128():
    r = 0.5
    mesh = extract_mesh(lambda p: sampling.sdf_sphere(p, r), resolution=128)
    assert mesh.is_watertight
    assert mesh.area == pytest.approx(4 * math.pi * r**2, rel=0.01)
    assert mesh.volume == pytest.approx(4 / 3 * math.pi * r**3, rel=0.01)


def test_torus_area_and_volume_within_2_percent_at_128():
    big, small = 0.5, 0.2
    mesh = extract_mesh(lambda p: sampling.sdf_torus(p, big, small), resolution=128)
    assert mesh.area == pytest.approx(4 * math.pi**2 * big * small, rel=0.02)
    assert mesh.volume == pytest.approx(2 * math.pi**2 * big * small**2, rel=0.02)


def test_occupancy_style_field_and_normals_point_outwards():
    # inside = larger values (occupancy logits): the mesh still has positive volume
    mesh = extract_mesh(lambda p: 0.6 - p.norm(dim=-1), resolution=48, inside="above")
    assert mesh.volume > 0
    centroid_dirs = mesh.triangles_center / np.linalg.norm(mesh.triangles_center, axis=1)[:, None]
    assert ((mesh.face_normals * centroid_dirs).sum(1) > 0.9).mean() > 0.99


def test_chunking_and_callable_kinds_do_not_change_the_mesh():
    # a seeded random net around a sphere: always has a level set, and a bumpy one
    gen = torch.Generator().manual_seed(0)
    w1, w2 = torch.randn(3, 16, generator=gen) * 3, torch.randn(16, generator=gen) * 0.03
    fn = lambda p: p.norm(dim=-1) - 0.5 + torch.tanh(p @ w1) @ w2  # noqa: E731
    a = extract_mesh(fn, resolution=24, chunk=100_000)
    b = extract_mesh(fn, resolution=24, chunk=333)
    assert len(a.faces) > 100
    # the same grid values up to float rounding of batched matmuls: the same mesh
    assert np.array_equal(a.faces, b.faces) and np.allclose(a.vertices, b.vertices, atol=1e-5)
    sphere = extract_mesh(lambda p: p.norm(dim=-1) - 0.5, resolution=24)
    assert not np.allclose(a.volume, sphere.volume, rtol=1e-3)  # the bumps are in the mesh
    c = extract_mesh(lambda p: np.linalg.norm(np.asarray(p), axis=1) - 0.5, resolution=24)
    assert c.volume == pytest.approx(4 / 3 * math.pi * 0.125, rel=0.08)


def test_grid_chunks_are_the_grid():
    whole = grid_points(7)
    parts = torch.cat([grid_points(7, start=s, stop=min(s + 50, 343)) for s in range(0, 343, 50)])
    assert torch.equal(whole, parts)
    axis = torch.linspace(-1, 1, 7)
    assert torch.equal(whole[7 * 7 * 2 + 7 * 3 + 5], torch.stack([axis[2], axis[3], axis[5]]))


def test_bounds_are_respected():
    mesh = extract_mesh(lambda p: sampling.sdf_sphere(p - 1.0, 0.3), 40, bounds=(0.5, 1.5))
    assert np.allclose(mesh.bounds.mean(0), 1.0, atol=0.02)


def test_no_surface_is_a_user_error():
    with pytest.raises(UserError, match="does not cross"):
        extract_mesh(lambda p: p.norm(dim=-1) + 1.0, resolution=16)


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_export_round_trip(tmp_path, suffix):
    mesh = extract_mesh(lambda p: sampling.sdf_torus(p), resolution=32)
    path = save_mesh(mesh, tmp_path / f"torus{suffix}")
    back = trimesh.load(path, force="mesh")
    assert len(back.faces) == len(mesh.faces)
    assert back.volume == pytest.approx(mesh.volume, rel=1e-4)
    with pytest.raises(UserError):
        save_mesh(mesh, tmp_path / "torus.txt")
