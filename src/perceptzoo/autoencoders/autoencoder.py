"""Nonlinear autoencoders, undercomplete and overcomplete, with a sparsity or contractive penalty.

An encoder h = f(x) (sigmoid code units) and a decoder x_hat = g(h) are fitted to reconstruct x
(Bernoulli cross-entropy on levels scaled to [0, 1], or squared error):

    L(x) = sum_d l(x_d, x_hat_d) + lambda * Omega(h).

An undercomplete code (fewer units than inputs) is a bottleneck; an overcomplete one (more) can
copy its input, and a penalty must stop it (Goodfellow, Bengio & Courville 2016, ch. 14):

- sparse (Ng 2011, "Sparse autoencoder" notes, eq. for the KL penalty): the batch-mean
  activation rho_hat_j of each code unit is held near a small target rho,
  Omega = sum_j KL(rho || rho_hat_j);
- contractive (Rifai et al., ICML 2011, eq. 3-4): the encoder's Jacobian is kept small,
  Omega = || dh/dx ||_F^2, which for one sigmoid layer h = sigma(W x + b) is in closed form
  sum_j (h_j (1 - h_j))^2 sum_i W_ji^2 (so `penalty="contractive"` takes a one-layer encoder).

    >>> import perceptzoo, torch
    >>> ae = perceptzoo.build("autoencoder", code_size=128, penalty="sparse")  # overcomplete
    >>> ae.loss((torch.randint(0, 17, (4, 1, 8, 8)), None)).metrics["penalty"] >= 0
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp

PENALTIES = ("none", "sparse", "contractive")


@dataclass
class AutoencoderConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = 17
    """levels of the data (scaled to [0, 1]); filled from the dataset"""
    code_size: int = 32
    """units of the code h: below the data's dimensions undercomplete, above overcomplete"""
    hidden_sizes: tuple[int, ...] = (128,)
    """hidden layers of the encoder (the decoder mirrors them); () for one layer"""
    penalty: str = "none"
    """none | sparse (KL to a target mean activation) | contractive (Jacobian norm)"""
    penalty_weight: float = 0.1
    """lambda"""
    sparsity_target: float = 0.05
    """rho, the target mean activation of the sparse penalty"""
    reconstruction: str = "bce"
    """bce (Bernoulli cross-entropy on [0, 1] targets) | mse"""

    @classmethod
    def tiny(cls) -> AutoencoderConfig:
        return cls(code_size=8, hidden_sizes=(16,))


def kl_sparsity(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """sum_j KL(Bernoulli(rho) || Bernoulli(rho_hat_j))."""
    rho_hat = rho_hat.clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / rho_hat)
            + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


@register("autoencoder", AutoencoderConfig, default_dataset="digits", family="autoencoders",
          runner="trainer", train_defaults={"lr": 1e-3, "batch_size": 64})
class Autoencoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.penalty not in PENALTIES:
            raise UserError(f"unknown penalty {cfg.penalty!r}; use none, sparse or contractive")
        if cfg.penalty == "contractive" and cfg.hidden_sizes:
            raise UserError("the contractive penalty is computed in closed form for a one-layer "
                            "encoder; pass --set hidden_sizes=[]")
        if cfg.penalty_weight < 0 or not 0 < cfg.sparsity_target < 1:
            raise UserError("penalty_weight must be >= 0 and sparsity_target in (0, 1)")
        if cfg.reconstruction not in ("bce", "mse"):
            raise UserError(f"unknown reconstruction {cfg.reconstruction!r}; use bce or mse")
        D = math.prod(cfg.data_shape)
        self.encoder = mlp([D, *cfg.hidden_sizes, cfg.code_size], nn.ReLU,
                           out_activation=nn.Sigmoid)
        self.decoder = mlp([cfg.code_size, *reversed(cfg.hidden_sizes), D], nn.ReLU)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1).to(self.encoder[0].weight.dtype)
        return x if self.cfg.num_levels is None else x / (self.cfg.num_levels - 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """h (B, code_size) in (0, 1)."""
        return self.encoder(self.inputs(x))

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(h)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x_hat in data units, (B, *data_shape)."""
        out = self.decode_logits(self.encode(x))
        out = torch.sigmoid(out) if self.cfg.reconstruction == "bce" else out
        scale = 1 if self.cfg.num_levels is None else self.cfg.num_levels - 1
        return (out * scale).reshape(x.shape[0], *self.cfg.data_shape)

    def reconstruction_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-example reconstruction loss (B,), summed over dimensions."""
        if self.cfg.reconstruction == "bce":
            return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
        return (logits - target).pow(2).sum(1)

    def penalty(self, h: torch.Tensor) -> torch.Tensor:
        """Omega(h) per batch (a scalar): see the module docstring."""
        if self.cfg.penalty == "sparse":
            return kl_sparsity(self.cfg.sparsity_target, h.mean(0))
        if self.cfg.penalty == "contractive":
            w = self.encoder[0].weight  # (code, D)
            return ((h * (1 - h)).pow(2) @ w.pow(2).sum(1)).mean()
        return h.new_zeros(())

    def jacobian_norm(self, x: torch.Tensor) -> torch.Tensor:
        """|| dh/dx ||_F^2 per example by autograd (any encoder), (B,): what `contractive`
        penalises, used to test it."""
        v = self.inputs(x).detach()
        rows = torch.func.vmap(torch.func.jacrev(lambda u: self.encoder(u[None])[0]))(v)
        return rows.pow(2).sum((1, 2))

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        v = self.inputs(x)
        h = self.encoder(v)
        reconstruction = self.reconstruction_loss(self.decode_logits(h), v).mean()
        omega = self.penalty(h)
        loss = reconstruction + self.cfg.penalty_weight * omega
        return LossOutput(loss, {"reconstruction": reconstruction.item(),
                                 "penalty": omega.item()})
