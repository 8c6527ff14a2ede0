"""The voxel datasets: exact voxelisation, silhouettes consistent with the voxels, registration
into perceptzoo.data."""

import math

import pytest
import torch

import perceptzoo  # noqa: F401  (installs the voxel datasets)
from perceptzoo import data
from perceptzoo.data import voxels
from perceptzoo.data.shapes import Primitive
from perceptzoo.errors import UserError


def test_a_voxelised_sphere_has_the_sphere_volume():
    v = voxels.voxelize_primitive(Primitive("sphere", (0.5,)), 32)
    volume = v.sum().item() * (2 / 32) ** 3
    assert abs(volume - 4 / 3 * math.pi * 0.5**3) / (4 / 3 * math.pi * 0.5**3) < 0.05


def test_voxel_indexing_is_grid_sample_order():
    # an off-centre box along +x lands at high w indices only
    v = voxels.voxelize_primitive(Primitive("box", (0.2, 0.2, 0.2), center=(0.6, 0.0, 0.0)), 16)
    d, h, w = v.nonzero(as_tuple=True)
    assert w.min() >= 8 and 8 - h.min() <= 3 and 8 - d.min() <= 3


def test_silhouette_of_a_box_seen_from_plus_z():
    prim = Primitive("box", (0.5, 0.25, 0.9))
    r = voxels.view_rotation((0.0, 0.0, 1.0), up=(0.0, 1.0, 0.0))
    s = voxels.silhouette(prim, r, 16)
    # from +z with y up the image shows x in [-0.5, 0.5] (8 columns) and y in [-0.25, 0.25]
    assert s.sum(1).max() == 8 and s.sum(0).max() == 4


def test_the_datasets_are_registered_and_load():
    assert {"voxels16", "voxel_views16"} <= set(data.list_datasets())
    ds = data.load("voxels16", "test")
    assert ds.x.shape == (64, 1, 16, 16, 16) and ds.x.dtype == torch.uint8
    assert ds.y.max() < 4 and ds.x.float().mean() > 0.01
    assert data.info("voxel_views16").data_shape == (1, 16, 16)


def test_bad_resolution_and_up_vector_are_refused():
    with pytest.raises(UserError, match="power of two"):
        voxels.check_resolution(24)
    with pytest.raises(UserError, match="parallel"):
        voxels.view_rotation((1.0, 0.0, 0.0), up=(-3.0, 0.0, 0.0))


def test_a_real_mesh_voxelises_to_a_solid_of_its_volume(shared_data):
    from perceptzoo.data.shapes import load_mesh

    grids = voxels.mesh_voxels(16, names=("spot",))
    assert set(grids) == {"spot"}
    volume = grids["spot"].sum().item() * (2 / 16) ** 3
    assert abs(volume - load_mesh("spot").volume) / load_mesh("spot").volume < 0.25
