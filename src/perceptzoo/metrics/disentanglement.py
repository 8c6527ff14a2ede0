"""Disentanglement scores of a representation against known generative factors.

- MIG, the mutual information gap (Chen et al., "Isolating Sources of Disentanglement in VAEs",
  NeurIPS 2018, eq. 6): for each factor v_k, the gap between the two latents that share the
  most information with it, normalised by its entropy, averaged over factors:

      MIG = 1/K sum_k (I(z_j(k); v_k) - max_{j != j(k)} I(z_j; v_k)) / H(v_k),

  with j(k) = argmax_j I(z_j; v_k). 1 when each factor is captured by one latent alone, 0 when
  none is or two latents share it equally. Chen et al. estimate I(z_j; v_k) from q(z_j | x);
  we use the histogram estimator of Locatello et al. 2019 (latent means discretized into
  `num_bins` equal-width bins), which is what most reported MIG numbers use.
- The beta-VAE metric (Higgins et al., ICLR 2017, section 3 and appendix): pick a factor k,
  draw L pairs of images that share factor k (all else random), average |z_1 - z_2| over the
  pairs; a linear classifier then predicts k from that average. The score is its accuracy on
  fresh batches (chance: 1/K).

    >>> import numpy as np
    >>> v = np.random.default_rng(0).integers(0, 4, size=(500, 2))
    >>> mig(v[:, ::-1].astype(float), v, num_bins=4)["mig"] > 0.98   # z = factors, swapped
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from perceptzoo.errors import UserError


def discretize(z: np.ndarray, num_bins: int) -> np.ndarray:
    """Each column of z (N, J) into `num_bins` equal-width bins: (N, J) int in 0..num_bins-1."""
    lo, hi = z.min(0), z.max(0)
    width = np.where(hi > lo, (hi - lo) / num_bins, 1.0)
    return np.clip(((z - lo) / width).astype(np.int64), 0, num_bins - 1)


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two discrete arrays (N,) from their joint histogram."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def entropy(a: np.ndarray) -> float:
    _, counts = np.unique(a, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mig(latents: np.ndarray | torch.Tensor, factors: np.ndarray | torch.Tensor, *,
        num_bins: int = 20) -> dict[str, float | list[float]]:
    """MIG of latents (N, J) (e.g. posterior means) against factor indices (N, K).

    Returns {"mig": mean gap, "mig_per_factor": [K gaps], "mi": [[I(z_j; v_k)] per factor]}.
    Factors with one value (entropy 0) are left out of the mean.
    """
    z, v = np.asarray(latents, dtype=np.float64), np.asarray(factors)
    if z.ndim != 2 or v.ndim != 2 or len(z) != len(v):
        raise UserError(f"mig needs latents (N, J) and factors (N, K) with the same N, got "
                        f"{z.shape} and {v.shape}")
    if z.shape[1] < 2:
        raise UserError("mig needs at least 2 latents (it is a gap between the top two)")
    zd = discretize(z, num_bins)
    gaps, table = [], []
    for k in range(v.shape[1]):
        h = entropy(v[:, k])
        mi = sorted((mutual_information(zd[:, j], v[:, k]) for j in range(z.shape[1])),
                    reverse=True)
        table.append([mutual_information(zd[:, j], v[:, k]) for j in range(z.shape[1])])
        if h > 0:
            gaps.append((mi[0] - mi[1]) / h)
    return {"mig": float(np.mean(gaps)), "mig_per_factor": [float(g) for g in gaps],
            "mi": table}


def beta_vae_score(encode: Callable[[torch.Tensor], torch.Tensor],
                   images_of: Callable[[np.ndarray], torch.Tensor],
                   factor_sizes: Sequence[int], *, pairs_per_point: int = 64,
                   num_train: int = 800, num_eval: int = 400, seed: int = 0) -> dict[str, float]:
    """The beta-VAE metric: accuracy of a linear classifier that names the fixed factor.

    encode: images (N, ...) -> latent means (N, J); images_of: factor indices (N, K) -> images.
    Each point: factor k uniformly, `pairs_per_point` pairs sharing v_k, z_diff = mean |z1-z2|.
    """
    from sklearn.linear_model import LogisticRegression

    if pairs_per_point < 1 or num_train < 2 or num_eval < 1:
        raise UserError("beta_vae_score needs pairs_per_point >= 1, num_train >= 2, num_eval >= 1")
    rng = np.random.default_rng(seed)
    sizes = np.asarray(factor_sizes)

    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        ks = rng.integers(0, len(sizes), n)
        v1 = rng.integers(0, sizes, size=(n, pairs_per_point, len(sizes)))
        v2 = rng.integers(0, sizes, size=(n, pairs_per_point, len(sizes)))
        v2[np.arange(n), :, ks] = v1[np.arange(n), :, ks]
        with torch.no_grad():
            z1 = encode(images_of(v1.reshape(-1, len(sizes)))).cpu().numpy()
            z2 = encode(images_of(v2.reshape(-1, len(sizes)))).cpu().numpy()
        diff = np.abs(z1 - z2).reshape(n, pairs_per_point, -1).mean(1)
        return diff, ks

    x_train, y_train = points(num_train)
    x_eval, y_eval = points(num_eval)
    classifier = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    return {"beta_vae_score": float(classifier.score(x_eval, y_eval)),
            "beta_vae_train_accuracy": float(classifier.score(x_train, y_train))}
