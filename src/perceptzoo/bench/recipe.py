"""A benchmark recipe: what to train, how long, how to score it, and the published figure.

Recipes are data. Each family keeps its recipes in `perceptzoo/bench/recipes/<family>.py` as a
module-level list `RECIPES`; `perceptzoo bench` runs them through the one run path
(`perceptzoo.core.runner`) and writes `benchmarks/results/<name>.json`.

    Recipe(
        name="vae-binarized_mnist", model="vae", dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={"latent_dim": 50}, train={"epochs": 20, "batch_size": 100},
        evaluate={"split": "test", "num_samples": 1000},
        published=Published({"test_nll_nats": 85.54}, "Burda et al. 2016, Table 1, row ...",
                            comparable="they resample the binarization; we use the fixed one"),
        suites=("full",), minutes=30,
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: The leaderboard tables. A recipe's `task` names one; its `figure` is the sort key.
TASKS: dict[str, dict[str, str]] = {
    "binarized_mnist_nll": {"figure": "test_nll_nats", "better": "lower",
                            "title": "Binarized MNIST: test NLL (nats)"},
    "mnist_bits_per_dim": {"figure": "test_bits_per_dim", "better": "lower",
                           "title": "MNIST: test bits/dim"},
    "mnist_sample_quality": {"figure": "frechet_distance", "better": "lower",
                             "title": "MNIST: sample quality (Fréchet distance)"},
    "fashion_mnist_sample_quality": {"figure": "frechet_distance", "better": "lower",
                                     "title": "Fashion-MNIST: sample quality"},
    "digits_sample_quality": {"figure": "frechet_distance", "better": "lower",
                              "title": "Digits (8x8): sample quality"},
    "fsdd_bits_per_sample": {"figure": "test_bits_per_dim", "better": "lower",
                             "title": "FSDD: bits per audio sample"},
    "rl": {"figure": "mean_return", "better": "higher", "title": "Reinforcement learning"},
    "shapes": {"figure": "chamfer_l1", "better": "lower", "title": "Shapes: Chamfer-L1"},
    "toy2d": {"figure": "mmd", "better": "lower", "title": "2D toys: MMD"},
}


@dataclass(frozen=True)
class Published:
    """A figure from a paper: the metrics, where it is (paper, table, row) and how comparable."""

    metrics: dict[str, float]
    source: str
    comparable: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str
    """unique; the result is benchmarks/results/<name>.json"""
    model: str
    dataset: str
    task: str
    """a key of TASKS (or a new table's name)"""
    model_config: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    """TrainConfig options (steps or epochs, batch_size, lr, ...)"""
    evaluate: dict[str, Any] = field(default_factory=dict)
    """keyword arguments of `runner.evaluate` (split, num_samples, num_episodes, num_shapes)"""
    published: Published | None = None
    suites: tuple[str, ...] = ("full",)
    """quick | full | gpu"""
    minutes: float = 10.0
    """the training budget on the suite's machine"""
    device: str = "cpu"
    variant: str = ""
    study: Callable[[Any], dict[str, Any]] | None = None
    """optional extra figures: study(run_dir) -> metrics (a sweep, a peer comparison)"""
    notes: str = ""
