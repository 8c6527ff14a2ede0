"""On a GPU: every model trains, evaluates and samples with all its tensors on the device.

Marked `gpu` and skipped without CUDA (CI has none): run `pytest -m gpu` on a GPU machine
(benchmarks/gpu/run.sh's `tests` group does). Each model trains a few steps with the
Trainer on the device (its validation pass and end-of-training samples run there too) and is
loaded back onto the device, where its log-likelihood must be finite; the implicit family
trains through its own loop, which picks the GPU when there is one. Catches tensors made on
the CPU inside a forward pass, generators on the wrong device, and the like.
"""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.core import registry

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

TRAINER_MODELS = sorted(n for n in perceptzoo.list_models()
                        if registry.family_runs(registry.get_spec(n)) is None)
IMPLICIT_MODELS = ["deepsdf", "dvr", "igr", "occupancy_network"]
DATASETS = {"igr": "sphere", "deepsdf": "shapes:4", "occupancy_network": "shapes:4"}


@pytest.mark.parametrize("name", TRAINER_MODELS)
def test_trainer_model_runs_on_the_gpu(name, tmp_path):
    cfg = perceptzoo.TrainConfig(steps=4, batch_size=8, device="cuda", eval_every=4,
                                 eval_examples=16, checkpoint_every=4, num_samples=2,
                                 progress=False)
    overrides = {}
    if name == "controlnet":  # it controls a trained DDPM
        base = perceptzoo.train("ddpm", out=tmp_path / "base", train_config=cfg)
        overrides = {"base_run": str(base)}
    run = perceptzoo.train(name, out=tmp_path / name, train_config=cfg,
                           model_overrides=overrides)
    model = perceptzoo.load(run).to("cuda")
    # samples.png, or samples.wav for audio
    assert list(run.glob("samples.*")) or not hasattr(model, "sample")
    assert all(p.is_cuda for p in model.parameters())
    if hasattr(model, "log_prob"):
        from perceptzoo import data

        spec = registry.get_spec(name)
        x = data.load(spec.default_dataset, "test").x[:4].to("cuda")
        # -inf is a real answer of the maximum-likelihood table for an unseen pattern
        assert not torch.isnan(model.log_prob(x)).any()


@pytest.mark.parametrize("name", IMPLICIT_MODELS)
def test_implicit_model_trains_on_the_gpu(name, tmp_path):
    from perceptzoo.implicit import runs

    run = runs.train(name, dataset=DATASETS.get(name), out=tmp_path / name, steps=3, seed=0,
                     overrides={})
    model = runs.load(run)
    assert all(torch.isfinite(p.detach()).all() for p in model.parameters())
