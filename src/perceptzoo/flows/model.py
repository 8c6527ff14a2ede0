"""A flow model: pre-processing and invertible layers over a base distribution.

For continuous data x (the 2D toys) the density is exact:

    log p(x) = log p_Z(f(x)) + log |det df/dx|,      f = transform o preprocess.

For discrete data (images stored as integer levels 0..L-1) `log_prob(x)` is one draw of the
dequantized lower bound (see `perceptzoo.flows.dequantization`):

    log P(x) >= log p_Y(y) - log q(u|x) - D log L,   y = (x + u)/L,

in nats, so `perceptzoo eval` reports correct dequantized bits/dim. Sampling inverts the
flow from z ~ p_Z at a temperature T (std scaled by T) and, for discrete data, floors
y * L back to levels.

`FlowModel` is what the registered flows (`realnvp`, `glow`, `realnvp2d`) build in their
constructors; it gives them `forward/inverse` (the layer contract over the continuous part),
`log_prob`, `loss`, `sample(temperature=...)` and `initialize(batch)` (ActNorm's data-dependent
initialisation, which the Trainer calls once before step 0).

    >>> import torch
    >>> from perceptzoo.flows.bases import StandardNormal
    >>> from perceptzoo.flows.layers import ActNorm, FlowSequence
    >>> model = FlowModel(FlowSequence([ActNorm(2)]), StandardNormal((2,)), data_shape=(2,))
    >>> model.log_prob(torch.zeros(3, 2)).shape
    torch.Size([3])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.errors import UserError
from perceptzoo.flows.layers import ActNorm


class FlowModel(nn.Module):
    def __init__(self, transform: nn.Module, base: nn.Module, *, data_shape: tuple[int, ...],
                 num_levels: int | None = None, preprocess: nn.Module | None = None,
                 dequantization: nn.Module | None = None):
        super().__init__()
        self.transform, self.base = transform, base
        self.data_shape = tuple(data_shape)
        self.num_levels = num_levels
        self.preprocess = preprocess
        self.dequantization = dequantization
        if num_levels is not None and dequantization is None:
            raise ValueError("discrete data needs a dequantization")
        self.num_dims = math.prod(self.data_shape)

    def check_data(self, info) -> None:
        if tuple(info.data_shape) != self.data_shape:
            raise UserError(f"this flow was built for data of shape {self.data_shape}, not "
                            f"{info.name} {tuple(info.data_shape)}; build it for that dataset")
        if (info.num_levels is None) != (self.num_levels is None) or (
                info.num_levels is not None and info.num_levels != self.num_levels):
            raise UserError(f"this flow was built for num_levels={self.num_levels}; "
                            f"{info.name} has {info.num_levels}")

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    # -- the layer contract over the continuous variable y ---------------------------------
    def forward(self, y: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        """y (B, *data_shape) continuous -> z, log|det dz/dy| (B,)."""
        logdet = y.new_zeros(y.shape[0])
        if self.preprocess is not None:
            y, logdet = self.preprocess(y, cond)
        z, ld = self.transform(y, cond)
        return z, logdet + ld

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        y, logdet = self.transform.inverse(z, cond)
        if self.preprocess is not None:
            y, ld = self.preprocess.inverse(y, cond)
            logdet = logdet + ld
        return y, logdet

    # -- density -------------------------------------------------------------------------
    def continuous_log_prob(self, y: torch.Tensor, cond=None) -> torch.Tensor:
        """Exact log p_Y(y) in nats, (B,)."""
        z, logdet = self(y, cond)
        return self.base.log_prob(z) + logdet

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x [| cond]) in nats (B,): exact for continuous data, the dequantized lower
        bound (one noise draw from `generator`) for discrete levels."""
        if self.num_levels is None:
            return self.continuous_log_prob(x.to(self._dtype()), cond)
        y, log_weight = self.dequantization(x, generator=generator, dtype=self._dtype())
        return self.continuous_log_prob(y, cond) + log_weight

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        nll = -self.log_prob(x).mean()
        value = nll.detach()  # tensors: no sync or graph break; the Trainer logs floats
        return LossOutput(nll, {"nll_nats": value,
                                "bits_per_dim": value / (self.num_dims * math.log(2))})

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """Data-dependent initialisation: every ActNorm normalises its input on this batch."""
        x, _ = batch
        for m in self.modules():
            if isinstance(m, ActNorm):
                m.init_pending = True
        self.log_prob(x)
        for m in self.modules():
            if isinstance(m, ActNorm):
                m.init_pending = False

    # -- sampling --------------------------------------------------------------------------
    def to_data(self, y: torch.Tensor) -> torch.Tensor:
        """Continuous y -> data space: integer levels (as floats) for discrete data."""
        if self.num_levels is None:
            return y
        return torch.floor(y * self.num_levels).clamp(0, self.num_levels - 1)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        """(num_samples, *data_shape) in data space, z ~ p_Z at `temperature`."""
        z = self.base.sample(num_samples, temperature=temperature, generator=generator)
        y, _ = self.inverse(z, cond)
        return self.to_data(y).reshape(num_samples, *self.data_shape)
