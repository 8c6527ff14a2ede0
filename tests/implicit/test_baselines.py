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
