"""SRFlow on MNIST 4x super-resolution (7x7 -> 28x28): PSNR of the sample mean, diversity.

Trains `srflow` on MNIST (CPU budget run), then on the first 200 test digits draws 8
super-resolutions each at temperature 0.8 and reports: PSNR of their mean (dB, [0,1] scale),
average PSNR of single samples, diversity (mean per-pixel std across the 8 samples), the
bicubic-upsampling baseline's PSNR, the low-res consistency of the samples, and the
conditional bits/dim log p(x | u). Figure: benchmarks/figures/flows_srflow_mnist.png, one
column per digit; rows: low-res input (nearest upsampled), ground truth, bicubic, 5 samples,
sample mean. Published: SRFlow reports DIV2K/CelebA figures only (Lugmayr et al. 2020, Tables
1-2); there is no published MNIST figure, so the bicubic baseline is the reference here.

    python benchmarks/flows_srflow_mnist.py [--steps 1500]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from common import REPO, WORK, Timer, data_dir, train_or_resume, write_result

from perceptzoo import data
from perceptzoo.core import runner
from perceptzoo.metrics.evaluate import evaluate
from perceptzoo.viz.images import save_grid, to_uint8

MODEL = dict(hidden=32, num_steps=4, num_scales=2, cond_features=16, logit_alpha=0.05)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1500)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    train = dict(steps=args.steps, batch_size=64, lr=1e-3, warmup_steps=100)
    train.update(eval_every=500, eval_examples=500, checkpoint_every=100, progress=False,
                 num_samples=64)
    out = WORK / "flows_srflow_mnist"
    start = time.time()
    with Timer() as t:
        run, _ = train_or_resume("srflow", out, dataset="mnist", train=train,
                                 model_config=MODEL)
    model = runner.load(run)
    torch.manual_seed(0)
    metrics = evaluate(model, "mnist", "test", num_samples=0)
    # the figure
    x = data.load("mnist", "test").x[:10]
    lr = model.low_res(x)
    g = torch.Generator().manual_seed(1)
    samples = torch.stack([model.sample(10, cond=lr, generator=g, temperature=0.8)
                           for _ in range(5)])
    up = lambda v: F.interpolate(v, size=(28, 28), mode=("nearest"))  # noqa: E731
    bicubic = F.interpolate(lr, size=(28, 28), mode="bicubic", align_corners=False).clamp(0, 1)
    rows = [up(lr) * 255, x.float(), bicubic * 255, *samples, samples.mean(0)]
    save_grid(to_uint8(torch.cat(rows), 256), REPO / "benchmarks" / "figures" /
              "flows_srflow_mnist.png", scale=2, nrow=10)
    print(metrics, flush=True)
    keep = {k.replace("test_bits_per_dim", "test_conditional_bits_per_dim")
             .replace("test_nll_nats", "test_conditional_nll_nats"): v
            for k, v in metrics.items() if not k.endswith("time_s")}
    write_result(
        "srflow", "mnist", "4x",
        config={"model": MODEL, "train": train, "sample_temperature": 0.8,
                "metric_examples": 200, "metric_samples": 8},
        metrics=keep,
        published={"note": "SRFlow publishes DIV2K and CelebA figures only (Lugmayr et al. "
                   "2020, Tables 1-2); no MNIST figure exists. Reference: bicubic PSNR "
                   "(test_psnr_bicubic_db) measured here."},
        wall_time_s=time.time() - start,
        notes=f"CPU budget run, training {t.seconds:.0f} s; figures/flows_srflow_mnist.png",
    )


if __name__ == "__main__":
    main()
