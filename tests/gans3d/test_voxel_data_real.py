"""Real meshes in the voxel datasets (voxels16+real, voxel_views16+real, ...): placements are
exact inside tests of the implicit family's meshes, fit the cube, differ from one another,
keep the held-out meshes out of train (the voxel scores' tests: test_voxel_scores.py). Tests
needing the meshes skip without the shared data."""

import numpy as np
import pytest
import torch

from perceptzoo import data
from perceptzoo.data import voxels
from perceptzoo.data.shapes import REAL_HELDOUT, REAL_TRAIN, Primitive, inside, list_meshes
from perceptzoo.errors import UserError


@pytest.fixture
def meshes():
    needed = set(REAL_TRAIN) | set(REAL_HELDOUT)
    if not needed <= set(list_meshes()):
        pytest.skip("real meshes absent: set PERCEPTZOO_DATA to the shared data folder")


def test_real_datasets_are_registered_with_their_split_sizes():
    assert {"voxels16+real", "voxels32+real", "voxel_views16+real",
            "voxel_views32+real"} <= set(data.list_datasets())
    info = data.info("voxels32+real")
    assert info.data_shape == (1, 32, 32, 32) and info.num_classes == 5
    assert info.split_sizes == {"train": 256 + 3 * 32, "valid": 64 + 3 * 8, "test": 2 * 32}
    assert data.info("voxel_views16+real").data_shape == (1, 16, 16)


def test_without_the_meshes_a_real_dataset_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTZOO_DATA", str(tmp_path))
    with pytest.raises(UserError, match="PERCEPTZOO_DATA"):
        voxels.split_shapes("test", real=True)


def test_a_placement_is_the_inside_test_of_the_rotated_scaled_mesh(meshes):
    rng = np.random.default_rng(0)
    placed = voxels.PlacedMesh("cow", voxels.random_rotation(rng), 0.9)
    mesh = voxels._mesh("cow", str(voxels.data_root()))
    p = voxels.grid_points(16).reshape(-1, 3)
    r = torch.as_tensor(placed.rotation)
    # a world point p is inside when the mesh point R^T p / s is
    assert torch.equal(voxels.voxelize(placed, 16).reshape(-1).bool(),
                       inside(mesh, (r.T @ p.T).T / 0.9))
    # the voxel volume scales as s^3 (within the 16^3 voxelisation error)
    small = voxels.PlacedMesh("cow", placed.rotation, 0.6)
    ratio = voxels.voxelize(small, 32).sum().item() / voxels.voxelize(placed, 32).sum().item()
    assert abs(ratio - (0.6 / 0.9) ** 3) < 0.1 * (0.6 / 0.9) ** 3


def test_batched_occupancy_equals_shape_by_shape(meshes):
    rng = np.random.default_rng(1)
    shapes = (voxels.PlacedMesh("cow", voxels.random_rotation(rng), 0.8),
              Primitive("sphere", (0.4,)),
              voxels.PlacedMesh("cow", voxels.random_rotation(rng), 0.5))
    rotations = voxels.random_poses(3, torch.Generator().manual_seed(0))
    got = voxels.silhouettes(shapes, rotations, 16)
    want = torch.stack([voxels.silhouette(s, r, 16) for s, r in zip(shapes, rotations)])
    assert torch.equal(got, want) and got.sum() > 0


def test_real_splits_hold_distinct_placements_and_keep_held_out_meshes_out(meshes):
    train, valid = voxels.split_shapes("train", True), voxels.split_shapes("valid", True)
    test = voxels.split_shapes("test", True)
    train_meshes = [s for s in train if isinstance(s, voxels.PlacedMesh)]
    assert {s.name for s in train_meshes} == set(REAL_TRAIN) == {
        s.name for s in valid if isinstance(s, voxels.PlacedMesh)}
    assert {s.name for s in test} == set(REAL_HELDOUT) and len(test) == 64
    assert len({(s.name, s.rotation, s.scale) for s in train_meshes}) == len(train_meshes) == 96
    for s in train_meshes + list(test):
        # every placement's bounding sphere lies inside the cube: no clipped mesh
        radius = np.linalg.norm(np.asarray(voxels._mesh(s.name, str(voxels.data_root())
                                                        ).vertices), axis=1).max()
        assert voxels.FIT * voxels.MIN_SCALE - 1e-6 <= radius * s.scale <= voxels.FIT + 1e-6


def test_the_real_mesh_grids_are_solid_and_not_one_grid(meshes):
    ds = data.load("voxels16+real", "test")
    assert ds.x.shape == (64, 1, 16, 16, 16) and set(ds.y.tolist()) == {4}
    flat = ds.x.flatten(1)
    assert (flat.sum(1) > 20).all()                          # each placement is a solid
    assert len({tuple(row.tolist()) for row in flat}) == 64  # no two placements alike
    g = ds.x[:, 0]
    assert g[:, [0, -1]].sum() + g[:, :, [0, -1]].sum() + g[..., [0, -1]].sum() == 0  # no clip
