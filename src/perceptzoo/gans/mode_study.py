"""Mode coverage over seeds: the `perceptzoo bench` study of the toy-mixture GAN recipes.

The harness trains a recipe once (seed 0) into its run folder; `mode_study(run_dir)` trains the
same model and training config again with seeds 1 and 2 into `run_dir/seed1`, `run_dir/seed2`
(resumed from their checkpoints when an earlier attempt was stopped), draws 2,500 samples from
each and scores them with `perceptzoo.metrics.modes.mode_coverage` (Metz et al. 2017's ring and
the 25-Gaussian grid: a mode is covered when it holds >= N / (100 K) samples within 3 std of its
centre). Its figures:

    mode_recall              modes covered / modes, mean over the seeds (the table's figure)
    modes_covered_mean       and modes_covered_per_seed
    high_quality_fraction_mean, high_quality_fraction_per_seed
    mode_kl_per_seed         KL(mode histogram || uniform) of the high-quality samples
    train_time_s_per_seed    each seed's training time (the Trainer's own clock)
    gaussian_baseline_modes_covered, gaussian_baseline_high_quality_fraction
                             the same scores of a sampler that learned nothing but the data's
                             mean and covariance (one Gaussian): on the grid of 25 (std 0.1,
                             spacing 1) it covers all 25 modes with ~0.24 high-quality
                             samples, so "all modes covered" means little there unless the
                             high-quality fraction rises above it

    >>> from perceptzoo.gans.mode_study import SEEDS
    >>> SEEDS
    (0, 1, 2)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from perceptzoo.errors import UserError
from perceptzoo.metrics.modes import mode_coverage

SEEDS = (0, 1, 2)
NUM_SAMPLES = 2500
#: config fields filled from the dataset; not passed back as overrides
_FROM_DATA = ("data_shape", "num_levels", "num_classes")


def train_seed(run_dir: Path, seed: int) -> Path:
    """The run of `run_dir`'s model and training config with another seed, in run_dir/seed<N>
    (trained, resumed or reused when finished)."""
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    if seed == 0:
        return run_dir
    config = runner.read_config(RunDir(run_dir))
    out = run_dir / f"seed{seed}"
    if (out / "model.safetensors").exists():
        return out
    if RunDir(out).has_checkpoint():
        runner.resume(out)
        return out
    shutil.rmtree(out, ignore_errors=True)  # stopped before its first checkpoint
    overrides = {k: v for k, v in config["model_config"].items() if k not in _FROM_DATA}
    train = {**config["train"], "seed": seed, "progress": False, "num_samples": 0}
    runner.train(config["model"], dataset=config["dataset"], out=out, train_config=train,
                 model_overrides=overrides, data_dir=config.get("data_dir"))
    return out


def gaussian_baseline(dataset: str, num_samples: int = NUM_SAMPLES, *,
                      data_dir: str | None = None, seed: int = 0) -> dict[str, float]:
    """Mode coverage of `num_samples` draws from the Gaussian with the training split's mean
    and covariance (`bench.metrics.mmd_references` reads the MMD against the same baseline)."""
    from perceptzoo import data

    train = data.load(dataset, "train", data_dir).x.double()
    chol = torch.linalg.cholesky(torch.cov(train.T))
    g = torch.Generator().manual_seed(seed)
    x = train.mean(0) + torch.randn(num_samples, 2, generator=g, dtype=torch.float64) @ chol.T
    return mode_coverage(x, dataset.split(":", 1)[1])


def mode_study(run_dir: str | Path, *, seeds: tuple[int, ...] = SEEDS,
               num_samples: int = NUM_SAMPLES) -> dict[str, Any]:
    """Mode coverage of the run in `run_dir` and of its other seeds (see the module doc)."""
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    run_dir = Path(run_dir)
    config = runner.read_config(RunDir(run_dir))
    dataset = config["dataset"]
    if not dataset.startswith("toy2d:"):
        raise UserError(f"mode_study scores the 2D toy mixtures, not {dataset}; use it on a "
                        f"toy2d:8gaussians or toy2d:25gaussians run")
    toy = dataset.split(":", 1)[1]
    scores, times = [], []
    for seed in seeds:
        out = train_seed(run_dir, seed)
        model = runner.load(out)
        x = model.sample(num_samples, generator=torch.Generator().manual_seed(1234 + seed))
        scores.append(mode_coverage(x, toy))
        logged = [r["time_s"] for r in RunDir(out).read_metrics() if "time_s" in r]
        times.append(round(float(logged[-1]), 1) if logged else None)  # the Trainer's clock
    modes = [s["modes_covered"] for s in scores]
    hq = [s["high_quality_fraction"] for s in scores]
    k = scores[0]["num_modes"]
    base = gaussian_baseline(dataset, num_samples, data_dir=config.get("data_dir"))
    return {"mode_recall": round(sum(modes) / (len(modes) * k), 4),
            "modes_covered_mean": round(sum(modes) / len(modes), 3),
            "modes_covered_per_seed": modes, "num_modes": k,
            "high_quality_fraction_mean": round(sum(hq) / len(hq), 4),
            "high_quality_fraction_per_seed": [round(h, 4) for h in hq],
            "mode_kl_per_seed": [round(s["mode_kl"], 4) if s["mode_kl"] < float("inf")
                                 else None for s in scores],
            "seeds": list(seeds), "mode_samples": num_samples,
            "train_time_s_per_seed": times,
            "gaussian_baseline_modes_covered": base["modes_covered"],
            "gaussian_baseline_high_quality_fraction": round(base["high_quality_fraction"], 4)}
