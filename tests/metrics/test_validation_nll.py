"""A model that says its loss is its NLL (`loss_is_nll`) gets validated in one pass, so the
claim must hold: in eval mode, `loss(batch)` equals the mean of `-log_prob(x)` exactly."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.core import registry
from perceptzoo.errors import UserError
from perceptzoo.metrics.evaluate import mean_over_batches

# the exact-likelihood models whose training loss is their NLL (sum over dimensions, nats), as
# built by default; gated PixelCNN and WaveNet are class-conditional by default (their loss is
# log p(x | y), their log_prob the class mixture) and join them when unconditional
EXPECTED = {"fvsbn", "nade", "made", "pixelcnn", "pixelrnn", "transformer", "tabular"}
DENSITY = sorted(n for n in perceptzoo.list_models()
                 if hasattr(registry.get_spec(n).model_class, "log_prob")
                 and hasattr(registry.get_spec(n).model_class, "loss"))


def batch_of(name: str):
    spec = registry.get_spec(name)
    try:
        x, y = data.load(spec.default_dataset, "test")[torch.arange(4)]
    except UserError as err:  # the shared data is absent on a user's machine
        pytest.skip(f"{spec.default_dataset}: {err}")
    return spec.default_dataset, x, y


@pytest.mark.parametrize("name, overrides", [(n, {}) for n in DENSITY] + [
    ("gated_pixelcnn", {"num_classes": 0}), ("wavenet", {"num_classes": 0})])
def test_loss_is_nll_only_where_it_is_exact(name, overrides):
    dataset, x, y = batch_of(name)
    model = perceptzoo.build(name, dataset=dataset, **overrides).eval()
    claimed = bool(getattr(model, "loss_is_nll", False))
    assert claimed == (name in EXPECTED or bool(overrides))
    if claimed:
        with torch.no_grad():
            loss = model.loss((x, y)).loss
            nll = -model.log_prob(x).mean()
        torch.testing.assert_close(loss, nll, rtol=1e-5, atol=1e-4)


def test_an_ensemble_of_masks_is_not_its_loss():
    """MADE's loss is one mask's NLL; with several masks log_prob is the ensemble's."""
    assert perceptzoo.build("made", num_masks=1).loss_is_nll
    assert not perceptzoo.build("made", num_masks=4).loss_is_nll


def test_validation_takes_the_nll_from_the_loss_in_one_pass():
    model = perceptzoo.build("made", hidden_sizes=(16,)).eval()
    x, y = data.load("digits", "valid")[torch.arange(10)]
    calls = []
    log_prob = model.log_prob
    model.log_prob = lambda *a, **k: calls.append(1) or log_prob(*a, **k)
    out = mean_over_batches(model, x, y, batch_size=4, device="cpu")
    assert not calls
    with torch.no_grad():
        assert out["nll_nats"] == pytest.approx(float(-log_prob(x).mean()), rel=1e-5)


def test_validation_means_are_plain_floats_ready_for_json():
    """The loss's metrics are tensors (no device sync in the training step); the means a
    caller gets back, and may write to a result file, are floats."""
    model = perceptzoo.build("made", hidden_sizes=(16,)).eval()
    x, y = data.load("digits", "valid")[torch.arange(10)]
    with torch.no_grad():
        out = mean_over_batches(model, x, y, batch_size=4, device="cpu")
    assert out and all(type(v) is float for v in out.values()), out
