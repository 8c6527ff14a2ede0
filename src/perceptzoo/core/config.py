"""Dataclass configs <-> JSON <-> CLI overrides.

Every model ends its file with a config dataclass; a run's `config.json` rebuilds it.
`apply_overrides(cfg, ["hidden_sizes=[500]", "lr=1e-3"])` parses each value with the type
of the field it sets, so `--set key=value` on the command line is type-checked.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

from perceptzoo.errors import UserError

C = TypeVar("C")


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON-able values (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    """Build `cls` from a dict, coercing lists back to tuples; unknown keys are an error."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UserError(
            f"{cls.__name__} has no option(s) {', '.join(unknown)}; known options: "
            f"{', '.join(sorted(known))}"
        )
    hints = typing.get_type_hints(cls)
    return cls(**{k: _coerce(v, hints[k], k) for k, v in values.items()})


def apply_overrides(cfg: C, overrides: list[str] | dict[str, Any]) -> C:
    """Return a copy of `cfg` with `key=value` strings (or a dict) applied, type-checked."""
    values = dataclasses.asdict(cfg)
    values.update(overrides if isinstance(overrides, dict) else parse_overrides(overrides))
    return from_dict(type(cfg), values)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["a=1", "b=[2,3]"]` -> `{"a": 1, "b": [2, 3]}` (values parsed as JSON where they can be)."""
    pairs: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        pairs[key.strip()] = _parse_literal(raw.strip())
    return pairs


def _parse_literal(raw: str) -> Any:
    """Parse a CLI value: JSON if it parses (numbers, lists, true/false/null), else a string."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("none", "null"):
            return None
        if raw.startswith("(") and raw.endswith(")"):
            return _parse_literal("[" + raw[1:-1] + "]")
        return raw


def _coerce(value: Any, hint: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, name)
            except UserError as err:
                errors.append(str(err))
        raise UserError(errors[0] if errors else f"option {name}: bad value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            value = [value]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], name) for v in value)
        if args and len(args) != len(value):
            raise UserError(f"option {name} needs {len(args)} values, got {list(value)}")
        return tuple(_coerce(v, a, name) for v, a in zip(value, args or [Any] * len(value)))
    if origin is list:
        return [_coerce(v, args[0] if args else Any, name) for v in value]
    if origin is dict or hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise UserError(f"option {name} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        ):
            raise UserError(f"option {name} must be an integer, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"option {name} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise UserError(f"option {name} must be a string, got {value!r}")
        return value
    return value
