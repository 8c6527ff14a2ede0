"""RBM with 500 hidden units on the fixed binarized MNIST: CD-1, CD-25, PCD; AIS test log-lik.

    python benchmarks/rbm_binarized_mnist.py cd1   [--epochs 10]
    python benchmarks/rbm_binarized_mnist.py cd25  [--epochs 2]
    python benchmarks/rbm_binarized_mnist.py pcd   [--epochs 10]

Trains `rbm` through the runner (SGD, momentum 0.9, lr 0.05 decayed linearly to 0, batch 100,
weight decay 1e-4 on W, visible biases initialised at the data's log-odds), then scores the
full 10,000-image test split with log p(v) = -F(v) - log Z, log Z estimated by AIS with the
paper's schedule (100 runs, 14,500 intermediate distributions, base-rate model p_A), and draws
a grid of p(v | h) of 100 chains after 1,000 Gibbs steps to benchmarks/figures/ (no sample
FD: the project has no feature classifier for binarized MNIST).

Published (Salakhutdinov & Murray 2008, Table 2, "CD25(500)": test log-probability -86.34
nats with AIS; CD1(500): -125.53 as recalled, unverified). Their models were trained far longer
(the paper's CD-25 model for many more parameter updates on the 60,000-image set, with a
learning rate schedule tuned over weeks of CPU); ours are sized to ~15-25 minutes on one CPU
thread, so the gap measures the training budget as much as the algorithm. The run folder under
benchmarks/work/ makes training resumable: rerun the same command.
"""

from __future__ import annotations

import argparse
import json

import torch
from common import REPO, WORK, Timer, data_dir, logged_train_seconds, write_result

from perceptzoo.core import runner
from perceptzoo.metrics.evaluate import evaluate
from perceptzoo.viz.images import save_grid, to_uint8

VARIANTS = {
    "cd1": {"cd_k": 1, "persistent": False},
    "cd25": {"cd_k": 25, "persistent": False},
    "pcd": {"cd_k": 1, "persistent": True},
}
VERIFY = ("the -86.34 for CD25(500) is confirmed by a second source found with the search "
          "tool (natural_bm's demo docstring citing this paper); the table number and the CD1 "
          "row are as recalled from the paper and were not verified against its text")
PUBLISHED = {
    "cd1": {"test_nll_nats": 125.53,
            "source": "Salakhutdinov & Murray 2008, Table 2, row CD1(500): AIS test log-prob "
                      "-125.53 nats (unverified, see notes)"},
    "cd25": {"test_nll_nats": 86.34,
             "source": "Salakhutdinov & Murray 2008, Table 2, row CD25(500): AIS test log-prob "
                       "-86.34 nats"},
    "pcd": {"source": "no PCD(500) row in Salakhutdinov & Murray 2008"},
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("variant", choices=sorted(VARIANTS))
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    epochs = args.epochs or (2 if args.variant == "cd25" else 10)
    # the validation pass at the end of training uses a shorter AIS (2,000 betas); the test
    # figure below uses the paper's 14,500
    model_cfg = {"num_hidden": 500, "ais_betas": 2000, **VARIANTS[args.variant]}
    train_cfg = {"epochs": epochs, "batch_size": 100, "lr": args.lr, "schedule": "linear",
                 "weight_decay": 1e-4, "grad_clip": None, "seed": 0, "progress": False,
                 "eval_every": 10**9, "eval_examples": 500, "checkpoint_every": 500,
                 "num_samples": 64}
    out = WORK / f"rbm-binarized_mnist-{args.variant}"
    with Timer() as t:
        if (out / "model.safetensors").exists():
            pass  # trained: score it
        elif (out / "config.json").exists():
            runner.resume(out)
        else:
            runner.train("rbm", dataset="binarized_mnist", out=out, train_config=train_cfg,
                         model_overrides=model_cfg)
    train_seconds = logged_train_seconds(out)
    model = runner.load(out)
    model.cfg.ais_betas = 14500
    with Timer() as te:  # no sample metrics: there is no binarized-MNIST feature classifier
        metrics = evaluate(model, "binarized_mnist", "test", num_samples=0)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        grid = model.sample(100, generator=g, num_steps=1000, mean=True)
    figures = REPO / "benchmarks" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    save_grid(to_uint8(grid, None, (0.0, 1.0)), figures /
              f"rbm-binarized_mnist-{args.variant}-samples.png", scale=2, nrow=10)
    config = json.loads((out / "config.json").read_text())
    metrics = {k: v for k, v in metrics.items()}
    metrics["train_time_s"] = round(train_seconds, 1)
    metrics["eval_time_s"] = round(te.seconds, 1)
    metrics["epochs"] = epochs
    metrics["ais_runs"] = model.cfg.ais_runs
    metrics["ais_betas"] = model.cfg.ais_betas
    published = dict(PUBLISHED[args.variant])
    if "test_nll_nats" in published:
        published["comparable"] = (
            "same fixed binarization and AIS protocol; the paper trains on 60k images for far "
            f"more updates (ours: 50k images, {epochs} epochs, one CPU thread)")
    path = write_result(
        "rbm", "binarized_mnist", args.variant, config=config, metrics=metrics,
        published=published, wall_time_s=train_seconds + te.seconds,
        task="binarized_mnist_nll",
        notes=("test_nll_nats = -(mean log p(v)) with log Z from AIS (100 runs, 14,500 betas, "
               "base-rate p_A); test_log_z_low/high are the paper's log(r +/- 3 sd) bounds. "
               "AIS underestimates log Z in expectation when its weights are heavy-tailed, so "
               "the NLL can be optimistic. Samples: 1,000-step block Gibbs chains from the "
               "base-rate model; grid shows p(v|h) after 1,000 steps. Published figure: " + VERIFY),
    )
    print(path, json.dumps(metrics, indent=1), f"(this invocation {t.seconds:.0f} s train)")


if __name__ == "__main__":
    main()
