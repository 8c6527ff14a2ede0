"""Log-likelihood units.

nats per example: -log p(x) with the natural log. bits per dimension: the same divided by
D ln 2, D the number of dimensions (pixels x channels).

Dequantization (Theis et al. 2016; Ho et al. 2019): a continuous density p_y over y in [0,1]^D
scored on discrete data x in {0..L-1}^D via y = (x + u)/L, u ~ U[0,1)^D. The discrete model
P(x) = integral over the unit cube of p_x~(x + u) du, with p_x~(x~) = p_y(x~/L) / L^D, satisfies
by Jensen

    -log P(x) <= E_u[-log p_y((x + u)/L)] + D log L,

so a continuous model's NLL on discrete data is reported as `dequantized_nll` = the density's
NLL in the [0,1] scale plus D log L (nats), and bits/dim = that / (D ln 2). If the model's
density is on another scale y' = a y + b (e.g. [-1, 1], a = 2), add D log a as well (`scale`).
"""

from __future__ import annotations

import math

import torch


def bits_per_dim(nll_nats: torch.Tensor | float, num_dims: int) -> torch.Tensor | float:
    """NLL in nats per example -> bits per dimension."""
    return nll_nats / (num_dims * math.log(2))


def dequantized_nll(
    continuous_nll: torch.Tensor, num_dims: int, num_levels: int, scale: float = 1.0
) -> torch.Tensor:
    """Upper bound on the discrete NLL (nats) from a continuous model's NLL of (x+u)/L*scale."""
    return continuous_nll + num_dims * (math.log(num_levels) + math.log(scale))
