"""Mode coverage on the 8-Gaussian ring and the 25-Gaussian grid: GAN, WGAN-GP, unrolled GAN.

Each model trains through `perceptzoo.core.runner` for STEPS generator steps with 3 seeds;
2,500 samples per run are scored with `perceptzoo.metrics.modes.mode_coverage` (modes with
at least N/(100 K) samples within 3 std of their centre; the fraction of such samples).
The plain GAN and the unrolled GAN share Metz et al.'s (2017, appendix A) 2D setting:
z ~ N(0, I_256), G 2 x 128 ReLU, D 1 x 128 ReLU on x / 4, the minimax losses, Adam lr 1e-4 and
beta1 0.5; the unrolled GAN looks through K = 5 Adam steps. WGAN-GP: MLPs 2 x 128, lambda 10,
n_critic 5, Adam lr 1e-4 betas (0, 0.9) (Gulrajani et al. 2017, Algorithm 1).
Batches: 256 per discriminator step for GAN and unrolled GAN (Metz used 512), 128 per critic
step for WGAN-GP; STEPS (3000) generator steps for the GAN, half that for WGAN-GP and the
unrolled GAN (each step costs 3-6 GAN steps; their budgets are recorded per result).

Resumable: finished runs are kept under benchmarks/work/gans/ and skipped.

    .venv/bin/python benchmarks/gan_modes.py [STEPS [8gaussians,25gaussians [MODEL,...]]]
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import torch
from common import WORK, Timer, write_result

from perceptzoo.core import runner
from perceptzoo.core.runs import RunDir
from perceptzoo.metrics.modes import mode_coverage

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
TOYS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["8gaussians", "25gaussians"]
ONLY = sys.argv[3].split(",") if len(sys.argv) > 3 else None  # train only these models
BATCH = 256
SEEDS = (0, 1, 2)
NUM_SAMPLES = 2500
FIGURES = Path(__file__).resolve().parent / "figures" / "gans"
MODELS = {  # model -> (model config, train config); WGAN-GP and the unrolled GAN cost 3-6x a
    # GAN step, so on a shared CPU they get half the steps (each step sizes are recorded)
    "gan": ({"latent_dim": 256, "hidden_g": [128, 128], "hidden_d": [128], "input_scale": 0.25,
             "generator_loss": "minimax"}, {"lr": 1e-4, "batch_size": BATCH, "steps": STEPS}),
    "wgan_gp": ({"latent_dim": 256, "hidden": [128, 128], "n_critic": 5},
                {"lr": 1e-4, "batch_size": 5 * 128, "steps": STEPS // 2}),
    "unrolled_gan": ({"latent_dim": 256, "hidden_g": [128, 128], "hidden_d": [128],
                      "input_scale": 0.25, "unroll_steps": 5, "generator_loss": "minimax"},
                     {"lr": 1e-4, "batch_size": BATCH, "steps": STEPS // 2}),
}


def train_one(model: str, toy: str, seed: int) -> tuple[Path, float]:
    overrides, train = MODELS[model]
    out = WORK / "gans" / f"{model}-{toy}-s{seed}-{train['steps']}"
    if not (out / "model.safetensors").exists():
        start = time.time()
        if RunDir(out).has_checkpoint():
            runner.resume(out)
        else:
            shutil.rmtree(out, ignore_errors=True)  # killed before its first checkpoint
            runner.train(model, dataset=f"toy2d:{toy}", out=out, model_overrides=overrides,
                         train_config={**train, "seed": seed, "progress": False,
                                       "schedule": "constant", "grad_clip": None,
                                       "eval_every": train["steps"], "checkpoint_every": 250,
                                       "num_samples": 0})
        (out / "wall_s.txt").write_text(str(time.time() - start))
    wall = float((out / "wall_s.txt").read_text()) if (out / "wall_s.txt").exists() else 0.0
    return out, wall


def panel_figure(samples: dict[tuple[str, str], torch.Tensor]) -> None:
    """One PNG: rows = toys, columns = models, 2,500 samples of seed 0 each."""
    from PIL import Image, ImageDraw

    size, lim = 260, 3.0
    toys = sorted({t for _, t in samples}, reverse=True)
    img = Image.new("RGB", (size * len(MODELS), size * len(toys) + 18), "white")
    draw = ImageDraw.Draw(img)
    for c, model in enumerate(MODELS):
        draw.text((c * size + 6, 2), model, fill=(0, 0, 0))
        for r, toy in enumerate(toys):
            pts = samples[(model, toy)].numpy()
            ox, oy = c * size, r * size + 18
            draw.rectangle((ox, oy, ox + size - 1, oy + size - 1), outline=(200, 200, 200))
            for x, y in ((pts + lim) / (2 * lim) * size).clip(0, size - 1):
                draw.point((ox + float(x), oy + size - 1 - float(y)), fill=(30, 60, 160))
    FIGURES.mkdir(parents=True, exist_ok=True)
    img.save(FIGURES / "modes_toy2d.png")


def main() -> None:
    torch.set_num_threads(1)
    figure_samples = {}
    for toy in TOYS:
        for model in MODELS:
            if ONLY and model not in ONLY:
                continue
            per_seed, walls = [], []
            with Timer() as t:
                for seed in SEEDS:
                    out, wall = train_one(model, toy, seed)
                    net = runner.load(out)
                    g = torch.Generator().manual_seed(1234 + seed)
                    x = net.sample(NUM_SAMPLES, generator=g)
                    if seed == 0:
                        figure_samples[(model, toy)] = x
                    per_seed.append(mode_coverage(x, toy))
                    walls.append(wall)
            modes = [r["modes_covered"] for r in per_seed]
            hq = [r["high_quality_fraction"] for r in per_seed]
            metrics = {"modes_covered_mean": sum(modes) / len(modes),
                       "modes_covered_per_seed": modes, "num_modes": per_seed[0]["num_modes"],
                       "high_quality_fraction_mean": round(sum(hq) / len(hq), 4),
                       "high_quality_fraction_per_seed": [round(h, 4) for h in hq],
                       "mode_kl_per_seed": [round(r["mode_kl"], 4) if r["mode_kl"] < float("inf")
                                            else None for r in per_seed],
                       "train_time_s_per_seed": [round(w, 1) for w in walls]}
            print(model, toy, json.dumps(metrics), flush=True)
            overrides, train = MODELS[model]
            write_result(model, f"toy2d:{toy}", "modes", config={
                "model": overrides, "train": train, "seeds": list(SEEDS),
                "num_samples": NUM_SAMPLES,
                "protocol": "high quality: within 3 std of the nearest centre; a mode is "
                            "covered with >= N/(100 K) high-quality samples"},
                metrics=metrics, wall_time_s=sum(walls) + t.seconds,
                published={"note": "Metz et al. 2017, Fig. 1 and 2 (ring of 8, std 0.02): the "
                                   "GAN visits one mode at a time, the 10-step unrolled GAN "
                                   "covers all 8; shown as figures, no table of counts",
                           "source": "Metz et al. 2017, Figure 1"},
                notes="our ring has std 0.2 and grid std 0.1 (perceptzoo.data.toy2d), wider "
                      f"modes than Metz's 0.02; {train['steps']} generator steps, not 25k")
    if len(TOYS) == 2 and not ONLY:
        panel_figure(figure_samples)


if __name__ == "__main__":
    main()
