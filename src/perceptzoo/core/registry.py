"""The table name -> (model class, config dataclass, default dataset).

Families register themselves with `@register("made", MADEConfig, default_dataset="digits")`;
`perceptzoo/__init__.py` imports the families, so `core` imports none of them.

A config dataclass may have fields named `data_shape`, `num_levels` and `num_classes`: `build`
fills them from the dataset the model is trained on, so one config trains on any dataset the
model can take. A model class may define `check_data(info)` to refuse data it cannot model
with a `UserError`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from torch import nn

from perceptzoo.core.config import apply_overrides
from perceptzoo.core.errors import UserError

#: Config fields that `build` fills from the dataset's `DatasetInfo`.
DATA_FIELDS = ("data_shape", "num_levels", "num_classes")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_class: type[nn.Module]
    config_class: type
    default_dataset: str
    family: str


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, config_class: type, *, default_dataset: str = "digits"):
    """Class decorator: make `name` buildable by `perceptzoo.build` and the CLI."""

    def wrap(model_class: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY and _REGISTRY[name].model_class is not model_class:
            raise RuntimeError(f"model name {name!r} registered twice")
        family = model_class.__module__.split(".")[1] if "." in model_class.__module__ else ""
        _REGISTRY[name] = ModelSpec(name, model_class, config_class, default_dataset, family)
        return model_class

    return wrap


def get_spec(name: str) -> ModelSpec:
    if name not in _REGISTRY:
        raise UserError(
            f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))} "
            "(`perceptzoo list` shows them with their families)"
        )
    return _REGISTRY[name]


def list_specs() -> list[ModelSpec]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def family_runs(spec: ModelSpec):
    """The family's own `runs` module if it has one, else None.

    Families whose models are not fitted by the Trainer on a `data` dataset (RL agents learn
    in environments; implicit fields fit meshes) provide `perceptzoo.<family>.runs` with

        train(name, *, dataset, out, steps, seed, overrides: dict, data_dir) -> Path
        evaluate(run_dir, *, split, num_samples) -> dict[str, float]
        sample(run_dir, *, num_samples, out, seed) -> str     # what was written
        load(run_dir) -> the trained model or agent
        resume(run_dir) -> Path                               # optional: continue a run

    and the CLI and `perceptzoo.load` hand those families' runs to it.
    """
    import importlib
    import importlib.util

    name = f"perceptzoo.{spec.family}.runs"
    if spec.family and importlib.util.find_spec(name) is not None:
        return importlib.import_module(name)
    return None


def make_config(name: str, data_info: Any = None, **overrides: Any) -> Any:
    """The config for `name`: defaults, then fields from the dataset, then `overrides`."""
    spec = get_spec(name)
    cfg = spec.config_class()
    field_names = {f.name for f in dataclasses.fields(cfg)}
    if data_info is not None:
        from_data = {
            k: getattr(data_info, k)
            for k in DATA_FIELDS
            if k in field_names and getattr(data_info, k, None) is not None
        }
        cfg = apply_overrides(cfg, from_data)
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    return cfg


def build_from_config(name: str, cfg: Any) -> nn.Module:
    spec = get_spec(name)
    return spec.model_class(cfg)
