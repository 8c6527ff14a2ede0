"""The linear autoencoder and PCA, its closed-form optimum (Baldi & Hornik 1989; Bourlard &
Kamp 1988).

A linear encoder z = W_e (x - b) + c and decoder x_hat = W_d z + b trained on the squared error

    L(W_e, W_d) = 1/N sum_n || x_n - x_hat_n ||^2

has no spurious local minima: at its global minimum W_d W_e is the orthogonal projection onto
the span of the top-k principal directions of the data, so the decoder's columns span the PCA
subspace (they need not be the principal directions themselves: any invertible k x k mixing of
them is as good) and the reconstruction error equals PCA's, the sum of the discarded
eigenvalues of the covariance (Eckart-Young). `pca` computes that optimum in closed form from
the SVD of the centred data, `principal_angles` measures how far the learned subspace is from
it. Data are levels scaled to [0, 1] (`inputs`), so errors are per-pixel squared errors there.

    >>> import perceptzoo, torch
    >>> x = torch.randint(0, 17, (100, 1, 8, 8))
    >>> model = perceptzoo.build("linear_ae", num_components=5)
    >>> mean, components, _ = pca(model.inputs(x), 5)
    >>> components.shape
    torch.Size([5, 64])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError


def pca(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Top-k principal components of x (N, D): (mean (D,), components (k, D) orthonormal rows,
    the variances along them (k,)), from the SVD of the centred data."""
    if not 1 <= k <= min(x.shape):
        raise UserError(f"PCA needs 1 <= k <= min(N, D) = {min(x.shape)}, got k={k}")
    mean = x.mean(0)
    _, s, vt = torch.linalg.svd(x - mean, full_matrices=False)
    return mean, vt[:k], s[:k] ** 2 / len(x)


def pca_reconstruct(x: torch.Tensor, mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Project x (N, D) onto the affine PCA subspace."""
    return mean + (x - mean) @ components.T @ components


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (radians, ascending) between the column spans of a (D, k) and b (D, m):
    the arccos of the singular values of Q_a^T Q_b (Bjorck & Golub 1973)."""
    qa, _ = torch.linalg.qr(a)
    qb, _ = torch.linalg.qr(b)
    cos = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.arccos(cos).sort().values


@dataclass
class LinearAEConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = 17
    """levels of the data (scaled to [0, 1]); None for continuous data"""
    num_components: int = 16
    """k, the size of the code"""

    @classmethod
    def tiny(cls) -> LinearAEConfig:
        return cls(num_components=4)


@register("linear_ae", LinearAEConfig, default_dataset="digits", family="autoencoders",
          runner="trainer", train_defaults={"lr": 1e-2, "batch_size": 128})
class LinearAE(nn.Module):
    def __init__(self, cfg: LinearAEConfig):
        super().__init__()
        self.cfg = cfg
        D = math.prod(cfg.data_shape)
        if not 1 <= cfg.num_components <= D:
            raise UserError(f"num_components must be between 1 and the data's {D} dimensions, "
                            f"got {cfg.num_components}")
        self.encoder = nn.Linear(D, cfg.num_components)
        self.decoder = nn.Linear(cfg.num_components, D)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, *data_shape) -> (B, D) floats, levels scaled to [0, 1]."""
        x = x.reshape(x.shape[0], -1).to(self.encoder.weight.dtype)
        return x if self.cfg.num_levels is None else x / (self.cfg.num_levels - 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.inputs(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, k) -> (B, D) in the [0, 1] scale of `inputs`."""
        return self.decoder(z)

    def reconstruction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Per-example mean squared error per dimension, (B,)."""
        v = self.inputs(x)
        return (self.decode(self.encoder(v)) - v).pow(2).mean(1)

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        mse = self.reconstruction_error(x).mean()
        return LossOutput(mse, {"mse": mse.item()})

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """Decoder bias at the batch mean: the affine part of PCA, so training fits the rest."""
        self.decoder.bias.copy_(self.inputs(batch[0]).mean(0))

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """The model's reconstruction MSE and, beside it, PCA's at the same k fitted on x."""
        v = self.inputs(x)
        mean, components, _ = pca(v, self.cfg.num_components)
        pca_mse = (pca_reconstruct(v, mean, components) - v).pow(2).mean()
        angle = principal_angles(self.decoder.weight, components.T).max()
        return {"reconstruction_mse": self.reconstruction_error(x).mean().item(),
                "pca_mse_same_data": pca_mse.item(),
                "largest_principal_angle_rad": angle.item()}
