"""Every autoregressive model on the embedded 8x8 digits (17 grey levels): test bits/dim.

    python benchmarks/autoregressive_digits.py fvsbn nade pixelcnn gated_pixelcnn pixelrnn \
        transformer --steps 800
    python benchmarks/autoregressive_digits.py tabular    # on bars_stripes (digits are too big)

Each model trains with its default (small) config, batch 64, one torch thread, into
benchmarks/work/<model>-digits, then `perceptzoo.metrics.evaluate` scores the 360 test digits
(NLL, bits/dim) and 1000 samples (Frechet distance, precision, recall in the shipped digits
classifier's feature space). The gated PixelCNN is class-conditional on digits: its figure is
the exact marginal log mean_y p(x | y). Results: benchmarks/results/<model>-digits.json; sample
grids: benchmarks/figures/autoregressive_<model>_digits.png. The table of these files ranks
the family on the same data. No paper reports these figures (digits are this project's
embedded dataset).

The tabular model cannot hold 17^63 parameters: it runs on bars_stripes (3x4 binary, 22
equally likely patterns), where the exact fit should reach the data entropy log 22 nats.
"""

from __future__ import annotations

import argparse
import shutil
import time

import torch
from common import WORK, Timer, write_result

import perceptzoo
from perceptzoo.core.config import to_dict
from perceptzoo.core.runs import RunDir
from perceptzoo.core.trainer import TrainConfig, resume, train
from perceptzoo.metrics.evaluate import evaluate

LR = {"fvsbn": 1e-2, "tabular": 0.0}


def run(name: str, steps: int) -> None:
    dataset = "bars_stripes" if name == "tabular" else "digits"
    out = WORK / f"{name}-{dataset}"
    if name == "tabular":  # exact ML by counting: one pass over the data
        cfg = TrainConfig(epochs=1, batch_size=100, progress=False, num_samples=64)
    else:
        cfg = TrainConfig(steps=steps, batch_size=64, lr=LR.get(name, 2e-3), eval_every=200,
                          eval_examples=180, checkpoint_every=200, num_samples=64,
                          progress=False, log_every=50)
    with Timer() as t:
        if (out / "config.json").exists():
            resume(out)
        else:
            train(name, dataset=dataset, out=out, train_config=cfg)
    model = perceptzoo.load(out)
    start = time.time()
    metrics = evaluate(model, dataset, "test", num_samples=1000 if dataset == "digits" else 0)
    eval_s = time.time() - start
    shutil.copy(out / "samples.png",
                WORK.parent / "figures" / f"autoregressive_{name}_{dataset}.png")
    published: dict = {"source": "none: digits are this project's embedded dataset"}
    notes = f"CPU budget: {cfg.steps if cfg.epochs is None else f'{cfg.epochs} epoch'} steps of " \
            "batch 64 on one shared core, default model config."
    if name == "tabular":
        from perceptzoo.data.bars_stripes import entropy_nats

        metrics["data_entropy_nats"] = round(entropy_nats(), 6)
        metrics["gap_to_entropy_nats"] = round(metrics["test_nll_nats"] - entropy_nats(), 6)
        published = {"test_nll_nats": round(entropy_nats(), 4),
                     "source": "exact: entropy of the uniform distribution over the 22 "
                               "bars-and-stripes patterns"}
        notes = "exact ML fit by counting, one epoch over the 2,000 training draws"
    config = RunDir(out).read_config()
    path = write_result(name, dataset, None,
                        config={"model": config["model_config"], "train": to_dict(cfg)},
                        metrics={**metrics, "train_time_s": round(t.seconds, 1),
                                 "eval_time_s": round(eval_s, 1)},
                        published=published, wall_time_s=t.seconds + eval_s, notes=notes)
    print(path, metrics, flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="+")
    p.add_argument("--steps", type=int, default=800)
    args = p.parse_args()
    torch.set_num_threads(1)
    for name in args.models:
        run(name, args.steps)


if __name__ == "__main__":
    main()
