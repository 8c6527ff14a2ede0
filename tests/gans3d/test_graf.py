"""GRAF: one latent rendered from two nearby poses agrees after reprojection through the
rendered depth; a 2D generator that takes the pose as input fails the same check."""

import math

import pytest
import torch
from torch import nn

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.gans3d.graf import camera, view_consistency_error

BOUND = 0.03  # mean absolute grey-level error (images in [0, 1]) after reprojection


class BlobField(nn.Module):
    """A solid ball of radius 0.7 with a colour that varies in 3D (a field GRAF could learn)."""

    def forward(self, points, z_shape, z_app):
        sigma = 40.0 * torch.sigmoid(20 * (0.7 - points.norm(dim=-1)))
        color = 0.5 + 0.4 * torch.sin(3 * points[..., :1] + 2 * points[..., 1:2]
                                      + z_app[:, None, :1])
        return sigma, color


class PoseToImage(nn.Module):
    """The 2D baseline: an image generator G(z, pose) with no 3D structure."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.net = nn.Sequential(nn.Linear(12 + 4, 64), nn.Tanh(), nn.Linear(64, n * n),
                                 nn.Sigmoid())

    def render(self, z, c2w):
        img = self.net(torch.cat([c2w.reshape(1, -1) * 3, z], 1)).reshape(1, 1, self.n, self.n)
        return {"image": img}


def _poses(delta_deg=6.0):
    a = (1.0, 0.0, 0.3)
    d = math.radians(delta_deg)
    b = (math.cos(d), math.sin(d), 0.3)
    return camera(a), camera(b)


def test_rendering_one_latent_from_two_nearby_poses_is_consistent():
    torch.manual_seed(0)
    model = perceptzoo.build("graf", data_shape=(1, 32, 32), num_steps=64)
    model.field = BlobField()
    z_s, z_a = model.latent(1)
    ca, cb = _poses()
    with torch.no_grad():
        ra, rb = model.render(z_s, z_a, ca[None]), model.render(z_s, z_a, cb[None])
    assert ra["image"].std() > 0.1  # a textured object, not a flat image
    assert view_consistency_error(ra, rb, ca, cb) < BOUND
    # the 2D baseline, scored with GRAF's depth of view a (the best a 2D model could be given)
    base = PoseToImage(32)
    z = torch.randn(1, 4)
    with torch.no_grad():
        ba, bb = base.render(z, ca), base.render(z, cb)
    fake_a = {**ra, "image": ba["image"]}
    assert view_consistency_error(fake_a, bb, ca, cb) > 2 * BOUND  # 0.092 vs 0.012


def test_the_error_grows_when_the_depth_is_wrong():
    model = perceptzoo.build("graf", data_shape=(1, 32, 32), num_steps=64)
    model.field = BlobField()
    z_s, z_a = model.latent(1)
    ca, cb = _poses(12.0)
    with torch.no_grad():
        ra, rb = model.render(z_s, z_a, ca[None]), model.render(z_s, z_a, cb[None])
    good = view_consistency_error(ra, rb, ca, cb)
    bad = view_consistency_error({**ra, "depth": ra["depth"] * 0.7}, rb, ca, cb)
    assert bad > 2 * good


def test_a_degenerate_camera_is_refused():
    with pytest.raises(UserError, match="parallel"):
        camera((0.0, 0.0, 1.0))
