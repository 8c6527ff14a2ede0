"""benchmarks/vae_binarized_mnist.py studies the recipes' runs: it adds its figures to the
recipe's result file (one file per recipe: no `-elbo` duplicate of `vae-binarized_mnist`)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from perceptzoo.bench import harness
from perceptzoo.bench import results as res
from perceptzoo.bench.recipes.vae import RECIPES

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def study(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("vae_binarized_mnist")
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(module, "WORK", tmp_path / "work")
    yield module
    sys.modules.pop("vae_binarized_mnist", None)


def test_the_study_extends_the_recipes_of_the_vae_on_binarized_mnist(study):
    assert study.STUDIED == ("vae-binarized_mnist", "vae-binarized_mnist-iwae5")
    assert all(name in {r.name for r in RECIPES} for name in study.STUDIED)


def test_a_finished_recipe_run_is_studied_where_the_harness_left_it(study, monkeypatch):
    recipe = next(r for r in RECIPES if r.name == "vae-binarized_mnist")
    run = study.WORK / recipe.name
    run.mkdir(parents=True)
    (run / harness.MARKER).write_text(json.dumps(
        {"config_hash": res.config_hash(recipe), "trained": True}))
    study.RESULTS.mkdir()
    path = study.RESULTS / "vae-binarized_mnist.json"
    path.write_text(json.dumps({"model": "vae", "config_hash": res.config_hash(recipe),
                                "commit": "abc1234", "metrics": {"test_nll_nats": 99.2}}))
    monkeypatch.setattr(harness, "run_recipe", lambda *a, **k: pytest.fail("re-ran"))
    assert study.recipe_run(recipe) == (run, path)
    study.add_to_result(path, {"test_negative_elbo_nats": 103.0, "test_nll_nats": 1.0}, "n", 5.0)
    study.add_to_result(path, {"test_kl_nats": 22.0}, "again", 6.0)  # a re-run replaces
    result = json.loads(path.read_text())
    assert result["metrics"] == {"test_nll_nats": 99.2, "test_kl_nats": 22.0}
    assert result["config_hash"] == res.config_hash(recipe) and result["commit"] == "abc1234"
    assert result["study"]["script"] == "benchmarks/vae_binarized_mnist.py"
    assert [p.name for p in study.RESULTS.iterdir()] == ["vae-binarized_mnist.json"]


def test_a_missing_or_stale_run_is_run_through_the_harness_first(study, monkeypatch):
    recipe = next(r for r in RECIPES if r.name == "vae-binarized_mnist-iwae5")
    ran = []
    monkeypatch.setattr(harness, "run_recipe",
                        lambda r, options, say=print: ran.append((r.name, options.results_dir)))
    run, path = study.recipe_run(recipe)
    assert ran == [("vae-binarized_mnist-iwae5", str(study.RESULTS))]
    assert path.name == "vae-binarized_mnist-iwae5.json" and run.name == recipe.name
