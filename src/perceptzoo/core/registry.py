"""The table name -> ModelSpec(model class, config dataclass, family, runner, default data).

Families register themselves with

    @register("made", MADEConfig, default_dataset="digits", family="autoregressive",
              runner="trainer")

`perceptzoo/__init__.py` imports the families, so `core` imports none of them. The spec says
how the model is fitted (`runner`: "trainer" for models with a loss or a train_step, "field"
for implicit shapes that draw their own batches, "agent" for RL agents that `learn` in an
environment; see `perceptzoo.core.contracts`) and `train_defaults` holds the Trainer options
the model is trained with unless a user says otherwise (an implicit field's learning rate).

Defaults are sized to the data: `dataset_defaults(info) -> dict` (optional) gives the config
values a model takes on a dataset unless a user sets them, e.g. a dense autoregressive model's
output distribution and hidden width on 256-level MNIST (a softmax over 256 levels for each of
784 pixels made MADE 258M parameters). Every registered model with its defaults stays under
`DEFAULT_PARAMS_LIMIT` parameters on every dataset it accepts (`tests/core/test_defaults.py`).

A config dataclass may have fields named `data_shape`, `num_levels` and `num_classes`: `build`
fills them from the dataset the model is trained on, so one config trains on any dataset the
model can take. A model class may define `check_data(info)` to refuse data it cannot model
with a `UserError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from perceptzoo.core import validate
from perceptzoo.core.config import apply_overrides
from perceptzoo.core.contracts import RUNNERS, guard_inputs
from perceptzoo.errors import UserError

#: Config fields that `build` fills from the dataset's `DatasetInfo`.
DATA_FIELDS = ("data_shape", "num_levels", "num_classes")
#: The most parameters a model may have with its defaults on any dataset it accepts.
DEFAULT_PARAMS_LIMIT = 50_000_000


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_class: type[nn.Module]
    config_class: type
    default_dataset: str
    family: str
    runner: str = "trainer"
    train_defaults: tuple[tuple[str, Any], ...] = ()
    dataset_defaults: Callable[[Any], dict[str, Any]] | None = None


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, config_class: type, *, family: str, runner: str = "trainer",
             default_dataset: str = "digits", train_defaults: dict[str, Any] | None = None,
             dataset_defaults: Callable[[Any], dict[str, Any]] | None = None):
    """Class decorator: make `name` buildable by `perceptzoo.build` and the CLI.

    `dataset_defaults(info)`: config values sized to the dataset `info` (a `DatasetInfo`),
    applied after the fields filled from the data and before the user's options.
    """
    if runner not in RUNNERS:
        raise RuntimeError(f"{name}: runner must be one of {RUNNERS}, not {runner!r}")

    def wrap(model_class: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].model_class is not model_class:
            raise RuntimeError(f"model name {name!r} registered twice")
        _REGISTRY[name] = ModelSpec(name, model_class, config_class, default_dataset, family,
                                    runner, tuple(sorted((train_defaults or {}).items())),
                                    dataset_defaults)
        if runner == "trainer":
            guard_inputs(model_class, name)
        if runner == "agent":  # the runner builds agents directly: they validate on __init__
            validate.guard_constructor(model_class, name)
        return model_class

    return wrap


_DATASETS: dict[str, tuple[str, Callable[[], list[str]]]] = {}


def register_datasets(family: str, what: str, names: Callable[[], list[str]]) -> None:
    """A family whose datasets are not `perceptzoo.data` sets (environments, shapes) lists
    them here for `perceptzoo list`: `what` says what they are, `names()` lists them."""
    _DATASETS[family] = (what, names)


def family_datasets() -> dict[str, tuple[str, Callable[[], list[str]]]]:
    return dict(_DATASETS)


def get_spec(name: str) -> ModelSpec:
    if name not in _REGISTRY:
        raise UserError(
            f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))} "
            "(`perceptzoo list` shows them with their families)"
        )
    return _REGISTRY[name]


def list_specs() -> list[ModelSpec]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def make_config(name: str, data_info: Any = None, **overrides: Any) -> Any:
    """The config for `name`: defaults, then fields from the dataset and the spec's
    `dataset_defaults` for it, then `overrides` (the user's options always win)."""
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
        if spec.dataset_defaults is not None:
            cfg = apply_overrides(cfg, spec.dataset_defaults(data_info))
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    return cfg


#: What a constructor raises on options it cannot take (`build` turns it into a UserError).
BUILD_ERRORS = (ValueError, RuntimeError, TypeError, ArithmeticError, AssertionError,
                IndexError, KeyError)


def build_from_config(name: str, cfg: Any) -> nn.Module:
    """The model of `cfg`. Options a model cannot be built with end in a `UserError` that names
    the model and its options, never a traceback from inside torch."""
    spec = get_spec(name)
    validate.check_config(name, spec.model_class, cfg)  # option, value, what is allowed
    try:
        return spec.model_class(cfg)
    except UserError as err:  # a model's own refusal: the option at fault named if it is not
        raise validate.name_option(name, spec.model_class, cfg, err) from None
    except BUILD_ERRORS as err:
        raise validate.explain_failure(name, spec.model_class, cfg, err) from None  # culprit
