"""Run folders through the CLI: train, eval, sample (PLY/OBJ/PNG), load round trip, errors."""

from __future__ import annotations

import json

import pytest
import torch
import trimesh

import perceptzoo
from perceptzoo.cli import main
from perceptzoo.implicit import runs


@pytest.fixture(autouse=True)
def small_eval(monkeypatch):
    monkeypatch.setattr(runs, "EVAL_RESOLUTION", 32)
    monkeypatch.setattr(runs, "EVAL_POINTS", 2000)
    monkeypatch.setattr(runs, "IOU_POINTS", 4000)
    monkeypatch.setattr(runs, "FIT_STEPS", 5)
    monkeypatch.setattr(runs, "FIT_POINTS", 500)


TINY = {
    "igr": ["hidden=32", "layers=3", "skip_layers=[]", "num_surface_points=500",
            "points_per_batch=128"],
    "deepsdf": ["hidden=32", "layers=3", "skip_layers=[]", "latent_dim=4", "shapes_per_batch=2",
                "points_per_shape=64", "samples_per_shape=1000"],
    "occupancy_network": ["hidden=32", "layers=3", "skip_layers=[]", "code_dim=8",
                          "encoder_hidden=8", "shapes_per_batch=2", "points_per_shape=64",
                          "samples_per_shape=1000"],
    "dvr": ["hidden=32", "layers=3", "skip_layers=[]", "texture_hidden=16", "texture_layers=2",
            "views=2", "image_size=8", "rays_per_batch=64", "march_steps=16"],
}
DATASET = {"igr": "sphere", "deepsdf": "shapes:2", "occupancy_network": "shapes:2",
           "dvr": "sphere"}


@pytest.mark.parametrize("name", sorted(TINY))
def test_cli_train_eval_sample_load(name, tmp_path, capsys):
    run = tmp_path / name
    assert main(["train", name, "--dataset", DATASET[name], "--steps", "2", "--out", str(run),
                 "--set", *TINY[name]]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["run"] == str(run) and "chamfer_l1" in trained
    for f in ("config.json", "model.safetensors", "metrics.jsonl", "checkpoint.pt"):
        assert (run / f).exists(), f
    assert main(["eval", str(run), "--num-samples", "1"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["num_shapes"] == 1
    model = perceptzoo.load(run)
    assert not model.training
    again = runs.load(run)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
    if name in ("igr", "dvr"):  # fields of untrained tiny nets may have no surface: sphere init
        assert main(["sample", str(run), "--out", str(tmp_path / "s.ply")]) == 0
        assert len(trimesh.load(tmp_path / "s.ply", force="mesh").faces) > 0


def test_igr_run_writes_mesh_views_and_exports(tmp_path, capsys):
    run = tmp_path / "igr"
    assert main(["train", "igr", "--dataset", "sphere", "--steps", "30", "--out", str(run),
                 "--set", *TINY["igr"]]) == 0
    capsys.readouterr()
    assert (run / "mesh.ply").exists() and (run / "views.png").exists()
    for suffix in (".ply", ".obj"):
        out = tmp_path / f"shape{suffix}"
        assert main(["sample", str(run), "--out", str(out)]) == 0
        mesh = trimesh.load(out, force="mesh")
        assert abs(mesh.volume - 4 / 3 * 3.14159 * 0.125) < 0.1  # the sphere it was fitted to
    assert main(["sample", str(run), "--out", str(tmp_path / "views.png")]) == 0
    assert (tmp_path / "views.png").stat().st_size > 0
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert log[0]["step"] < log[-2]["step"] == 30


def test_training_resumes_from_the_checkpoint(tmp_path, monkeypatch):
    from perceptzoo.implicit.igr import IGR

    over = {"hidden": 32, "layers": 3, "skip_layers": [], "num_surface_points": 500,
            "points_per_batch": 128}
    kw = dict(dataset="sphere", steps=60, seed=0, overrides=over, data_dir=None)
    runs.train("igr", out=tmp_path / "full", **kw)
    full = runs.load(tmp_path / "full").state_dict()
    # interrupt a second run after its step-50 checkpoint, then run the same command again
    loss, calls = IGR.loss, {"n": 0}

    def dying_loss(self, batch):
        calls["n"] += 1
        if calls["n"] == 56:
            raise KeyboardInterrupt
        return loss(self, batch)

    monkeypatch.setattr(IGR, "loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        runs.train("igr", out=tmp_path / "cut", **kw)
    def counting_loss(self, batch):
        calls["n"] += 1
        return loss(self, batch)

    monkeypatch.setattr(IGR, "loss", counting_loss)
    calls["n"] = 0
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["step"] == 50
    from perceptzoo.cli import main

    assert main(["train", "--resume", str(tmp_path / "cut"), "--eval-samples", "0"]) == 0
    assert calls["n"] == 10  # steps 51..60 only: it resumed
    resumed = runs.load(tmp_path / "cut").state_dict()
    for k in full:
        assert torch.allclose(full[k], resumed[k], atol=1e-6), k
    steps = [r["step"] for r in runs.RunDir(tmp_path / "cut").read_metrics() if "loss" in r]
    assert steps == sorted(set(steps))  # no step logged twice


def test_user_errors_exit_2(tmp_path, capsys):
    assert main(["train", "igr", "--dataset", "shapes", "--steps", "1", "--out",
                 str(tmp_path / "x")]) == 2
    assert "fits one shape" in capsys.readouterr().err
    assert main(["train", "dvr", "--dataset", "pyramid", "--steps", "1", "--out",
                 str(tmp_path / "y")]) == 2
    assert "unknown shape" in capsys.readouterr().err
    assert main(["train", "igr", "--dataset", "sphere", "--steps", "1", "--out",
                 str(tmp_path / "z"), "--set", "hidden=abc"]) == 2
    capsys.readouterr()
    run = tmp_path / "taken"
    assert main(["train", "igr", "--dataset", "sphere", "--steps", "2", "--out", str(run),
                 "--eval-samples", "1"]) == 0
    before = (run / "model.safetensors").read_bytes()
    assert main(["train", "igr", "--dataset", "sphere", "--steps", "3", "--out", str(run)]) == 2
    assert "already holds a different run" in capsys.readouterr().err
    assert (run / "model.safetensors").read_bytes() == before  # the old run is untouched
