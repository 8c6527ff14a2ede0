"""Exponential moving average of a model's parameters: theta_ema <- d theta_ema + (1-d) theta.

Buffers are copied, not averaged. `swap()` exchanges live and averaged weights in place, so the
Trainer evaluates and saves with the EMA weights and then swaps back.
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.shadow = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.decay)

    @torch.no_grad()
    def swap(self) -> None:
        for p, s in zip(self.params, self.shadow):
            tmp = p.detach().clone()
            p.copy_(s)
            s.copy_(tmp)

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        return {"shadow": [s.clone() for s in self.shadow]}

    def load_state_dict(self, state: dict[str, list[torch.Tensor]]) -> None:
        for s, saved in zip(self.shadow, state["shadow"]):
            s.copy_(saved)
