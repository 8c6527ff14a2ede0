"""NADE: the Neural Autoregressive Distribution Estimator (Larochelle & Murray, AISTATS 2011).

Each conditional is a one-hidden-layer network on the dimensions before it, and all D networks
share one input matrix W (H x D) and bias c (eqs. 5-6):

    h_d = sigma(c + W_{:,<d} x_<d),    p(x_d = 1 | x_<d) = sigma(b_d + V_d . h_d).

The sharing makes the whole forward pass O(H D) instead of O(H D^2): the pre-activations obey
the recurrence (section 3, "Computing p(x)")

    a_1 = c,    a_{d+1} = a_d + W_{:,d} x_d,    h_d = sigma(a_d),

so `conditionals` computes all a_d at once as an exclusive cumulative sum of the columns
W_{:,d} x_d (the recurrence, vectorised), `hidden_naive` recomputes every a_d from scratch
(O(H D^2), what the test compares against), and `sample` runs the recurrence step by step.

With L > 2 levels the output is a softmax over the levels, V_d being L x H, and the input x_d
is its level divided by L - 1. Above 32 levels the default output is a discretized mixture of
5 logistics (V_d is 15 x H; a softmax made NADE 101M parameters on MNIST) and H shrinks on
data with many dimensions so the defaults stay near 20M parameters (`nade_defaults`).

    >>> import perceptzoo
    >>> model = perceptzoo.build("nade", data_shape=(1, 3, 4), num_levels=2, hidden_size=16)
    >>> model.log_prob(model.sample(4)).shape
    torch.Size([4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.autoregressive.common import (
    DENSE_DEFAULT_PARAMS,
    Autoregressive,
    OutputHead,
    check_discrete,
    sized_output,
    uniforms,
)
from perceptzoo.core.registry import register


@dataclass
class NADEConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int = 17
    """values per dimension; filled from the dataset"""
    hidden_size: int = 500
    """H, the paper's 500 on binarized MNIST"""
    output: str = "auto"
    """auto (Bernoulli for 2 levels, else softmax) | categorical | logistic_mixture; the
    default above 32 levels is logistic_mixture (sized to the data)"""
    num_mixtures: int = 5
    """logistics in a logistic_mixture output"""

    @classmethod
    def tiny(cls) -> NADEConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(hidden_size=16)


def nade_defaults(info) -> dict:
    """Output and H sized to the data: H D (P + 1) weights within DENSE_DEFAULT_PARAMS."""
    values, P = sized_output(info)
    D = math.prod(info.data_shape)
    H = min(NADEConfig.hidden_size, max(16, DENSE_DEFAULT_PARAMS // (D * (P + 1))))
    return {**values, "hidden_size": H} if H != NADEConfig.hidden_size else values


@register("nade", NADEConfig, default_dataset="digits", family="autoregressive",
          runner="trainer", dataset_defaults=nade_defaults)
class NADE(Autoregressive, nn.Module):
    def __init__(self, cfg: NADEConfig):
        super().__init__()
        self.cfg = cfg
        D = self.num_dims = math.prod(cfg.data_shape)
        H = cfg.hidden_size
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        P = self.head.num_params
        self.W = nn.Parameter(torch.randn(H, D) * 0.05)  # shared input weights
        self.c = nn.Parameter(torch.zeros(H))  # shared hidden bias
        self.V = nn.Parameter(torch.randn(D, P, H) * 0.05)  # output weights per dimension
        self.b = nn.Parameter(torch.zeros(D, P))
        self.register_buffer("order", torch.arange(D), persistent=False)

    def check_data(self, info) -> None:
        check_discrete("NADE", info, self.cfg)

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], self.num_dims).to(self.W.dtype)
        return x / (self.cfg.num_levels - 1)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h_d for every d by the O(H D) recurrence: x (B, *shape) -> (B, D, H)."""
        v = self._inputs(x)  # (B, D)
        columns = v[:, :, None] * self.W.T[None]  # (B, D, H): W_{:,d} x_d
        a = torch.cumsum(columns, dim=1) - columns  # exclusive: a_d - c = sum_{j<d} W_{:,j} x_j
        return torch.sigmoid(self.c + a)

    def hidden_naive(self, x: torch.Tensor) -> torch.Tensor:
        """The same h_d, each recomputed from x_<d alone (O(H D^2)): the reference."""
        v = self._inputs(x)
        return torch.stack([torch.sigmoid(self.c + v[:, :d] @ self.W[:, :d].T)
                            for d in range(self.num_dims)], dim=1)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, *data_shape) -> (B, D, P) output parameters (see common.py)."""
        return torch.einsum("bdh,dph->bdp", self.hidden(x), self.V) + self.b

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """D steps of the recurrence a_{d+1} = a_d + W_{:,d} x_d: O(H D) in all."""
        self.check_cond(cond)
        D = self.num_dims
        x = torch.zeros(num_samples, D, dtype=self.W.dtype, device=self.W.device)
        a = self.c.expand(num_samples, -1).clone()  # (B, H): a_1 = c
        for d in range(D):
            params = torch.sigmoid(a) @ self.V[d].T + self.b[d]  # (B, P)
            u = uniforms(num_samples, generator, x.device)
            x[:, d] = self.head.sample(params, u).to(x.dtype)
            a += (x[:, d : d + 1] / (self.cfg.num_levels - 1)) * self.W[:, d]
        return x.view(num_samples, *self.cfg.data_shape)
