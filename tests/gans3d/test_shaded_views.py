"""Shaded multi-view data (voxel_views16:shaded, voxel_views16+real:shaded, ...): the same rays
and poses as the silhouettes, Lambertian under the fixed world light, held-out meshes kept out
of train; tests that need the shared meshes skip without them."""

import math

import pytest
import torch

from perceptzoo import data
from perceptzoo.data import voxels
from perceptzoo.data.shapes import REAL_HELDOUT, REAL_TRAIN, Primitive, list_meshes
from perceptzoo.errors import UserError

LIGHT = torch.nn.functional.normalize(torch.tensor(voxels.LIGHT), dim=0)


@pytest.fixture
def meshes():
    if not set(REAL_TRAIN) | set(REAL_HELDOUT) <= set(list_meshes()):
        pytest.skip("real meshes absent: set PERCEPTZOO_DATA to the shared data folder")


def test_shaded_datasets_are_registered_with_256_levels():
    names = {f"voxel_views{n}{r}:shaded" for n in (16, 32) for r in ("", "+real")}
    assert names <= set(data.list_datasets())
    info = data.info("voxel_views16+real:shaded")
    assert info.num_levels == 256 and info.data_shape == (1, 16, 16)
    assert info.split_sizes == data.info("voxel_views16+real").split_sizes
    assert voxels.is_real("voxel_views16+real:shaded") and voxels.is_shaded(info.name)
    assert not voxels.is_real("voxel_views16:shaded")


@pytest.mark.parametrize("azimuth, elevation", [(0.7, 0.3), (0.0, 0.5), (1.5, 0.2), (0.64, -0.3)])
def test_a_spheres_brightest_pixel_faces_the_light(azimuth, elevation):
    r = voxels.pose_rotation(azimuth, elevation)
    out = voxels.shaded_renders([Primitive("sphere", (0.7,))], r[None], 32)
    img = out["image"][0]
    q = r @ (0.7 * LIGHT)                       # the lit pole in view coordinates
    assert q[2] > 0                              # visible from these poses
    row, col = divmod(int(img.argmax()), 32)
    # rows index view y upwards, columns view x (pixel centres -1 + (2 i + 1) / n)
    assert abs(col - ((q[0] + 1) * 16 - 0.5)) <= 1.0 and abs(row - ((q[1] + 1) * 16 - 0.5)) <= 1.0
    assert img.max() > 0.98                      # normal along the light: full intensity
    # the pixel opposite the pole in the image is darker, and no lit pixel is below ambient
    far_row, far_col = round(31 - row), round(31 - col)
    if out["mask"][0, far_row, far_col]:
        assert img[far_row, far_col] < img.max() - 0.3
    assert img[out["mask"][0]].min() >= voxels.AMBIENT - 1e-6


def test_shaded_pixels_follow_lamberts_cosine_law_on_a_sphere():
    r = voxels.pose_rotation(1.0, 0.2)
    out = voxels.shaded_renders([Primitive("sphere", (0.6,))], r[None], 16)
    mask = out["mask"][0]
    # world surface point of each pixel from its view (x, y, depth); the sphere's normal is p/|p|
    c = (torch.arange(16) * 2 + 1) / 16 - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    view = torch.stack([x, y, out["depth"][0].clamp(min=-1)], -1)[mask]
    p = view @ r
    assert (p.norm(dim=-1) - 0.6).abs().max() < 0.02          # bisected onto the surface
    expected = voxels.AMBIENT + (1 - voxels.AMBIENT) * (
        torch.nn.functional.normalize(p, dim=-1) @ LIGHT).clamp(min=0)
    torch.testing.assert_close(out["image"][0][mask], expected, atol=0.02, rtol=0)


def test_the_shaded_mask_is_the_silhouette_and_the_light_is_a_world_direction():
    shapes = (Primitive("box", (0.5, 0.3, 0.4)), Primitive("torus", (0.5, 0.2)))
    rots = voxels.random_poses(2, torch.Generator().manual_seed(0))
    out = voxels.shaded_renders(shapes, rots, 16)
    assert torch.equal(out["mask"], voxels.silhouettes(shapes, rots, 16).bool())
    # turning the shape, the camera and the light together leaves the image unchanged
    turn = voxels.pose_rotation(0.9, 0.1)
    box = Primitive("box", (0.5, 0.3, 0.4), rotation=tuple(map(tuple, turn.T.tolist())))
    base = voxels.shaded_renders([Primitive("box", (0.5, 0.3, 0.4))], rots[:1], 16)
    turned = voxels.shaded_renders([box], (rots[0] @ turn)[None], 16,
                                   light=(turn.T @ LIGHT).tolist())
    torch.testing.assert_close(turned["image"], base["image"], atol=1e-4, rtol=0)


def test_mesh_normals_of_a_sphere_mesh_point_outwards():
    trimesh = pytest.importorskip("trimesh")
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    p = torch.nn.functional.normalize(torch.randn(200, 3, generator=torch.Generator()
                                                  .manual_seed(0)), dim=-1) * 0.5
    n = voxels.mesh_normals(mesh, p, samples=20_000)
    assert (n * torch.nn.functional.normalize(p, dim=-1)).sum(-1).min() > math.cos(0.15)


def test_without_the_meshes_the_shaded_real_views_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTZOO_DATA", str(tmp_path))
    voxels.shaded_views.cache_clear()
    with pytest.raises(UserError, match="PERCEPTZOO_DATA"):
        data.load("voxel_views16+real:shaded", "valid")


def test_shaded_real_views_match_the_silhouettes_and_hold_out_the_test_meshes(meshes):
    shaded = data.load("voxel_views16+real:shaded", "valid")
    sil = data.load("voxel_views16+real", "valid")
    assert shaded.x.dtype == torch.uint8 and len(shaded) == len(sil) == 88
    assert torch.equal(shaded.x > 0, sil.x > 0)
    assert shaded.x[sil.x > 0].min() >= round(voxels.AMBIENT * 255)
    assert torch.equal(voxels.shaded_views("valid", 16, True)[1], voxels.views("valid", 16,
                                                                                True)[1])
    for split in ("train", "valid"):
        names = {s.name for s in voxels.split_shapes(split, True)
                 if isinstance(s, voxels.PlacedMesh)}
        assert names == set(REAL_TRAIN) and not names & set(REAL_HELDOUT)
    assert {s.name for s in voxels.split_shapes("test", True)} == set(REAL_HELDOUT)
