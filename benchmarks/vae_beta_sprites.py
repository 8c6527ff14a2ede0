"""beta-VAE on the procedural sprites: MIG and the beta-VAE metric against beta.

    python benchmarks/vae_beta_sprites.py [--betas 1 2 4 8 16] [--steps 3000]

For each beta, a beta-VAE (1024-512-256-10 ReLU MLP encoder and decoder, Bernoulli pixels,
10 latents as in Higgins et al.'s dSprites model) is trained through `perceptzoo.core.runner`
on the train split of `sprites` (Adam, batch 64, cosine schedule) and scored on the whole
11,520-image factor grid: MIG (Chen et al. 2018) from the posterior means, the beta-VAE metric
(Higgins et al. 2017), the reconstruction term E_q log p(x|z) and the KL, in nats per image.
Writes benchmarks/results/beta_vae-sprites-beta<b>.json per beta, latent traversals
(benchmarks/figures/vae/sprites-beta<b>-traversal.png: one row per latent, sorted by its KL,
each varied over [-2.5, 2.5] around a sprite's posterior mean) and the reconstruction vs
disentanglement trade-off (benchmarks/figures/vae/sprites-tradeoff.png). A beta whose result
exists is skipped, so rerunning continues a sweep.

Published reference: Chen et al. 2018 (Figure 5 / Table 1) report MIG ~0.1-0.35 for beta-VAE
on dSprites depending on beta; our sprites are a reduced dSprites grid, so that is a scale, not
a target.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from common import RESULTS, WORK, data_dir, logged_train_seconds, write_result
from PIL import Image, ImageDraw

from perceptzoo.core import runner
from perceptzoo.core.runs import RunDir
from perceptzoo.data import sprites
from perceptzoo.io import atomic_write
from perceptzoo.metrics.disentanglement import beta_vae_score, mig
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = RESULTS.parent / "figures" / "vae"


def score(run) -> dict:
    model = runner.load(run)
    grid = sprites.load_all()
    torch.manual_seed(0)
    with torch.no_grad():
        mu = torch.cat([model.encode(grid.x[i : i + 1024]).base_dist.loc
                        for i in range(0, len(grid), 1024)])
        test = sprites.load("test")
        terms = model.elbo(test.x)
    result = mig(mu.numpy(), grid.y.numpy())
    codes = np.array([3840, 640, 64, 8, 1])

    def encode(x):
        return model.encode(x).base_dist.loc

    bv = beta_vae_score(encode, lambda v: grid.x[torch.as_tensor(v @ codes)],
                        sprites.FACTOR_SIZES, seed=0)
    with torch.no_grad():
        q = model.encode(grid.x[:2048])
        mean, var = q.base_dist.loc, q.base_dist.scale.pow(2)
        kl_per_latent = (0.5 * (mean.pow(2) + var - 1 - var.log())).mean(0)
    traversal(model, grid, kl_per_latent, run)
    return {"mig": round(result["mig"], 4),
            "mig_per_factor": dict(zip(sprites.FACTOR_NAMES,
                                       [round(g, 4) for g in result["mig_per_factor"]])),
            "beta_vae_score": round(bv["beta_vae_score"], 4),
            "test_reconstruction_nats": round(-terms["reconstruction"].mean().item(), 3),
            "test_kl_nats": round(terms["kl"].mean().item(), 3),
            "active_latents": int((kl_per_latent > 0.1).sum()),
            "kl_per_latent_nats": [round(v, 3) for v in kl_per_latent.tolist()]}


def traversal(model, grid, kl_per_latent, run) -> None:
    x0 = grid.x[(grid.y == torch.tensor([2, 4, 0, 4, 4])).all(1)]
    z0 = model.encode(x0).base_dist.loc[0]
    rows = []
    values = torch.linspace(-2.5, 2.5, 9)
    for j in kl_per_latent.argsort(descending=True).tolist():
        z = z0.repeat(len(values), 1)
        z[:, j] = values
        rows.append(model.decode_to_data(z))
    beta = json.loads((run / "config.json").read_text())["model_config"]["beta"]
    save_grid(to_uint8(torch.cat(rows), None), FIGURES / f"sprites-beta{beta:g}-traversal.png",
              scale=3, nrow=len(values))


def tradeoff_plot(points: list[tuple[float, float, float]], path) -> None:
    """Reconstruction (nats, x) against MIG (y), one labelled dot per beta (Pillow only)."""
    w, h, m = 520, 380, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    x0, x1 = min(xs) - 5, max(xs) + 5
    y0, y1 = 0.0, max(max(ys) * 1.2, 0.05)

    def at(x, y):
        return m + (x - x0) / (x1 - x0) * (w - 2 * m), h - m - (y - y0) / (y1 - y0) * (h - 2 * m)

    d.line([(m, h - m), (w - m, h - m)], fill="black")
    d.line([(m, h - m), (m, m)], fill="black")
    d.text((w / 2 - 120, h - m + 25), "reconstruction -E log p(x|z) (nats), lower is better",
           fill="black")
    d.text((5, m - 30), "MIG (higher is more disentangled)", fill="black")
    for v in (x0, (x0 + x1) / 2, x1):
        d.text((at(v, 0)[0] - 12, h - m + 5), f"{v:.0f}", fill="black")
    for v in (0.0, y1 / 2, y1):
        d.text((10, at(x0, v)[1] - 6), f"{v:.2f}", fill="black")
    for beta, x, y in points:
        px, py = at(x, y)
        d.ellipse([px - 4, py - 4, px + 4, py + 4], fill=(30, 60, 160))
        d.text((px + 6, py - 14), f"beta={beta:g}", fill="black")
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data_dir()
    FIGURES.mkdir(parents=True, exist_ok=True)
    model_cfg = {"latent_dim": 10, "hidden_sizes": (512, 256), "activation": "relu"}
    for beta in args.betas:
        result = RESULTS / f"beta_vae-sprites-beta{beta:g}.json"
        if result.exists():
            continue
        run = WORK / f"beta_vae-sprites-beta{beta:g}"
        train = {"steps": args.steps, "batch_size": 64, "lr": 5e-4, "progress": False,
                 "eval_every": args.steps, "checkpoint_every": 500, "log_every": 100,
                 "num_samples": 64, "seed": 0}
        if not (run / "config.json").exists():
            runner.train("beta_vae", dataset="sprites", out=run, train_config=train,
                         model_overrides={**model_cfg, "beta": beta})
        elif not (run / "model.safetensors").exists():
            runner.resume(run)
        metrics = score(run)
        print(f"beta {beta:g}: {metrics}", flush=True)
        write_result("beta_vae", "sprites", f"beta{beta:g}",
                     config=runner.read_config(RunDir(run)), metrics=metrics,
                     published={"mig": None, "source": "Chen et al. 2018 report MIG ~0.1-0.35 "
                                "for beta-VAE on the full dSprites (Fig. 5); not the same grid, "
                                "so no figure is set beside ours"},
                     wall_time_s=logged_train_seconds(run),
                     notes="MIG and the beta-VAE metric on all 11,520 sprites (posterior "
                           "means); reconstruction and KL on the test split; wall time is "
                           "training only")
    points = []
    for beta in args.betas:
        path = RESULTS / f"beta_vae-sprites-beta{beta:g}.json"
        if path.exists():
            m = json.loads(path.read_text())["metrics"]
            points.append((beta, m["test_reconstruction_nats"], m["mig"]))
    if points:
        tradeoff_plot(points, FIGURES / "sprites-tradeoff.png")


if __name__ == "__main__":
    main()
