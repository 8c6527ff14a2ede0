"""The real-vs-real floor at the same sample size, class accuracy, and an evaluation sized to a
fraction of the training time."""

from __future__ import annotations

import time

import pytest
import torch

from perceptzoo import data
from perceptzoo.bench.metrics import affordable_samples, class_accuracy, real_vs_real
from perceptzoo.errors import UserError


def test_the_floor_compares_real_images_at_the_sample_size_and_records_it():
    floor = real_vs_real("digits", 500)
    assert floor["frechet_num_samples"] == 500 and floor["frechet_num_reference"] == 360
    assert 0 < floor["real_vs_real_frechet_distance"] < 30  # real digits are close to real
    assert floor["real_vs_real_precision"] > 0.5 and floor["real_vs_real_recall"] > 0.5
    with pytest.raises(UserError, match="fewer than"):
        real_vs_real("digits", 5000)


def test_class_accuracy_is_high_for_true_labels_and_chance_for_shuffled_ones():
    test = data.load("digits", "test")
    assert class_accuracy("digits", test.x, test.y) > 0.9
    shuffled = test.y[torch.randperm(len(test.y), generator=torch.Generator().manual_seed(0))]
    assert class_accuracy("digits", test.x, shuffled) < 0.3


def test_affordable_samples_fit_a_fifth_of_the_training_time():
    def draw(k):  # 10 ms a sample
        time.sleep(0.01 * k)

    n = affordable_samples(draw, train_seconds=10.0, wanted=1000)  # 2 s -> ~200 samples
    assert 100 <= n <= 200
    assert affordable_samples(draw, train_seconds=1000.0, wanted=1000) == 1000
    assert affordable_samples(draw, train_seconds=0.1, wanted=1000) == 0


def test_the_end_of_run_evaluation_of_a_short_training_is_bounded(tmp_path, capsys):
    """`perceptzoo train` ends with an evaluation sized to a fifth of the training time (MADE
    on digits: 20 steps train in well under a second, 1,000 autoregressive samples would take
    seconds); --full-eval draws every sample asked for."""
    import json

    from perceptzoo.cli import main
    from perceptzoo.core import runner

    out = tmp_path / "made"
    args = ["train", "made", "--dataset", "digits", "--steps", "20", "--no-progress",
            "--out", str(out)]
    assert main(args) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out.strip().splitlines()[-1])
    assert metrics["eval_num_samples"] < 1000 and "--full-eval" in captured.err
    trained = runner.training_seconds(out)
    start = time.perf_counter()
    bounded = runner.evaluate(out, budget_s=0.2 * trained)
    took = time.perf_counter() - start - bounded["likelihood_time_s"]
    assert took < 0.2 * trained + 1.0  # the probe and the features: about a second at most
    assert bounded["eval_num_samples"] < 1000

    assert main([*args[:-1], str(tmp_path / "full"), "--full-eval", "--eval-samples",
                 "200"]) == 0
    full = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "eval_num_samples" not in full and "frechet_distance" in full


def test_a_toy_mmd_reads_against_the_data_floor_and_a_moment_matched_gaussian():
    from perceptzoo.bench.metrics import mmd_references

    refs = mmd_references("toy2d:8gaussians", 500)
    assert refs["mmd_num_samples"] == 500
    assert abs(refs["real_vs_real_mmd"]) < 0.01 < refs["gaussian_baseline_mmd"]
