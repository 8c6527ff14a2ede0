"""Occupancy Networks: BCE on sampled points from a code of a point cloud or an image."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from implicit_fit import fit

from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError
from perceptzoo.implicit.occupancy import CBNDecoder, OccupancyConfig, OccupancyNetwork
from perceptzoo.metrics.geometry import volumetric_iou

TINY = {"hidden": 32, "blocks": 2, "layers": 4, "skip_layers": (2,), "code_dim": 16,
        "encoder_hidden": 16, "points_per_shape": 128, "image_size": 16, "views_per_shape": 2}


@pytest.mark.parametrize("encoder,decoder", [("pointcloud", "cbn"), ("image", "cbn"),
                                             ("pointcloud", "concat")])
def test_loss_is_bce_on_sampled_points_and_reaches_every_parameter(encoder, decoder):
    torch.manual_seed(0)
    shapes = sampling.shape_collection("shapes:2", "train")
    model = OccupancyNetwork(OccupancyConfig(encoder=encoder, decoder=decoder, **TINY,
                                             samples_per_shape=500))
    data = model.make_dataset(shapes)
    assert torch.equal(data["occupancy"][0], shapes[0].occupancy(data["points"][0]))
    batch = model.batch(data, torch.Generator().manual_seed(0), 2)
    obs, pts, occ = batch
    expected_obs = (2, 300, 3) if encoder == "pointcloud" else (2, 3, 16, 16)
    assert obs.shape == expected_obs and pts.shape == (2, 128, 3) and occ.shape == (2, 128)
    out = model.loss(batch)
    manual = F.binary_cross_entropy_with_logits(model(pts, model.encode(obs)), occ)
    assert torch.isclose(out.loss, manual)
    out.loss.backward()
    # the CBN decoder starts blind to c and with identity blocks (zero-initialised, as the
    # authors' code): one step later the gradient reaches every parameter
    torch.optim.Adam(model.parameters(), 1e-3).step()
    model.zero_grad()
    model.loss(batch).loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_image_model_is_viewer_centred_in_training_and_evaluation():
    """Training points are seen in the camera's frame (p @ R) with the world occupancy as the
    label, and `field_for` queries the same frame: rotating the world and the camera together
    leaves the reconstruction unchanged (the image and hence the code are the same)."""
    shapes = sampling.shape_collection("shapes:2", "train")
    model = OccupancyNetwork(OccupancyConfig(encoder="image", **TINY, samples_per_shape=400))
    data = model.make_dataset(shapes)
    rot = data["rotations"]  # (S, V, 3, 3) camera-to-world, orthonormal
    assert torch.allclose(rot @ rot.transpose(-1, -2), torch.eye(3).expand_as(rot), atol=1e-5)
    g = torch.Generator().manual_seed(3)
    _, pts_view, occ = model.batch(data, g, 2)
    g = torch.Generator().manual_seed(3)  # replay the draws to learn which shapes and views
    idx = torch.randperm(2, generator=g)
    torch.randint(400, (2, TINY["points_per_shape"]), generator=g)
    pick = torch.randint(TINY["views_per_shape"], (2,), generator=g)
    for b in range(2):
        world = pts_view[b] @ rot[idx[b], pick[b]].T  # back to the world frame
        assert torch.equal(occ[b], shapes[int(idx[b])].occupancy(world))
    image, camera = model.observe(shapes[0], torch.Generator().manual_seed(0))
    q = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))[0]
    p = torch.rand(50, 3) * 2 - 1
    same = model.field_for(image, q @ camera)(p @ q.T)  # world and camera rotated by q
    assert torch.allclose(model.field_for(image, camera)(p), same, atol=1e-5)
    with pytest.raises(UserError, match="rotation"):
        model.field_for(image)


def test_surface_level_is_the_threshold_logit():
    model = OccupancyNetwork(OccupancyConfig(threshold=0.2, **TINY))
    assert model.level == pytest.approx(math.log(0.2 / 0.8))
    with pytest.raises(UserError):
        OccupancyNetwork(OccupancyConfig(encoder="voxels"))
    with pytest.raises(UserError):
        OccupancyNetwork(OccupancyConfig(decoder="film"))


def test_code_depends_on_the_observation_and_training_reduces_the_loss():
    torch.manual_seed(0)
    shapes = sampling.shape_collection("shapes:4", "train")
    model = OccupancyNetwork(OccupancyConfig(**TINY, samples_per_shape=2000))
    data = model.make_dataset(shapes)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    fixed = model.batch(data, torch.Generator().manual_seed(1), 4)
    first = model.loss(fixed).loss.item()
    fit(model, data, opt, 60, gen, 4)
    assert model.loss(fixed).loss.item() < 0.8 * first
    a = model.field_for(data["clouds"][0][:300])
    b = model.field_for(data["clouds"][1][:300])
    p = torch.rand(50, 3) * 2 - 1
    assert not torch.allclose(a(p), b(p))


def test_cbn_decoder_code_sets_scale_and_shift_and_eval_is_pointwise():
    torch.manual_seed(0)
    dec = CBNDecoder(code_dim=8, hidden=32, blocks=2)
    p = torch.rand(1, 200, 3) * 2 - 1
    c1, c2 = torch.randn(1, 8), torch.randn(1, 8)
    assert torch.allclose(dec(p, c1), dec(p, c2))  # the authors' init: c starts unused
    for m in dec.modules():  # as after training: c predicts every gamma and beta
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, std=0.3)
    dec(torch.rand(4, 500, 3) * 2 - 1, torch.randn(4, 8))  # one batch of running statistics
    dec.eval()
    assert not torch.allclose(dec(p, c1), dec(p, c2), atol=1e-3)
    # eval mode: running statistics, so a point's value does not depend on its chunk
    whole = dec(p, c1)
    chunks = torch.cat([dec(q, c1) for q in p.split(7, dim=1)], 1)
    assert torch.allclose(whole, chunks, atol=1e-5)


def test_field_is_evaluated_with_running_statistics_in_any_mode():
    torch.manual_seed(0)
    model = OccupancyNetwork(OccupancyConfig(**TINY, samples_per_shape=500))
    shapes = sampling.shape_collection("shapes:2", "train")
    data = model.make_dataset(shapes)
    model.loss(model.batch(data, torch.Generator().manual_seed(0), 2))  # fills running stats
    model.train()
    field = model.field_for(data["clouds"][0][:300])
    p = torch.rand(100, 3) * 2 - 1
    assert torch.allclose(field(p)[:10], field(p[:10]), atol=1e-5)
    assert model.training  # the mode is restored


def _primitive(kind: str, params: tuple[float, ...]) -> sampling.Shape:
    prim = sampling.Primitive(kind, params)
    return sampling.Shape(kind, prim.mesh(), prim)


def test_tells_a_sphere_from_a_thin_box_after_short_training():
    torch.manual_seed(0)
    shapes = [_primitive("sphere", (0.6,)), _primitive("box", (0.7, 0.7, 0.12))]
    cfg = OccupancyConfig(**{**TINY, "encoder_hidden": 32, "points_per_shape": 256,
                             "samples_per_shape": 2000})
    model = OccupancyNetwork(cfg)
    data = model.make_dataset(shapes)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    gen = torch.Generator().manual_seed(0)
    fit(model, data, opt, 200, gen, 2)
    pts = sampling.uniform_points(20_000, torch.Generator().manual_seed(1))
    occ = [s.occupancy(pts) > 0.5 for s in shapes]
    for i in range(2):
        pred = model.field_for(data["clouds"][i][:300])(pts) > model.level
        own, other = volumetric_iou(pred, occ[i]), volumetric_iou(pred, occ[1 - i])
        assert own > other + 0.1, (shapes[i].name, own, other)


def test_observe_view_is_the_evaluation_view_and_its_cone_holds_the_shape():
    from perceptzoo.implicit.baselines import view_cone

    model = OccupancyNetwork(OccupancyConfig(encoder="image", **{**TINY, "image_size": 32}))
    shape = sampling.get_shape("torus")
    image, rotation = model.observe(shape, torch.Generator().manual_seed(5))
    view = model.observe_view(shape, torch.Generator().manual_seed(5))
    assert torch.equal(view["image"], image) and torch.equal(view["c2w"][:, :3], rotation)
    cone = view_cone(view["mask"], view["c2w"])
    pts = sampling.uniform_points(20_000, torch.Generator().manual_seed(0))
    inside = shape.sdf(pts) < -0.03  # away from the silhouette's pixel staircase
    assert cone(pts)[inside].min() == 1.0  # the visual hull contains the shape
    outside = cone(pts) == 0
    assert outside.any() and (shape.sdf(pts[outside]) > -0.03).all()  # it cuts empty space
    # a point behind the camera or off the image is outside the cone
    eye = view["c2w"][:, 3]
    assert cone(torch.stack([2 * eye, eye + 5 * view["c2w"][:, 0]])).sum() == 0


def test_mesh_views_are_splatted_like_the_ray_cast_render():
    from perceptzoo.implicit.cameras import orbit_cameras, render_mesh, render_view

    mesh_only = sampling.Shape("torus-mesh", sampling.get_shape("torus").mesh)
    cam = orbit_cameras(2, seed=1)[0]
    splat, ray = render_view(mesh_only, cam, 32), render_mesh(mesh_only.mesh, cam, 32, 32)
    assert (splat["mask"] == ray["mask"]).float().mean() > 0.95
    both = splat["mask"] & ray["mask"]
    assert (splat["depth"][both] - ray["depth"][both]).abs().median() < 0.03
    assert (splat["rgb"][~splat["mask"]] == 1).all()  # white background
