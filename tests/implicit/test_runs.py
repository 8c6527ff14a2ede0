"""Implicit models through the one run path (core/runner.py and the Trainer): the field
contract, CLI train / eval / sample / load, bit-exact resume, errors, bounded evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
import trimesh

import perceptzoo
from perceptzoo.cli import main
from perceptzoo.core import registry, runner
from perceptzoo.core.contracts import BatchSource, check_hooks
from perceptzoo.core.runs import RunDir
from perceptzoo.implicit import common

MODELS = ("deepsdf", "dvr", "igr", "occupancy_network")
TINY = {
    "igr": ["hidden=32", "layers=3", "skip_layers=[]", "num_surface_points=500", "knn=8"],
    "deepsdf": ["hidden=32", "layers=3", "skip_layers=[]", "latent_dim=4",
                "points_per_shape=64", "samples_per_shape=1000"],
    "occupancy_network": ["hidden=32", "blocks=1", "code_dim=8", "encoder_hidden=8",
                          "points_per_shape=64", "samples_per_shape=1000"],
    "dvr": ["hidden=32", "layers=3", "skip_layers=[]", "texture_hidden=16", "texture_layers=2",
            "views=2", "image_size=8", "march_steps=16"],
}
BATCH = {"igr": "128", "deepsdf": "2", "occupancy_network": "2", "dvr": "64"}
DATASET = {"igr": "sphere", "deepsdf": "shapes:2", "occupancy_network": "shapes:2",
           "dvr": "sphere"}
SMALL_EVAL = common.EvalSettings(resolution=32, surface_points=2000, iou_points=4000,
                                 fit_steps=5, fit_points=500)


@pytest.fixture
def small_eval(monkeypatch):
    monkeypatch.setattr(common, "QUICK", SMALL_EVAL)
    monkeypatch.setattr(common, "MESH_RESOLUTION", 32)


def _train(name: str, run, steps: int = 2, *extra: str) -> int:
    return main(["train", name, "--dataset", DATASET[name], "--steps", str(steps), "--out",
                 str(run), "--batch-size", BATCH[name], "--eval-shapes", "1", "--no-progress",
                 "--set", *TINY[name], *extra])


@pytest.mark.parametrize("name", MODELS)
def test_every_implicit_model_meets_the_field_contract(name):
    spec = registry.get_spec(name)
    assert spec.runner == "field" and spec.family == "implicit"
    assert check_hooks(spec.model_class, "field") == []
    defaults = dict(spec.train_defaults)
    assert defaults["schedule"] == "step" and {"lr", "steps", "batch_size"} <= set(defaults)
    torch.manual_seed(0)
    model = spec.model_class(spec.config_class.tiny())
    source = model.data_source(DATASET[name], "train", None, 3, int(BATCH[name]))
    assert isinstance(source, BatchSource) and len(source) > 0
    # a pure function of the step: drawn again, in any order, the same batch
    later, first, again = source.batch_at(7), source.batch_at(0), source.batch_at(7)
    flat = [t for t in later if isinstance(t, torch.Tensor)]
    assert all(torch.equal(a, b) for a, b in zip(flat, (t for t in again if t is not None)))
    assert any(not torch.equal(a, b) for a, b in
               zip(flat, (t for t in first if isinstance(t, torch.Tensor))) if a.shape == b.shape)
    assert torch.isfinite(model.loss(later).loss)


@pytest.mark.parametrize("name", MODELS)
def test_cli_train_eval_sample_load(name, tmp_path, capsys, small_eval):
    run = tmp_path / name
    assert _train(name, run) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["run"] == str(run) and "chamfer_l1" in trained
    assert trained["num_shapes"] == 1 and trained["full"] is False
    for f in ("config.json", "model.safetensors", "metrics.jsonl", "checkpoint.pt"):
        assert (run / f).exists(), f
    config = runner.read_config(RunDir(run))
    assert config["runner"] == "field" and config["train"]["batch_size"] == int(BATCH[name])
    assert main(["eval", str(run), "--eval-shapes", "1"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["num_shapes"] == 1
    model = perceptzoo.load(run)
    assert not model.training
    again = runner.load(run)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
    if name in ("igr", "dvr"):  # fields of untrained tiny nets may have no surface: sphere init
        assert main(["sample", str(run), "--out", str(tmp_path / "s.ply")]) == 0
        assert len(trimesh.load(tmp_path / "s.ply", force="mesh").faces) > 0
        assert (tmp_path / "s-views.png").stat().st_size > 0


def test_igr_run_writes_mesh_views_and_exports(tmp_path, capsys, small_eval):
    run = tmp_path / "igr"
    assert _train("igr", run, 30) == 0
    capsys.readouterr()
    assert (run / "mesh.ply").exists() and (run / "views.png").exists()
    for suffix in (".ply", ".obj"):
        out = tmp_path / f"shape{suffix}"
        assert main(["sample", str(run), "--out", str(out)]) == 0
        mesh = trimesh.load(out, force="mesh")
        assert abs(mesh.volume - 4 / 3 * 3.14159 * 0.125) < 0.1  # the sphere it was fitted to
    assert main(["sample", str(run), "--out", str(tmp_path / "views.png")]) == 0
    assert (tmp_path / "views.png").stat().st_size > 0
    log = RunDir(run).read_metrics()
    steps = [r["step"] for r in log if r["kind"] == "train"]
    assert steps[0] < steps[-1] == 30
    lrs = {r["step"]: r["lr"] for r in log if r["kind"] == "train"}  # logged every 20 steps
    assert lrs == pytest.approx({20: 5e-3 / 2, 30: 5e-3 / 4})  # halved at 50 % and 75 %


def test_training_resumes_bit_exactly_from_the_checkpoint(tmp_path, monkeypatch):
    from perceptzoo.implicit.igr import IGR

    over = {"hidden": 32, "layers": 3, "skip_layers": [], "num_surface_points": 500, "knn": 8}
    train = {"steps": 60, "batch_size": 128, "checkpoint_every": 50, "log_every": 5,
             "progress": False, "num_samples": 0}
    runner.train("igr", dataset="sphere", out=tmp_path / "full", train_config=train,
                 model_overrides=over)
    full = runner.load(tmp_path / "full").state_dict()
    # interrupt a second run after its step-50 checkpoint, then resume it
    loss, calls = IGR.loss, {"n": 0}

    def dying_loss(self, batch):
        calls["n"] += 1
        if calls["n"] == 56:
            raise KeyboardInterrupt
        return loss(self, batch)

    monkeypatch.setattr(IGR, "loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        runner.train("igr", dataset="sphere", out=tmp_path / "cut", train_config=train,
                     model_overrides=over)

    def counting_loss(self, batch):
        calls["n"] += 1
        return loss(self, batch)

    monkeypatch.setattr(IGR, "loss", counting_loss)
    calls["n"] = 0
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["step"] == 50
    runner.resume(tmp_path / "cut")
    assert calls["n"] == 10  # steps 51..60 only: it resumed
    resumed = runner.load(tmp_path / "cut").state_dict()
    for k in full:
        assert torch.equal(full[k], resumed[k]), k
    records = [r for r in RunDir(tmp_path / "cut").read_metrics() if r["kind"] == "train"]
    full_records = [r for r in RunDir(tmp_path / "full").read_metrics() if r["kind"] == "train"]
    assert [r["step"] for r in records] == [r["step"] for r in full_records]  # none twice
    assert [r["loss"] for r in records] == [r["loss"] for r in full_records]


def test_user_errors_exit_2(tmp_path, capsys, small_eval):
    assert main(["train", "igr", "--dataset", "shapes", "--steps", "1", "--out",
                 str(tmp_path / "x")]) == 2
    assert "fits one shape" in capsys.readouterr().err
    assert main(["train", "dvr", "--dataset", "pyramid", "--steps", "1", "--out",
                 str(tmp_path / "y")]) == 2
    assert "unknown shape" in capsys.readouterr().err
    assert main(["train", "igr", "--dataset", "sphere", "--steps", "1", "--out",
                 str(tmp_path / "z"), "--set", "hidden=abc"]) == 2
    capsys.readouterr()
    assert main(["train", "deepsdf", "--dataset", "shapes:3", "--steps", "1", "--out",
                 str(tmp_path / "w"), "--set", "num_shapes=2"]) == 2
    assert "num_shapes=3" in capsys.readouterr().err
    run = tmp_path / "taken"
    assert _train("igr", run) == 0
    before = (run / "model.safetensors").read_bytes()
    assert _train("igr", run, 3) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (run / "model.safetensors").read_bytes() == before  # the old run is untouched


def test_full_evaluation_is_one_option_away(tmp_path, monkeypatch, small_eval):
    from perceptzoo.implicit.igr import IGR, IGRConfig

    seen = []
    score = common.score_field

    def spy(fn, model, shape, settings=common.QUICK, seed=0, mesh=None):
        seen.append(settings)
        return score(fn, model, shape, settings, seed, mesh)

    monkeypatch.setattr(common, "score_field", spy)
    monkeypatch.setattr(common, "FULL", common.EvalSettings(33, 2000, 4000, 5, 500))
    model = IGR(IGRConfig.tiny())
    quick = model.evaluate_shapes("sphere", "test", None, num_shapes=16)
    full = model.evaluate_shapes("sphere", "test", None, num_shapes=16, full=True)
    assert seen == [SMALL_EVAL, common.FULL]
    assert quick["full"] is False and full["full"] is True and quick["num_shapes"] == 1
    assert abs(quick["iou"] - full["iou"]) < 0.05  # the same field, measured twice
    model.cfg.full_eval = True  # perceptzoo train igr --set full_eval=true
    assert model.evaluate_shapes("sphere", "test", None, num_shapes=1)["full"] is True
    assert seen[-1] == common.FULL


def test_default_evaluation_is_sized_below_the_full_one():
    q, f = common.QUICK, common.FULL
    assert q.resolution**3 * 8 < f.resolution**3  # the grid dominates: 8x fewer points
    assert q.fit_steps * q.fit_points * 8 <= f.fit_steps * f.fit_points
    assert q.surface_points <= f.surface_points and q.iou_points < f.iou_points


PEAK_RSS_GB = 2.0  # stated bound: default evaluation of every implicit model


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_default_evaluation_stays_under_the_stated_peak_memory(name, shared_data):
    """Each model at its default config, on its default dataset, evaluated with the default
    settings (16 shapes, QUICK) in a fresh process: peak resident memory under 2 GB."""
    code = textwrap.dedent(f"""
        import json, resource, torch
        torch.set_num_threads(1)
        from perceptzoo.core import registry
        spec = registry.get_spec({name!r})
        torch.manual_seed(0)
        model = spec.model_class(spec.config_class())
        metrics = model.evaluate_shapes(spec.default_dataset, "test", {str(shared_data)!r},
                                        num_shapes=16)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
        print(json.dumps({{"peak_gb": peak, "num_shapes": metrics["num_shapes"]}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["peak_gb"] < PEAK_RSS_GB, result
