"""Dequantization: scoring a continuous flow on discrete data with a correct lower bound.

Discrete data x in {0..L-1}^D; the flow models y in [0,1]^D. With any noise density q(u | x) on
[0,1)^D and y = (x + u) / L (Theis et al. 2016; Ho et al. 2019, "Flow++", section 3.1):

    log P(x) >= E_{u ~ q(.|x)} [ log p_y((x + u)/L) - log q(u | x) ] - D log L.

`UniformDequantization`: q = U[0,1)^D, log q = 0 (Dinh et al. 2017, Kingma & Dhariwal 2018).
`VariationalDequantization`: q is itself a conditional flow, u = sigmoid(g(eps; x)),
eps ~ N(0, I), trained jointly by the same bound (Flow++), which tightens it.

Both return `(y, log_weight)` with log_weight = -log q(u|x) - D log L, so a model's
`log_prob(x) = log p_y(y) + log_weight` is one draw of that lower bound in nats, and
`metrics.likelihood.bits_per_dim(-log_prob, D)` is the dequantized bits/dim (an upper bound on
the discrete model's bits/dim; `metrics/likelihood.py` states the same accounting).

    >>> import torch
    >>> deq = UniformDequantization(num_levels=256)
    >>> y, lw = deq(torch.zeros(2, 1, 4, 4, dtype=torch.uint8))
    >>> bool((y >= 0).all() and (y < 1 / 256).all()), round(float(lw[0]) / 16, 3)
    (True, -5.545)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.flows.layers import ActNorm, ChannelCoupling, FlowSequence, MaskedCoupling


def _rand_like(x: torch.Tensor, generator, normal: bool = False,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    gen_device = generator.device if generator is not None else x.device
    draw = torch.randn if normal else torch.rand
    return draw(x.shape, generator=generator, device=gen_device, dtype=dtype).to(x.device)


class UniformDequantization(nn.Module):
    def __init__(self, num_levels: int):
        super().__init__()
        self.num_levels = num_levels

    def forward(self, x: torch.Tensor, generator=None,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, ...) integer levels -> y = (x + u)/L (B, ...) in `dtype`, log_weight (B,)."""
        u = _rand_like(x, generator, dtype=dtype)
        num_dims = math.prod(x.shape[1:])
        y = (x.to(dtype) + u) / self.num_levels
        return y, torch.full((x.shape[0],), -num_dims * math.log(self.num_levels),
                             device=x.device, dtype=dtype)


class VariationalDequantization(nn.Module):
    """q(u | x): eps ~ N(0, I) through `num_steps` conditional couplings that see x, then a
    sigmoid into (0, 1). log q(u|x) = log N(eps) - log|det d(g)/d(eps)| - sum log sigmoid'(.)."""

    def __init__(self, data_shape: tuple[int, ...], num_levels: int, hidden: int = 32,
                 num_steps: int = 4):
        super().__init__()
        self.num_levels = num_levels
        channels = data_shape[0]
        image = len(data_shape) == 3
        steps: list[nn.Module] = []
        for i in range(num_steps):
            steps.append(ActNorm(channels))
            if image and channels == 1:
                from perceptzoo.flows.layers import checkerboard_mask

                mask = checkerboard_mask(data_shape[1], data_shape[2], i % 2)
                steps.append(MaskedCoupling(mask, channels, hidden, cond_channels=channels))
            elif image:
                steps.append(ChannelCoupling(channels, hidden, cond_channels=channels,
                                             flip=bool(i % 2)))
            else:
                from perceptzoo.flows.layers import alternating_mask

                steps.append(MaskedCoupling(alternating_mask(channels, i % 2), channels, hidden,
                                            cond_channels=channels))
        self.flow = FlowSequence(steps)

    def forward(self, x: torch.Tensor, generator=None,
                dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """As the uniform one, u ~ q(u | x); computed in the dtype of q's parameters."""
        dtype = dtype or next(self.parameters()).dtype
        cond = x.to(dtype) / (self.num_levels - 1) - 0.5  # (B, ...) the data, centred
        eps = _rand_like(cond, generator, normal=True, dtype=dtype)
        log_n = (-0.5 * (eps.pow(2) + math.log(2 * math.pi))).flatten(1).sum(1)
        # the flow runs eps -> v (its inverse direction: sampling), logdet = log|dv/deps|
        v, ld = self.flow.inverse(eps, cond)
        u = torch.sigmoid(v)
        ld_sigmoid = (F.logsigmoid(v) + F.logsigmoid(-v)).flatten(1).sum(1)
        log_q = log_n - ld - ld_sigmoid
        num_dims = math.prod(x.shape[1:])
        y = (x.to(dtype) + u) / self.num_levels
        return y, -log_q - num_dims * math.log(self.num_levels)


def make_dequantization(kind: str, data_shape: tuple[int, ...], num_levels: int,
                        hidden: int = 32) -> nn.Module:
    """'uniform' | 'variational'."""
    from perceptzoo.errors import UserError

    if kind == "uniform":
        return UniformDequantization(num_levels)
    if kind == "variational":
        return VariationalDequantization(tuple(data_shape), num_levels, hidden)
    raise UserError(f"unknown dequantization {kind!r}; use uniform or variational")
