"""Shape metrics on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from perceptzoo.metrics import geometry


def _sphere_points(n: int, seed: int, r: float = 1.0):
    x = np.random.default_rng(seed).normal(size=(n, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return r * x, x


def test_chamfer_of_identical_sets_is_zero_and_of_a_shift_is_the_shift():
    a, _ = _sphere_points(500, 0)
    assert geometry.chamfer(a, a)["chamfer_l1"] == 0.0
    single = np.zeros((1, 3))
    far = np.array([[0.0, 0.0, 0.3]])
    out = geometry.chamfer(single, far)
    assert out["chamfer_l1"] == pytest.approx(0.3)
    assert out["chamfer_l2"] == pytest.approx(2 * 0.09)


def test_chamfer_between_concentric_spheres_is_the_radius_gap():
    a, _ = _sphere_points(4000, 1, r=1.0)
    b, _ = _sphere_points(4000, 2, r=1.1)
    out = geometry.chamfer(a, b)
    assert out["chamfer_l1"] == pytest.approx(0.1, abs=0.02)  # sampling adds a little
    assert out["chamfer_l1"] >= 0.1 - 1e-9


def test_chamfer_is_asymmetric_in_its_parts():
    a, _ = _sphere_points(2000, 3)
    half = a[a[:, 2] > 0]  # accurate but incomplete
    out = geometry.chamfer(half, a)
    assert out["accuracy"] == 0.0 and out["completeness"] > 0.2


def test_normal_consistency():
    a, n = _sphere_points(1000, 4)
    assert geometry.normal_consistency(a, n, a, -n) == pytest.approx(1.0)  # sign-free
    ortho = np.cross(n, np.array([0.0, 0.0, 1.0]))
    ortho /= np.linalg.norm(ortho, axis=1, keepdims=True)
    assert geometry.normal_consistency(a, ortho, a, n) == pytest.approx(0.0, abs=1e-9)


def test_fscore_threshold():
    gt = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]])
    pred = gt + np.array([[0.05, 0, 0], [0.05, 0, 0], [0.5, 0, 0], [0.5, 0, 0]])
    out = geometry.fscore(pred, gt, tau=0.1)
    assert out["precision"] == 0.5 and out["recall"] == 0.5 and out["fscore"] == 0.5
    assert geometry.fscore(gt, gt, 0.01)["fscore"] == 1.0


def test_volumetric_iou():
    a = np.array([1, 1, 0, 0, 1], bool)
    b = np.array([1, 0, 0, 1, 1], bool)
    assert geometry.volumetric_iou(a, b) == pytest.approx(2 / 4)
    assert geometry.volumetric_iou(a, a) == 1.0
    with pytest.raises(ValueError):
        geometry.volumetric_iou(a, b[:3])


def test_compare_surfaces_and_bad_input():
    a, n = _sphere_points(500, 5)
    out = geometry.compare_surfaces(a, n, a, n, tau=0.01)
    assert out["chamfer_l1"] == 0 and out["normal_consistency"] == pytest.approx(1.0)
    assert out["fscore@0.01"] == 1.0
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        geometry.chamfer(np.zeros((4, 2)), a)
