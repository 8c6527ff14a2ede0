"""MNIST dequantized bits/dim for RealNVP and Glow, with sample grids at several temperatures.

CPU budget run (the default, `--scale cpu`): small networks, a few thousand steps, one thread;
the GPU-scale configuration (`--scale gpu`, see GPU below) is the one to reproduce the papers'
regime (it is not run here). Resumable: rerunning continues the run in benchmarks/work.

    python benchmarks/flows_mnist.py --model glow [--scale cpu|gpu] [--steps N]
    python benchmarks/flows_mnist.py --model glow --scale gpu --device cuda --minutes 30
        (--minutes: train as many steps as fit in that budget, measured on 20 steps first;
         benchmarks/gpu/jobs.d/flows.sh runs this on a lent GPU)
    # the same as a CLI call (GPU scale):
    perceptzoo train glow --dataset mnist --epochs 100 --batch-size 64 --lr 1e-3 \\
        --set hidden=512 num_steps=16 num_scales=2 train.warmup_steps=1000 train.grad_clip=50

Published (bits/dim on dequantized MNIST): RealNVP 1.06 and Glow 1.05, as tabulated by
Grathwohl et al. 2019 (FFJORD, ICLR), Table 2, MNIST column (the RealNVP paper itself reports
no MNIST figure; Glow's MNIST figure comes from that table too). Our figures are the
uniformly dequantized bound on the full test split, the same quantity.
Results: benchmarks/results/<model>-mnist[-gpu].json; figures/flows_<model>_mnist_samples.png.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import REPO, WORK, Timer, data_dir, write_result

import perceptzoo
from perceptzoo.viz.images import save_grid, to_uint8
from perceptzoo.core.trainer import TrainConfig, resume
from perceptzoo.metrics.evaluate import evaluate

CPU = {
    # logit pre-processing (RealNVP's, with its log-det) on CPU: in the first few hundred steps
    # Glow's plain centring learns far slower on MNIST's near-constant background
    "glow": dict(model=dict(hidden=48, num_steps=4, num_scales=2, logit_alpha=0.05),
                 train=dict(steps=800, batch_size=64, lr=1e-3, warmup_steps=50)),
    "realnvp": dict(model=dict(hidden=32, num_scales=3),
                    train=dict(steps=500, batch_size=64, lr=1e-3, warmup_steps=50)),
}
GPU = {
    "glow": dict(model=dict(hidden=512, num_steps=16, num_scales=2),
                 train=dict(epochs=100, batch_size=64, lr=1e-3, warmup_steps=1000,
                            grad_clip=50.0)),
    "realnvp": dict(model=dict(hidden=256, num_scales=3),
                    train=dict(epochs=100, batch_size=64, lr=1e-3, warmup_steps=1000,
                               grad_clip=100.0)),
}
PUBLISHED = {
    "glow": {"test_bits_per_dim": 1.05, "source": "Grathwohl et al. 2019 (FFJORD), Table 2, "
             "MNIST column, row Glow (quoted from memory of the paper; not re-read here)"},
    "realnvp": {"test_bits_per_dim": 1.06, "source": "Grathwohl et al. 2019 (FFJORD), Table 2, "
                "MNIST column, row Real NVP (quoted from memory of the paper; not re-read "
                "here)"},
}


def measure_step_time(name: str, recipe: dict, device: str) -> float:
    """Seconds per training step of the recipe's model (median-free: mean of 20 after 5)."""
    from perceptzoo import data
    from perceptzoo.core.trainer import resolve_device

    dev = resolve_device(device)
    model = perceptzoo.build(name, dataset="mnist", **recipe["model"]).to(dev)
    x = data.load("mnist", "train").x[: recipe["train"]["batch_size"]].to(dev)
    model.initialize((x, None))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    for i in range(25):
        if i == 5:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start = time.time()
        loss = model.loss((x, None)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return (time.time() - start) / 20


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=sorted(CPU), required=True)
    p.add_argument("--scale", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--steps", type=int, help="override the number of steps")
    p.add_argument("--minutes", type=float, help="size the steps to this training budget")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    recipe = (CPU if args.scale == "cpu" else GPU)[args.model]
    train = dict(recipe["train"])
    if args.minutes:
        step_s = measure_step_time(args.model, recipe, args.device)
        args.steps = max(50, int(args.minutes * 60 / step_s))
        print(f"{step_s * 1000:.1f} ms per step: {args.steps} steps in {args.minutes} min",
              flush=True)
    if args.steps:
        train["steps"], train["epochs"] = args.steps, None
    cfg = TrainConfig(**train, eval_every=500, eval_examples=1000, checkpoint_every=100,
                      progress=False, num_samples=64, device=args.device)
    out = WORK / f"flows_{args.model}_mnist_{args.scale}"
    start = time.time()
    with Timer() as t:
        if (out / "checkpoint.pt").exists():
            run = resume(out)
        else:
            run = perceptzoo.train(args.model, dataset="mnist", out=out, train_config=cfg,
                                   model_overrides=recipe["model"])
    train_s = t.seconds
    from perceptzoo.core.trainer import resolve_device

    model = perceptzoo.load(run).to(resolve_device(args.device))
    torch.manual_seed(0)
    metrics = evaluate(model, "mnist", "test", num_samples=1000)
    g = torch.Generator().manual_seed(0)
    rows = [model.sample(10, generator=g, temperature=temp) for temp in (0.5, 0.7, 0.85, 1.0)]
    suffix = "" if args.scale == "cpu" else f"_{args.scale}"
    figure = f"flows_{args.model}_mnist_samples{suffix}.png"
    save_grid(to_uint8(torch.cat(rows).cpu(), 256), REPO / "benchmarks" / "figures" / figure,
              scale=2, nrow=10)
    print(metrics, flush=True)
    write_result(
        args.model, "mnist", None if args.scale == "cpu" else "gpu",
        config={"model": recipe["model"], "train": train},
        metrics={k: v for k, v in metrics.items() if not k.endswith("time_s")},
        published=PUBLISHED[args.model],
        wall_time_s=time.time() - start,
        notes=f"{args.scale} budget run: training {train_s:.0f} s in this invocation (a resumed "
              f"run counts only its last part); figures/{figure} rows are temperatures "
              "0.5, 0.7, 0.85, 1.0",
    )


if __name__ == "__main__":
    main()
