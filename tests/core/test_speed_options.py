"""Trainer speed options: bf16 autocast trains with a step-0 loss close to fp32's, channels-last
and compile (with its eager fall-back) train, and bad values are refused."""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo.core.runs import RunDir
from perceptzoo.errors import UserError

TINY = {"hidden_sizes": [32], "num_masks": 1}


def _losses(run):
    return [r["loss"] for r in RunDir(run).read_metrics() if "loss" in r]


def _train(out, name="made", overrides=TINY, steps=4, **train):
    cfg = perceptzoo.TrainConfig(steps=steps, batch_size=32, log_every=1, eval_every=1000,
                                 checkpoint_every=1000, progress=False, num_samples=0,
                                 device="cpu", tensorboard=False, **train)
    return perceptzoo.train(name, dataset="digits", out=out, train_config=cfg,
                            model_overrides=overrides)


def test_bf16_trains_and_its_first_loss_is_close_to_fp32(tmp_path):
    fp32 = _losses(_train(tmp_path / "fp32"))
    bf16 = _losses(_train(tmp_path / "bf16", precision="bf16"))
    assert all(math.isfinite(v) for v in bf16) and len(bf16) == 4
    assert abs(bf16[0] - fp32[0]) < 0.02 * abs(fp32[0]), (bf16[0], fp32[0])
    assert bf16 != fp32  # the autocast did act (bf16 rounds the matmuls)


def test_channels_last_bf16_on_a_conv_model(tmp_path):
    overrides = {"num_steps": 20, "channels": 8, "channel_mults": [1, 2],
                 "attention_levels": [1], "groups": 4, "bound_timesteps": 4, "sample_steps": 4}
    losses = _losses(_train(tmp_path / "cl", "ddpm", overrides, steps=2, channels_last=True,
                            precision="bf16"))
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)


def test_compile_falls_back_to_eager_with_a_message(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler on this machine")

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.warns(UserWarning, match="training continues without compilation"):
        run = _train(tmp_path / "c", compile=True)
    assert _losses(run) == _losses(_train(tmp_path / "plain"))


@pytest.mark.parametrize("option", [{"precision": "fp8"}, {"precision": "bfloat16"},
                                    {"compile": "yes"}, {"channels_last": 1}])
def test_bad_values_are_refused(option):
    key = next(iter(option))
    with pytest.raises(UserError, match=f"train option {key}="):
        perceptzoo.TrainConfig(**option)


def test_fp16_needs_a_gpu(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(UserError, match="fp16 needs a GPU"):
        _train(tmp_path / "f", precision="fp16")
