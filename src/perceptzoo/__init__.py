"""perceptzoo: models of machine perception under one API with one set of offline metrics.

    >>> import perceptzoo
    >>> "made" in perceptzoo.list_models()
    True
    >>> model = perceptzoo.build("made", hidden_sizes=(64,))   # digits-sized by default
    >>> model.log_prob(model.sample(2)).shape
    torch.Size([2])

`build(name, **config)` makes a model from its registered config dataclass; `train(name, ...)`
trains into a run folder; `load(run_dir, device=None)` rebuilds the trained model; `evaluate`,
`sample` and `resume` work on a run folder. All of them go through `perceptzoo.core.runner`,
the one run path of every family.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from perceptzoo import data, metrics  # noqa: F401  (perceptzoo.data.load, perceptzoo.metrics)
from perceptzoo.core import registry
from perceptzoo.core.runner import evaluate, load, resume, sample, train
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.errors import UserError

# Families register their models on import (each family's __init__ imports its modules);
# core imports none of them.
from perceptzoo import (  # noqa: E402,F401  isort: skip
    autoencoders, autoregressive, diffusion, energy, flows, gans, gans3d, implicit, rl,
    translation, vae,
)

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


__all__ = ["TrainConfig", "UserError", "build", "evaluate", "list_models", "load", "resume",
           "sample", "train"]
