"""FVSBN: the fully visible sigmoid belief network (Neal 1992; Frey 1998), logistic conditionals.

Each dimension, in a fixed order, is a logistic regression on all the dimensions before it:

    p(x_d = 1 | x_<d) = sigma(b_d + sum_{j<d} W_dj x_j),    log p(x) = sum_d log p(x_d | x_<d),

so W is strictly lower triangular: D(D-1)/2 weights and D biases, O(D^2) parameters (Larochelle
& Murray 2011 use it as the baseline for NADE, 97.45 nats on binarized MNIST). The triangular
W is a `MaskedLinear` with a fixed mask; the test checks the Jacobian of the logits w.r.t. x
is strictly triangular.

For data with L > 2 levels, each conditional is a softmax over the L levels with one logistic
regression per level (a "fully visible softmax belief net"): logits_{d,l} = b_{d,l} +
sum_{j<d} W_{(d,l),j} x_j / (L-1). Above 32 levels (8-bit images, mu-law audio) the default
output is a discretized mixture of 5 logistics (P = 15 numbers per dimension, see common.py)
instead of the softmax (P = L: 158M weights on MNIST); `--set output=categorical` restores it.

Sampling is exact and cheap: logits_d needs only row d of W and the dimensions already drawn.

    >>> import perceptzoo
    >>> model = perceptzoo.build("fvsbn", data_shape=(1, 3, 4), num_levels=2)
    >>> model.sample(5).shape
    torch.Size([5, 1, 3, 4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.autoregressive.common import (
    Autoregressive,
    OutputHead,
    check_discrete,
    sized_output,
    uniforms,
)
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.masked import MaskedLinear


@dataclass
class FVSBNConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int = 17
    """values per dimension (2: logistic; more: softmax); filled from the dataset"""
    output: str = "auto"
    """auto (Bernoulli for 2 levels, else softmax) | categorical | logistic_mixture; the
    default above 32 levels is logistic_mixture (sized to the data)"""
    num_mixtures: int = 5
    """logistics in a logistic_mixture output"""

    @classmethod
    def tiny(cls) -> FVSBNConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls()


#: The most weights (D^2 P) an FVSBN is built with: one per pair of dimensions and parameter.
MAX_WEIGHTS = 200_000_000


@register("fvsbn", FVSBNConfig, default_dataset="digits", family="autoregressive",
          runner="trainer", dataset_defaults=lambda info: sized_output(info)[0])
class FVSBN(Autoregressive, nn.Module):
    def __init__(self, cfg: FVSBNConfig):
        super().__init__()
        self.cfg = cfg
        D = self.num_dims = math.prod(cfg.data_shape)
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        P = self.head.num_params
        if D * D * P > MAX_WEIGHTS:
            raise UserError(f"an FVSBN has a weight for every pair of dimensions: {D} dims x "
                            f"{P} output parameters need {D * D * P / 1e6:.0f}M weights (at "
                            f"most {MAX_WEIGHTS / 1e6:.0f}M); use nade or made, whose hidden "
                            "layers are sized to the data")
        self.linear = MaskedLinear(D, D * P)  # row (d, p): W_{(d,p), j}, bias b_{d,p}
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        strictly_lower = torch.arange(D)[:, None] > torch.arange(D)[None, :]
        self.linear.set_mask(strictly_lower.repeat_interleave(P, dim=0))
        self.register_buffer("order", torch.arange(D), persistent=False)

    def check_data(self, info) -> None:
        check_discrete("FVSBN", info, self.cfg)

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], self.num_dims).to(self.linear.weight.dtype)
        return x / (self.cfg.num_levels - 1)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, *data_shape) -> (B, D, P) logits (see common.py)."""
        return self.linear(self._inputs(x)).view(x.shape[0], self.num_dims, -1)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """D steps; step d computes only the P logits of dimension d from x_<d."""
        self.check_cond(cond)
        D, P = self.num_dims, self.head.num_params
        weight = (self.linear.weight * self.linear.mask).view(D, P, D)
        bias = self.linear.bias.view(D, P)
        x = torch.zeros(num_samples, D, dtype=weight.dtype, device=weight.device)
        for d in range(D):
            params = bias[d] + (x[:, :d] / (self.cfg.num_levels - 1)) @ weight[d, :, :d].T
            u = uniforms(num_samples, generator, x.device)
            x[:, d] = self.head.sample(params, u).to(x.dtype)
        return x.view(num_samples, *self.cfg.data_shape)
