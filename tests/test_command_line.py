"""The command line end to end, and its one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perceptzoo.cli import main

TINY = ["--set", "hidden_sizes=[16]", "--no-progress"]


def test_train_sample_eval_on_digits(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "made", "--steps", "30", "--out", str(run), "--eval-samples", "100",
                 "--full-eval",
                 *TINY]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["test_nll_nats"] > 0 and "frechet_distance" in printed
    assert main(["sample", str(run), "-n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0
    capsys.readouterr()
    assert main(["eval", str(run), "--split", "valid", "--eval-samples", "0"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"valid_nll_nats", "valid_bits_per_dim"}


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "made" in out and "binarized_mnist" in out


@pytest.mark.parametrize("args, message", [
    (["train", "nosuchmodel"], "unknown model"),
    (["train", "made", "--dataset", "cifar"], "unknown dataset"),
    (["train", "made", "--steps", "ten"], "whole number"),
    (["train", "made", "--lr", "fast"], "expected a number"),
    (["train", "made", "--dataset", "toy2d:moons", "--steps", "1"], "continuous"),
    (["train", "made", "--set", "hidden_sizes=big"], "hidden_sizes"),
    (["eval", "/nonexistent/run"], "does not exist"),
    (["sample", "/nonexistent/run"], "does not exist"),
    (["train", "--resume", "/nonexistent/run"], "does not exist"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's errors exit from inside parse_args
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def test_errors_from_a_real_process_have_no_traceback(tmp_path):
    for args in (["train", "nosuchmodel"], ["train", "made", "--steps", "ten"]):
        result = subprocess.run([sys.executable, "-m", "perceptzoo.cli", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_corrupt_run_folder(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{oops")
    assert main(["eval", str(tmp_path)]) == 2
    assert "corrupt" in capsys.readouterr().err
