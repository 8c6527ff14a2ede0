"""Generative Stochastic Network on 2-D toys (MMD) and MNIST (sample Frechet distance).

    python benchmarks/gsn_toy2d_mnist.py toy2d:8gaussians  [--steps 3000]
    python benchmarks/gsn_toy2d_mnist.py toy2d:moons
    python benchmarks/gsn_toy2d_mnist.py mnist              [--steps 2500]

Trains `gsn` through the runner (AdamW 1e-3, cosine schedule). Toys: an MLP of 3 x 128 ReLU
units, Gaussian corruption sigma = 0.5, a 4-component Gaussian-mixture reconstruction, batch
256; scored by MMD^2 (RBF, `perceptzoo.metrics.mmd`) of 1,000 chain samples (200 steps from
N(0, I)) against 1,000 test points, beside two references at the same sizes: the data itself
(train vs test, the floor) and the moment-matched Gaussian (a mis-specified model).
MNIST: 2 x 500 ReLU units, salt-and-pepper corruption 0.4, Bernoulli reconstruction, batch 100;
1,000 samples (the last reconstruction's means after 200 chain steps from fair coins) scored
by Frechet distance / precision / recall in the project classifier's features, with the
real-vs-real floor. No published figure is comparable: Bengio et al. 2014 report Parzen-window
log-likelihoods on MNIST, a measure this project does not use.
"""

from __future__ import annotations

import argparse
import json

import torch
from common import REPO, WORK, Timer, data_dir, logged_train_seconds, write_result

from perceptzoo import data
from perceptzoo.core import runner
from perceptzoo.metrics.mmd import mmd_rbf
from perceptzoo.viz.images import save_grid, save_scatter, to_uint8


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dataset", choices=["toy2d:8gaussians", "toy2d:moons", "mnist"])
    p.add_argument("--steps", type=int, default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    image = args.dataset == "mnist"
    if image:
        model_cfg = {"hidden_sizes": [500, 500], "noise_level": 0.4, "sample_steps": 200}
        train_cfg = {"steps": args.steps or 2500, "batch_size": 100}
    else:
        model_cfg = {"hidden_sizes": [128, 128, 128], "noise_level": 0.5, "num_components": 4,
                     "sample_steps": 200}
        train_cfg = {"steps": args.steps or 3000, "batch_size": 256}
    train_cfg.update(lr=1e-3, seed=0, progress=False, eval_every=10**9, eval_examples=1000,
                     checkpoint_every=250, num_samples=64)
    name = args.dataset.replace(":", "_")
    out = WORK / f"gsn-{name}"
    if (out / "model.safetensors").exists():
        pass
    elif (out / "config.json").exists():
        runner.resume(out)
    else:
        runner.train("gsn", dataset=args.dataset, out=out, train_config=train_cfg,
                     model_overrides=model_cfg)
    train_seconds = logged_train_seconds(out)
    figures = REPO / "benchmarks" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    with Timer() as te:
        metrics = runner.evaluate(out, split="test", num_samples=1000)
        model = runner.load(out)
        samples = model.sample(1000 if not image else 100,
                               generator=torch.Generator().manual_seed(1))
        if image:
            from perceptzoo.bench.metrics import real_vs_real

            metrics.update(real_vs_real("mnist", 1000, split="test"))
            save_grid(to_uint8(samples, 256), figures / "gsn-mnist-samples.png", scale=2,
                      nrow=10)
        else:
            train = data.load(args.dataset, "train").x
            test = data.load(args.dataset, "test").x[:1000]
            g = torch.Generator().manual_seed(2)
            gauss = train.mean(0) + torch.randn(1000, 2, generator=g) @ torch.linalg.cholesky(
                torch.cov(train.T)).T
            metrics["mmd_data_vs_data"] = mmd_rbf(train[:1000], test)
            metrics["mmd_gaussian_baseline"] = mmd_rbf(gauss, test)
            save_scatter(samples, figures / f"gsn-{name}-samples.png")
    metrics["train_time_s"] = round(train_seconds, 1)
    metrics["eval_time_s"] = round(te.seconds, 1)
    config = json.loads((out / "config.json").read_text())
    path = write_result(
        "gsn", args.dataset, None, config=config, metrics=metrics,
        published={"source": "no comparable published figure (Bengio et al. 2014 report "
                             "Parzen-window log-likelihoods)"},
        wall_time_s=train_seconds + te.seconds, task="mnist_sample_quality" if image else "toy2d",
        notes=("samples: independent corrupt/denoise chains, 200 steps from broad noise"
               + ("; image samples are the last reconstruction's means" if image else
                  "; mmd is MMD^2 (unbiased, RBF) vs 1,000 test points")),
    )
    print(path, json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
