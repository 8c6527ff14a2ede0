"""The one multi-layer perceptron every family builds from.

    mlp([784, 400, 400, 20])                       # Linear-ReLU-Linear-ReLU-Linear
    mlp([4, 64, 64, 2], activation=nn.Tanh, init="orthogonal", out_gain=0.01)   # RL heads
    mlp([8, 256, 256, 16], zero_last=True)         # a flow coupling net: identity at init
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU, *,
        out_activation: type[nn.Module] | None = None, init: str = "default",
        out_gain: float = 1.0, zero_last: bool = False) -> nn.Sequential:
    """Linear layers of `sizes` (input, hidden..., output) with `activation` between them.

    init: "default" (PyTorch's) or "orthogonal" (gain sqrt 2 for hidden layers, `out_gain` for
    the last, zero biases: the RL convention); zero_last: the last layer starts at zero.
    """
    if len(sizes) < 2 or any(int(s) <= 0 for s in sizes):
        raise ValueError(f"mlp needs two or more positive sizes, got {list(sizes)}")
    if init not in ("default", "orthogonal"):
        raise ValueError(f"mlp init must be 'default' or 'orthogonal', got {init!r}")
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        linear = nn.Linear(int(sizes[i]), int(sizes[i + 1]))
        last = i == len(sizes) - 2
        if init == "orthogonal":
            nn.init.orthogonal_(linear.weight, out_gain if last else math.sqrt(2))
            nn.init.zeros_(linear.bias)
        if last and zero_last:
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if not last:
            layers.append(activation())
    if out_activation is not None:
        layers.append(out_activation())
    return nn.Sequential(*layers)
