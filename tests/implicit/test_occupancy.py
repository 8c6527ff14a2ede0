"""Occupancy Networks: BCE on sampled points from a code of a point cloud or an image."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from perceptzoo.core.errors import UserError
from perceptzoo.implicit import sampling
from perceptzoo.implicit.occupancy import OccupancyConfig, OccupancyNetwork

TINY = {"hidden": 32, "layers": 4, "skip_layers": (2,), "code_dim": 16, "encoder_hidden": 16,
        "shapes_per_batch": 2, "points_per_shape": 128, "image_size": 16, "views_per_shape": 2}


@pytest.mark.parametrize("encoder", ["pointcloud", "image"])
def test_loss_is_bce_on_sampled_points_and_reaches_every_parameter(encoder):
    torch.manual_seed(0)
    shapes = sampling.shape_collection("shapes:2", "train")
    model = OccupancyNetwork(OccupancyConfig(encoder=encoder, **TINY))
    data = model.make_dataset(shapes, points_per_shape=500)
    assert torch.equal(data["occupancy"][0], shapes[0].occupancy(data["points"][0]))
    batch = model.batch(data, torch.Generator().manual_seed(0))
    obs, pts, occ = batch
    expected_obs = (2, 300, 3) if encoder == "pointcloud" else (2, 3, 16, 16)
    assert obs.shape == expected_obs and pts.shape == (2, 128, 3) and occ.shape == (2, 128)
    out = model.loss(batch)
    manual = F.binary_cross_entropy_with_logits(model(pts, model.encode(obs)), occ)
    assert torch.isclose(out.loss, manual)
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_surface_level_is_the_threshold_logit():
    model = OccupancyNetwork(OccupancyConfig(threshold=0.2, **TINY))
    assert model.level == pytest.approx(math.log(0.2 / 0.8))
    with pytest.raises(UserError):
        OccupancyNetwork(OccupancyConfig(encoder="voxels"))


def test_code_depends_on_the_observation_and_training_reduces_the_loss():
    torch.manual_seed(0)
    shapes = sampling.shape_collection("shapes:4", "train")
    model = OccupancyNetwork(OccupancyConfig(**{**TINY, "shapes_per_batch": 4}))
    data = model.make_dataset(shapes, points_per_shape=2000)
    gen = torch.Generator().manual_seed(0)
    a = model.field_for(data["clouds"][0][:300])
    b = model.field_for(data["clouds"][1][:300])
    p = torch.rand(50, 3) * 2 - 1
    assert not torch.allclose(a(p), b(p))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    fixed = model.batch(data, torch.Generator().manual_seed(1))
    first = model.loss(fixed).loss.item()
    for _ in range(60):
        out = model.loss(model.batch(data, gen))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert model.loss(fixed).loss.item() < 0.8 * first
