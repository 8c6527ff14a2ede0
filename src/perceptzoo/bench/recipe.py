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

#: The leaderboard tables. A result belongs to a table when its dataset is one of the table's
#: `datasets` (a name ending in ":" matches every dataset with that prefix; "*" any dataset
#: of the families in `families`) and it has one of the table's `figures` (the first one found is
#: the row's figure; `figures[0]` names the column). Rows sort by the figure, `better` first.
#: `extra` names further columns (precision, recall, the real-vs-real floor, ...).
TASKS: dict[str, dict[str, Any]] = {
    "binarized_mnist_nll": {
        "title": "Binarized MNIST: test NLL (nats)", "better": "lower",
        "figures": ("test_nll_nats",), "datasets": ("binarized_mnist",)},
    "mnist_bits_per_dim": {
        "title": "MNIST (256 levels): test bits/dim", "better": "lower",
        "figures": ("test_bits_per_dim",), "datasets": ("mnist",)},
    "mnist_sample_quality": {
        "title": "MNIST: sample quality (Fréchet distance in the project classifier's features)",
        "better": "lower", "figures": ("frechet_distance",), "datasets": ("mnist",),
        "extra": ("precision", "recall", "real_vs_real_frechet_distance",
                  "frechet_num_samples", "sampling_ms_per_image")},
    "fashion_mnist_sample_quality": {
        "title": "Fashion-MNIST: sample quality (Fréchet distance)", "better": "lower",
        "figures": ("frechet_distance",), "datasets": ("fashion_mnist",),
        "extra": ("precision", "recall", "real_vs_real_frechet_distance",
                  "frechet_num_samples", "sampling_ms_per_image")},
    "digits_sample_quality": {
        "title": "Digits (8x8, embedded): sample quality (Fréchet distance)", "better": "lower",
        "figures": ("frechet_distance",), "datasets": ("digits",),
        "extra": ("precision", "recall", "real_vs_real_frechet_distance",
                  "frechet_num_samples", "sampling_ms_per_image")},
    "digits_nll": {
        "title": "Digits (8x8, 17 levels): test NLL (nats)", "better": "lower",
        "figures": ("test_nll_nats",), "datasets": ("digits",)},
    "bars_stripes": {
        "title": "Bars and stripes 3x4 (exact entropy 3.091 nats): test NLL (nats)",
        "better": "lower", "figures": ("test_nll_nats",), "datasets": ("bars_stripes",)},
    "fsdd_bits_per_sample": {
        "title": "FSDD speech (8-bit mu-law): test bits per audio sample", "better": "lower",
        "figures": ("test_bits_per_sample", "test_bits_per_dim"), "datasets": ("fsdd",)},
    "rl": {
        "title": "Reinforcement learning: return (or success rate) on held-out episode seeds",
        "better": "higher", "per_dataset": True, "datasets": ("*",), "families": ("rl",),
        "figures": ("mean_return", "success_rate", "best_eval_mean_return",
                    "online_mean_return_last_100_episodes", "mean_imitation_reward"),
        "extra": ("steps_to_solve_median", "steps_per_s")},
    "shapes": {
        "title": "Shapes: Chamfer-L1 (normalised units), IoU, normal consistency",
        "better": "lower", "per_dataset": True, "datasets": ("*",), "families": ("implicit",),
        "figures": ("chamfer_l1", "test_chamfer_l1"),
        "extra": ("iou", "test_iou", "normal_consistency", "test_normal_consistency")},
    "gans3d_voxels": {
        "title": "Voxel 3D GANs: Fréchet distance of generated grids in the voxel classifier's "
                 "features (a classifier of the grid's resolution), 1,000 samples against the "
                 "real-vs-real floor of the same dataset at the same size",
        "better": "lower", "per_dataset": True, "datasets": (), "explicit_only": True,
        "figures": ("frechet_distance_voxel_classifier",),
        "extra": ("frechet_distance_real_vs_real_floor", "iou_to_nearest_train_mean",
                  "num_samples")},
    "gans3d_views": {
        "title": "3D GANs from 2D views (PlatonicGAN): Fréchet distance of the generated "
                 "volumes in the voxel classifier's features, against the real-vs-real floor",
        "better": "lower", "per_dataset": True, "datasets": (), "explicit_only": True,
        "figures": ("frechet_distance_voxel_classifier",),
        "extra": ("frechet_distance_real_vs_real_floor", "iou_to_nearest_train_mean",
                  "num_samples")},
    "gans3d_renders": {
        "title": "3D-aware image GANs: Fréchet distance of renders in the view classifier's "
                 "features, 10,000 against 10,000, beside the real-vs-real floor, and the "
                 "view-consistency error",
        "better": "lower", "per_dataset": True, "datasets": (), "explicit_only": True,
        "figures": ("frechet_distance_view_classifier",),
        "extra": ("frechet_distance_real_vs_real_floor", "view_consistency_error_mean")},
    "toy2d": {
        "title": "2D toys: MMD to held-out points (and NLL gap to the true density)",
        "better": "lower", "per_dataset": True, "datasets": ("toy2d:",),
        "figures": ("mmd",),
        "extra": ("real_vs_real_mmd", "gaussian_baseline_mmd", "test_nll_gap_nats",
                  "test_nll_nats")},
}

#: Suites `perceptzoo bench --suite` runs: quick (embedded data, minutes on a laptop CPU), full
#: (the CPU benchmarks, hours), gpu (recipes sized for one lent GPU).
SUITES = ("quick", "full", "gpu")


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
    """the key of TASKS whose table this recipe is made for (its result may appear in others
    too: a digits sampler with a likelihood is in the digits NLL and sample-quality tables)"""
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
    figure: str = ""
    """the metric that ranks this recipe's row (default: its task's; needed for a task that is
    not in TASKS, whose table is then made from the recipes that name it)"""
    ablation: str = ""
    """what this run takes away from its model's method ("K = 0: no unrolled steps"), if it
    is an ablation: its result stays in the model's details, but never takes the model's
    leaderboard row, whose figure is the method's own"""
    log_prob_of: str = "data"
    """what the model's `log_prob` scores: "data" (a likelihood of the image: its NLL and
    bits/dim go in the likelihood tables) or another word naming what it is of ("codes": a
    VQ-VAE's prior over its code grid), when the harness stores the NLL as
    `<split>_<word>_nll_nats` and drops the bits/dim, which would be no pixel likelihood.
    A model class may declare the same with a class attribute `log_prob_of`."""
