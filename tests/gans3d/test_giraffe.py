"""GIRAFFE: the composition operator is the density sum and the density-weighted feature mean;
an object's pose moves its field rigidly (translating and turning the object and the query
points together changes nothing)."""

import math

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.gans3d.giraffe import composite, to_object_frame


def test_composition_is_the_density_sum_and_the_density_weighted_mean_feature():
    torch.manual_seed(0)
    sigmas = torch.rand(3, 2, 5) * 4
    feats = torch.randn(3, 2, 5, 6)
    sigma, f = composite(sigmas, feats)
    torch.testing.assert_close(sigma, sigmas[0] + sigmas[1] + sigmas[2])
    want = (sigmas[0, ..., None] * feats[0] + sigmas[1, ..., None] * feats[1]
            + sigmas[2, ..., None] * feats[2]) / sigma[..., None]
    torch.testing.assert_close(f, want)
    # an empty field changes nothing: one object over an empty background is that object
    one = torch.stack([sigmas[0], torch.zeros_like(sigmas[0])])
    sigma1, f1 = composite(one, feats[:2])
    torch.testing.assert_close(sigma1, sigmas[0])
    torch.testing.assert_close(f1, feats[0])


def test_the_object_frame_inverts_the_object_pose():
    torch.manual_seed(0)
    local = torch.rand(2, 7, 3) * 2 - 1
    scale = torch.tensor([[0.5] * 3, [0.8] * 3])
    translation = torch.randn(2, 3) * 0.2
    angle = torch.tensor([0.3, 2.0])
    c, s = angle.cos(), angle.sin()
    rot = torch.zeros(2, 3, 3)
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1
    world = (scale[:, None] * local) @ rot.transpose(1, 2) + translation[:, None]  # k(x)
    torch.testing.assert_close(to_object_frame(world, scale, translation, angle), local)


def test_moving_an_object_moves_its_field_rigidly():
    torch.manual_seed(0)
    model = perceptzoo.build("giraffe", data_shape=(1, 16, 16), num_objects=2)
    with torch.no_grad():  # an empty background, so the scene is its two objects
        model.background.sigma.weight.zero_()
        model.background.sigma.bias.fill_(-60.0)
    latent = model.latent(1)
    points = torch.rand(1, 64, 3) * 2 - 1
    # turn the whole scene by 90 degrees about z and shift it: every object's pose and the
    # query points together
    turn, shift = math.pi / 2, torch.tensor([0.1, -0.2, 0.05])
    rot = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    moved = latent.clone()
    ds_da = model.cfg.shape_dim + model.cfg.appearance_dim
    t = latent[0, :2, ds_da + 3:ds_da + 6]
    moved[0, :2, ds_da + 3:ds_da + 6] = t @ rot.T + shift
    moved[0, :2, ds_da + 6] = latent[0, :2, ds_da + 6] + turn
    with torch.no_grad():
        sigma, f = model.field(points, latent)
        sigma_m, f_m = model.field(points @ rot.T + shift, moved)
    assert sigma.std() > 1e-3                                   # a field with structure
    torch.testing.assert_close(sigma_m, sigma, atol=1e-4, rtol=1e-4)
    # features where there is matter (in empty space, outside every object's box, they are a
    # plain mean that is never rendered)
    solid = sigma[0] > 1e-3
    assert solid.sum() > 10
    torch.testing.assert_close(f_m[0][solid], f[0][solid], atol=1e-4, rtol=1e-4)
    # and moving only one object changes the scene
    other = latent.clone()
    other[0, 1, ds_da + 3] += 0.5
    with torch.no_grad():
        assert (model.field(points, other)[0] - sigma).abs().max() > 1e-3


@pytest.mark.parametrize("bad,match", [({"render_resolution": 6}, "power of two"),
                                       ({"num_objects": 0}, "num_objects")])
def test_bad_configs_are_refused(bad, match):
    with pytest.raises(UserError, match=match):
        perceptzoo.build("giraffe", data_shape=(1, 16, 16), **bad)


def test_without_a_background_field_an_empty_scene_outside_the_object_box_renders_clear():
    """With no background field and one object, rays that miss the object's box meet no
    density (the box mask): their opacity is exactly zero."""
    torch.manual_seed(0)
    model = perceptzoo.build("giraffe", data_shape=(1, 16, 16), background=False, num_steps=8,
                             shape_dim=4, appearance_dim=4, feature_dim=4, hidden=16,
                             channels=4)
    assert model.background is None
    latent = model.latent(1)
    ds_da = model.cfg.shape_dim + model.cfg.appearance_dim
    latent[0, 0, ds_da:ds_da + 3] = 0.3                        # a small object at the centre
    latent[0, 0, ds_da + 3:ds_da + 6] = 0.0
    from perceptzoo.gans3d.common import camera

    out = model.render(latent, camera((1.0, 0.0, 0.0))[None])
    corner = out["opacity"][0, 0, 0]                            # a ray far from the object
    assert corner == 0 and out["opacity"].max() > 0
    assert model.sample(2).shape == (2, 1, 16, 16)
