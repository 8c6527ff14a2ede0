"""The shape catalogue: mesh SDFs equal analytic SDFs of primitives, signs are right, samples
and surface points are where they claim to be, non-watertight meshes are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh

from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError


def _box_points(n: int, seed: int) -> torch.Tensor:
    return sampling.uniform_points(n, torch.Generator().manual_seed(seed))


def test_analytic_sdfs_known_values():
    p = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.9]])
    assert torch.allclose(sampling.sdf_sphere(p, 0.5), torch.tensor([-0.5, 0.5, 0.4]))
    assert torch.allclose(sampling.sdf_box(p, (0.4, 0.3, 0.5)), torch.tensor([-0.3, 0.6, 0.4]))
    assert torch.allclose(sampling.sdf_torus(p, 0.5, 0.2),
                          torch.tensor([0.5 - 0.2, 0.5 - 0.2, math.hypot(0.5, 0.9) - 0.2]))
    assert torch.allclose(sampling.sdf_capsule(p, 0.8, 0.3), torch.tensor([-0.3, 0.7, 0.2]))


@pytest.mark.parametrize("kind", sampling.PRIMITIVES)
def test_analytic_sdf_has_unit_gradient(kind):
    p = _box_points(500, 1).double().requires_grad_(True)
    d = sampling.CANONICAL[kind].sdf(p)
    (g,) = torch.autograd.grad(d.sum(), p)
    # an exact SDF has unit gradient everywhere except on its medial set (measure zero)
    assert ((g.norm(dim=-1) - 1).abs() < 1e-6).float().mean() > 0.99


@pytest.mark.parametrize("embree", [True, False])
def test_mesh_sdf_of_box_equals_analytic_exactly(embree, monkeypatch):
    if not embree:  # the winding-number sign that machines without embreex use
        monkeypatch.setattr(sampling, "has_embree", lambda: False)
    shape = sampling.get_shape("box")  # a box mesh is its exact surface
    p = _box_points(400, 2)
    assert (sampling.mesh_sdf(shape.mesh, p) - shape.sdf(p)).abs().max() < 1e-5


@pytest.mark.parametrize("kind,tol", [("sphere", 2e-3), ("torus", 1e-2), ("capsule", 1e-2)])
def test_mesh_sdf_matches_analytic_within_tessellation_error(kind, tol):
    prim = sampling.CANONICAL[kind]
    mesh = prim.mesh(detail=64)
    p = _box_points(300, 3)
    mesh_d, true_d = sampling.mesh_sdf(mesh, p), prim.sdf(p)
    assert (mesh_d - true_d).abs().max() < tol
    assert ((mesh_d < 0) == (true_d < 0))[true_d.abs() > tol].all()  # sign right off the band


@pytest.mark.parametrize("kind", sampling.PRIMITIVES)
def test_winding_number_sign_matches_analytic(kind):
    prim = sampling.CANONICAL[kind]
    if kind == "sphere":  # a coarse icosphere keeps the O(points x faces) sum small
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=prim.params[0])
    else:
        mesh = prim.mesh(detail=32)
    p = _box_points(300, 4)
    d = prim.sdf(p)
    w = sampling.winding_number(mesh, p)
    far = d.abs() > 0.03  # beyond the tessellation error of the coarse meshes
    assert ((w > 0.5) == (d < 0))[far].all()
    assert torch.allclose(w[far], (d[far] < 0).to(w.dtype), atol=1e-6)  # 1 inside, 0 outside


def test_inside_agrees_with_winding_number_on_a_real_mesh(shared_data):
    # without embree `inside` is the binned ray-parity test: checked against the winding number
    shape = sampling.get_shape("mesh:cow", shared_data)
    p = _box_points(150, 5)
    assert torch.equal(sampling.inside(shape.mesh, p), sampling.winding_number(shape.mesh, p) > 0.5)


def test_sample_sdf_near_surface_and_uniform():
    shape = sampling.get_shape("torus")
    s = sampling.sample_sdf(shape, num_uniform=1000, num_near=4000, sigmas=(0.01,), seed=0)
    assert s["points"].shape == (5000, 3)
    # the stored SDF against an independent computation: the exact distance to a fine torus
    # mesh with the winding-number sign (within its tessellation error)
    mesh = sampling.CANONICAL["torus"].mesh(detail=96)
    independent = sampling.mesh_sdf(mesh, s["points"][::10])
    assert (s["sdf"][::10] - independent).abs().max() < 5e-3
    assert torch.equal(s["occupancy"], (s["sdf"] < 0).float())
    near, unif = s["sdf"][:4000], s["sdf"][4000:]
    # jittered by N(0, 0.01^2 I) from the surface: |sdf| is at most the jitter's length,
    # whose median is 0.01 * 1.54 (chi with 3 degrees of freedom)
    jitter = (s["points"][:4000] - shape.surface(4000, seed=0)[0]).norm(dim=-1)
    assert (near.abs() <= jitter + 1e-5).all()
    assert 0.013 < jitter.median() < 0.018
    assert near.abs().median() < 0.01 < unif.abs().median()
    assert (s["points"][4000:].abs() <= 1).all()
    assert 0 < s["occupancy"].mean() < 1


def test_mesh_queries_work_in_chunks():
    shape = sampling.get_shape("torus")
    p = _box_points(300, 7)
    whole = sampling.mesh_sdf(shape.mesh, p)
    assert torch.equal(sampling.mesh_sdf(shape.mesh, p, chunk=64), whole)
    assert torch.equal(sampling.inside(shape.mesh, p, chunk=64), whole < 0)


def test_dataset_names_list_primitives_collections_and_meshes(shared_data):
    names = sampling.dataset_names(shared_data)
    assert {"sphere", "torus", "shapes", "shapes+meshes", "mesh:bunny-watertight"} <= set(names)


@pytest.mark.parametrize("kind", sampling.PRIMITIVES)
def test_surface_points_lie_on_the_surface_with_outward_normals(kind):
    shape = sampling.get_shape(kind)
    pts, nrm = shape.surface(500, seed=0)
    assert shape.sdf(pts).abs().max() < 1e-5
    assert torch.allclose(nrm.norm(dim=-1), torch.ones(500), atol=1e-5)
    # stepping along the normal leaves the shape, stepping against it enters
    assert (shape.sdf(pts + 0.01 * nrm) > 0).all() and (shape.sdf(pts - 0.01 * nrm) < 0).all()


def test_refuses_an_open_mesh_with_a_clear_error(tmp_path):
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "sheet.obj").write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3\nf 1 3 4\n")
    with pytest.raises(UserError, match="not watertight"):
        sampling.load_mesh("sheet", tmp_path)
    mesh = sampling.load_mesh("sheet", tmp_path, watertight=False)  # fine for point clouds
    assert np.abs(mesh.vertices).max() == pytest.approx(sampling.MESH_SCALE)
    with pytest.raises(UserError, match="no mesh"):
        sampling.load_mesh("missing", tmp_path)


def test_real_meshes_load_normalised_and_watertight(shared_data):
    shape = sampling.get_shape("mesh:bunny-watertight", shared_data)
    assert shape.mesh.is_watertight and shape.mesh.volume > 0
    assert np.abs(shape.mesh.bounds).max() == pytest.approx(sampling.MESH_SCALE)
    with pytest.raises(UserError, match="not watertight"):
        sampling.get_shape("mesh:stanford-bunny", shared_data)


def test_shape_collection_splits_are_deterministic_and_disjoint():
    a = sampling.shape_collection("shapes:6", "train")
    b = sampling.shape_collection("shapes:6", "train")
    test = sampling.shape_collection("shapes:6", "test", num_test=4)
    assert len(a) == 6 and len(test) == 4
    assert [s.analytic for s in a] == [s.analytic for s in b]
    assert not {s.analytic.params for s in a} & {s.analytic.params for s in test}
    for s in a + test:  # every shape fits in the box and has an inside
        assert np.abs(s.mesh.bounds).max() < 0.95
        assert s.sdf(torch.zeros(1, 3)) < 0.5
    with pytest.raises(UserError):
        sampling.get_shape("pyramid")


@pytest.mark.parametrize("kind", sampling.PRIMITIVES)
def test_ray_parity_inside_matches_the_analytic_sign(kind):
    prim = sampling.CANONICAL[kind]
    mesh = prim.mesh(detail=32)
    p = _box_points(2000, 8)
    d = prim.sdf(p)
    far = d.abs() > 0.03  # beyond the tessellation error of the coarse meshes
    assert torch.equal(sampling.ray_parity_inside(mesh, p)[far], (d < 0)[far])
    # a grid of one cell (every triangle a candidate) gives the same answer
    assert torch.equal(sampling.ray_parity_inside(mesh, p[:100], cells=1),
                       sampling.ray_parity_inside(mesh, p[:100]))
