"""A learning-free reference for the held-out shapes a model is scored on: the convex hull of
the observed points.

Occupancy Networks' point-cloud task (Mescheder et al. 2019, sec. 4.2) sees 300 points on a
shape's surface with Gaussian noise (sigma 0.005 here, as `OccupancyConfig.input_noise`) and
must return the whole surface. The convex hull of those same points is what a method gets with
no shape prior at all: exact for a convex shape, filling every concavity (the ears of a bunny,
a torus's hole) otherwise. A learned model that does not beat it on a shape has not learned
that shape's class. `convex_hull_baseline` scores the hull with the same metrics and protocol
as `ImplicitField.evaluate_shapes` (`score_field`: Chamfer-L1, normal consistency, F-score,
volumetric IoU), observing shape i with the seed `EVAL_SEED + i` as the evaluation does.

    >>> from perceptzoo.data.shapes import get_shape
    >>> m = convex_hull_baseline([get_shape("box")], settings=QUICK)
    >>> m["hull_iou"] > 0.9  # a box is convex: its hull is nearly exact
    True
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from perceptzoo.data import shapes as shape_data
from perceptzoo.data.shapes import Shape
from perceptzoo.implicit.common import EVAL_SEED, FULL, QUICK, EvalSettings, score_field

__all__ = ["FULL", "QUICK", "convex_hull_baseline", "hull_of_observation"]


class _Indicator(nn.Module):
    """What `score_field` needs of a model for a field that is an indicator: its level and
    side, and a device (from one unused parameter)."""

    level = 0.5
    inside = "above"

    def __init__(self) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1), requires_grad=False)


def hull_of_observation(shape: Shape, num_points: int = 300, noise: float = 0.005,
                        seed: int = 0):
    """The convex hull (a watertight trimesh.Trimesh) of `num_points` surface points of
    `shape` with N(0, noise^2) added to each coordinate."""
    import trimesh

    points, _ = shape.surface(num_points, seed=seed)
    g = torch.Generator().manual_seed(seed)
    noisy = points + noise * torch.randn(points.shape, generator=g)
    return trimesh.convex.convex_hull(noisy.double().numpy())


def convex_hull_baseline(shapes: list[Shape], num_points: int = 300, noise: float = 0.005,
                         settings: EvalSettings = FULL, seed: int = EVAL_SEED
                         ) -> dict[str, float]:
    """Mean metrics of the convex hulls of noisy observations of `shapes` (module docstring),
    each key prefixed with "hull_"; `settings` as the model's evaluation (FULL: 100,000 IoU
    points, 30,000 surface points)."""
    indicator = _Indicator()
    rows = []
    for i, shape in enumerate(shapes):
        hull = hull_of_observation(shape, num_points, noise, seed=seed + i)

        def field(p: torch.Tensor, hull=hull) -> torch.Tensor:
            return shape_data.inside(hull, p).float()

        rows.append(score_field(field, indicator, shape, settings, seed=i, mesh=hull))
    keys = sorted({k for r in rows for k in r} - {"no_surface"})
    return {f"hull_{k}": float(np.mean([r[k] for r in rows if k in r])) for k in keys}
