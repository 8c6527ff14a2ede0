"""MADE: Masked Autoencoder for Distribution Estimation (Germain et al., ICML 2015).

An autoencoder whose weight matrices are masked so that output d depends only on inputs that
come before d in an ordering. Then the outputs are the conditionals of the chain rule and

    log p(x) = sum_d log p(x_{o(d)} | x_{o(<d)}),

exact and normalised, computed in one forward pass (eq. 1 and section 4 of the paper).

Masks (section 4.2, eqs. 12-13): each input d gets the degree m^0(d) = its position 1..D in the
ordering; each hidden unit k of layer l gets a degree m^l(k) drawn uniformly from
{min_k' m^{l-1}(k'), ..., D-1}. A hidden connection k' -> k is kept when m^l(k) >= m^{l-1}(k');
an output connection k -> d when m^0(d) > m^L(k) (strict, so output d never sees input d).
Optional direct input->output connections keep d' -> d when m^0(d) > m^0(d').

Order- and connectivity-agnostic training (section 4.3): the model keeps `num_masks` masks
(each drawn from a seeded generator) and moves to the next one for every training minibatch.
At evaluation, log p(x) averages the probabilities of the masks, log (1/K) sum_k p_k(x)
(log-mean-exp): a mixture of K autoregressive models, itself exactly normalised.

Outputs: one Bernoulli logit per dimension for binary data, or a categorical over `num_levels`
values per dimension (e.g. 17 grey levels for digits): `conditionals(x)` under the current mask,
scored and sampled (D passes) by the family's `common.Autoregressive`. Above 32 levels the
default is a discretized mixture of 5 logistics per dimension (an L-way softmax made MADE 258M
parameters on 256-level MNIST), and on data with many dimensions the direct connections go and
the hidden layer narrows so the defaults stay near 20M parameters (`made_defaults`).

    >>> import perceptzoo
    >>> model = perceptzoo.build("made", data_shape=(1, 4, 4), num_levels=2, hidden_sizes=(32,))
    >>> model.sample(3).shape
    torch.Size([3, 1, 4, 4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.autoregressive.common import (
    DENSE_DEFAULT_PARAMS,
    Autoregressive,
    OutputHead,
    check_discrete,
    sized_output,
    uniforms,
)
from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.masked import MaskedLinear


@dataclass
class MADEConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int = 17
    """values per dimension (2: Bernoulli outputs; more: categorical); filled from the dataset"""
    hidden_sizes: tuple[int, ...] = (500,)
    num_masks: int = 1
    """masks cycled through in training and averaged at evaluation (the paper's 1 or 32)"""
    order_agnostic: bool = False
    """draw a random input ordering for each mask (else the natural raster order)"""
    connectivity_agnostic: bool = True
    """draw fresh hidden degrees for each mask (else one connectivity for all masks)"""
    direct_connections: bool = True
    """add masked direct input -> output connections (an FVSBN inside MADE; ~10 nats better on
    binarized MNIST at equal budget)"""
    mask_seed: int = 0
    output: str = "auto"
    """auto (Bernoulli for 2 levels, else softmax) | categorical | logistic_mixture; the
    default above 32 levels is logistic_mixture (sized to the data: `made_defaults`)"""
    num_mixtures: int = 5
    """logistics in a logistic_mixture output"""

    @classmethod
    def tiny(cls) -> MADEConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(hidden_sizes=(32,))


def made_defaults(info) -> dict:
    """Output, direct connections and hidden width sized to the data: above 32 levels a
    logistic mixture (P = 15) instead of an L-way softmax (258M parameters on MNIST); the
    direct connections (D^2 P weights) while they take at most half of DENSE_DEFAULT_PARAMS;
    a hidden layer of at most 500 units with the rest (D (P + 1) weights a unit)."""
    values, P = sized_output(info)
    D = math.prod(info.data_shape)
    budget = DENSE_DEFAULT_PARAMS
    if D * D * P > budget // 2:
        values["direct_connections"] = False
    else:
        budget -= D * D * P
    width = MADEConfig.hidden_sizes[0]
    H = min(width, max(16, budget // (D * (P + 1))))
    if H != width:
        values["hidden_sizes"] = (H,)
    return values


@register("made", MADEConfig, default_dataset="digits", family="autoregressive",
          runner="trainer", dataset_defaults=made_defaults)
class MADE(Autoregressive, nn.Module):
    def __init__(self, cfg: MADEConfig):
        super().__init__()
        if cfg.num_levels < 2:
            raise UserError(f"MADE needs at least 2 levels per dimension, got {cfg.num_levels}")
        if cfg.num_masks < 1:
            raise UserError("num_masks must be at least 1")
        self.cfg = cfg
        self.num_dims = math.prod(cfg.data_shape)
        # Bernoulli: one logit per dimension; categorical: num_levels logits per dimension.
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        self.out_per_dim = self.head.num_params
        sizes = [self.num_dims, *cfg.hidden_sizes]
        self.hidden = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = MaskedLinear(sizes[-1], self.num_dims * self.out_per_dim)
        self.direct = (
            MaskedLinear(self.num_dims, self.num_dims * self.out_per_dim, bias=False)
            if cfg.direct_connections else None
        )
        # which mask is in the layers, and which one the next training batch takes
        self.register_buffer("mask_index", torch.zeros((), dtype=torch.long))
        self.register_buffer("order", torch.arange(self.num_dims))
        self._degrees: dict[int, tuple[torch.Tensor, list[torch.Tensor]]] = {}
        self.set_mask(0)

    def check_data(self, info) -> None:
        check_discrete("MADE", info, self.cfg)

    # -- masks (eqs. 12-13) ---------------------------------------------------------------
    def degrees(self, k: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Input degrees m^0 (1..D, position in the ordering) and hidden degrees of mask k.

        Drawn once per mask (seeded) and kept on the model's device, where the masks are built
        from them. On a GPU, switching masks every minibatch then costs a few comparisons there;
        building the masks on the CPU and copying them over took 130 ms a switch for 2 x 8000
        units, most of a GPU step (on a CPU the comparisons themselves still cost that).
        """
        device = self.output.weight.device
        cached = self._degrees.get(k)
        if cached is None or cached[0].device != device:
            m0, hidden = cached or self._draw_degrees(k)
            cached = self._degrees[k] = (m0.to(device), [m.to(device) for m in hidden])
        return cached

    def _draw_degrees(self, k: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        cfg, D = self.cfg, self.num_dims
        g_order = torch.Generator().manual_seed(cfg.mask_seed * 7919 + k)
        g_conn = torch.Generator().manual_seed(
            cfg.mask_seed * 7919 + (k if cfg.connectivity_agnostic else 0) + 104729
        )
        cpu = torch.device("cpu")  # drawn on the CPU (seeded generators), then moved
        order = (torch.randperm(D, generator=g_order, device=cpu) if cfg.order_agnostic
                 else torch.arange(D, device=cpu))
        m0 = torch.empty(D, dtype=torch.long, device=cpu)
        m0[order] = torch.arange(1, D + 1, device=cpu)
        hidden, prev = [], m0
        for size in cfg.hidden_sizes:
            low = int(prev.min()) if D > 1 else 1
            high = max(D - 1, low)
            m = torch.randint(low, high + 1, (size,), generator=g_conn, device=cpu)
            hidden.append(m)
            prev = m
        return m0, hidden

    def set_mask(self, k: int) -> None:
        """Put mask k (of num_masks) into the layers."""
        k = k % self.cfg.num_masks
        m0, hidden = self.degrees(k)
        prev = m0
        for layer, m in zip(self.hidden, hidden):
            layer.set_mask(m[:, None] >= prev[None, :])
            prev = m
        def rep(mask: torch.Tensor) -> torch.Tensor:  # one row per output of a dimension
            return mask if self.out_per_dim == 1 else mask.repeat_interleave(self.out_per_dim, 0)

        self.output.set_mask(rep(m0[:, None] > prev[None, :]))
        if self.direct is not None:
            self.direct.set_mask(rep(m0[:, None] > m0[None, :]))
        self.order.copy_(torch.argsort(m0))
        self.mask_index.fill_(k)

    # -- the network ----------------------------------------------------------------------
    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], self.num_dims).to(self.output.weight.dtype)
        return x / (self.cfg.num_levels - 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, *data_shape) integer levels -> (B, D) Bernoulli or (B, D, L) logits."""
        h = inp = self._inputs(x)
        for layer in self.hidden:
            h = F.relu(layer(h))
        out = self.output(h)
        if self.direct is not None:
            out = out + self.direct(inp)
        if self.out_per_dim == 1:
            return out
        return out.view(x.shape[0], self.num_dims, self.out_per_dim)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, *data_shape) -> (B, D, P) under the current mask, whose order is `order`
        (see common.py): one logit (P = 1) or L logits per dimension."""
        return self.logits(x).reshape(x.shape[0], self.num_dims, self.out_per_dim)

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 num_masks: int | None = None) -> torch.Tensor:
        """log p(x) in nats, (B,). Averages p over the first `num_masks` masks (default all)."""
        self.check_cond(cond)
        K = num_masks or self.cfg.num_masks
        if K == 1 and self.cfg.num_masks == 1:
            return self.log_prob_given(x)
        current = int(self.mask_index)
        per_mask = []
        for k in range(K):
            self.set_mask(k)
            per_mask.append(self.log_prob_given(x))
        self.set_mask(current)
        return torch.logsumexp(torch.stack(per_mask), 0) - math.log(K)

    @property
    def loss_is_nll(self) -> bool:
        """One mask: the loss is the mean of -log_prob(x) (validated in one pass); with several
        the loss is one mask's NLL and log_prob the ensemble's."""
        return self.cfg.num_masks == 1

    def loss(self, batch) -> LossOutput:
        """-log p(x) under one mask; in training the next mask every minibatch (sec. 4.3)."""
        if self.training and self.cfg.num_masks > 1:
            self.set_mask(int(self.mask_index) + 1)
        return super().loss(batch)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """With several masks: the NLL (nats) of the first mask alone, beside the ensemble's."""
        if self.cfg.num_masks == 1:
            return {}
        nll = torch.cat(
            [-self.log_prob(x[i : i + 1000], num_masks=1) for i in range(0, len(x), 1000)]
        )
        return {"nll_nats_1mask": float(nll.mean())}

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """D passes in the order of a mask (drawn uniformly per sample if several)."""
        self.check_cond(cond)
        current = int(self.mask_index)
        if self.cfg.num_masks > 1:
            k = torch.randint(self.cfg.num_masks, (num_samples,), generator=generator,
                              device=generator.device if generator else "cpu").cpu()
        else:
            k = torch.zeros(num_samples, dtype=torch.long)
        w = self.output.weight
        x = torch.zeros(num_samples, *self.cfg.data_shape, dtype=w.dtype, device=w.device)
        for mask in k.unique().tolist():
            rows = (k == mask).nonzero().squeeze(1).to(w.device)
            self.set_mask(mask)
            x[rows] = self.sample_rows(len(rows), generator=generator)
        self.set_mask(current)
        return x

    @torch.no_grad()
    def sample_rows(self, num_samples: int, *,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """`sample_naive` under the current mask, computing at pass d only the P output rows
        (and direct-connection rows) of dimension d: the hidden layers still see all of x, but
        the output layer, most of MADE's weights (D P H), costs P H a pass instead of D P H
        (38x less work for the sized MNIST defaults). The same uniforms in the same order, so
        the same samples as `sample_naive` (tested)."""
        D, P = self.num_dims, self.out_per_dim
        hidden = [(layer.weight * layer.mask, layer.bias) for layer in self.hidden]
        w_out = (self.output.weight * self.output.mask).view(D, P, -1)
        b_out = self.output.bias.view(D, P)
        w_dir = None if self.direct is None else (self.direct.weight * self.direct.mask).view(
            D, P, -1)
        w = self.output.weight
        x = torch.zeros(num_samples, D, dtype=w.dtype, device=w.device)
        for d in self.order.tolist():
            h = inp = self._inputs(x)
            for weight, bias in hidden:
                h = F.relu(F.linear(h, weight, bias))
            params = F.linear(h, w_out[d], b_out[d])
            if w_dir is not None:
                params = params + F.linear(inp, w_dir[d])
            u = uniforms(num_samples, generator, x.device)
            x[:, d] = self.head.sample(params, u).to(x.dtype)
        return x.view(num_samples, *self.cfg.data_shape)
