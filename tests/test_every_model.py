"""Every registered model, held to the contracts through the one run path (zuko's style).

For each name in the registry: its hooks match `core/contracts.py`; it builds from a tiny
config, trains two steps through `runner.train`, writes a run folder of the one schema, loads
on the CPU, and then samples (or acts, or extracts a surface) and, where it is a density model,
returns a finite `log_prob` of shape [B]. A new model is covered by registering it; a config
class may offer `tiny()` (a fast config) and the test uses it.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
import torch

import perceptzoo
from perceptzoo.core import registry, runner
from perceptzoo.core.config import to_dict
from perceptzoo.core.contracts import check_hooks
from perceptzoo.errors import UserError

NAMES = perceptzoo.list_models()
CONFIG_KEYS = {"format", "model", "family", "runner", "dataset", "data_dir", "model_config",
               "train", "seed", "versions"}
TRAIN = {"steps": 2, "batch_size": 8, "eval_every": 1000, "checkpoint_every": 1000,
         "num_samples": 2, "progress": False, "device": "cpu", "eval_examples": 16}


#: Models built on another trained run: config field -> the model that run is of.
PREREQUISITES = {"controlnet": ("base_run", "ddpm")}


def _needs_real_data(dataset: str) -> bool:
    return dataset.split(":")[0] in ("mnist", "fashion_mnist", "binarized_mnist", "fsdd", "mesh")


def _overrides(spec: registry.ModelSpec) -> dict:
    tiny = getattr(spec.config_class, "tiny", None)
    if tiny is None:
        return {}
    return {k: v for k, v in to_dict(tiny()).items() if k not in registry.DATA_FIELDS}


@pytest.mark.parametrize("name", NAMES)
def test_hooks_follow_the_contracts(name):
    spec = registry.get_spec(name)
    assert spec.family and spec.family == spec.model_class.__module__.split(".")[1]
    assert check_hooks(spec.model_class, spec.runner) == []


@pytest.mark.parametrize("name", NAMES)
def test_trains_saves_loads_and_samples_through_the_runner(name, tmp_path):
    spec = registry.get_spec(name)
    if _needs_real_data(spec.default_dataset) and not os.environ.get("PERCEPTZOO_DATA"):
        pytest.skip(f"{name}'s default dataset {spec.default_dataset} needs the real data: "
                    "set PERCEPTZOO_DATA (see README, Data)")
    torch.manual_seed(0)
    overrides = _overrides(spec)
    if name in PREREQUISITES:
        field, base = PREREQUISITES[name]
        base_spec = registry.get_spec(base)
        overrides[field] = str(runner.train(base, out=tmp_path / "base",
                                            train_config=dict(TRAIN),
                                            model_overrides=_overrides(base_spec)))
    train = dict(TRAIN) if spec.runner != "agent" else {
        "steps": 2, "seed": 0, "device": "cpu"}  # agents: the flags every agent takes
    run = runner.train(name, out=tmp_path / "run", train_config=train,
                       model_overrides=overrides)

    config = json.loads((run / "config.json").read_text())
    assert set(config) == CONFIG_KEYS
    assert (config["model"], config["family"], config["runner"]) == (name, spec.family,
                                                                     spec.runner)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records, "a run logs at least one metrics record"
    for record in records:
        assert isinstance(record["step"], int) and record["step"] >= 0
        assert isinstance(record["kind"], str)

    model = runner.load(run)
    if spec.runner == "agent":
        env = model.make_env(0)
        obs, _ = env.reset(seed=0)
        assert env.action_space.contains(np.asarray(model.act(obs, deterministic=True)).reshape(
            env.action_space.shape).astype(env.action_space.dtype)
            if env.action_space.shape else model.act(obs, deterministic=True))
        env.close()
        return
    assert all(p.device.type == "cpu" for p in model.parameters())
    if spec.runner == "field":
        assert (run / "mesh.ply").exists() or any(r.get("kind") == "samples" for r in records)
        return
    info = perceptzoo.data.info(config["dataset"])
    x = perceptzoo.data.load(config["dataset"], "test")[torch.arange(3)][0]
    if hasattr(model, "sample"):
        with torch.no_grad():
            s = model.sample(3, generator=torch.Generator().manual_seed(0))
        assert s.shape[0] == 3 and s.reshape(3, -1).shape[1] == info.num_dims
        assert torch.isfinite(s.float()).all()
        x = s.reshape(3, *info.data_shape)  # a model gives its own samples a finite density
    if hasattr(model, "log_prob"):
        with torch.no_grad():
            lp = model.log_prob(x)
        assert lp.shape == (3,) and torch.isfinite(lp).all()


def test_an_old_format_run_folder_gets_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "made", "model_config": {},
                                                      "dataset": "digits", "train": {}}))
    with pytest.raises(UserError, match="older perceptzoo.*train it again"):
        perceptzoo.load(tmp_path)
    with pytest.raises(UserError, match="older perceptzoo"):
        runner.evaluate(tmp_path)


def test_every_family_is_registered_with_a_known_runner():
    specs = registry.list_specs()
    assert {s.runner for s in specs} <= {"trainer", "agent", "field"}
    assert {"autoregressive", "flows", "diffusion", "implicit", "rl"} <= {s.family for s in specs}
    for spec in specs:
        assert dataclasses.is_dataclass(spec.config_class)
