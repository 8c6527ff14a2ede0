"""DeepSDF: clamped L1 + code prior; latent optimisation for a new shape changes only the code."""

from __future__ import annotations

import pytest
import torch
from implicit_fit import fit

from perceptzoo.core.trainer import TrainConfig
from perceptzoo.data import shapes as sampling
from perceptzoo.errors import UserError
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
