"""Masked linear layer: y = (M * W) x + b with a fixed 0/1 mask M (MADE, NADE-style models).

The mask is a registered buffer, so it moves with the module, is saved with the weights, and
can be replaced with `set_mask` (MADE resamples masks between minibatches).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedLinear(nn.Linear):
    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__(in_features, out_features, bias)
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def set_mask(self, mask: torch.Tensor) -> None:
        """mask: (out_features, in_features), 1 where the connection is allowed."""
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} != weight {tuple(self.weight.shape)}")
        self.mask.copy_(mask)  # converts (a bool mask) and moves in one pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)
