"""Causal Transformer on pixel sequences ("ImageGPT-style"; Chen et al. 2020, "Generative
Pretraining from Pixels", with the decoder of Radford et al. 2019 / Vaswani et al. 2017).

An image is flattened in raster order (R, G, B within a pixel) into a sequence of D tokens,
each a pixel level 0..L-1, and modelled as p(x) = prod_t p(s_t | s_<t). The input is the
sequence shifted right by one behind a learned start token, so output t sees s_<t only:

    e_t = E[s_{t-1}] + P_t   (E[s_{-1}] := start token; P learned positions)
    z   = z + Attn(LN(z)),  z = z + MLP(LN(z))     (pre-norm blocks, GELU MLP, 4x width)
    p(s_t | s_<t) = head(LN(z_t))                  (softmax over the L levels by default)

with Attn the masked multi-head self-attention softmax(Q K^T / sqrt(d) + M) V of
`perceptzoo.nn.attention`. Training is teacher forcing: the true sequence is the input and all
D conditionals are scored in one pass (the mask does the rest).

Token embedding: E[s] is written as one_hot(s) @ E; when x is a float tensor that needs
gradients (the causality test), the one-hot gets the straight-through term (x - x.detach()),
so d output / d x_j is the sum of the gradients w.r.t. token j's embedding row: exactly zero
iff output does not depend on token j.

Sampling: `cached=False` reruns the whole sequence for every new token (the family's naive
sampler, `common.Autoregressive.sample_naive`: D full passes, O(D^2) token-layers);
`cached=True` (the default) feeds one token per step and keeps every layer's keys and values in
a `KVCache` (O(D) token-layers). Both draw the same uniforms, so they give the same samples.

    >>> import perceptzoo
    >>> model = perceptzoo.build("transformer", data_shape=(1, 4, 4), num_levels=2, embed_dim=16)
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
    Autoregressive,
    OutputHead,
    check_discrete,
    pixel_order,
    uniforms,
)
from perceptzoo.core.registry import register
from perceptzoo.nn.attention import CausalSelfAttention, KVCache


@dataclass
class TransformerConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int = 17
    """vocabulary: the levels of one dimension; filled from the dataset"""
    embed_dim: int = 64
    num_heads: int = 4
    num_layers: int = 4
    dropout: float = 0.0
    output: str = "auto"
    """auto | bernoulli | categorical | logistic_mixture (see common.py)"""
    num_mixtures: int = 5

    @classmethod
    def tiny(cls) -> TransformerConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(embed_dim=16, num_heads=2, num_layers=1)


class Block(nn.Module):
    """Pre-norm decoder block: z + Attn(LN(z)), then z + MLP(LN(z))."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
                                 nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)

    def forward(self, z: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        z = z + self.drop(self.attn(self.ln1(z), cache))
        return z + self.mlp(self.ln2(z))


@register("transformer", TransformerConfig, default_dataset="digits",
          family="autoregressive", runner="trainer")
class Transformer(Autoregressive, nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        D = self.num_dims = math.prod(cfg.data_shape)
        E = cfg.embed_dim
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        self.token_embedding = nn.Parameter(torch.randn(cfg.num_levels, E) * 0.02)
        self.start = nn.Parameter(torch.randn(E) * 0.02)
        self.position = nn.Parameter(torch.randn(D, E) * 0.02)
        self.blocks = nn.ModuleList(Block(E, cfg.num_heads, cfg.dropout)
                                    for _ in range(cfg.num_layers))
        self.ln_f = nn.LayerNorm(E)
        self.out = nn.Linear(E, self.head.num_params)
        self.register_buffer("order", pixel_order(tuple(cfg.data_shape)), persistent=False)

    def check_data(self, info) -> None:
        check_discrete("transformer", info, self.cfg)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) levels (long, or float for gradients) -> (B, T, E)."""
        onehot = F.one_hot(tokens.round().long(), self.cfg.num_levels).to(self.start.dtype)
        if tokens.is_floating_point() and tokens.requires_grad:  # straight-through, see above
            onehot = onehot + (tokens - tokens.detach())[..., None]
        return onehot @ self.token_embedding

    def _inputs(self, seq: torch.Tensor) -> torch.Tensor:
        """seq (B, D) tokens -> embeddings of the shifted input (B, D, E): input position t
        holds token t - 1 (the start token at t = 0)."""
        B = seq.shape[0]
        e = torch.cat([self.start.expand(B, 1, -1), self.embed(seq)[:, :-1]], dim=1)
        return e + self.position[: seq.shape[1]]

    def _trunk(self, z: torch.Tensor, caches=None) -> torch.Tensor:
        for k, block in enumerate(self.blocks):
            z = block(z, None if caches is None else caches[k])
        return self.out(self.ln_f(z))  # (B, T, P)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, *shape) -> tokens in generation order (B, D)."""
        return x.reshape(x.shape[0], self.num_dims)[:, self.order]

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, *data_shape) -> (B, D, P) indexed by flat data dimension (see common.py)."""
        params_seq = self._trunk(self._inputs(self.sequence(x)))  # (B, D, P), sequence order
        params = torch.empty_like(params_seq)
        params[:, self.order] = params_seq
        return params

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, cached: bool = True) -> torch.Tensor:
        """(num_samples, *data_shape) levels. See the module docstring for `cached`."""
        self.check_cond(cond)
        if not cached:
            return self.sample_naive(num_samples, generator=generator)
        B, D, device = num_samples, self.num_dims, self.start.device
        seq = torch.zeros(B, D, dtype=torch.long, device=device)
        caches = [KVCache() for _ in self.blocks]
        for t in range(D):  # one new position: input t holds token t - 1 (or the start token)
            z = (self.start.expand(B, 1, -1) if t == 0 else self.embed(seq[:, t - 1 : t]))
            params = self._trunk(z + self.position[t], caches)[:, 0]
            seq[:, t] = self.head.sample(params, uniforms(B, generator, device))
        x = torch.empty_like(seq)
        x[:, self.order] = seq
        return x.to(self.start.dtype).view(B, *self.cfg.data_shape)
