"""perceptzoo: models of machine perception under one API with one set of offline metrics.

    >>> import perceptzoo
    >>> "made" in perceptzoo.list_models()
    True
    >>> model = perceptzoo.build("made", hidden_sizes=(64,))   # digits-sized by default
    >>> model.log_prob(model.sample(2)).shape
    torch.Size([2])

`build(name, **config)` makes a model from its registered config dataclass; `load(run_dir)`
rebuilds a trained one from a run folder; `train(name, ...)` trains into a run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from perceptzoo import data, metrics  # noqa: F401  (perceptzoo.data.load, perceptzoo.metrics)
from perceptzoo.core import registry
from perceptzoo.core.config import from_dict
from perceptzoo.core.errors import UserError
from perceptzoo.core.runs import RunDir
from perceptzoo.core.trainer import TrainConfig, resume, train

# Families register their models on import (each family's __init__ imports its modules);
# core imports none of them.
from perceptzoo import autoregressive, diffusion, flows, implicit, rl  # noqa: E402,F401  isort: skip

__version__ = "0.1.0"


def list_models() -> list[str]:
    """Names `build` accepts, sorted."""
    return [spec.name for spec in registry.list_specs()]


def build(name: str, **config: Any) -> nn.Module:
    """A new model `name` with its default config updated by `config`.

    A `dataset="mnist"` keyword sizes the model for that dataset (shape, levels, classes).
    """
    dataset = config.pop("dataset", None)
    info = None
    if dataset is not None:
        info = data.info(dataset)
    cfg = registry.make_config(name, info, **config)
    return registry.build_from_config(name, cfg)


def load(run_dir: str | Path) -> Any:
    """The trained model of a run folder (in eval mode), rebuilt from its config.json.

    Families with their own run format (RL agents, implicit fields) load through their
    `runs` module (see `perceptzoo.core.registry.family_runs`).
    """
    run = RunDir(run_dir)
    config = run.read_config()
    spec = registry.get_spec(config["model"])
    family_runs = registry.family_runs(spec)
    if family_runs is not None:
        return family_runs.load(run.path)
    try:
        cfg = from_dict(spec.config_class, config.get("model_config", {}))
    except UserError as err:
        raise UserError(f"{run.path}/config.json does not fit model {spec.name}: {err}") from None
    model = registry.build_from_config(spec.name, cfg)
    run.load_weights(model)
    return model.eval()


__all__ = ["TrainConfig", "UserError", "build", "list_models", "load", "resume", "train"]
