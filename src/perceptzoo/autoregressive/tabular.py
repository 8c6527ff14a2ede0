"""The tabular autoregressive model: every conditional a full table, fitted in closed form.

    p(x) = prod_{i=1}^{D} p(x_i | x_<i),   p(x_i = v | x_<i = s) = theta_{i, s, v}

with one categorical per prefix s: for binary data the i-th conditional has 2^(i-1) free
parameters (one Bernoulli per setting of x_1..x_{i-1}), L^(i-1) (L-1) with L levels, and
(L^D - 1) in all: it can represent any distribution over {0..L-1}^D, which is why nothing
beyond tiny D is feasible (the motivation for FVSBN, NADE and the rest of this family; see
e.g. the CS236 notes, "Autoregressive models").

Maximum likelihood is exact and needs no gradient: theta_{i,s,v} = N(s, v) / N(s), the
fraction of training examples with prefix s whose i-th value is v. The model keeps the counts
N (prefix, value) as its state; `fit(x)` sets them from a dataset, and when the Trainer runs it
each `train_step` adds a minibatch's counts, so one epoch (`--epochs 1`) gives the exact ML
estimate of the examples seen. An optional pseudo-count `alpha` (Laplace / Krichevsky-Trofimov
smoothing) keeps unseen prefixes finite: theta = (N(s, v) + alpha) / (N(s) + alpha L); with
alpha = 0 the fit is the empirical distribution itself, which the test checks.

Prefix index: s_1 = 0, s_{i+1} = s_i L + x_i (the prefix read as a base-L number); the table
of conditional i starts at row (L^(i-1) - 1) / (L - 1).

    >>> import perceptzoo
    >>> model = perceptzoo.build("tabular", data_shape=(1, 2, 3), num_levels=2)
    >>> _ = model.fit(torch.tensor([[1, 0, 1, 1, 0, 0]] * 3).view(3, 1, 2, 3))
    >>> float(model.log_prob(torch.tensor([1, 0, 1, 1, 0, 0]).view(1, 1, 2, 3)).exp())
    1.0
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
    nll_metrics,
    uniforms,
)
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError

MAX_ROWS = 1 << 22  # 4M prefixes: about 16 binary dims' worth of L=2 tables times 64


@dataclass
class TabularConfig:
    data_shape: tuple[int, ...] = (1, 3, 4)
    """per-example shape; filled from the dataset (D must be tiny)"""
    num_levels: int = 2
    """values per dimension; filled from the dataset"""
    alpha: float = 0.0
    """pseudo-count added to every (prefix, value) cell; 0 is the exact ML fit"""

    @classmethod
    def tiny(cls) -> TabularConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls()


@register("tabular", TabularConfig, default_dataset="bars_stripes",
          family="autoregressive", runner="trainer")
class Tabular(Autoregressive, nn.Module):
    def __init__(self, cfg: TabularConfig):
        super().__init__()
        self.cfg = cfg
        D = self.num_dims = math.prod(cfg.data_shape)
        L = cfg.num_levels
        rows = sum(L**i for i in range(D))
        if rows > MAX_ROWS:
            raise UserError(
                f"a tabular model of {D} dims with {L} levels needs about "
                f"10^{int(rows.bit_length() * math.log10(2))} conditional "
                f"tables (at most {MAX_ROWS} fit); use it on tiny data such as bars_stripes "
                "and use fvsbn, nade or made for larger data")
        if cfg.alpha < 0:
            raise UserError("alpha is a pseudo-count and must be >= 0")
        self.register_buffer("offsets", torch.tensor([(L**i - 1) // (L - 1) for i in range(D)]))
        # the model's state: counts N(prefix, value); a Parameter so the Trainer has something
        # to hand an optimizer, but it is set by counting, never by gradients
        self.counts = nn.Parameter(torch.zeros(rows, L), requires_grad=False)
        self.register_buffer("order", torch.arange(D), persistent=False)
        self.head = OutputHead("categorical", L)

    def check_data(self, info) -> None:
        check_discrete("tabular model", info, self.cfg)

    def rows(self, x: torch.Tensor) -> torch.Tensor:
        """Table row of every conditional: x (B, *shape) -> (B, D) long."""
        x = x.reshape(x.shape[0], self.num_dims).long()
        L = self.cfg.num_levels
        prefix = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        rows = []
        for i in range(self.num_dims):
            rows.append(self.offsets[i] + prefix)
            prefix = prefix * L + x[:, i]
        return torch.stack(rows, 1)

    def table_log_probs(self, rows: torch.Tensor) -> torch.Tensor:
        """log theta of the given rows: (...) -> (..., L); a prefix never seen is uniform."""
        n = self.counts[rows] + self.cfg.alpha
        total = n.sum(-1, keepdim=True)
        uniform = torch.full_like(n, 1.0 / self.cfg.num_levels)
        return torch.where(total > 0, n / total.clamp(min=1e-300), uniform).log()

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, *shape) -> (B, D, L) log-probabilities of each level (see common.py): the
        parameters of a categorical head, whose softmax leaves them as they are."""
        return self.table_log_probs(self.rows(x))

    # -- exact maximum likelihood -----------------------------------------------------------
    @torch.no_grad()
    def add_counts(self, x: torch.Tensor) -> None:
        rows = self.rows(x).reshape(-1)
        values = x.reshape(x.shape[0], self.num_dims).long().reshape(-1)
        self.counts.index_put_((rows, values), torch.ones_like(rows, dtype=self.counts.dtype),
                               accumulate=True)

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> Tabular:
        """Exact ML: the counts of `x` (N, *shape) replace the current ones."""
        self.counts.zero_()
        self.add_counts(x)
        return self

    def configure_optimizers(self, train_cfg):  # counting needs no optimizer step
        return [torch.optim.SGD([self.counts], lr=0.0)]

    def train_step(self, batch, optimizers) -> dict[str, torch.Tensor]:
        x, _ = batch
        self.add_counts(x)
        for opt in optimizers:  # a no-op (no gradients), keeps the LR scheduler's order
            opt.step()
        with torch.no_grad():
            nll = -self.log_prob(x).mean()
        return {"loss": nll, **nll_metrics(nll, self.num_dims)}

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """D steps, each reading one table row: the prefix drawn so far picks it."""
        self.check_cond(cond)
        D, L = self.num_dims, self.cfg.num_levels
        x = torch.zeros(num_samples, D, dtype=torch.long, device=self.counts.device)
        prefix = torch.zeros(num_samples, dtype=torch.long, device=x.device)
        for i in range(D):
            params = self.table_log_probs(self.offsets[i] + prefix)  # (B, L)
            x[:, i] = self.head.sample(params, uniforms(num_samples, generator, x.device))
            prefix = prefix * L + x[:, i]
        return x.to(self.counts.dtype).view(num_samples, *self.cfg.data_shape)
