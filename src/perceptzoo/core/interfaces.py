"""The contracts between models and the rest of the package (see DESIGN.md).

These are `typing.Protocol`s: a model satisfies them by having the methods, no base class.

- `Trainable`: what the Trainer fits. `loss(batch) -> LossOutput`; optional
  `configure_optimizers(lr, weight_decay)`; a model whose update is not one loss writes
  `train_step(batch, optimizers) -> metrics` and the Trainer calls it instead.
- `Sampler`: `sample(num_samples, *, cond=None, generator=None) -> Tensor` in data space.
- `DensityModel`: `log_prob(x) -> Tensor[B]` in nats, per example. A density model whose
  `loss(batch)` in eval mode is exactly the mean of `-log_prob(x)` says so with
  `loss_is_nll = True` (an attribute or property); validation then reads the NLL off the loss
  instead of a second pass (tests/metrics/test_validation_nll.py holds each model to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch


@dataclass
class LossOutput:
    """A scalar loss to minimise and named scalar metrics to log (already detached floats)."""

    loss: torch.Tensor
    metrics: dict[str, float] = field(default_factory=dict)


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
    def log_prob(self, x: torch.Tensor) -> torch.Tensor: ...
