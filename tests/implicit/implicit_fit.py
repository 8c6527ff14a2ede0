"""The plain Adam loop over a model's own batches, shared by the implicit family's tests."""

from __future__ import annotations

import torch


def fit(model, data: dict, opt: torch.optim.Optimizer, steps: int, gen: torch.Generator) -> None:
    """`steps` optimiser steps on `model.loss(model.batch(data, gen))`."""
    for _ in range(steps):
        out = model.loss(model.batch(data, gen))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
