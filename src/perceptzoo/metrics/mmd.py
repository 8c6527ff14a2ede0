"""Maximum mean discrepancy with a Gaussian RBF kernel (Gretton et al. 2012).

k(a, b) = sum over bandwidths s of exp(-|a - b|^2 / (2 s^2)); the default bandwidths
(0.1, 0.2, 0.5, 1, 2) suit the 2D toys (data in [-4, 4]^2). The unbiased estimator of MMD^2
(eq. 3 of the paper) drops the diagonal terms, so it can be slightly negative when p = q.
"""

from __future__ import annotations

import torch


def mmd_rbf(
    x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0)
) -> float:
    """Unbiased MMD^2 between samples x (n, d) and y (m, d)."""
    x, y = x.double().flatten(1), y.double().flatten(1)
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError("MMD needs at least two samples on each side")

    def kernel(a, b):
        sq = torch.cdist(a, b).pow(2)
        return sum(torch.exp(-sq / (2 * s * s)) for s in bandwidths)

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    term_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    term_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(term_x + term_y - 2 * kxy.mean())
