"""The "shapes+real" collection: the catalogue plus three real meshes for training, two real
meshes held out. The held-out meshes never reach training (not by name, not loaded, not as
the same object under another name), the catalogue part is the catalogue unchanged, and
missing shared data is a clear UserError."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError


def _chamfer(a: trimesh.Trimesh, b: trimesh.Trimesh, n: int = 2000) -> float:
    pa = trimesh.sample.sample_surface(a, n, seed=0)[0]
    pb = trimesh.sample.sample_surface(b, n, seed=1)[0]
    return float(cKDTree(pb).query(pa)[0].mean() + cKDTree(pa).query(pb)[0].mean()) / 2


def test_split_is_stated_and_disjoint():
    train, held, excluded = map(set, (sampling.REAL_TRAIN, sampling.REAL_HELDOUT,
                                      sampling.REAL_EXCLUDED))
    assert train == {"armadillo", "dragon", "cow"} and held == {"bunny-watertight", "spot"}
    assert not (train & held) and not (train & excluded) and not (held & excluded)
    assert len(train | held | excluded) == 7  # every shared mesh has a stated role
    assert set(sampling.MESH_SHA256) == train | held | excluded


def test_names_are_collections():
    for name in ("shapes+real", "shapes:5+real"):
        assert sampling.is_collection(name)
    assert "shapes+real" in sampling.dataset_names() and "shapes:N+real" in sampling.dataset_names()
    assert not sampling.is_collection("shapes+meshes+real")
    with pytest.raises(UserError, match="whole"):
        sampling.shape_collection("shapes:x+real", "train")


def test_held_out_meshes_never_reach_training(shared_data, monkeypatch):
    loaded: list[str] = []
    real_load = sampling.load_mesh

    def spy(name, *args, **kwargs):
        loaded.append(name)
        return real_load(name, *args, **kwargs)

    monkeypatch.setattr(sampling, "load_mesh", spy)
    train = sampling.shape_collection("shapes:3+real", "train")
    assert loaded == list(sampling.REAL_TRAIN)  # the held-out files are not even read
    assert [s.name for s in train[3:]] == [f"mesh:{m}" for m in sampling.REAL_TRAIN]
    assert all(s.analytic is not None for s in train[:3])

    loaded.clear()
    valid = sampling.shape_collection("shapes:3+real", "valid")
    assert loaded == [] and all(s.analytic is not None for s in valid)

    test = sampling.shape_collection("shapes:3+real", "test")
    assert [s.name for s in test] == [f"mesh:{m}" for m in sampling.REAL_HELDOUT]
    assert loaded == list(sampling.REAL_HELDOUT)
    for shape in test + train[3:]:  # normalised as mesh:<name>: largest half-extent 0.8
        lo, hi = shape.mesh.bounds
        assert np.allclose((lo + hi) / 2, 0, atol=1e-6)
        assert abs(max(hi - lo) / 2 - sampling.MESH_SCALE) < 1e-6
        assert shape.mesh.is_watertight


def test_no_training_mesh_is_a_held_out_object(shared_data):
    """No training mesh is the held-out shape under another name: each is far (Chamfer-L1)
    from both held-out meshes. The check has teeth: the excluded Stanford scan of the bunny
    is close to the held-out bunny, which is why it is excluded."""
    held = {m: sampling.load_mesh(m) for m in sampling.REAL_HELDOUT}
    train = sampling.shape_collection("shapes:0+real", "train")
    for shape in train:
        for name, mesh in held.items():
            assert _chamfer(shape.mesh, mesh) > 0.1, (shape.name, name)
    scan = sampling.load_mesh("stanford-bunny", watertight=False)
    assert _chamfer(scan, held["bunny-watertight"]) < 0.05


def test_catalogue_part_is_the_catalogue(shared_data):
    plain = sampling.shape_collection("shapes:4", "train")
    mixed = sampling.shape_collection("shapes:4+real", "train")
    assert [s.analytic for s in mixed[:4]] == [s.analytic for s in plain]
    assert len(sampling.shape_collection("shapes+real", "train")) == 64 + 3


def test_missing_shared_data_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="PERCEPTZOO_DATA"):
        sampling.shape_collection("shapes:2+real", "train", data_dir=tmp_path)
    with pytest.raises(UserError, match="spot.obj"):
        sampling.shape_collection("shapes:2+real", "test", data_dir=tmp_path)
    # the catalogue alone needs no data
    assert len(sampling.shape_collection("shapes:2", "train", data_dir=tmp_path)) == 2


def test_partly_missing_meshes_name_the_missing_ones(shared_data, tmp_path):
    (tmp_path / "meshes").mkdir()
    for m in sampling.REAL_TRAIN:  # training meshes present, held-out ones absent
        (tmp_path / "meshes" / f"{m}.obj").symlink_to(shared_data / "meshes" / f"{m}.obj")
    assert len(sampling.shape_collection("shapes:0+real", "train", data_dir=tmp_path)) == 3
    with pytest.raises(UserError, match="bunny-watertight.obj, spot.obj"):
        sampling.shape_collection("shapes:0+real", "test", data_dir=tmp_path)
