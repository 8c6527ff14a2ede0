"""Sample-quality figures that mean something: the real-vs-real floor at the same sample size,
and class accuracy of conditional samples.

A Fréchet distance between two finite samples is biased upwards, and the bias grows as the
sample shrinks (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to
find them", Sec. 3: FID_N = FID_inf + k/N). So a figure is only readable beside the distance
between two sets of *real* images of the same sizes in the same features: the floor that a
perfect model would reach. `perceptzoo.metrics.evaluate.evaluate` compares `num_samples` model
samples with the first `num_samples` images of the split (all of them when the split is smaller);
`real_vs_real` puts the same number of training images in the samples' place.

    floor = real_vs_real("mnist", num_samples=1000)      # {"real_vs_real_frechet_distance": ...}
    acc = class_accuracy("mnist", samples, labels)       # fraction the classifier agrees with
"""

from __future__ import annotations

from pathlib import Path

import torch

from perceptzoo.errors import UserError


def real_vs_real(dataset: str, num_samples: int, *, split: str = "test",
                 data_dir: str | Path | None = None) -> dict[str, float]:
    """Fréchet distance, precision and recall of `num_samples` training images (a fixed random
    subset) against the reference `evaluate` uses (a fixed random subset of `split`, see
    `perceptzoo.metrics.frechet.reference_subset`), in the project
    classifier's features: the floor of a model's figure at the same sample sizes.

    Returns `real_vs_real_frechet_distance`, `real_vs_real_precision`, `real_vs_real_recall`,
    and the sizes `frechet_num_samples`, `frechet_num_reference`.
    """
    from perceptzoo import data
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance, precision_recall, reference_subset

    if not classifier.has_classifier(dataset):
        raise UserError(f"no feature classifier ships for {dataset!r}, so it has no Fréchet "
                        "distance; train one with `python benchmarks/train_classifiers.py`")
    held = data.load(dataset, split, data_dir).x
    reference = held[reference_subset(len(held), num_samples)]
    train = data.load(dataset, "train", data_dir).x
    if len(train) < num_samples:
        raise UserError(f"{dataset} has {len(train)} training images, fewer than the "
                        f"{num_samples} samples asked for; draw at most {len(train)} samples")
    f_ref = classifier.features(dataset, reference)
    f_real = classifier.features(dataset, train[reference_subset(len(train), num_samples)])
    precision, recall = precision_recall(f_ref, f_real)
    return {"real_vs_real_frechet_distance": round(frechet_distance(f_ref, f_real), 6),
            "real_vs_real_precision": round(precision, 6),
            "real_vs_real_recall": round(recall, 6),
            "frechet_num_samples": num_samples, "frechet_num_reference": len(reference)}


@torch.no_grad()
def class_accuracy(dataset: str, samples: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of conditional `samples` (N, C, H, W) in the dataset's levels that the project
    classifier assigns to the class they were drawn for (`labels`, N)."""
    from perceptzoo.metrics import classifier

    if len(samples) != len(labels):
        raise UserError(f"{len(samples)} samples but {len(labels)} labels; pass one label per "
                        "sample")
    net = classifier.load_classifier(dataset)
    predicted = torch.cat([net(samples[i : i + 500].cpu()).argmax(-1)
                           for i in range(0, len(samples), 500)])
    return float((predicted == labels.cpu()).float().mean())


def sample_size(suite: str, dataset: str, data_dir: str | Path | None = None) -> int:
    """Samples for the Fréchet distance: 10,000 in the full and GPU suites, 1,000 in the quick
    one, never more than the training split holds (the floor needs as many real images)."""
    from perceptzoo import data

    wanted = 1_000 if suite == "quick" else 10_000
    return min(wanted, len(data.load(dataset, "train", data_dir)))


def affordable_samples(draw, train_seconds: float, wanted: int, *, fraction: float = 0.2,
                       probe: int = 8) -> int:
    """How many samples an end-of-run evaluation can draw in `fraction` of the training time:
    times `draw(probe)` once and returns min(wanted, what fits), 0 when not even the probe's
    worth fits. `perceptzoo train` sizes its default evaluation this way
    (`perceptzoo.core.runner.affordable_samples`; `--full-eval` draws every sample).

        n = affordable_samples(lambda k: model.sample(k), train_seconds=90, wanted=1000)
    """
    from perceptzoo.core.runner import affordable_samples as fit

    return fit(draw, fraction * train_seconds, wanted, probe=probe)


def mmd_references(dataset: str, num_samples: int, *, split: str = "test",
                   data_dir: str | Path | None = None, seed: int = 2) -> dict[str, float]:
    """The two references a 2D toy's MMD reads against, at the sizes `evaluate` uses (its
    samples against the first min(num_samples, 2000) points of `split`): the floor, as many
    *training* points in the samples' place (`real_vs_real_mmd`, about 0 for unbiased MMD^2),
    and a mis-specified model, the Gaussian with the training data's mean and covariance
    (`gaussian_baseline_mmd`): a model that does not beat it has not learned the shape."""
    from perceptzoo import data
    from perceptzoo.metrics.mmd import mmd_rbf

    reference = data.load(dataset, split, data_dir).x[: min(num_samples, 2000)].flatten(1)
    train = data.load(dataset, "train", data_dir).x.flatten(1).double()
    n = min(len(reference), len(train))
    g = torch.Generator().manual_seed(seed)
    chol = torch.linalg.cholesky(torch.cov(train.T))
    gauss = (train.mean(0) + torch.randn(n, train.shape[1], generator=g,
                                         dtype=torch.float64) @ chol.T).to(reference.dtype)
    return {"real_vs_real_mmd": round(float(mmd_rbf(train[:n].to(reference.dtype),
                                                     reference)), 6),
            "gaussian_baseline_mmd": round(float(mmd_rbf(gauss, reference)), 6),
            "mmd_num_samples": n}
