"""2D toy distributions with the exact log-density wherever one exists.

Names: `moons`, `8gaussians`, `25gaussians`, `checkerboard`, `rings`, `spirals`. Use them as the
dataset `toy2d:<name>`; each split is a fixed seeded draw (train 20,000, valid and test 5,000).

Exact densities (`log_prob(name, x)`, nats):
- 8gaussians: equal mixture of N(m_k, 0.2^2 I), m_k = 2 (cos k pi/4, sin k pi/4), k = 0..7.
- 25gaussians: equal mixture of N(m, 0.1^2 I) over the grid m in {-2,-1,0,1,2}^2.
- checkerboard: uniform on the 8 unit squares of [-2, 2]^2 whose floor(x1) + floor(x2) is even:
  density 1/8 there, 0 elsewhere.
- rings: angle theta ~ U[0, 2 pi), radius r ~ N(r_k, 0.08^2) with r_k in {0.5, 1, 1.5, 2} equally
  likely, x = r (cos theta, sin theta). A negative r lands at |r| on the opposite side, so with
  rho = |x|, p(x) = sum_k w_k [N(rho; r_k, s) + N(-rho; r_k, s)] / (2 pi rho).
- moons and spirals are a curve blurred with Gaussian noise: no closed form, `log_prob` is None.
"""

from __future__ import annotations

import math

import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.errors import UserError

NAMES = ("moons", "8gaussians", "25gaussians", "checkerboard", "rings", "spirals")
SIZES = {"train": 20000, "valid": 5000, "test": 5000}
_SPLIT_SEEDS = {"train": 0, "valid": 1, "test": 2}
_RING_RADII = (0.5, 1.0, 1.5, 2.0)
_RING_STD = 0.08


def _check(name: str) -> None:
    if name not in NAMES:
        raise UserError(f"unknown 2D toy {name!r}; known: {', '.join(NAMES)}")


def info(name: str) -> DatasetInfo:
    _check(name)
    return DatasetInfo(
        name=f"toy2d:{name}", data_shape=(2,), num_levels=None, value_range=(-4.0, 4.0),
        num_classes=None, split_sizes=SIZES, description=f"2D toy '{name}'",
        modality="points",
    )


def _means(name: str) -> tuple[torch.Tensor, float]:
    if name == "8gaussians":
        angles = torch.arange(8, dtype=torch.float64) * math.pi / 4
        return 2.0 * torch.stack([angles.cos(), angles.sin()], 1), 0.2
    grid = torch.arange(-2, 3, dtype=torch.float64)
    return torch.cartesian_prod(grid, grid), 0.1


def sample(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` draws, float32 (n, 2)."""
    _check(name)
    g = generator
    if name in ("8gaussians", "25gaussians"):
        means, std = _means(name)
        k = torch.randint(len(means), (n,), generator=g)
        x = means[k] + std * torch.randn(n, 2, generator=g, dtype=torch.float64)
    elif name == "checkerboard":
        # pick one of the 8 black squares uniformly, then a uniform point inside it
        squares = [(i, j) for i in range(-2, 2) for j in range(-2, 2) if (i + j) % 2 == 0]
        cells = torch.tensor(squares)
        k = torch.randint(len(cells), (n,), generator=g)
        x = cells[k].double() + torch.rand(n, 2, generator=g, dtype=torch.float64)
    elif name == "rings":
        radii = torch.tensor(_RING_RADII, dtype=torch.float64)
        r = radii[torch.randint(len(radii), (n,), generator=g)]
        r = r + _RING_STD * torch.randn(n, generator=g, dtype=torch.float64)
        theta = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
        x = torch.stack([r * theta.cos(), r * theta.sin()], 1)
    elif name == "moons":
        t = math.pi * torch.rand(n, generator=g, dtype=torch.float64)
        upper = torch.rand(n, generator=g) < 0.5
        x = torch.where(
            upper[:, None],
            torch.stack([t.cos(), t.sin()], 1),
            torch.stack([1 - t.cos(), 0.5 - t.sin()], 1),
        )
        x = 2.0 * (x - torch.tensor([0.5, 0.25], dtype=torch.float64))
        x = x + 0.1 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    else:  # spirals: two interleaved Archimedean arms
        t = torch.sqrt(torch.rand(n, generator=g, dtype=torch.float64)) * 3 * math.pi
        arm = (torch.rand(n, generator=g) < 0.5).double() * math.pi
        r = t / (1.5 * math.pi)
        x = torch.stack([r * torch.cos(t + arm), r * torch.sin(t + arm)], 1)
        x = x + 0.05 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x.float()


def has_log_prob(name: str) -> bool:
    _check(name)
    return name not in ("moons", "spirals")


def log_prob(name: str, x: torch.Tensor) -> torch.Tensor | None:
    """Exact log-density in nats of points `x` (n, 2), or None if the toy has no closed form."""
    _check(name)
    if not has_log_prob(name):
        return None
    x = x.double()
    if name in ("8gaussians", "25gaussians"):
        means, std = _means(name)
        sq = ((x[:, None, :] - means[None]) ** 2).sum(-1)  # (n, K)
        log_n = -sq / (2 * std**2) - math.log(2 * math.pi * std**2)
        return torch.logsumexp(log_n, 1) - math.log(len(means))
    if name == "checkerboard":
        inside = (x.abs() <= 2).all(1) & ((x.floor().sum(1) % 2) == 0)
        return torch.where(inside, torch.tensor(-math.log(8.0), dtype=x.dtype), -math.inf)
    rho = x.norm(dim=1).clamp_min(1e-12)
    radii = torch.tensor(_RING_RADII, dtype=x.dtype)
    s = _RING_STD
    log_gauss = lambda v: -((v[:, None] - radii[None]) ** 2) / (2 * s**2) - 0.5 * math.log(  # noqa: E731
        2 * math.pi * s**2
    )
    both = torch.logaddexp(log_gauss(rho), log_gauss(-rho))
    return torch.logsumexp(both, 1) - math.log(len(radii)) - torch.log(2 * math.pi * rho)


def load(name: str, split: str) -> ArrayDataset:
    _check(name)
    g = torch.Generator().manual_seed(1000 * (NAMES.index(name) + 1) + _SPLIT_SEEDS[split])
    return ArrayDataset(sample(name, SIZES[split], g), None, info(name), split)
