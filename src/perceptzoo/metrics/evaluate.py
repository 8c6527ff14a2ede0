"""Score a trained model on a dataset split: what `perceptzoo eval` prints.

- density models (`log_prob`): `<split>_nll_nats` per example and, on discrete data,
  `<split>_bits_per_dim`; on a 2D toy with an exact density also the data's own NLL and the gap.
- samplers on image data with a shipped classifier: `frechet_distance`, `precision`, `recall`
  of `num_samples` samples against as many test images, in the classifier's feature space.
- samplers on 2D toys: `mmd` (RBF kernel, see `perceptzoo.metrics.mmd`).
- a model may add its own figures with `extra_metrics(x) -> dict` (e.g. MADE's single mask).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from perceptzoo.metrics.likelihood import bits_per_dim


@torch.no_grad()
def mean_over_batches(model: nn.Module, x, y, batch_size: int, device) -> dict[str, float]:
    """Mean of `loss` (and of -log_prob for density models) over (x, y) in batches; one pass
    where the model's loss is its NLL (`loss_is_nll`)."""
    totals: dict[str, float] = {}
    loss_is_nll = hasattr(model, "loss") and getattr(model, "loss_is_nll", False)
    n = len(x)
    for start in range(0, n, batch_size):
        xb = x[start : start + batch_size].to(device)
        yb = None if y is None else y[start : start + batch_size].to(device)
        k = len(xb)
        values = {}
        if hasattr(model, "loss"):
            out = model.loss((xb, yb))
            values = {"loss": out.loss.item(), **{k: float(v) for k, v in out.metrics.items()}}
        if loss_is_nll:
            values["nll_nats"] = values["loss"]
        elif hasattr(model, "log_prob"):
            values["nll_nats"] = -model.log_prob(xb).mean().item()
        for key, v in values.items():
            totals[key] = totals.get(key, 0.0) + v * k
    return {k: v / n for k, v in totals.items()}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: str,
    split: str = "test",
    *,
    data_dir=None,
    num_samples: int = 1000,
    batch_size: int = 500,
    seed: int = 0,
) -> dict[str, float]:
    from perceptzoo import data
    from perceptzoo.data import toy2d
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance, precision_recall, reference_subset
    from perceptzoo.metrics.mmd import mmd_rbf

    model.eval()
    device = next(iter(model.parameters())).device
    ds = data.load(dataset, split, data_dir)
    info = ds.info
    results: dict[str, float] = {}
    start = time.time()
    if hasattr(model, "log_prob"):
        nll = torch.cat([-model.log_prob(ds.x[i : i + batch_size].to(device)).cpu()
                         for i in range(0, len(ds), batch_size)])
        results[f"{split}_nll_nats"] = float(nll.mean())
        if info.num_levels is not None:
            results[f"{split}_bits_per_dim"] = float(bits_per_dim(nll.mean(), info.num_dims))
        toy = info.name.split(":", 1)[1] if info.name.startswith("toy2d:") else None
        if toy and toy2d.has_log_prob(toy):
            true_nll = -toy2d.log_prob(toy, ds.x).mean()
            results[f"{split}_true_nll_nats"] = float(true_nll)
            results[f"{split}_nll_gap_nats"] = float(nll.mean() - true_nll)
    if hasattr(model, "extra_metrics"):
        for k, v in model.extra_metrics(ds.x.to(device)).items():
            results[f"{split}_{k}"] = float(v)
    results["likelihood_time_s"] = time.time() - start
    if hasattr(model, "sample") and num_samples > 0:
        start = time.time()
        g = torch.Generator(device=device).manual_seed(seed)
        samples = torch.cat([
            model.sample(min(batch_size, num_samples - i), generator=g).cpu()
            for i in range(0, num_samples, batch_size)
        ])
        results["sampling_time_s"] = time.time() - start
        if info.name.startswith("toy2d:"):  # i.i.d. draws: the first n are a random subset
            reference = ds.x[:num_samples]
            results["mmd"] = mmd_rbf(samples.flatten(1)[:2000], reference.flatten(1)[:2000])
        elif classifier.has_classifier(info.name):
            reference = ds.x[reference_subset(len(ds), num_samples)]
            samples = samples.reshape(-1, *info.data_shape)
            if info.num_levels is not None:
                samples = samples.round().clamp(0, info.num_levels - 1)
            f_fake = classifier.features(info.name, samples)
            f_real = classifier.features(info.name, reference)
            results["frechet_distance"] = frechet_distance(f_real, f_fake)
            results["precision"], results["recall"] = precision_recall(f_real, f_fake)
    return {k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v)
            for k, v in results.items()}
