"""Result files: the DESIGN.md schema, a tag keeps a variant apart, 'already run' means the same
commit and the same config, training time is the run's own log."""

from __future__ import annotations

import json

import torch

from perceptzoo.bench.recipe import Published, Recipe
from perceptzoo.bench.results import (
    already_run,
    config_hash,
    count_parameters,
    training_seconds,
    write_result,
)

RECIPE = Recipe(name="made-digits-x", model="made", dataset="digits", task="digits_nll",
                model_config={"hidden_sizes": [64]}, train={"steps": 10},
                published=Published({"test_nll_nats": 90.0}, "a paper, Table 1, row 2",
                                    comparable="different data"))


def test_the_schema_with_the_published_figure_its_source_and_what_is_comparable(tmp_path):
    path = write_result(RECIPE, tmp_path, metrics={"test_nll_nats": 91.0}, wall_time_s=12.34,
                        eval_time_s=1.0, commit="abc1234", device="cpu", parameters=10,
                        tag="wide")
    assert path.name == "made-digits-x-wide.json"
    r = json.loads(path.read_text())
    assert r["variant"] == "wide" and r["commit"] == "abc1234" and r["wall_time_s"] == 12.34
    assert r["published"] == {"test_nll_nats": 90.0, "source": "a paper, Table 1, row 2",
                              "comparable": "different data"}
    assert r["config"]["model"] == {"hidden_sizes": [64]} and r["config"]["train"]["steps"] == 10
    assert "ablation" not in r


def test_an_ablation_says_so_in_its_result_and_keeps_its_configs_hash(tmp_path):
    ablated = Recipe(**{**RECIPE.__dict__, "ablation": "one mask"})
    assert config_hash(ablated) == config_hash(RECIPE)        # a label, not a setting
    path = write_result(ablated, tmp_path, metrics={}, wall_time_s=1, eval_time_s=1,
                        commit="abc", device="cpu", parameters=1)
    assert json.loads(path.read_text())["ablation"] == "one mask"


def test_already_run_needs_the_same_commit_and_the_same_config(tmp_path):
    write_result(RECIPE, tmp_path, metrics={}, wall_time_s=1, eval_time_s=1, commit="abc",
                 device="cpu", parameters=1)
    assert already_run(RECIPE, tmp_path, "abc")
    assert not already_run(RECIPE, tmp_path, "def")
    changed = Recipe(**{**RECIPE.__dict__, "train": {"steps": 20}})
    assert config_hash(changed) != config_hash(RECIPE)
    assert not already_run(changed, tmp_path, "abc")


def test_training_time_is_the_last_time_the_run_logged(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(
        '{"step": 10, "kind": "train", "time_s": 3.0}\n{"step": 20, "kind": "train", '
        '"time_s": 7.5}\n{"step": 20, "kind": "eval", "test_nll_nats": 1.0}\n')
    assert training_seconds(tmp_path) == 7.5


def test_parameters_of_a_module_and_of_an_agent():
    assert count_parameters(torch.nn.Linear(3, 2)) == 8

    class Agent:
        def state_tensors(self):
            return {"q": torch.zeros(16, 4)}

    assert count_parameters(Agent()) == 64
