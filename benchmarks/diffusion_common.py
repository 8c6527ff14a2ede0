"""Shared by the diffusion benchmarks: resumable training, cached samples, FD/PR, the classifier.

Every expensive stage writes its output under benchmarks/work/ and is skipped when that file
exists, so a killed benchmark continues where it stopped when run again.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import common
import torch
from common import WORK, data_dir

from perceptzoo.bench.metrics import class_accuracy as _class_accuracy
from perceptzoo.core import runner
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.metrics import classifier
from perceptzoo.metrics.frechet import frechet_distance, precision_recall
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = Path(__file__).resolve().parent / "figures"


def setup() -> None:
    torch.set_num_threads(1)
    data_dir()
    WORK.mkdir(parents=True, exist_ok=True)


def train_or_resume(name: str, out: Path, train_cfg: TrainConfig, overrides: dict,
                    dataset: str = "mnist") -> tuple[torch.nn.Module, float]:
    """Train (or finish training) a run through the runner; returns the model and its logged
    training time (s), summed over resumes."""
    run, seconds = common.train_or_resume(name, out, dataset=dataset,
                                          train=dataclasses.asdict(train_cfg),
                                          model_config=overrides)
    return runner.load(run), seconds


def cached(path: Path, compute):
    """torch.load(path) if it exists, else compute() saved to path (dict of tensors/floats)."""
    if path.exists():
        return torch.load(path, weights_only=True)
    value = compute()
    torch.save(value, path)
    return value


def timed_samples(path: Path, draw) -> dict:
    """{'samples': tensor, 'seconds': float} of draw(), cached at path."""
    def compute():
        start = time.time()
        samples = draw()
        return {"samples": samples, "seconds": time.time() - start}
    return cached(path, compute)


def wait_for_classifier(dataset: str = "mnist", timeout_s: float = 3600) -> bool:
    """Poll for the shipped feature classifier (it arrives during the session)."""
    start = time.time()
    while not classifier.has_classifier(dataset):
        if time.time() - start > timeout_s:
            return False
        print(f"waiting for metrics/weights/{dataset}.safetensors ...", flush=True)
        time.sleep(60)
    return True


def reference_images(dataset: str = "mnist", split: str = "test", n: int = 1000) -> torch.Tensor:
    """The real images a sample-quality figure compares against: the fixed random subset of
    the split that `perceptzoo.metrics.evaluate` uses (never the split's first n)."""
    from perceptzoo import data
    from perceptzoo.metrics.frechet import reference_subset

    x = data.load(dataset, split).x
    return x[reference_subset(len(x), n)]


def fd_pr(samples: torch.Tensor, reference: torch.Tensor, dataset: str = "mnist") -> dict:
    """Frechet distance, precision and recall of samples vs reference in classifier features."""
    f_fake = classifier.features(dataset, samples)
    f_real = classifier.features(dataset, reference)
    p, r = precision_recall(f_real, f_fake)
    return {"frechet_distance": round(frechet_distance(f_real, f_fake), 3),
            "precision": round(p, 4), "recall": round(r, 4)}


def class_accuracy(samples: torch.Tensor, labels: torch.Tensor, dataset: str = "mnist") -> float:
    """Fraction of samples the shipped classifier's head assigns to the asked-for label."""
    return _class_accuracy(dataset, samples, labels)


def save_figure(samples: torch.Tensor, name: str, num_levels: int = 256, nrow=None) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    save_grid(to_uint8(samples, num_levels), FIGURES / name, scale=2, nrow=nrow)
