"""Learning-free references for the held-out shapes a model is scored on: the convex hull of
the observed points, and the visual hull of one view.

Occupancy Networks' point-cloud task (Mescheder et al. 2019, sec. 4.2) sees 300 points on a
shape's surface with Gaussian noise (sigma 0.005 here, as `OccupancyConfig.input_noise`) and
must return the whole surface. The convex hull of those same points is what a method gets with
no shape prior at all: exact for a convex shape, filling every concavity (the ears of a bunny,
a torus's hole) otherwise. A learned model that does not beat it on a shape has not learned
that shape's class. `convex_hull_baseline` scores the hull with the same metrics and protocol
as `ImplicitField.evaluate_shapes` (`score_field`: Chamfer-L1, normal consistency, F-score,
volumetric IoU), observing shape i with the seed `EVAL_SEED + i` as the evaluation does.

The same hull of other observations (`hull_metrics`: one depth scan's points, the reference
of DeepSDF's shape completion), and for single-view reconstruction the single-view visual
hull (`view_cone`, `view_cone_metrics`): every box point that projects into the silhouette of
the view the image model sees; for multi-view reconstruction (DVR) the visual hull of all its
training views (`visual_hull`, `carving_baseline`).

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
from perceptzoo.errors import UserError
from perceptzoo.implicit.cameras import pixel_of
from perceptzoo.implicit.common import EVAL_SEED, FULL, QUICK, EvalSettings, score_field
from perceptzoo.implicit.mesh import extract_mesh

__all__ = ["FULL", "QUICK", "carving_baseline", "convex_hull_baseline", "hull_metrics",
           "hull_of_observation", "noisy_observation", "view_cone", "view_cone_metrics",
           "visual_hull"]


class _Indicator(nn.Module):
    """What `score_field` needs of a model for a field that is an indicator: its level and
    side, and a device (from one unused parameter)."""

    level = 0.5
    inside = "above"

    def __init__(self) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1), requires_grad=False)

    def extract(self, fn, resolution: int):
        """Marching cubes of the indicator at 0.5 (a staircase at the grid's resolution)."""
        return extract_mesh(fn, resolution, level=self.level, inside=self.inside)


def hull_of_observation(shape: Shape, num_points: int = 300, noise: float = 0.005,
                        seed: int = 0):
    """The convex hull (a watertight trimesh.Trimesh) of `num_points` surface points of
    `shape` with N(0, noise^2) added to each coordinate."""
    import trimesh

    return trimesh.convex.convex_hull(
        noisy_observation(shape, num_points, noise, seed).double().numpy())


def noisy_observation(shape: Shape, num_points: int = 300, noise: float = 0.005,
                      seed: int = 0) -> torch.Tensor:
    """`num_points` surface points (N, 3) of `shape` with N(0, noise^2) on each coordinate."""
    points, _ = shape.surface(num_points, seed=seed)
    g = torch.Generator().manual_seed(seed)
    return points + noise * torch.randn(points.shape, generator=g)


def convex_hull_baseline(shapes: list[Shape], num_points: int = 300, noise: float = 0.005,
                         settings: EvalSettings = FULL, seed: int = EVAL_SEED
                         ) -> dict[str, float]:
    """Mean metrics of the convex hulls of noisy observations of `shapes` (module docstring),
    each key prefixed with "hull_"; `settings` as the model's evaluation (FULL: 100,000 IoU
    points, 30,000 surface points)."""
    rows = []
    for i, shape in enumerate(shapes):
        observed = noisy_observation(shape, num_points, noise, seed=seed + i)
        rows.append(hull_metrics(observed, shape, settings, seed=i))
    keys = sorted({k for r in rows for k in r} - {"no_surface"})
    return {f"hull_{k}": float(np.mean([r[k] for r in rows if k in r])) for k in keys}


def hull_metrics(points: torch.Tensor, shape: Shape, settings: EvalSettings = FULL,
                 seed: int = 0) -> dict[str, float]:
    """`score_field`'s metrics of the convex hull of observed points (N, 3) against `shape`
    (seed: the evaluation's seed for shape i, i.e. i). Also the reference for DeepSDF's shape
    completion, where the points are one depth scan's (`deepsdf.depth_scan`)."""
    import trimesh

    if len(points) < 4:
        raise UserError(f"a convex hull needs at least 4 points, got {len(points)}")
    hull = trimesh.convex.convex_hull(points.double().numpy())

    def field(p: torch.Tensor) -> torch.Tensor:
        return shape_data.inside(hull, p).float()

    return score_field(field, _Indicator(), shape, settings, seed=seed, mesh=hull)


def visual_hull(cameras: torch.Tensor, masks: torch.Tensor, fov_deg: float = 40.0):
    """Silhouette carving, the visual hull (Laurentini 1994): an indicator, points (N, 3) ->
    1.0 where a point projects in front of every camera onto a pixel of its silhouette, else
    0.0 (a point behind a camera or off its image is carved). It is what the masks alone
    determine, with no learning: the largest shape consistent with the silhouettes, exact
    for a convex object seen from enough directions, filling the concavities no silhouette
    shows. cameras (V, 3, 4) camera-to-world as `cameras.camera_rays` takes them (pinhole
    looking down -z); masks (V, H, W) bool."""
    if cameras.ndim != 3 or masks.ndim != 3 or len(cameras) != len(masks):
        raise UserError(f"visual_hull needs cameras (V, 3, 4) and masks (V, H, W), got "
                        f"{tuple(cameras.shape)} and {tuple(masks.shape)}")
    _, h, w = masks.shape

    def field(p: torch.Tensor) -> torch.Tensor:
        inside = torch.ones(len(p), dtype=torch.bool, device=p.device)
        for c2w, mask in zip(cameras, masks):
            j, i, ok = pixel_of(p, c2w, h, w, fov_deg)
            seen = torch.zeros_like(inside)
            seen[ok] = mask.to(p.device)[j[ok], i[ok]].bool()
            inside &= seen
        return inside.float()

    return field


def view_cone(mask: torch.Tensor, c2w: torch.Tensor, fov_deg: float = 40.0):
    """The single-view visual hull of a silhouette `mask` (H, W) seen by camera c2w (3, 4):
    `visual_hull` of that one view."""
    return visual_hull(c2w[None], mask[None], fov_deg)


def carving_baseline(model, shape: Shape, seed: int = 0,
                     settings: EvalSettings = FULL) -> dict[str, float]:
    """The visual hull of the views and masks a multi-view model (DVR) trains on (its
    `make_dataset` with the run's `seed`), scored against `shape` by `score_field` with the
    full protocol, each key prefixed with "carving_": the baseline DVR must beat."""
    data = model.make_dataset([shape], seed=seed)
    size = model.cfg.image_size
    masks = data["mask"].reshape(len(data["cameras"]), size, size)
    scores = score_field(visual_hull(data["cameras"], masks, model.cfg.fov_deg), _Indicator(),
                         shape, settings, seed=0)
    return {f"carving_{k}": float(v) for k, v in scores.items() if k != "no_surface"}


def view_cone_metrics(mask: torch.Tensor, c2w: torch.Tensor, shape: Shape,
                      settings: EvalSettings = FULL, seed: int = 0,
                      fov_deg: float = 40.0) -> dict[str, float]:
    """`score_field`'s metrics of the single-view visual hull (`view_cone`, cut to the
    [-1, 1]^3 box by the evaluation grid) against `shape`: what the silhouette alone says,
    the learning-free reference of single-view reconstruction (the image ONet sees the same
    view)."""
    return score_field(view_cone(mask, c2w, fov_deg), _Indicator(), shape, settings,
                       seed=seed)
