"""The plain Adam loop over a model's own batches, shared by the implicit family's tests
(property tests on the math; runs through the Trainer are in test_runs.py)."""

from __future__ import annotations

import torch


def fit(model, data: dict, opt: torch.optim.Optimizer, steps: int, gen: torch.Generator,
        batch_size: int) -> None:
    """`steps` optimiser steps on `model.loss(model.batch(data, gen, batch_size))`."""
    for _ in range(steps):
        out = model.loss(model.batch(data, gen, batch_size))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
