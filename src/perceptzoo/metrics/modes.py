"""Mode coverage of samples from a Gaussian mixture with known centres (the 2D ring and grid).

The protocol of the mode-collapse literature (Metz et al. 2017 show the ring; Srivastava et al.
2017, VEEGAN, count it): each sample is assigned to its nearest mode centre and is
*high quality* when it lies within `num_std` (3) standard deviations of that centre; a mode is
*covered* when it received at least `min_count` high-quality samples.

The centres are those of `perceptzoo.data.toy2d` (documented there):
    8gaussians:  2 (cos k pi/4, sin k pi/4), k = 0..7, std 0.2
    25gaussians: the grid {-2, -1, 0, 1, 2}^2, std 0.1
`tests/gans/test_modes.py` holds the two together (the data itself covers every mode with
~99 % high-quality samples).

    >>> import torch
    >>> from perceptzoo.metrics.modes import mode_coverage
    >>> mode_coverage(torch.zeros(100, 2), "25gaussians")["modes_covered"]
    1
"""

from __future__ import annotations

import math

import torch

from perceptzoo.errors import UserError


def mode_centres(name: str) -> tuple[torch.Tensor, float]:
    """(centres (K, 2), per-coordinate std) of the toy mixture `name`."""
    if name == "8gaussians":
        angles = torch.arange(8, dtype=torch.float64) * math.pi / 4
        return 2.0 * torch.stack([angles.cos(), angles.sin()], 1), 0.2
    if name == "25gaussians":
        grid = torch.arange(-2, 3, dtype=torch.float64)
        return torch.cartesian_prod(grid, grid), 0.1
    raise UserError(f"mode coverage is defined for the mixtures 8gaussians and 25gaussians, "
                    f"not {name!r}")


def mode_coverage(samples: torch.Tensor, name: str, *, num_std: float = 3.0,
                  min_count: int | None = None) -> dict[str, float]:
    """{'modes_covered', 'num_modes', 'high_quality_fraction', 'mode_kl'} of (N, 2) samples.

    min_count: high-quality samples a mode needs to count as covered (default: 1 % of N over
    the number of modes' share, i.e. N / (100 K) rounded up, at least 1). mode_kl is
    KL(q || uniform) of the high-quality samples' mode histogram q (0 when spread evenly).
    """
    if samples.dim() != 2 or samples.shape[1] != 2:
        raise UserError(f"mode coverage takes (N, 2) points, got shape {tuple(samples.shape)}")
    centres, std = mode_centres(name)
    x = samples.detach().double().cpu()
    dist = torch.cdist(x, centres)                                   # (N, K)
    nearest, index = dist.min(1)
    good = nearest <= num_std * std
    k = len(centres)
    counts = torch.bincount(index[good], minlength=k)
    threshold = min_count if min_count is not None else max(1, math.ceil(len(x) / (100 * k)))
    q = counts.double() / max(int(counts.sum()), 1)
    kl = float((q[q > 0] * (q[q > 0] * k).log()).sum()) if counts.sum() > 0 else float("inf")
    return {"modes_covered": int((counts >= threshold).sum()), "num_modes": k,
            "high_quality_fraction": float(good.double().mean()), "mode_kl": kl}
