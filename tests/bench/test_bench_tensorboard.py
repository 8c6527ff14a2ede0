"""A run's logged scalars and sample grid become TensorBoard events (when it is installed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from perceptzoo.bench import tensorboard


def test_scalars_and_the_sample_grid_reach_tensorboard(tmp_path):
    if not tensorboard.available():
        pytest.skip("tensorboard is not installed (pip install perceptzoo[tensorboard])")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    run.mkdir()
    records = [{"step": 10, "kind": "train", "loss": 2.0, "time_s": 1.0},
               {"step": 20, "kind": "train", "loss": 1.5, "time_s": 2.0},
               {"step": 20, "kind": "eval", "test_nll_nats": 90.0, "split": "test"}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(run / "samples.png")
    logdir = tensorboard.log_run(run)
    events = EventAccumulator(str(logdir))
    events.Reload()
    assert [s.value for s in events.Scalars("train/loss")] == [2.0, 1.5]
    assert [s.step for s in events.Scalars("eval/test_nll_nats")] == [20]
    assert "samples" in events.Tags()["images"]
