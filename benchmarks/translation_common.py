"""Shared by the translation studies (benchmarks/translation_*.py): the held-out edge -> digit
pairs and the figures computed on them, all in the project classifier's terms
(`perceptzoo.metrics.classifier`, the MNIST one), and the Fréchet distance of
`perceptzoo.metrics.frechet` (never a second FD).

- `l1`: mean |output - target| per pixel, grey levels scaled to [0, 1];
- `frechet_distance`: outputs for the first N test digits' edges against N *other* test digits
  (test[N:2N]), beside the real-vs-real floor (test[:N] against test[N:2N]) at the same size;
- `class_accuracy`: the classifier's label of each output equals the source digit's label
  (beside its accuracy on the real targets);
- `diversity`: mean pairwise L1 (grey levels in [0, 1]) between K outputs for one source.
"""

from __future__ import annotations

import itertools

import torch

from perceptzoo import data
from perceptzoo.data.paired import edge_source
from perceptzoo.metrics import classifier
from perceptzoo.metrics.frechet import frechet_distance

N = 1000


def test_pairs(n: int = N) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(edges, digits, labels, other digits): the first n test digits with their edge maps, and
    n other test digits (the FD reference)."""
    test = data.load("mnist", "test")
    x, y = test.x[:n], test.y[:n]
    return edge_source(x), x, y, test.x[n:2 * n]


@torch.no_grad()
def accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
    net = classifier.load_classifier("mnist")
    pred = torch.cat([net(images[i:i + 500].float()).argmax(1) for i in range(0, len(images), 500)])
    return float((pred == labels).float().mean())


def fd(images: torch.Tensor, reference: torch.Tensor) -> float:
    return frechet_distance(classifier.features("mnist", reference),
                            classifier.features("mnist", images.float()))


@torch.no_grad()
def edges_to_digits_figures(outputs: torch.Tensor, digits: torch.Tensor, labels: torch.Tensor,
                            other: torch.Tensor) -> dict[str, float]:
    return {
        "test_l1": round(float((outputs.float() - digits.float()).abs().mean() / 255), 5),
        "frechet_distance": round(fd(outputs, other), 3),
        "frechet_distance_real_floor": round(fd(digits, other), 3),
        "class_accuracy": round(accuracy(outputs, labels), 4),
        "class_accuracy_real": round(accuracy(digits, labels), 4),
        "num_samples": len(outputs),
    }


def diversity(outputs_per_source: torch.Tensor) -> float:
    """outputs (S, K, C, H, W) in grey levels: mean over sources of the mean pairwise L1 among
    the K outputs of one source, levels scaled to [0, 1]."""
    s, k = outputs_per_source.shape[:2]
    o = outputs_per_source.float().flatten(2) / 255
    pairs = list(itertools.combinations(range(k), 2))
    d = torch.stack([(o[:, i] - o[:, j]).abs().mean(1) for i, j in pairs], 1)
    return float(d.mean())
