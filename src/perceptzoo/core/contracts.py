"""Every contract between a model and the rest of the package, one signature each.

A model satisfies a contract by having the methods (`typing.Protocol`, no base class). Which
contracts a registered model must meet follows from its registry spec: its `runner` says how it
is fitted (`trainer`, `agent` or `field`), and the methods it has say what else it offers.
`tests/test_every_model.py` inspects every registered model against this file, so a hook
spelled differently (an extra positional argument, `y` for `cond`) fails a test, not a user.

Trainer models (runner "trainer"; GANs and other multi-update models too)
    loss(batch) -> LossOutput                      one objective; the Trainer steps it
    train_step(batch, optimizers) -> dict          optional: an update that is not one loss
    configure_optimizers(train_cfg) -> list[Optimizer]   optional; default one AdamW
    check_data(info) -> None                       optional: refuse data it cannot model
    initialize(batch) -> None                      optional: data-dependent init (ActNorm)
    extra_metrics(x) -> dict[str, float]           optional: figures `eval` adds
    inpaint(x, mask) -> Tensor, block_mask(num, generator=None)   optional: `sample --inpaint`
    loss_is_nll: bool                              optional: loss == mean -log_prob in eval

Density models and samplers (any runner)
    log_prob(x, *, cond=None) -> Tensor[B]         nats per example
    sample(num_samples, *, cond=None, generator=None) -> Tensor   data space

Field models (runner "field": implicit shapes; fitted by the Trainer from their own data)
    data_source(dataset, split, data_dir, seed, batch_size) -> BatchSource
    loss(batch) -> LossOutput
    evaluate_shapes(dataset, split, data_dir, *, num_shapes, full) -> dict[str, float]
    write_samples(dataset, data_dir, *, num_samples, out, seed) -> str

Agents (runner "agent": RL; they own modules but are not modules; `learn` is the algorithm)
    act(obs, *, deterministic=False)
    learn(env, total_steps, *, callback=None) -> self
    state_tensors() -> dict[str, Tensor] / load_state_tensors(tensors)   what it learned
    evaluate_episodes(num_episodes, seed) -> dict[str, float]
    write_rollouts(out, *, num_episodes, seed) -> str

`cond` is the one conditioning keyword: class labels, a low-resolution image, an edge map.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

#: The runners a registry spec may name.
RUNNERS = ("trainer", "agent", "field")


@dataclass
class LossOutput:
    """A scalar loss to minimise and named scalar metrics to log: detached floats or detached
    0-dim tensors (no `.item()` in the loss: no device sync each step, no graph break under
    `torch.compile`); the Trainer turns them into floats when it logs them."""

    loss: torch.Tensor
    metrics: dict[str, float | torch.Tensor] = field(default_factory=dict)


@runtime_checkable
class BatchSource(Protocol):
    """Batches a model draws itself (points on shapes, rays through views): `batch_at(step)` is
    a pure function of the step, so a resumed run draws the batches the uninterrupted one did."""

    def batch_at(self, step: int) -> Any: ...

    def __len__(self) -> int: ...


@runtime_checkable
class Trainable(Protocol):
    def loss(self, batch: Any) -> LossOutput: ...


@runtime_checkable
class Sampler(Protocol):
    def sample(
        self,
        num_samples: int,
        *,
        cond: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor: ...


@runtime_checkable
class DensityModel(Protocol):
    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor: ...


@runtime_checkable
class FieldModel(Protocol):
    def data_source(self, dataset: str, split: str, data_dir: str | Path | None,
                    seed: int, batch_size: int) -> BatchSource: ...

    def loss(self, batch: Any) -> LossOutput: ...

    def evaluate_shapes(self, dataset: str, split: str, data_dir: str | Path | None, *,
                        num_shapes: int, full: bool = False) -> dict[str, float]: ...

    def write_samples(self, dataset: str, data_dir: str | Path | None, *, num_samples: int,
                      out: str | Path, seed: int) -> str: ...


@runtime_checkable
class Agent(Protocol):
    def act(self, obs: Any, *, deterministic: bool = False) -> Any: ...

    def learn(self, env: Any, total_steps: int, *, callback: Any = None) -> Any: ...

    def state_tensors(self) -> dict[str, torch.Tensor]: ...

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None: ...

    def evaluate_episodes(self, num_episodes: int, seed: int) -> dict[str, float]: ...

    def write_rollouts(self, out: str | Path, *, num_episodes: int, seed: int) -> str: ...


#: Optional hooks: name -> (parameter names after self, keyword-only names). One signature each.
HOOKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "loss": (("batch",), ()),
    "train_step": (("batch", "optimizers"), ()),
    "configure_optimizers": (("train_cfg",), ()),
    "check_data": (("info",), ()),
    "initialize": (("batch",), ()),
    "extra_metrics": (("x",), ()),
    "inpaint": (("x", "mask"), ()),
    "block_mask": (("num",), ()),
    "log_prob": (("x",), ("cond",)),
    "sample": (("num_samples",), ("cond", "generator")),
    "data_source": (("dataset", "split", "data_dir", "seed", "batch_size"), ()),
    "evaluate_shapes": (("dataset", "split", "data_dir"), ("num_shapes", "full")),
    "write_samples": (("dataset", "data_dir"), ("num_samples", "out", "seed")),
    "act": (("obs",), ("deterministic",)),
    "learn": (("env", "total_steps"), ("callback",)),
    "evaluate_episodes": (("num_episodes", "seed"), ()),
    "write_rollouts": (("out",), ("num_episodes", "seed")),
}

#: What each runner requires a model class to have.
REQUIRED = {
    "trainer": ("loss",),  # or train_step (checked in check_hooks)
    "field": ("data_source", "loss", "evaluate_shapes", "write_samples"),
    "agent": ("act", "learn", "state_tensors", "load_state_tensors", "evaluate_episodes",
              "write_rollouts"),
}


def check_hooks(model_class: type, runner: str) -> list[str]:
    """Problems with `model_class` against this file's contracts (empty if none).

    Each hook the class defines must take the declared positional parameters in order
    (extra ones must have defaults) and the declared keyword-only ones (each with a default).
    """
    problems = []
    required = REQUIRED[runner]
    if runner == "trainer" and not (hasattr(model_class, "loss")
                                    or hasattr(model_class, "train_step")):
        problems.append("needs loss(batch) or train_step(batch, optimizers)")
    for name in required:
        if runner == "trainer":
            break
        if not hasattr(model_class, name):
            problems.append(f"runner {runner!r} needs a method {name}")
    for name, (positional, keyword) in HOOKS.items():
        fn = getattr(model_class, name, None)
        if fn is None or not callable(fn):
            continue
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        params = list(sig.parameters.values())
        if params and params[0].name in ("self", "cls"):
            params = params[1:]
        pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        kwonly = {p.name: p for p in params if p.kind is p.KEYWORD_ONLY}
        names = [p.name for p in pos[: len(positional)]]
        if names != list(positional):
            problems.append(f"{name}{sig}: positional parameters must start with "
                            f"{', '.join(positional) or '(none)'}")
            continue
        extra = [p.name for p in pos[len(positional):] if p.default is p.empty]
        if extra:
            problems.append(f"{name}{sig}: extra positional parameters need defaults: {extra}")
        for k in keyword:
            p = kwonly.get(k)
            if p is None:
                problems.append(f"{name}{sig}: needs keyword-only parameter {k}=...")
            elif p.default is p.empty:
                problems.append(f"{name}{sig}: keyword-only {k} needs a default")
    return problems


# -- inputs at the public door ---------------------------------------------------------------
#: How deep this thread is inside a model's own code (its `loss`/`train_step`, or a public
#: `log_prob`/`sample` already checked): while > 0 the guards below trust their inputs.
_INSIDE = threading.local()


def inside_model() -> bool:
    """True while this thread runs a model's own `loss`/`train_step` or an already checked
    public call: a `log_prob`/`sample` called from there is internal and not checked again."""
    return getattr(_INSIDE, "depth", 0) > 0


def guard_inputs(model_class: type, name: str) -> None:
    """Wrap the class's `log_prob` and `sample` so bad input is a `UserError` naming what is
    wrong (a pixel of 300, a batch of the wrong shape, a label beyond the classes, 0 samples),
    never a traceback from inside torch or a silent wrong answer. Applied by `register`.

    The check is for the public door (user code, `runner.evaluate`, the CLI), once per call:
    calls a model makes itself are not checked -- from inside its `loss` and `train_step`
    (the Trainer's batches, every step: the check's min/max/isfinite reductions and their
    device syncs are not paid there) and from inside a checked call (a subclass's `log_prob`
    calling `super().log_prob`, a VQ-VAE scoring codes with its prior)."""

    def unwrapped(method: str) -> Any:
        fn = getattr(model_class, method, None)
        return getattr(fn, "_unguarded", fn)  # a registered parent's wrapper: wrap its inner

    for method, check in (("log_prob", _check_log_prob), ("sample", _check_sample)):
        current = getattr(model_class, method, None)
        if current is not None and getattr(current, "_guarded", None) != name:
            setattr(model_class, method, _checked(unwrapped(method), check, name, method))
    for method in ("loss", "train_step"):
        current = getattr(model_class, method, None)
        if current is not None and getattr(current, "_guarded", None) != name:
            setattr(model_class, method, _trusting(unwrapped(method), name))


def _checked(original: Callable, check: Callable, name: str, method: str) -> Callable:
    """`original` behind `check`, which runs only at the public door (see `guard_inputs`)."""

    @functools.wraps(original)
    def guarded(self, *args, **kwargs):
        if getattr(_INSIDE, "depth", 0):  # an internal call: inputs from the model's own code
            return original(self, *args, **kwargs)
        x = check(self, name, method, *args, **kwargs)
        if x is not None:  # the examples in the model's own shape
            args = (x, *args[1:]) if args else args
            if not args:
                kwargs = {**kwargs, "x": x}
        _INSIDE.depth = 1
        try:
            return original(self, *args, **kwargs)
        finally:
            _INSIDE.depth = 0

    guarded._guarded = name
    guarded._unguarded = original
    return guarded


def _trusting(original: Callable, name: str) -> Callable:
    """`original` (a `loss` or `train_step`) run as the model's own code: the guarded
    `log_prob`/`sample` it calls do not check their inputs."""

    @functools.wraps(original)
    def trusting(self, *args, **kwargs):
        depth = getattr(_INSIDE, "depth", 0)
        _INSIDE.depth = depth + 1
        try:
            return original(self, *args, **kwargs)
        finally:
            _INSIDE.depth = depth

    trusting._guarded = name
    trusting._unguarded = original
    return trusting


def _config(model: Any) -> Any:
    return getattr(model, "cfg", None) or getattr(model, "config", None)


def _check_log_prob(model: Any, name: str, method: str, x: Any = None, *args: Any,
                    cond: Any = None, **kwargs: Any) -> torch.Tensor:
    """Checks the examples; returns them as [B, *data_shape] (a flat [B, D] batch is welcome)."""
    from perceptzoo.errors import UserError

    if not isinstance(x, torch.Tensor):
        raise UserError(f"{name}.{method} takes a tensor of examples, got {type(x).__name__}")
    cfg = _config(model)
    shape = getattr(cfg, "data_shape", None)
    if shape:
        per_example = 1
        for s in shape:
            per_example *= int(s)
        if x.dim() < 2 or len(x) == 0 or x[0].numel() != per_example:
            raise UserError(f"{name}.{method} takes a batch [B, {', '.join(map(str, shape))}] "
                            f"of examples; got shape {tuple(x.shape)}")
        x = x.reshape(len(x), *shape)
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise UserError(f"{name}.{method}: the examples hold NaN or infinite values")
    levels = getattr(cfg, "num_levels", None)
    if levels:
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > levels - 1:
            raise UserError(f"{name}.{method} takes data levels 0..{levels - 1} (as the "
                            f"dataset stores them); got values from {low:g} to {high:g}")
    _check_cond(model, name, method, cond, len(x))
    return x


def _check_cond(model: Any, name: str, method: str, cond: Any, batch: int | None) -> None:
    from perceptzoo.errors import UserError

    if cond is None:
        return
    if not isinstance(cond, torch.Tensor):
        raise UserError(f"{name}.{method}: cond must be a tensor, got {type(cond).__name__}")
    if batch is not None and cond.dim() > 0 and len(cond) != batch:
        raise UserError(f"{name}.{method}: cond holds {len(cond)} rows for {batch} examples")
    classes = getattr(_config(model), "num_classes", None)
    if not classes and not cond.is_floating_point() and cond.dim() <= 1:
        raise UserError(f"{name}.{method}: this model was built without classes; call it "
                        "without cond (labels), or train it with labels")
    if classes and not cond.is_floating_point() and cond.numel():
        if int(cond.min()) < 0 or int(cond.max()) >= classes:
            raise UserError(f"{name}.{method}: labels must be 0..{classes - 1}; got "
                            f"{int(cond.min())}..{int(cond.max())}")


def _check_sample(model: Any, name: str, method: str, num_samples: Any = None, *args: Any,
                  cond: Any = None, **kwargs: Any) -> None:
    from perceptzoo.errors import UserError

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise UserError(f"{name}.sample takes a positive whole number of samples, got "
                        f"{num_samples!r}")
    _check_cond(model, name, method, cond, num_samples if cond is not None and cond.dim() > 0
                and cond.dtype in (torch.int64, torch.int32) else None)
