"""PlatonicGAN's differentiable projection: exact on an axis-aligned cube, gradient to every
voxel on a ray, cameras from the shared look_at consistent with the data's silhouettes."""

import math

import pytest
import torch

from perceptzoo.data import voxels
from perceptzoo.errors import UserError
from perceptzoo.gans3d.projection import camera_rotation, project, random_rotations


def _cube(n=16, lo=4, hi=11, value=1.0):
    v = torch.zeros(1, 1, n, n, n)
    v[..., lo:hi, lo:hi, lo:hi] = value
    return v


@pytest.mark.parametrize("value", [1.0, 0.3])
def test_an_axis_aligned_cube_projects_exactly(value):
    n, lo, hi = 16, 4, 11
    length = hi - lo
    inside = torch.zeros(n, n, dtype=torch.bool)
    inside[lo:hi, lo:hi] = True
    eye = torch.eye(3)[None]
    absorption = project(_cube(n, lo, hi, value), eye, "absorption")[0, 0]
    hull = project(_cube(n, lo, hi, value), eye, "visual_hull")[0, 0]
    expected_abs = torch.where(inside, torch.tensor(1 - (1 - value) ** length), torch.tensor(0.))
    expected_hull = torch.where(inside, torch.tensor(1 - math.exp(-value * length)),
                                torch.tensor(0.))
    torch.testing.assert_close(absorption, expected_abs, atol=1e-5, rtol=0)
    torch.testing.assert_close(hull, expected_hull, atol=1e-5, rtol=0)
    if value == 1.0:  # the silhouette of an opaque cube is exactly its face
        assert torch.equal(absorption > 0.5, inside)


@pytest.mark.parametrize("mode", ["absorption", "visual_hull"])
def test_every_voxel_on_a_ray_gets_gradient(mode):
    n = 8
    v = (torch.rand(1, 1, n, n, n, generator=torch.Generator().manual_seed(0)) * 0.9 + 0.05)
    v.requires_grad_(True)
    image = project(v, torch.eye(3)[None], mode)
    image[0, 0, 3, 5].backward()
    g = v.grad[0, 0]
    assert (g[:, 3, 5].abs() > 0).all()          # all N voxels along the pixel's ray
    g[:, 3, 5] = 0
    assert (g == 0).all()                        # and no other voxel


def test_rotated_projection_of_a_sphere_is_the_same_disc():
    n = 16
    p = voxels.grid_points(n)
    ball = ((p.norm(dim=-1) < 0.6).float())[None, None]
    eye = project(ball, torch.eye(3)[None])
    turned = project(ball, random_rotations(1, torch.Generator().manual_seed(1)))
    assert ((eye > 0.5) != (turned > 0.5)).float().mean() < 0.03


def test_the_models_camera_is_the_datas_camera():
    for d in [(1.0, 0.2, 0.3), (-0.3, 1.0, -0.4), (1e-2, 0.0, -1.0)]:
        torch.testing.assert_close(camera_rotation(d), voxels.view_rotation(d), atol=1e-5,
                                   rtol=0)
    a = random_rotations(4, torch.Generator().manual_seed(3))
    b = voxels.random_poses(4, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize("rotation", [camera_rotation, voxels.view_rotation])
def test_a_degenerate_up_vector_is_refused(rotation):
    with pytest.raises(UserError, match="parallel"):
        rotation((0.0, 0.0, 2.0), up=(0.0, 0.0, 1.0))


def test_unknown_projection_is_refused():
    with pytest.raises(UserError, match="projection"):
        project(_cube(8, 2, 5), torch.eye(3)[None], "emission")
