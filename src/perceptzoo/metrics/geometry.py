"""Shape metrics between a reconstruction and the ground truth: Chamfer, IoU, normals, F-score.

All distances use a KD-tree (scipy's cKDTree) over the other point set. For point sets A (the
reconstruction, sampled on its surface) and B (the ground truth):

    accuracy     acc(A, B) = mean_{a in A} min_{b in B} ||a - b||
    completeness comp(A, B) = mean_{b in B} min_{a in A} ||a - b||
    Chamfer-L1   = (acc + comp) / 2                       (Occupancy Networks, Mescheder et
                                                           al. 2019, sec. 4, the "Chamfer-L1")
    Chamfer-L2   = mean_A min ||a-b||^2 + mean_B min ||a-b||^2   (DeepSDF, Park et al. 2019,
                                                           sec. 6: sum of the two directions)
    normal consistency = (mean_A |n_a . n_nn(a)| + mean_B |n_b . n_nn(b)|) / 2   (ONet)
    F-score@tau  = 2 P R / (P + R), P = frac of A within tau of B, R = frac of B within tau
                   of A (Tatarchenko et al. 2019, "What do single-view 3D reconstruction
                   networks learn?")
    volumetric IoU = |occ_A and occ_B| / |occ_A or occ_B| over the same query points (ONet)

Papers differ in scaling (ONet normalises shapes to a unit box; DeepSDF multiplies by 1000;
IGR reports one-directional means), so a figure is only comparable to a paper's when the shape
normalisation and the convention above match: the benchmark results say which.

    >>> import numpy as np
    >>> a = np.zeros((1, 3)); b = np.array([[0.0, 0.0, 0.5]])
    >>> chamfer(a, b)["chamfer_l1"]
    0.5
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def _as_points(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty (N, 3) array of points, got {x.shape}")
    return x


def nearest(query, reference) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each query point to its nearest reference point, and that point's index."""
    query, reference = _as_points(query, "query"), _as_points(reference, "reference")
    dist, idx = cKDTree(reference).query(query, k=1, workers=1)
    return dist, idx


def chamfer(pred, gt) -> dict[str, float]:
    """Accuracy, completeness, Chamfer-L1 (their mean) and Chamfer-L2 (sum of squared means)."""
    d_pg, _ = nearest(pred, gt)  # (N_pred,)
    d_gp, _ = nearest(gt, pred)  # (N_gt,)
    return {
        "accuracy": float(d_pg.mean()),
        "completeness": float(d_gp.mean()),
        "chamfer_l1": float(0.5 * (d_pg.mean() + d_gp.mean())),
        "chamfer_l2": float((d_pg**2).mean() + (d_gp**2).mean()),
    }


def normal_consistency(pred, pred_normals, gt, gt_normals) -> float:
    """Mean |cosine| between each point's normal and its nearest neighbour's, both ways."""
    pn = _unit(_as_points(pred_normals, "pred_normals"))
    gn = _unit(_as_points(gt_normals, "gt_normals"))
    _, i_pg = nearest(pred, gt)
    _, i_gp = nearest(gt, pred)
    a = np.abs((pn * gn[i_pg]).sum(-1)).mean()
    b = np.abs((gn * pn[i_gp]).sum(-1)).mean()
    return float(0.5 * (a + b))


def fscore(pred, gt, tau: float) -> dict[str, float]:
    """Precision, recall and F-score at distance threshold `tau` (same units as the points)."""
    d_pg, _ = nearest(pred, gt)
    d_gp, _ = nearest(gt, pred)
    p, r = float((d_pg < tau).mean()), float((d_gp < tau).mean())
    f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return {"precision": p, "recall": r, "fscore": f}


def volumetric_iou(occ_pred, occ_gt) -> float:
    """IoU of two occupancy labellings of the same query points (bool or 0/1 arrays)."""
    if hasattr(occ_pred, "detach"):
        occ_pred = occ_pred.detach().cpu().numpy()
    if hasattr(occ_gt, "detach"):
        occ_gt = occ_gt.detach().cpu().numpy()
    a, b = np.asarray(occ_pred).astype(bool), np.asarray(occ_gt).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"occupancies must label the same points, got {a.shape} and {b.shape}")
    union = np.logical_or(a, b).sum()
    if union == 0:
        return 1.0  # both empty: identical
    return float(np.logical_and(a, b).sum() / union)


def compare_surfaces(pred, pred_normals, gt, gt_normals, tau: float = 0.01) -> dict[str, float]:
    """Chamfer-L1/L2, accuracy, completeness, normal consistency and F-score@tau in one dict."""
    out = chamfer(pred, gt)
    out["normal_consistency"] = normal_consistency(pred, pred_normals, gt, gt_normals)
    out.update({f"{k}@{tau:g}": v for k, v in fscore(pred, gt, tau).items()})
    return out


def _unit(n: np.ndarray) -> np.ndarray:
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)


__all__ = ["chamfer", "compare_surfaces", "fscore", "nearest", "normal_consistency",
           "volumetric_iou"]


def mask_iou(pred, true):
    """Per-example intersection over union of boolean masks (B, ...), a (B,) float64 tensor;
    1 where both masks are empty (nothing to find, nothing found)."""
    pred, true = pred.flatten(1).bool(), true.flatten(1).bool()
    inter, union = (pred & true).sum(1).double(), (pred | true).sum(1).double()
    return (inter / union.clamp_min(1)).where(union > 0, inter.new_ones(()))
