"""Recipes are data: every family's list loads, names are unique, every recipe names a
registered model, a known table (or its own figure) and a source for any published figure."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from perceptzoo.bench.harness import all_recipes, check, select
from perceptzoo.bench.recipe import SUITES
from perceptzoo.core import registry
from perceptzoo.errors import UserError

REPO = Path(__file__).resolve().parents[2]


MINE = ("autoregressive", "flows", "diffusion", "rl", "implicit")


def _family(recipe) -> str:
    return registry.get_spec(recipe.model).family


def test_recipes_load_with_unique_names_and_no_problems():
    recipes = all_recipes()
    names = [r.name for r in recipes]
    assert len(names) == len(set(names))
    assert check([r for r in recipes if _family(r) in MINE]) == []
    assert not [p for p in check(recipes) if "unknown suite" in p]


def test_every_recipe_names_a_registered_model_and_a_suite():
    known = {spec.name for spec in registry.list_specs()}
    for r in all_recipes():
        assert r.model in known, f"{r.name}: model {r.model} is not registered"
        assert r.suites and set(r.suites) <= set(SUITES), r.name


def test_every_recipe_sets_only_options_its_model_config_has():
    for r in all_recipes():
        fields = {f.name for f in dataclasses.fields(registry.get_spec(r.model).config_class)}
        unknown = sorted(set(r.model_config) - fields)
        assert not unknown, f"{r.name}: {r.model} has no option(s) {unknown}"


def test_published_figures_carry_their_source():
    for r in all_recipes():
        if r.published is not None and r.published.metrics:
            assert len(r.published.source) > 10, r.name


def test_the_quick_suite_covers_every_family_with_recipes_on_embedded_data():
    quick = [r for r in all_recipes() if "quick" in r.suites]
    families = {registry.get_spec(r.model).family for r in quick}
    assert {"autoregressive", "flows", "diffusion", "rl", "implicit"} <= families
    for r in quick:
        assert r.dataset in ("digits", "bars_stripes") or r.dataset.startswith("toy2d:") \
            or registry.get_spec(r.model).runner != "trainer", r.name
    assert all(r.minutes <= 3 for r in quick)  # a quick recipe is stopped within 7 minutes


def test_gpu_recipes_keep_their_earlier_results():
    for r in all_recipes():
        if r.suites == ("gpu",):
            assert (REPO / "benchmarks" / "results" / f"{r.name}.json").exists(), r.name


def test_select_by_name_model_or_suite_and_a_clear_error_otherwise():
    recipes = all_recipes()
    assert [r.name for r in select(recipes, [recipes[0].name], None)] == [recipes[0].name]
    made = select(recipes, ["made"], "full")
    assert made and all(r.model == "made" and "full" in r.suites for r in made)
    assert all("quick" in r.suites for r in select(recipes, [], "quick"))
    assert all(r.suites != ("gpu",) for r in select(recipes, ["made"], None))
    with pytest.raises(UserError, match="no recipe or model named"):
        select(recipes, ["no-such-recipe"], None)
    with pytest.raises(UserError, match="unknown suite"):
        select(recipes, [], "weekly")


def test_a_log_prob_of_codes_stays_out_of_the_likelihood_tables(tmp_path):
    """The VQ-VAE's log_prob is its prior's NLL of the code grid: the harness names it so and
    drops the bits/dim (code NLL / 784), so no MNIST bits/dim row comes from it."""
    from perceptzoo.bench.harness import not_a_data_likelihood
    from perceptzoo.bench.report import leaderboard, load_results

    vq = next(r for r in all_recipes() if r.model == "vq_vae")
    assert vq.log_prob_of == "codes"
    raw = {"test_nll_nats": 96.9, "test_bits_per_dim": 0.178, "frechet_distance": 73.9}
    metrics = not_a_data_likelihood(raw, vq.log_prob_of, "test")
    assert metrics == {"test_codes_nll_nats": 96.9, "frechet_distance": 73.9}
    assert not_a_data_likelihood(raw, "data", "test") == raw
    (tmp_path / "vq_vae-mnist.json").write_text(json.dumps(
        {"model": "vq_vae", "dataset": "mnist", "metrics": metrics}))
    tables = leaderboard(load_results(tmp_path))
    assert "mnist_bits_per_dim" not in tables and len(tables["mnist_sample_quality"]) == 1


def test_every_cpu_result_is_what_its_recipe_as_written_produces():
    """A committed result of a quick or full recipe carries that recipe's config hash: a figure
    on the leaderboard is the one `perceptzoo bench NAME` reproduces. A recipe changed after
    its run is re-run (or re-scored, when only its scoring changed) before it lands. The GPU
    recipes keep their earlier results (the issue's rule) until a GPU re-runs them."""
    from perceptzoo.bench.results import config_hash

    stale = []
    for recipe in all_recipes():
        path = REPO / "benchmarks" / "results" / f"{recipe.name}.json"
        if recipe.suites == ("gpu",) or not path.exists():
            continue
        if json.loads(path.read_text()).get("config_hash") != config_hash(recipe):
            stale.append(recipe.name)
    assert not stale, f"re-run with `perceptzoo bench {' '.join(stale)}`"
