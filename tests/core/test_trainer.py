"""The Trainer: seeded runs reproduce, a killed run resumes onto the same loss trajectory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import torch

import perceptzoo
from perceptzoo.core.runs import RunDir

TINY = {"hidden_sizes": [32], "num_masks": 3, "order_agnostic": True}


def _losses(run):
    return [(r["step"], r["loss"]) for r in RunDir(run).read_metrics() if "loss" in r]


def _train(out, steps=60, **train):
    cfg = perceptzoo.TrainConfig(steps=steps, batch_size=32, log_every=5, eval_every=30,
                                 checkpoint_every=20, progress=False, num_samples=4, **train)
    return perceptzoo.train("made", dataset="digits", out=out, train_config=cfg,
                            model_overrides=TINY)


def test_seeded_runs_are_reproducible(tmp_path):
    a, b = _train(tmp_path / "a"), _train(tmp_path / "b")
    assert _losses(a) == _losses(b)
    assert len(_losses(a)) == 12
    for name in ("config.json", "model.safetensors", "metrics.jsonl", "samples.png",
                 "checkpoint.pt"):
        assert (a / name).exists()


def test_saved_weights_are_the_running_average_of_the_trained_ones(tmp_path):
    """theta_ema(N) = d theta_ema(N-1) + (1 - d) theta(N): the weights an N-step run saves are
    d times those the (N-1)-step run saved plus (1 - d) times the raw weights after step N
    (the run's checkpoint holds them). The constant schedule makes the shorter run the prefix
    of the longer one; buffers are copied, not averaged."""
    d = 0.8
    short, long = (_train(tmp_path / f"ema{n}", steps=n, ema_decay=d, schedule="constant")
                   for n in (5, 6))
    before = dict(perceptzoo.load(short).named_parameters())
    saved = perceptzoo.load(long)
    raw = torch.load(long / "checkpoint.pt", weights_only=True)["model"]
    params = dict(saved.named_parameters())
    assert params
    for name, p in params.items():
        torch.testing.assert_close(p, d * before[name] + (1 - d) * raw[name])
        assert not torch.equal(p, raw[name]), name  # the average, not the last weights
    for name, b in saved.named_buffers():
        if name in raw:
            assert torch.equal(b, raw[name]), name
    assert torch.isfinite(saved.log_prob(perceptzoo.data.load("digits", "test").x[:4])).all()


def test_killed_run_resumes_onto_the_uninterrupted_trajectory(tmp_path):
    """SIGKILL a CLI training run after its first checkpoint, resume it, compare the losses."""
    steps = 1500
    args = ["train", "made", "--steps", str(steps), "--batch-size", "32", "--seed", "3",
            "--set", "hidden_sizes=[32]", "num_masks=3", "order_agnostic=true",
            "train.log_every=5", "train.checkpoint_every=40", "train.eval_every=100000",
            "--no-progress", "--eval-samples", "0"]
    ref = tmp_path / "ref"
    cmd = [sys.executable, "-m", "perceptzoo.cli"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*cmd, *args, "--out", str(ref)], check=True, env=env,
                   capture_output=True, timeout=300)

    run = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, *args, "--out", str(run)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (run / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    step_at_kill = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < step_at_kill < steps

    result = subprocess.run([*cmd, "train", "--resume", str(run), "--eval-samples", "0"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["run"] == str(run)
    assert _losses(run) == _losses(ref)  # exact equality, every logged step
    # the logged training time goes on from the checkpoint's, not from zero
    times = [r["time_s"] for r in RunDir(run).read_metrics() if "time_s" in r]
    assert len(times) == steps // 5 and times == sorted(times) and times[0] > 0


def test_early_stopping_keeps_the_best_weights_and_stops_after_patience(tmp_path):
    from perceptzoo.core.trainer import Trainer

    values = iter([5.0, 3.0, 4.0, 6.0, 7.0, 8.0])
    snapshots = []

    class Scripted(Trainer):  # validation values scripted so the best is the 2nd evaluation
        def evaluate(self):
            snapshots.append({k: v.clone() for k, v in self.model.state_dict().items()})
            return {"valid_nll_nats": next(values)}

    train_set = perceptzoo.data.load("digits", "train")
    model = perceptzoo.build("made", dataset="digits", **TINY)
    cfg = perceptzoo.TrainConfig(steps=100, batch_size=32, eval_every=10, checkpoint_every=1000,
                                 keep_best=True, patience=2, progress=False, num_samples=4)
    (tmp_path / "es").mkdir()
    run = RunDir(tmp_path / "es")
    trainer = Scripted(model, train_set, None, cfg, run)
    trainer.fit()
    assert trainer.step == 40  # evaluations at 10, 20 (best), 30, 40: two without improvement
    assert trainer.best_valid == 3.0 and trainer.stopped_early()
    saved = run.load_weights(perceptzoo.build("made", dataset="digits", **TINY)).state_dict()
    for key, value in snapshots[1].items():
        assert torch.equal(saved[key], value), key
    state = run.load_checkpoint()  # the stop is in the checkpoint: a resume does not go on
    assert state["step"] == 40 and state["evals_since_best"] == 2
