"""DeepSDF: clamped L1 + code prior; latent optimisation for a new shape changes only the code."""

from __future__ import annotations

import pytest
import torch
from implicit_fit import fit

from perceptzoo.core.trainer import TrainConfig
from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError
from perceptzoo.implicit import deepsdf
from perceptzoo.implicit.common import EvalSettings
from perceptzoo.implicit.deepsdf import DeepSDF, DeepSDFConfig

TINY = {"hidden": 32, "layers": 4, "skip_layers": (2,), "latent_dim": 8,
        "points_per_shape": 256, "samples_per_shape": 1000}


def _model_and_data(num_shapes: int = 3):
    torch.manual_seed(0)
    shapes = sampling.shape_collection(f"shapes:{num_shapes}", "train")
    model = DeepSDF(DeepSDFConfig(num_shapes=num_shapes, **TINY))
    return model, model.make_dataset(shapes)


def test_latent_table_lives_in_the_module_and_is_saved():
    model, _ = _model_and_data()
    assert "latents.weight" in model.state_dict()
    assert model.latents.weight.shape == (3, 8)
    assert model.latents.weight.std() < 0.05  # N(0, 0.01^2) init


def test_clamped_l1_and_prior():
    model, data = _model_and_data()
    pred = torch.tensor([[0.5, -0.05, 0.0]])
    sdf = torch.tensor([[0.2, -0.5, 0.02]])
    # clamp at 0.1: |0.1-0.1| + |-0.05+0.1| + |0-0.02| = 0.07, mean 0.07/3
    assert torch.isclose(model.clamped_l1(pred, sdf), torch.tensor(0.07 / 3))
    batch = model.batch(data, torch.Generator().manual_seed(0), 3)
    idx, pts, target = batch
    out = model.loss(batch)
    z = model.latents(idx)
    expected = model.clamped_l1(model(pts, z), target) + 1e-4 * z.pow(2).sum(-1).mean()
    assert torch.isclose(out.loss, expected)
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # only the codes of the shapes in the batch receive gradient
    rows = model.latents.weight.grad.abs().sum(-1) > 0
    assert set(rows.nonzero().flatten().tolist()) == set(idx.tolist())


def test_latent_optimisation_changes_only_the_latent():
    model, data = _model_and_data()
    (opt,) = model.configure_optimizers(TrainConfig(lr=1e-3))
    gen = torch.Generator().manual_seed(0)
    fit(model, data, opt, 30, gen, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new = sampling.sample_sdf(sampling.get_shape("torus"), 200, 1800, seed=1)
    z0 = model.cfg.latent_init_std * torch.randn(
        1, 8, generator=torch.Generator().manual_seed(7))[0]
    loss_before = model.clamped_l1(model(new["points"][None], z0[None]), new["sdf"][None])
    z = model.fit_latent(new["points"], new["sdf"], steps=60, points_per_step=500,
                         generator=torch.Generator().manual_seed(7))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and codes untouched
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again afterwards
    assert z.shape == (8,) and not torch.allclose(z, z0)
    loss_after = model.clamped_l1(model(new["points"][None], z[None]), new["sdf"][None])
    assert loss_after < loss_before  # the code moved towards the new shape


def test_latent_table_must_hold_the_training_shapes():
    model = DeepSDF(DeepSDFConfig(num_shapes=2, **TINY))
    with pytest.raises(UserError, match="num_shapes=3"):
        model.make_dataset(sampling.shape_collection("shapes:3", "train"))
    (opt,) = DeepSDF(DeepSDFConfig(lr_latent=5e-3, **TINY)).configure_optimizers(
        TrainConfig(lr=1e-3))
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 5e-3]


# -- shape completion from a partial scan (sec. 6.3) ------------------------------------------
def test_depth_scan_samples_are_signed_and_partial():
    shape = sampling.get_shape("sphere")
    cam = deepsdf.scan_camera(0, up="z")
    scan = deepsdf.depth_scan(shape, cam, size=32, eta=0.025, seed=0)
    k = len(scan["surface"])
    assert k > 100 and scan["points"].shape == (2 * k, 3) and scan["sdf"].shape == (2 * k,)
    true = shape.sdf(scan["points"])
    # +eta in front of the surface, -eta behind it, along the normals estimated from depth
    assert (true[:k] > 0).all() and (true[k:] < 0).all()
    err = torch.cat([true[:k] - 0.025, true[k:] + 0.025]).abs()
    assert err.median() < 1e-3 and (err < 5e-3).float().mean() > 0.8  # worst at the rim
    assert (shape.sdf(scan["free"]) > 0).all()  # free space is outside the shape
    eye = cam[:, 3]
    facing = ((eye - scan["surface"]) * scan["normals"]).sum(-1)
    assert (facing > 0).all()  # every scanned point faces the camera: one side only
    true_normals = torch.nn.functional.normalize(scan["surface"], dim=-1)
    cos = (scan["normals"] * true_normals).sum(-1)
    assert cos.median() > 0.99 and (cos > 0.95).float().mean() > 0.8  # grazing rim: worse
    with pytest.raises(UserError, match="eta"):
        deepsdf.depth_scan(shape, cam, eta=0.0)


def test_completion_objective_adds_the_free_space_hinge():
    model, _ = _model_and_data()
    scan = deepsdf.depth_scan(sampling.get_shape("torus"), deepsdf.scan_camera(1, up="z"),
                              size=16, seed=0)
    z = torch.randn(8)
    with torch.no_grad():
        base = model.latent_objective(z, scan["points"], scan["sdf"], clamp=0.025,
                                      prior=False)
        full = model.latent_objective(z, scan["points"], scan["sdf"], scan["free"], 0.025,
                                      prior=False)
        hinge = torch.relu(-model(scan["free"][None], z[None])).mean()
        pred = model(scan["points"][None], z[None])
    expected = (pred.clamp(-0.025, 0.025) - scan["sdf"][None].clamp(-0.025, 0.025)).abs().mean()
    assert torch.isclose(base, expected)  # clamped at eta, not at cfg.clamp
    assert torch.isclose(full - base, hinge)


def test_completion_changes_only_the_code_and_is_scored_against_the_full_shape():
    model, data = _model_and_data()
    (opt,) = model.configure_optimizers(TrainConfig(lr=1e-3))
    fit(model, data, opt, 20, torch.Generator().manual_seed(0), 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = EvalSettings(resolution=20, surface_points=500, iou_points=2000, fit_steps=15,
                            fit_points=300)
    shapes = [sampling.get_shape("torus"), sampling.get_shape("box")]
    out = deepsdf.completion_metrics(model, shapes, num_codes=3, settings=settings, size=16)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for prefix in ("completion_", "completion_hull_", "completion_nearest_code_"):
        assert 0 <= out[f"{prefix}iou"] <= 1, prefix
        assert f"{prefix}chamfer_l1" in out and f"{prefix}normal_consistency" in out
    assert "completion_iou_torus" in out and out["completion_scan_points"] > 10
