"""The loss path of the family has no `.item()`/`float()` on a tensor (no device sync each
step, no graph break under `torch.compile`): its metrics are detached 0-dim tensors, which
the Trainer turns into the same floats in its log."""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.core.runs import RunDir

TINY = {"made": {"hidden_sizes": [32], "num_masks": 1},
        "pixelcnn": {"hidden_channels": 8, "num_blocks": 2}}


def _batch(n: int = 16):
    return data.load("digits", "train")[torch.arange(n)]


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_loss_performs_no_item_or_float_and_returns_detached_tensor_metrics(
        name, monkeypatch):
    model = perceptzoo.build(name, dataset="digits", **TINY[name]).train()
    batch = _batch()

    def refuse(self, *args, **kwargs):
        raise AssertionError("a host sync (.item()/float()) in the loss path")

    monkeypatch.setattr(torch.Tensor, "item", refuse)
    monkeypatch.setattr(torch.Tensor, "__float__", refuse)
    out = model.loss(batch)
    monkeypatch.undo()
    assert set(out.metrics) == {"nll_nats", "bits_per_dim"}
    for v in out.metrics.values():
        assert isinstance(v, torch.Tensor) and v.dim() == 0 and not v.requires_grad
    assert float(out.metrics["nll_nats"]) == pytest.approx(float(out.loss.detach()))
    assert float(out.metrics["bits_per_dim"]) == pytest.approx(
        float(out.loss.detach()) / (model.num_dims * math.log(2)))


def test_the_loss_traces_without_a_graph_break():
    model = perceptzoo.build("made", dataset="digits", **TINY["made"]).train()
    torch._dynamo.reset()
    try:
        explained = torch._dynamo.explain(model.loss)(_batch())
    finally:
        torch._dynamo.reset()
    assert explained.graph_break_count == 0 and not explained.break_reasons, \
        [str(b.reason).splitlines()[0] for b in explained.break_reasons]


def test_training_logs_floats_with_the_numbers_of_the_loss(tmp_path):
    cfg = perceptzoo.TrainConfig(steps=3, batch_size=32, log_every=1, eval_every=3,
                                 checkpoint_every=1000, progress=False, num_samples=0,
                                 device="cpu", tensorboard=False)
    run = perceptzoo.train("made", dataset="digits", out=tmp_path / "run", train_config=cfg,
                           model_overrides=TINY["made"])
    records = RunDir(run).read_metrics()
    train = [r for r in records if r.get("kind") == "train"]
    valid = [r for r in records if r.get("kind") == "valid"]
    assert len(train) == 3 and valid
    dims = 64 * math.log(2)  # 8x8 digits
    for r in train:  # the loss is the NLL (one mask): the same number, as before
        assert isinstance(r["nll_nats"], float) and isinstance(r["bits_per_dim"], float)
        assert r["nll_nats"] == pytest.approx(r["loss"], rel=1e-6)
        assert r["bits_per_dim"] == pytest.approx(r["loss"] / dims, rel=1e-6)
    assert all(isinstance(v, float) for k, v in valid[-1].items() if k.startswith("valid_"))
    assert valid[-1]["valid_bits_per_dim"] == pytest.approx(valid[-1]["valid_nll_nats"] / dims,
                                                            rel=1e-5)
