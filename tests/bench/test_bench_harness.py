"""The harness: each recipe in its own process (one failure is recorded, the rest go on), the
result in the DESIGN.md schema with training time read from the run, skip at the same commit
and config, resume from a checkpoint, a budget that stops a runaway child."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perceptzoo.bench import harness
from perceptzoo.bench.recipe import Recipe
from perceptzoo.bench.results import config_hash, current_commit, training_hash
from perceptzoo.errors import UserError

TINY = Recipe(name="realnvp2d-toy2d_moons-test", model="realnvp2d", dataset="toy2d:moons",
              task="toy2d", model_config={"num_layers": 2, "hidden": 8},
              train={"steps": 20, "batch_size": 64, "checkpoint_every": 10, "eval_every": 10,
                     "log_every": 5},
              evaluate={"num_samples": 200}, suites=("quick",), minutes=1.0)


@pytest.fixture
def options(tmp_path) -> harness.Options:
    return harness.Options(suite="quick", results_dir=str(tmp_path / "results"),
                           work_dir=str(tmp_path / "work"), progress=False, jobs=2)


def test_each_recipe_runs_apart_a_failure_is_recorded_and_a_rerun_is_skipped(
        tmp_path, options, monkeypatch):
    extra = tmp_path / "recipes.py"
    extra.write_text(textwrap.dedent("""
        from perceptzoo.bench.recipe import Recipe
        RECIPES = [
            Recipe(name="realnvp2d-toy2d_moons-test", model="realnvp2d", dataset="toy2d:moons",
                   task="toy2d", model_config={"num_layers": 2, "hidden": 8},
                   train={"steps": 20, "batch_size": 64, "log_every": 5},
                   evaluate={"num_samples": 200}, suites=("quick",), minutes=1.0),
            Recipe(name="broken-test", model="realnvp2d", dataset="toy2d:no_such_toy",
                   task="toy2d", suites=("quick",), minutes=1.0),
        ]
    """))
    monkeypatch.setenv(harness.EXTRA_RECIPES, str(extra))
    recipes = [r for r in harness.all_recipes() if r.name.endswith("-test")]
    lines: list[str] = []
    before = current_commit()  # a shared checkout may gain a commit while the recipes run
    outcomes = {o.name: o for o in harness.run_all(recipes, options, echo=lines.append)}
    assert outcomes["broken-test"].status == "failed"
    assert "no_such_toy" in outcomes["broken-test"].message
    assert outcomes["realnvp2d-toy2d_moons-test"].status == "done", lines
    result = json.loads((tmp_path / "results" / "realnvp2d-toy2d_moons-test.json").read_text())
    for key in ("model", "dataset", "variant", "config", "metrics", "published", "wall_time_s",
                "device", "commit", "date", "parameters"):
        assert key in result
    assert result["commit"] in (before, current_commit()) and result["parameters"] > 0
    assert 0 < result["wall_time_s"] < 60  # the run's own training time, not the process's
    assert "mmd" in result["metrics"]
    status = json.loads((tmp_path / "work" / harness.STATUS_FILE).read_text())
    assert status["broken-test"]["status"] == "failed"
    again = harness.run_all(recipes[:1], options, echo=lines.append)
    assert again[0].status == "skipped"


def test_a_run_left_with_a_checkpoint_is_resumed_not_restarted(tmp_path, options):
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    run = Path(options.work_dir) / TINY.name
    run.mkdir(parents=True)
    (run / harness.MARKER).write_text(json.dumps({
        "recipe": TINY.name, "config_hash": config_hash(TINY), "device": "cpu",
        "commit": "0000001"}))
    runner.train(TINY.model, dataset=TINY.dataset, out=run, model_overrides=TINY.model_config,
                 train_config={**TINY.train, "progress": False})
    config = json.loads((run / "config.json").read_text())
    config["train"]["steps"] = 30  # as if stopped at step 20 of 30
    (run / "config.json").write_text(json.dumps(config))
    said: list[str] = []
    path = harness.run_recipe(TINY, options, say=said.append)
    assert any(s.startswith("resuming") for s in said)
    result = json.loads(path.read_text())
    assert result["commit"] == "0000001"  # the commit the run started on
    assert result["scored_commit"] == current_commit()  # the code that computed the metrics
    assert max(r["step"] for r in RunDir(run).read_metrics()) == 30  # went on from 20
    said.clear()
    harness.run_recipe(TINY, options.__class__(**{**options.__dict__, "eval_only": True}),
                       say=said.append)
    assert not any("training" in s or "resuming" in s for s in said)


def test_a_recipe_whose_scoring_alone_changed_is_rescored_not_retrained(tmp_path, options):
    """The run folder is named by the training half of the recipe: a new sample size re-scores
    the finished run; a new training config trains afresh. A marker from before training
    hashes (whole-config hash only) still counts as the same training, and is upgraded."""
    import dataclasses

    said: list[str] = []
    first = json.loads(harness.run_recipe(TINY, options, say=said.append).read_text())
    marker = Path(options.work_dir) / TINY.name / harness.MARKER
    state = json.loads(marker.read_text())
    assert state["training_hash"] == training_hash(TINY)
    del state["training_hash"]  # as an older harness wrote it
    marker.write_text(json.dumps(state))
    assert harness.same_training(state, TINY)
    eval_only = options.__class__(**{**options.__dict__, "eval_only": True})
    harness.run_recipe(TINY, eval_only, say=said.append)  # upgrades the marker
    assert json.loads(marker.read_text())["training_hash"] == training_hash(TINY)

    rescored = dataclasses.replace(TINY, evaluate={"num_samples": 300})
    assert training_hash(rescored) == training_hash(TINY)
    assert config_hash(rescored) != config_hash(TINY)
    said.clear()
    result = json.loads(harness.run_recipe(rescored, options, say=said.append).read_text())
    assert not any(s.startswith(("training", "resuming")) for s in said), said
    assert result["config_hash"] == config_hash(rescored) != first["config_hash"]
    assert result["wall_time_s"] == first["wall_time_s"]  # the same run's training time

    retrained = dataclasses.replace(TINY, train={**TINY.train, "steps": 10})
    assert not harness.same_training(json.loads(marker.read_text()), retrained)
    said.clear()
    harness.run_recipe(retrained, options, say=said.append)
    assert any(s.startswith("training") for s in said)


def test_a_child_over_its_budget_is_stopped_and_reported(tmp_path, options, monkeypatch):
    def sleeper(recipe, options, work_dir):
        log = Path(work_dir) / f"{recipe.name}.log"
        log.write_text("")
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                start_new_session=True), log

    monkeypatch.setattr(harness, "_spawn", sleeper)
    monkeypatch.setattr(harness, "_limit", lambda recipe, options: 0.5)
    outcome = harness.run_all([TINY], options, echo=lambda m: None)[0]
    assert outcome.status == "timed out" and outcome.seconds < 20
    assert "resume" in outcome.message


def test_a_model_without_likelihood_or_samples_is_scored_by_its_loss_on_the_split(tmp_path):
    """A denoising autoencoder has no log_prob and no sample: its result carries the training
    objective on the whole test split (seeded, so the same run scores the same)."""
    from perceptzoo.core import runner

    run = runner.train("denoising_ae", dataset="digits", out=tmp_path / "dae",
                       model_overrides={"hidden_sizes": [16], "code_size": 4},
                       train_config={"steps": 3, "batch_size": 16, "progress": False})
    first = harness.split_loss(run, "test")
    assert first["test_loss"] > 0 and first == harness.split_loss(run, "test")
    assert harness._figures({"likelihood_time_s": 0.1, "mmd": 0.2}) == ["mmd"]


def test_a_recipe_already_running_in_the_work_folder_is_refused_not_wiped(tmp_path, options):
    """Two `perceptzoo bench` of one recipe on one work folder: the second is refused with the
    holder named, and the first's run folder is left alone."""
    work = Path(options.work_dir)
    work.mkdir(parents=True)
    (work / TINY.name).mkdir()
    (work / TINY.name / "checkpoint.pt").write_bytes(b"the first run's")
    with harness._exclusive(work / f"{TINY.name}.lock", TINY.name):
        with pytest.raises(UserError, match=r"being run by perceptzoo bench \(pid"):
            harness.run_recipe(TINY, options)
    assert (work / TINY.name / "checkpoint.pt").read_bytes() == b"the first run's"


@pytest.mark.parametrize("suite, full", [("full", True), ("quick", False)])
def test_a_field_recipe_is_scored_with_the_benchmark_protocol(tmp_path, monkeypatch, suite, full):
    """Implicit fields have a quick default evaluation (40^3, sized to a short run) and the
    papers' protocol (128^3, 100k IoU points); a benchmark figure is the latter, the quick
    suite keeps the former."""
    from perceptzoo.core import runner

    run = runner.train("igr", dataset="torus", out=tmp_path / "igr",
                       model_overrides={"hidden": 16, "layers": 2, "skip_layers": []},
                       train_config={"steps": 2, "batch_size": 64, "progress": False,
                                     "num_samples": 0})
    seen = {}

    def fake_evaluate(run, **kwargs):
        seen.update(kwargs)
        return {"chamfer_l1": 0.01}

    monkeypatch.setattr(runner, "evaluate", fake_evaluate)
    recipe = Recipe(name="igr-torus-test", model="igr", dataset="torus", task="shapes",
                    evaluate={"num_shapes": 1}, suites=(suite,), minutes=1.0)
    opts = harness.Options(suite=suite, results_dir=str(tmp_path / "results"),
                           work_dir=str(tmp_path / "work"), progress=False)
    harness.score(recipe, run, opts, commit="abc1234", device="cpu",
                  results_dir=tmp_path / "results", say=lambda *_: None)
    assert seen["full"] is full


def test_an_agent_result_carries_its_env_steps_per_second(tmp_path, options):
    """The RL table's throughput column: env steps over the seconds the training took, read
    from the run's last training record."""
    from perceptzoo.bench.recipes.rl import RECIPES

    recipe = next(r for r in RECIPES if r.name == "q_learning-CliffWalking-v1-quick")
    path = harness._run_recipe(recipe, options, Path(options.results_dir),
                               Path(options.work_dir), say=lambda *a: None)
    result = json.loads(Path(path).read_text())
    assert result["metrics"]["steps_per_s"] > 0
