"""Multi-head causal self-attention with a key/value cache (Vaswani et al. 2017, section 3.2).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + M) V,   M_ij = 0 if j <= i else -inf,

per head, with Q, K, V linear maps of the input split into `num_heads` heads of d =
embed_dim / num_heads dimensions; the heads are concatenated and mixed by an output map
(eq. 4-5). The mask M makes position i attend only to positions j <= i: exp(-inf) = 0, so
masked positions get exactly zero weight.

`attention(q, k, v, offset)` is the equation written out (it also returns the weights);
`CausalSelfAttention(..., fast=True)` computes the same with
`torch.nn.functional.scaled_dot_product_attention` (a fused kernel, tested equal).

KV cache (for autoregressive sampling): `forward(x, cache)` with a `KVCache` appends this
call's keys and values to the cache and lets the new queries attend to everything cached, so
generating token t costs one query against t keys instead of recomputing the whole prefix.

    >>> attn = CausalSelfAttention(16, num_heads=4)
    >>> x = torch.randn(2, 5, 16)
    >>> cache = KVCache()
    >>> steps = torch.cat([attn(x[:, t : t + 1], cache) for t in range(5)], dim=1)
    >>> torch.allclose(steps, attn(x), atol=1e-6)
    True
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(num_queries: int, num_keys: int, offset: int = 0, device=None,
                dtype=torch.float32) -> torch.Tensor:
    """M (num_queries, num_keys): 0 where key j <= query i + offset, -inf elsewhere."""
    i = torch.arange(num_queries, device=device)[:, None] + offset
    j = torch.arange(num_keys, device=device)[None, :]
    mask = torch.zeros(num_queries, num_keys, device=device, dtype=dtype)
    return mask.masked_fill(j > i, float("-inf"))


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offset: int = 0):
    """softmax(Q K^T / sqrt(d) + M) V.

    q (B, h, Tq, d), k and v (B, h, Tk, d); query i sits at absolute position i + offset.
    Returns the output (B, h, Tq, d) and the weights (B, h, Tq, Tk).
    """
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (B, h, Tq, Tk)
    scores = scores + causal_mask(q.shape[-2], k.shape[-2], offset, q.device, q.dtype)
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


class KVCache:
    """Keys and values of the positions seen so far, for one attention layer."""

    def __init__(self):
        self.k: torch.Tensor | None = None  # (B, h, T, d)
        self.v: torch.Tensor | None = None

    @property
    def length(self) -> int:
        return 0 if self.k is None else self.k.shape[-2]

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.k = k if self.k is None else torch.cat([self.k, k], dim=-2)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=-2)
        return self.k, self.v


class CausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, fast: bool = True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by {num_heads} heads")
        self.num_heads, self.fast = num_heads, fast
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.out = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """x (B, T, E) -> (B, T, E). With a cache, x holds the T positions after the cached."""
        B, T, E = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, E // self.num_heads).permute(
            2, 0, 3, 1, 4)  # each (B, h, T, d)
        offset = 0
        if cache is not None:
            offset = cache.length
            k, v = cache.append(k, v)
        if self.fast:
            mask = None if offset == 0 and T == k.shape[-2] else causal_mask(
                T, k.shape[-2], offset, x.device, x.dtype)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                               is_causal=mask is None and T > 1)
        else:
            y, _ = attention(q, k, v, offset)
        return self.out(y.transpose(1, 2).reshape(B, T, E))  # concatenate the heads
