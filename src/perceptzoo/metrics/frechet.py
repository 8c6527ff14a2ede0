"""Frechet distance and precision/recall between two sets of features.

Frechet distance (Heusel et al. 2017, the FID formula) between Gaussians fitted to the features:

    FD = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2}),

computed with symmetric eigendecompositions in float64 (no scipy sqrtm). Here the features come
from the project's small per-dataset classifiers (`perceptzoo.metrics.classifier`), not
Inception, so values are comparable within this project only.

Precision and recall (Kynkaanniemi et al. 2019): the k-NN manifold of a set is the union of balls
around each point with radius its distance to the k-th nearest neighbour in the set; precision
is the fraction of generated points inside the real manifold, recall the fraction of real points
inside the generated manifold (k = 3 as in the paper).

Which real images: `reference_subset` picks a fixed random subset of a split, never its first
n. The order of a split is not random: MNIST's test split holds its 5,000 images from Census
employees (NIST SD-3, cleaner) first, so its first 1,000 images are 26.7 in FD from 1,000
training images and 2.4 from another 1,000 of those first 5,000, against 2.4-3.4 for random
subsets of either split. A reference of the first n would rank every model against the cleaner
half.
"""

from __future__ import annotations

import torch

#: Seed of the fixed random subsets of a split that sample-quality figures compare against.
REFERENCE_SEED = 0


def reference_subset(num_examples: int, n: int, *, seed: int = REFERENCE_SEED) -> torch.Tensor:
    """Sorted indices of a fixed random subset of `n` of a split's `num_examples` examples
    (all of them, in order, when n >= num_examples): the same subset on every call."""
    if n >= num_examples:
        return torch.arange(num_examples)
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(num_examples, generator=g)[:n].sort().values


def _sqrtm_psd(a: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(a)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance(feat_1: torch.Tensor, feat_2: torch.Tensor) -> float:
    """FD between feature sets (n, d) and (m, d)."""
    a, b = feat_1.double(), feat_2.double()
    mu_1, mu_2 = a.mean(0), b.mean(0)
    s_1, s_2 = torch.cov(a.T), torch.cov(b.T)
    root_1 = _sqrtm_psd(s_1)
    cross = _sqrtm_psd(root_1 @ s_2 @ root_1)
    return float((mu_1 - mu_2).pow(2).sum() + torch.trace(s_1 + s_2 - 2 * cross))


def _knn_radii(feat: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest neighbour, 1,024 rows at a time (10,000
    points would otherwise hold a 10,000^2 matrix)."""
    return torch.cat([torch.cdist(feat[start : start + 1024], feat).kthvalue(k + 1, dim=1).values
                      for start in range(0, len(feat), 1024)])  # +1: the point itself, at 0


def _coverage(points: torch.Tensor, support: torch.Tensor, radii: torch.Tensor) -> float:
    inside = torch.zeros(len(points), dtype=torch.bool)
    for start in range(0, len(points), 1024):
        d = torch.cdist(points[start : start + 1024], support)
        inside[start : start + 1024] = (d <= radii[None]).any(1)
    return float(inside.float().mean())


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of generated features `fake` against `real` (k-NN manifolds)."""
    real, fake = real.double(), fake.double()
    precision = _coverage(fake, real, _knn_radii(real, k))
    recall = _coverage(real, fake, _knn_radii(fake, k))
    return precision, recall
