"""2D toys: RealNVP (Gaussian base) and RealNVP with a learned Gaussian-mixture base.

For each toy, trains `realnvp2d` through `perceptzoo.train`, scores the test split (NLL in nats
and, where the toy has a closed-form density, the gap to the true NLL), checks the learned
density's Riemann sum on a grid, and draws data | learned densities | true density in
benchmarks/figures/flows_toy2d_<toy>.png. Results: benchmarks/results/realnvp2d-toy2d_<toy>
[-mixture].json.

    python benchmarks/flows_toy2d.py [--steps 3000] [--toys moons,8gaussians,...]
"""

from __future__ import annotations

import argparse
import shutil

import torch
from common import REPO, WORK, Timer, data_dir, write_result

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.data import toy2d
from perceptzoo.flows.flow2d import density_grid, save_density_png, true_log_prob_grid
from perceptzoo.metrics.evaluate import evaluate

TOYS = ("moons", "8gaussians", "25gaussians", "checkerboard", "rings", "spirals")
VARIANTS = {
    "": dict(num_layers=8, hidden=64, base="normal"),
    "mixture": dict(num_layers=8, hidden=64, base="mixture", num_components=8),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--toys", default=",".join(TOYS))
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    figures = REPO / "benchmarks" / "figures"
    for toy in args.toys.split(","):
        dataset = f"toy2d:{toy}"
        panels = []
        for variant, overrides in VARIANTS.items():
            out = WORK / f"flows_toy2d_{toy}_{variant or 'normal'}"
            shutil.rmtree(out, ignore_errors=True)
            cfg = TrainConfig(steps=args.steps, batch_size=256, lr=2e-3, eval_every=1000,
                              checkpoint_every=1000, progress=False, warmup_steps=100)
            with Timer() as t:
                run = perceptzoo.train("realnvp2d", dataset=dataset, out=out, train_config=cfg,
                                       model_overrides=overrides)
            model = perceptzoo.load(run)
            metrics = evaluate(model, dataset, "test", num_samples=2000)
            log_p, area = density_grid(model, lim=6.0, resolution=600)
            metrics["density_integral_on_grid"] = round(float(log_p.exp().sum() * area), 5)
            title = f"{'mixture' if variant else 'gaussian'} base"
            panels.append((title, log_p[100:500, 100:500]))  # the [-4, 4]^2 window
            print(toy, variant or "normal", metrics, f"{t.seconds:.0f}s", flush=True)
            write_result(
                "realnvp2d", dataset, variant or None,
                config={"model": overrides, "train": {"steps": args.steps, "batch_size": 256,
                                                      "lr": 2e-3}},
                metrics={k: v for k, v in metrics.items() if not k.endswith("time_s")},
                published={"note": "no published figure for these toys; the reference is the "
                           "true test NLL (test_true_nll_nats) where the toy has a closed form"},
                wall_time_s=t.seconds,
                notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_"
                      f"{toy}.png",
            )
        true = true_log_prob_grid(toy, lim=4.0, resolution=400)
        if true is not None:
            panels.append(("true density", true))
        points = toy2d.load(toy, "test").x[:3000]
        save_density_png(panels, points, figures / f"flows_toy2d_{toy}.png", lim=4.0)


if __name__ == "__main__":
    main()
