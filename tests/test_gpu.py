"""On a GPU: every model the Trainer fits trains, evaluates and samples with its tensors there.

Marked `gpu` and skipped without CUDA (CI has none): run `pytest -m gpu` on a GPU machine.
Each model (runner "trainer" or "field": the implicit fields go through the same Trainer) trains
a few steps of its tiny config through `perceptzoo.core.runner` with device="cuda" (its
validation pass and end-of-training samples run there too). What is checked is what the
library did, not what the test set:

- the checkpoint the Trainer wrote holds CUDA tensors: the model and its optimizer state lived
  on the GPU during training;
- `runner.load(run, device="cuda")` returns the model on the GPU, and `runner.load(run)` the
  same weights on the CPU (a GPU-trained run loads anywhere);
- on the GPU, log_prob of test data is computed there and is not NaN, and `runner.evaluate(run,
  device="cuda")` scores the run there.

Catches tensors made on the CPU inside a forward pass, generators on the wrong device, a load
that ignores its device, and the like.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from perceptzoo import data
from perceptzoo.core import registry, runner

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

MODELS = sorted(s.name for s in registry.list_specs() if s.runner in ("trainer", "field"))
DATASETS = {"igr": "sphere", "deepsdf": "shapes:4", "occupancy_network": "shapes:4"}
TRAIN = {"steps": 4, "batch_size": 8, "device": "cuda", "eval_every": 4, "eval_examples": 16,
         "checkpoint_every": 4, "num_samples": 2, "progress": False}


def _tiny_overrides(name: str) -> dict:
    """The fields where the model's `tiny()` config differs from its default (none if it has
    no tiny config); the data fields are left to the dataset."""
    cls = registry.get_spec(name).config_class
    if not hasattr(cls, "tiny"):
        return {}
    tiny, default = cls.tiny(), cls()
    return {f.name: getattr(tiny, f.name) for f in dataclasses.fields(tiny)
            if f.name not in registry.DATA_FIELDS
            and getattr(tiny, f.name) != getattr(default, f.name)}


def _floating_tensors(obj):
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point():
            yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _floating_tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _floating_tensors(v)


@pytest.mark.parametrize("name", MODELS)
def test_model_trains_loads_and_scores_on_the_gpu(name, tmp_path):
    spec = registry.get_spec(name)
    overrides = _tiny_overrides(name)
    if name == "controlnet":  # it controls a trained DDPM
        base = runner.train("ddpm", out=tmp_path / "base", train_config=TRAIN,
                            model_overrides=_tiny_overrides("ddpm"))
        overrides["base_run"] = str(base)
    run = runner.train(name, dataset=DATASETS.get(name), out=tmp_path / name,
                       train_config=TRAIN, model_overrides=overrides)

    state = torch.load(run / "checkpoint.pt", weights_only=True)  # no map_location
    saved = list(_floating_tensors(state["model"]))
    assert saved and all(t.is_cuda for t in saved), "the Trainer did not train on the GPU"
    assert all(t.is_cuda for t in _floating_tensors(state["optimizers"]))

    model = runner.load(run, device="cuda")
    on_cpu = runner.load(run)
    params = dict(model.named_parameters())
    assert params and all(p.is_cuda for p in params.values())
    for n, p in on_cpu.named_parameters():
        assert p.device.type == "cpu" and torch.equal(p, params[n].cpu()), n

    if spec.runner == "trainer":
        # samples.png, or samples.wav for audio, were drawn on the GPU at the end of training
        assert list(run.glob("samples.*")) or not hasattr(model, "sample")
        if hasattr(model, "log_prob"):
            x = data.load(spec.default_dataset, "test").x[:4].to("cuda")
            with torch.no_grad():
                lp = model.log_prob(x)
            # -inf is a real answer of the maximum-likelihood table for an unseen pattern
            assert lp.is_cuda and not torch.isnan(lp).any()
    metrics = runner.evaluate(run, device="cuda", num_samples=0, num_shapes=1)
    assert metrics
