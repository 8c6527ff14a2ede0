"""Faults and dead ends of a training run, each tried and its way out run (issues 22, 23)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import perceptzoo
from perceptzoo.cli import main
from perceptzoo.core import runner
from perceptzoo.core.runs import RunDir
from perceptzoo.errors import Diverged, RunFinished, UserError

FAST = {"steps": 6, "batch_size": 16, "eval_every": 3, "checkpoint_every": 3,
        "num_samples": 4, "progress": False, "device": "cpu", "log_every": 1}
MADE = {"hidden_sizes": [16]}


def _train(out: Path, **train):
    return runner.train("made", out=out, train_config={**FAST, **train}, model_overrides=MADE)


def test_missing_data_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERCEPTZOO_DATA", str(tmp_path / "empty"))
    import perceptzoo.data.mnist as mnist

    monkeypatch.setattr(mnist, "urlopen_fetch", _no_network)
    out = tmp_path / "run"
    assert main(["train", "made", "--dataset", "binarized_mnist", "--out", str(out)]) == 2
    assert "could not download" in capsys.readouterr().err
    assert not out.exists()  # no dead-end folder: retrying works


def _no_network(url, dest):
    raise OSError("no network in this test")


def test_resume_of_a_folder_without_checkpoint_starts_it(tmp_path):
    run = _train(tmp_path / "run")
    (run / "checkpoint.pt").unlink()
    (run / "model.safetensors").unlink()
    (run / "metrics.jsonl").unlink()
    assert main(["train", "--resume", str(run), "--eval-samples", "0"]) == 0
    assert RunDir(run).has_checkpoint() and (run / "model.safetensors").exists()


def test_resume_of_a_finished_run_says_it_is_finished(tmp_path, capsys):
    run = _train(tmp_path / "run")
    before = (run / "metrics.jsonl").read_text()
    with pytest.raises(RunFinished, match="finished at step 6"):
        runner.resume(run)
    assert main(["train", "--resume", str(run)]) == 2
    assert "perceptzoo eval" in capsys.readouterr().err
    assert (run / "metrics.jsonl").read_text() == before  # no duplicate record


def test_a_checkpoint_from_another_build_of_the_model_says_what_to_do(tmp_path, capsys):
    """The model's code or config changed since the checkpoint was written: a clear error, not
    torch's state-dict traceback, and the checkpoint left as it was."""
    run = _train(tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    config["model_config"]["hidden_sizes"] = [32]
    config["train"]["steps"] = 12  # not finished, so resume loads the checkpoint
    (run / "config.json").write_text(json.dumps(config))
    before = (run / "checkpoint.pt").read_bytes()
    with pytest.raises(UserError, match="does not fit made as the code builds it now"):
        runner.resume(run)
    assert main(["train", "--resume", str(run)]) == 2
    assert "Start the run again in a new folder" in capsys.readouterr().err
    assert (run / "checkpoint.pt").read_bytes() == before


def test_a_corrupt_weights_file_is_rewritten_by_the_advised_command(tmp_path, capsys):
    run = _train(tmp_path / "run")
    good = perceptzoo.load(run).state_dict()
    (run / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(UserError) as err:
        perceptzoo.load(run)
    command = str(err.value).split("`")[1]  # the command the message names
    assert command == f"perceptzoo train --resume {run}"
    assert main(command.split()[1:] + ["--eval-samples", "0"]) == 0
    again = perceptzoo.load(run).state_dict()
    assert all(torch.equal(good[k], again[k]) for k in good)


def test_a_hostile_checkpoint_is_refused_without_unsafe_advice(tmp_path):
    run = _train(tmp_path / "run")

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"step": 1, "x": Payload()}, run / "checkpoint.pt")
    with pytest.raises(UserError) as err:
        runner.resume(run)
    assert "weights_only=False" not in str(err.value)
    assert "never unpickled" in str(err.value)
    assert not (tmp_path / "pwned").exists()


def test_links_out_of_a_run_folder_are_not_followed(tmp_path):
    run = _train(tmp_path / "run")
    outside = tmp_path / "elsewhere.safetensors"
    (run / "model.safetensors").rename(outside)
    (run / "model.safetensors").symlink_to(outside)
    with pytest.raises(UserError, match="link to a file outside"):
        perceptzoo.load(run)


def test_a_config_cannot_name_a_class_outside_the_registry(tmp_path):
    run = _train(tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    config["model"] = "os.system"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="unknown model 'os.system'"):
        perceptzoo.load(run)


def test_orphan_temp_files_are_removed_on_resume(tmp_path):
    run = _train(tmp_path / "run", steps=3)
    config = json.loads((run / "config.json").read_text())
    config["train"]["steps"] = 6
    (run / "config.json").write_text(json.dumps(config))
    orphan = run / ".checkpoint.pt.abc123.tmp"
    orphan.write_bytes(b"half a checkpoint")
    runner.resume(run)
    assert not orphan.exists()


def test_injected_nan_stops_with_the_terms_named_and_the_checkpoint_intact(tmp_path,
                                                                           monkeypatch):
    from perceptzoo.autoregressive.made import MADE

    real_loss = MADE.loss
    calls = {"n": 0}

    def poisoned(self, batch):
        out = real_loss(self, batch)
        calls["n"] += self.training
        if calls["n"] == 5 and self.training:  # the fifth training step (step 4)
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(MADE, "loss", poisoned)
    with pytest.raises(Diverged, match=r"non-finite loss at step 4 \(loss=nan.*checkpoint is "
                                       r"intact"):
        _train(tmp_path / "run")
    state = RunDir(tmp_path / "run").load_checkpoint()
    assert state["step"] == 3 and all(torch.isfinite(v).all() for v in state["model"].values()
                                      if v.is_floating_point())


def test_skip_on_nan_drops_the_step_and_halves_the_lr(tmp_path, monkeypatch):
    from perceptzoo.autoregressive.made import MADE

    real_loss = MADE.loss
    calls = {"n": 0}

    def poisoned(self, batch):
        out = real_loss(self, batch)
        calls["n"] += self.training
        if calls["n"] == 2 and self.training:  # step 1
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(MADE, "loss", poisoned)
    run = _train(tmp_path / "run", on_nan="skip", schedule="constant")
    records = RunDir(run).read_metrics()
    assert [r["step"] for r in records if r["kind"] == "skipped"] == [1]
    lrs = [r["lr"] for r in records if r["kind"] == "train"]
    assert lrs[-1] == pytest.approx(FAST.get("lr", 1e-3) / 2)


def test_samples_go_into_the_run_folder_and_a_gif_holds_gif_bytes(tmp_path, monkeypatch):
    run = _train(tmp_path / "run")
    monkeypatch.chdir(tmp_path)
    assert main(["sample", str(run), "-n", "4"]) == 0
    assert (run / "samples.png").exists() and not (tmp_path / "samples.png").exists()
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "grid.gif")]) == 0
    assert (tmp_path / "grid.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")


def test_sigterm_writes_a_checkpoint_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    code = ("import sys; from perceptzoo.cli import main; sys.exit(main(['train', 'made', "
            f"'--out', '{out}', '--steps', '100000', '--no-progress', '--set', "
            "'hidden_sizes=[16]', 'train.checkpoint_every=100000']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    metrics = out / "metrics.jsonl"
    for _ in range(600):  # until it is training
        if metrics.exists() and metrics.stat().st_size > 0:
            break
        try:
            proc.wait(0.1)
            break
        except subprocess.TimeoutExpired:
            pass
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"perceptzoo train --resume {out}" in err
    step = RunDir(out).load_checkpoint()["step"]
    assert 0 < step < 100_000


def test_progress_without_a_terminal_is_a_few_lines(tmp_path, capsys):
    """Without a TTY (pytest's captured stderr is none) progress is a line every 30 s, not a
    bar per step (in-process: a subprocess would spend its time importing)."""
    out = tmp_path / "run"
    assert main(["train", "made", "--out", str(out), "--steps", "150", "--set",
                 "hidden_sizes=[16]", "--eval-samples", "0"]) == 0
    err = capsys.readouterr().err
    assert len(err) < 2_000, len(err)  # a bar per step would be ~15 kB


def test_sample_inpaint_fills_held_out_images_and_refuses_other_models(tmp_path, capsys):
    from PIL import Image

    run = runner.train("inpainting_ae", out=tmp_path / "ae", model_overrides={},
                       train_config={**FAST, "steps": 4})
    assert main(["sample", str(run), "-n", "5", "--inpaint"]) == 0
    grid = Image.open(run / "inpainting.png")
    assert grid.size == ((5 * 9 + 1) * 4, (3 * 9 + 1) * 4)  # five columns, three rows
    made = _train(tmp_path / "made")
    assert main(["sample", str(made), "--inpaint"]) == 2
    assert "cannot inpaint" in capsys.readouterr().err


def test_the_cuda_absent_advice_is_a_command_that_works(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the CUDA-absent error cannot happen here")
    argv = ["train", "made", "--steps", "2", "--set", "hidden_sizes=[8]", "--eval-samples", "0",
            "--out", str(tmp_path / "run")]
    assert main(argv + ["--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "use --device cpu" in err and not (tmp_path / "run").exists()
    assert main(argv + ["--device", "cpu"]) == 0
