"""Shared RL plumbing: replay buffer, returns, schedules, curves, environments."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from perceptzoo.errors import UserError
from perceptzoo.rl.common.buffers import ReplayBuffer, discounted_returns
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.common.schedules import linear_schedule, step_size
from perceptzoo.viz.curves import moving_average, plot_curves
from perceptzoo.viz.rollouts import frame_strip, grid_path, observation_traces


def test_replay_buffer_wraps_around_and_samples_stored_transitions():
    buffer = ReplayBuffer(5, (2,), seed=0)
    for i in range(8):
        buffer.add(np.full(2, i), i % 2, float(i), np.full(2, i + 1), i == 7)
    assert len(buffer) == 5
    batch = buffer.sample(64)
    assert set(batch["rewards"].tolist()) <= {3.0, 4.0, 5.0, 6.0, 7.0}  # the last five
    np.testing.assert_allclose(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)
    assert batch["terminated"][batch["rewards"] == 7.0].eq(1).all()


def test_discounted_returns():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 0.0, 2.0]), 0.5),
                               [1.0 + 0.5 * 0 + 0.25 * 2, 0.0 + 0.5 * 2, 2.0])


def test_schedules():
    eps = linear_schedule(1.0, 0.1, 100)
    assert eps(0) == 1.0 and eps(50) == pytest.approx(0.55) and eps(1000) == pytest.approx(0.1)
    lr = step_size(0.5, 1.0)
    assert lr(1) == 0.5 and lr(4) == 0.125
    assert step_size(0.3)(100) == 0.3


def test_curve_files_and_plot(tmp_path):
    curve = Curve()
    for i in range(30):
        curve.add(step=10 * (i + 1), episode_return=float(i), episode_length=10)
    csv_path, json_path = curve.write(tmp_path / "curve")
    rows = list(csv.DictReader(open(csv_path)))
    assert len(rows) == 30 and rows[-1]["episode_return"] == "29.0"
    assert json.loads(json_path.read_text())[0]["step"] == 10
    png = plot_curves({"a": curve.xy()}, tmp_path / "c.png", smooth=5)
    image = np.asarray(Image.open(png))
    assert image.shape == (400, 640, 3) and (image != 255).any()
    np.testing.assert_allclose(moving_average(np.arange(4.0), 2), [0, 0.5, 1.5, 2.5])


def test_make_env_limits_and_errors():
    assert make_env("CliffWalking-v1").spec.max_episode_steps == 500
    with pytest.raises(UserError, match="Taxi-v4"):
        make_env("Taxi-v3")
    with pytest.raises(UserError, match="pixels"):
        make_env("CartPole-v1", pixels=True)


def test_rollout_pictures(tmp_path):
    frames = [np.full((10, 8, 3), i * 20, np.uint8) for i in range(5)]
    strip = np.asarray(Image.open(frame_strip(frames, tmp_path / "s.png", max_frames=3)))
    assert strip.shape == (10, 24, 3)
    assert (strip[0, 0] == 0).all() and (strip[0, 8] == 40).all() and (strip[0, 16] == 80).all()
    desc = np.array([list("SF"), list("HG")])
    grid = np.asarray(Image.open(grid_path(desc, [0, 1, 3], tmp_path / "g.png", cell=10)))
    assert grid.shape == (20, 20, 3)
    assert tuple(grid[15, 2]) == (60, 60, 60)          # the hole, off the path
    assert tuple(grid[5, 5])[0] > 200 and grid[5, 5, 1] < 100  # the path through cell 0
    traces = observation_traces(np.random.default_rng(0).normal(size=(20, 3)), tmp_path / "o.png")
    assert np.asarray(Image.open(traces)).shape == (400, 640, 3)
