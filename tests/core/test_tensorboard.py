"""Runs log their scalars to TensorBoard live when the package is installed; nothing needs it."""

from __future__ import annotations

import pytest

from perceptzoo.core import runner


def test_training_writes_tensorboard_events_when_installed(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = runner.train("made", out=tmp_path / "run", model_overrides={"hidden_sizes": [8]},
                       train_config={"steps": 20, "log_every": 5, "eval_every": 10,
                                     "progress": False, "device": "cpu", "num_samples": 0})
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "train/loss" in tags and "valid/valid_nll_nats" in tags
    assert [e.step for e in events.Scalars("train/loss")] == [5, 10, 15, 20]
