"""The convex-hull reference: exact for convex shapes, blind to concavities, scored with the
evaluation's own metrics on the evaluation's observation seeds."""

from __future__ import annotations

import torch

from perceptzoo.data.shapes import get_shape
from perceptzoo.implicit.baselines import convex_hull_baseline, hull_of_observation
from perceptzoo.implicit.common import EvalSettings

SMALL = EvalSettings(resolution=32, surface_points=4000, iou_points=20_000, fit_steps=0,
                     fit_points=0)


def test_hull_is_nearly_exact_on_a_convex_shape_and_fills_a_torus_hole():
    box = convex_hull_baseline([get_shape("box")], num_points=2000, noise=0.0, settings=SMALL)
    torus = convex_hull_baseline([get_shape("torus")], num_points=2000, noise=0.0,
                                 settings=SMALL)
    assert box["hull_iou"] > 0.99  # Chamfer: 4,000 points per side put a floor near 0.013
    assert torus["hull_iou"] < 0.75  # the hole (and the concave inner ring) is filled
    assert torus["hull_chamfer_l1"] > 2 * box["hull_chamfer_l1"]
    noisy = convex_hull_baseline([get_shape("box")], num_points=2000, settings=SMALL)
    assert 0.85 < noisy["hull_iou"] < box["hull_iou"]  # noise only ever inflates the hull


def test_hull_sees_only_the_observed_points_with_their_noise():
    shape = get_shape("sphere")
    a, b = (hull_of_observation(shape, 50, noise=0.0, seed=s) for s in (0, 0))
    assert (a.vertices == b.vertices).all()  # same seed, same observation
    inscribed = hull_of_observation(shape, 50, noise=0.0, seed=0)
    radii = torch.as_tensor(inscribed.vertices).norm(dim=-1)
    assert (radii - 0.5).abs().max() < 1e-3  # its vertices are the observed surface points
    assert inscribed.volume < 4 / 3 * torch.pi * 0.5 ** 3  # 50 points: a smaller polytope
    noisy = hull_of_observation(shape, 50, noise=0.05, seed=0)
    assert (torch.as_tensor(noisy.vertices).norm(dim=-1) - 0.5).abs().max() > 0.01


def test_visual_hull_contains_the_shape_and_is_carved_by_the_masks():
    """Silhouette carving from DVR's own training views: every point deeper inside the shape
    than a pixel's footprint (~0.04 here) is kept (a carving that loses the object's inside
    has its projection wrong), and the hull of a convex box from 8 views is close to it (IoU),
    while the same masks mirrored carve away part of the box."""
    import numpy as np

    from perceptzoo.data.shapes import Shape, random_primitive, uniform_points
    from perceptzoo.implicit.baselines import visual_hull
    from perceptzoo.implicit.rendering import DVR, DVRConfig

    rng = np.random.default_rng(3)
    prim = next(p for p in iter(lambda: random_primitive(rng), None) if p.kind == "box")
    shape = Shape("box", prim.mesh(), prim)
    model = DVR(DVRConfig(hidden=16, layers=2, skip_layers=(), texture_hidden=8,
                          texture_layers=2, views=8, image_size=24))
    data = model.make_dataset([shape], seed=0)
    masks = data["mask"].reshape(8, 24, 24)
    pts = uniform_points(20000, torch.Generator().manual_seed(0))
    sdf = shape.analytic.sdf(pts)
    inside, deep = sdf < 0, sdf < -0.06
    hull = visual_hull(data["cameras"], masks)(pts) > 0.5
    assert bool(hull[deep].all())
    assert (hull & inside).sum() / (hull | inside).sum() > 0.65
    mirrored = visual_hull(data["cameras"], masks.flip(-1))(pts) > 0.5
    assert not bool(mirrored[deep].all())
