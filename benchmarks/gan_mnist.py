"""MNIST (and Fashion-MNIST) sample quality of the image GANs: GAN (MLP), DCGAN, WGAN-GP.

Each trains through `perceptzoo.core.runner`, then `runner.evaluate` scores 1,000 samples
against 1,000 test images in the project classifier's features (Frechet distance, precision,
recall); the real-vs-real floor is 1,000 train images against the same 1,000 test images.
Sizes fit one shared CPU thread: each model's step count is what fits its minutes on this
machine, measured by timing steps first (DCGAN and WGAN-GP: 32 base channels, 12 min each).

    .venv/bin/python benchmarks/gan_mnist.py [mnist|fashion_mnist|digits] [model ...]

On digits (8x8, 17 levels) each model gets a third of its minutes.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import torch
from common import WORK, data_dir, write_result

import perceptzoo
from perceptzoo import data
from perceptzoo.core import runner
from perceptzoo.core.runs import RunDir
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.metrics import classifier
from perceptzoo.metrics.frechet import frechet_distance, precision_recall
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = Path(__file__).resolve().parent / "figures" / "gans"
NUM_SAMPLES = 1000
MODELS = {  # model -> (model config, train config, minutes of training on this machine)
    "gan": ({"latent_dim": 100, "hidden_g": [256, 512], "hidden_d": [512, 256]},
            {"batch_size": 64, "lr": 2e-4}, 5.0),
    "dcgan": ({"latent_dim": 100, "channels": 32}, {"batch_size": 64, "lr": 2e-4}, 12.0),
    "wgan_gp": ({"latent_dim": 100, "channels": 32, "n_critic": 5},
                {"batch_size": 5 * 32, "lr": 1e-4}, 12.0),
    "stylegan": ({"latent_dim": 64, "w_dim": 64, "channels": 32},
                 {"batch_size": 32, "lr": 2e-3}, 24.0),
    "progressive_gan": ({"latent_dim": 64, "channels": 32}, {"batch_size": 32, "lr": 1e-3}, 5.0),
}


def steps_for_budget(name: str, dataset: str, overrides: dict, train: dict,
                     minutes: float) -> int:
    """Generator steps that fit `minutes`: 8 timed steps after 2 warm-up steps (the progressive
    GAN timed at its last stage, its costliest)."""
    if name == "progressive_gan":
        overrides = {**overrides, "stage_steps": 1}
    model = perceptzoo.build(name, dataset=dataset, **overrides)
    opts = model.configure_optimizers(TrainConfig(lr=train["lr"]))
    x = data.load(dataset, "train").x
    g = torch.Generator().manual_seed(0)
    for i in range(10):
        if i == 2:
            start = time.time()
        model.train_step((x[torch.randint(0, len(x), (train["batch_size"],), generator=g)],
                          None), opts)
    return max(50, int(minutes * 60 / ((time.time() - start) / 8)) // 50 * 50)
PUBLISHED = {
    "stylegan": {"note": "Karras et al. 2019/2020 report FID on FFHQ/LSUN, not MNIST",
                 "source": "Karras et al. 2019, Table 1"},
    "progressive_gan": {"note": "Karras et al. 2018 report CIFAR-10 Inception scores and "
                                "CelebA-HQ / LSUN figures, not MNIST",
                        "source": "Karras et al. 2018"},
    "gan": {"note": "Goodfellow et al. 2014, Table 1 gives an MNIST Parzen-window "
                    "log-likelihood (225 +- 2 as we recall it; not re-checked against the PDF "
                    "here), not a Frechet distance: no comparable figure",
            "source": "Goodfellow et al. 2014, Table 1"},
    "dcgan": {"note": "Radford et al. 2016 report no MNIST sample-quality figure",
              "source": "Radford et al. 2016"},
    "wgan_gp": {"note": "Gulrajani et al. 2017 report Inception scores on CIFAR-10, not "
                        "MNIST figures", "source": "Gulrajani et al. 2017, Table 3"},
}


def floor(dataset: str) -> dict:
    test = data.load(dataset, "test").x[:NUM_SAMPLES]
    train = data.load(dataset, "train").x[:NUM_SAMPLES]
    f_real, f_other = classifier.features(dataset, test), classifier.features(dataset, train)
    p, r = precision_recall(f_real, f_other)
    return {"real_vs_real_frechet_distance": round(frechet_distance(f_real, f_other), 3),
            "real_vs_real_precision": round(p, 4), "real_vs_real_recall": round(r, 4)}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    dataset = sys.argv[1] if len(sys.argv) > 1 else "mnist"
    names = sys.argv[2:] or list(MODELS)
    base = floor(dataset)
    print("floor", base, flush=True)
    for name in names:
        overrides, train, minutes = MODELS[name]
        if dataset == "digits":  # 8x8: a third of the time is plenty
            minutes = minutes / 3
        done = sorted((WORK / "gans").glob(f"{name}-{dataset}-budget*"))
        if done:  # a run already started: keep its step count
            out = done[0]
            train = {**train, "steps": int(out.name.rsplit("-", 1)[1])}
            if name == "progressive_gan":
                overrides = {**overrides, "stage_steps": train["steps"] // 5}
        else:
            train = {**train, "steps": steps_for_budget(name, dataset, overrides, train,
                                                        minutes)}
            out = WORK / "gans" / f"{name}-{dataset}-budget{minutes:g}min-{train['steps']}"
            if name == "progressive_gan":  # stage 0, then fade + stabilise twice
                overrides = {**overrides, "stage_steps": train["steps"] // 5}
        if not (out / "model.safetensors").exists():
            start = time.time()
            if RunDir(out).has_checkpoint():
                runner.resume(out)
            else:
                shutil.rmtree(out, ignore_errors=True)  # killed before its first checkpoint
                runner.train(name, dataset=dataset, out=out, model_overrides=overrides,
                             train_config={**train, "seed": 0, "progress": False,
                                           "schedule": "constant", "grad_clip": None,
                                           "eval_every": train["steps"],
                                           "checkpoint_every": 100, "log_every": 50})
            (out / "wall_s.txt").write_text(str(time.time() - start))
        train_s = float((out / "wall_s.txt").read_text())
        metrics = runner.evaluate(out, split="test", num_samples=NUM_SAMPLES)
        model = runner.load(out)
        grid = model.sample(64, generator=torch.Generator().manual_seed(0))
        FIGURES.mkdir(parents=True, exist_ok=True)
        save_grid(to_uint8(grid, model.cfg.num_levels), FIGURES / f"{name}_{dataset}.png",
                  scale=2 if dataset != "digits" else 6)
        params = sum(p.numel() for p in model.parameters())
        result = {k: metrics[k] for k in ("frechet_distance", "precision", "recall",
                                          "sampling_time_s")}
        result.update(base)
        result["train_time_s"] = round(train_s, 1)
        print(name, result, flush=True)
        write_result(name, dataset, "", config={
            "model": overrides, "train": train, "budget_minutes": minutes, "parameters": params,
            "num_samples": NUM_SAMPLES}, metrics=result, published=PUBLISHED[name],
            wall_time_s=train_s + metrics.get("sampling_time_s", 0.0),
            notes=f"FD/precision/recall of {NUM_SAMPLES} samples vs the first {NUM_SAMPLES} "
                  "test images in the project classifier's features; the floor is the first "
                  f"{NUM_SAMPLES} train images vs the same test images. Trained on one shared "
                  "CPU thread.")


if __name__ == "__main__":
    main()
