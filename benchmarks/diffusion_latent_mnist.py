"""Latent vs pixel diffusion on MNIST: Frechet distance and sampling time side by side.

The latent model: a KL autoencoder (28x28 -> 4x7x7, f = 4) trained first, then a DDPM (T = 1000,
linear schedule) on the scaled latents, in one run. The pixel model is the DDPM of
`diffusion_ddpm_mnist.py` (waited for). Both sample with the same samplers (ancestral on 100
respaced steps, DDIM eta=0 on 50; the latent model also with the full 1000-step chain);
sampling times per step are measured back to back in this process on the same batch size, so
their ratio is fair under the shared machine's load.

    nohup nice -n 5 python benchmarks/diffusion_latent_mnist.py > benchmarks/work/ldm.log 2>&1 &
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, Timer, write_result  # noqa: E402
from diffusion_common import (  # noqa: E402
    fd_pr,
    reference_images,
    save_figure,
    setup,
    timed_samples,
    train_or_resume,
    wait_for_classifier,
)

import perceptzoo  # noqa: E402
from perceptzoo import data  # noqa: E402
from perceptzoo.core.config import to_dict  # noqa: E402
from perceptzoo.core.trainer import TrainConfig  # noqa: E402
from perceptzoo.diffusion.ddpm import AncestralSampler  # noqa: E402
from perceptzoo.diffusion.samplers import DDIMSampler  # noqa: E402

RUN = WORK / "latent_diffusion-mnist"
PIXEL_RUN = WORK / "ddpm-mnist"
MODEL = dict(ae_downsamples=2, latent_channels=4, ae_channels=32, kl_weight=1e-3, ae_steps=600,
             channels=32, channel_mults=[1, 2], attention_levels=[1], num_res_blocks=1,
             num_steps=1000, schedule="linear", sampler="ddim", sample_steps=50)
TRAIN = TrainConfig(steps=1500, batch_size=64, lr=1e-3, warmup_steps=100, ema_decay=0.995,
                    eval_every=1500, eval_examples=500, checkpoint_every=250, num_samples=64,
                    progress=False)
NUM_SAMPLES = 100
TIMING_BATCH = 50


def main() -> None:
    setup()
    with Timer() as total:
        model, train_s = train_or_resume("latent_diffusion", RUN, TRAIN, MODEL)
        test = data.load("mnist", "test")
        recon = model.extra_metrics(test.x)["recon_mse"]
        save_figure(torch.cat([test.x[:32].float(), model.reconstruct(test.x[:32])]),
                    "diffusion_ldm_reconstructions_mnist.png", nrow=16)
        samplers = {"ancestral_1000": lambda: AncestralSampler("beta", 1000, clip_x0=False),
                    "ancestral_100": lambda: AncestralSampler("beta", 100, clip_x0=False),
                    "ddim_50": lambda: DDIMSampler(50, 0.0, clip_x0=False)}
        shared = ("ancestral_100", "ddim_50")  # also drawn from the pixel model
        sets = {k: timed_samples(RUN / f"samples-{k}.pt",
                                 lambda f=f: model.sample(NUM_SAMPLES, sampler=f(),
                                                          generator=torch.Generator()
                                                          .manual_seed(1)))
                for k, f in samplers.items()}
        save_figure(sets["ancestral_1000"]["samples"][:64], "diffusion_ldm_mnist.png")
        print({k: v["seconds"] for k, v in sets.items()}, flush=True)

        while not all((PIXEL_RUN / f"samples-{k.replace('_', '-')}.pt").exists()
                      for k in shared):
            print("waiting for the pixel DDPM's samples ...", flush=True)
            time.sleep(60)
        pixel = perceptzoo.load(PIXEL_RUN)
        pixel_sets = {k: torch.load(PIXEL_RUN / f"samples-{k.replace('_', '-')}.pt",
                                    weights_only=True) for k in shared}
        # back-to-back timing, same batch and sampler (DDIM 50 steps), three repeats each
        times = {"latent": [], "pixel": []}
        for _ in range(3):
            for name, m in (("latent", model), ("pixel", pixel)):
                start = time.time()
                m.sample(TIMING_BATCH, sampler=DDIMSampler(50),
                         generator=torch.Generator().manual_seed(0))
                times[name].append(time.time() - start)
        step_s = {k: min(v) / 50 for k, v in times.items()}
        print("per-step seconds", step_s, flush=True)
        if not wait_for_classifier("mnist"):
            return
        reference = reference_images("mnist", "test", NUM_SAMPLES)
        rows = {}
        for k in samplers:
            rows[f"latent_{k}"] = fd_pr(sets[k]["samples"], reference)
        for k in shared:
            rows[f"pixel_{k}"] = fd_pr(pixel_sets[k]["samples"][:NUM_SAMPLES], reference)
        print(rows, flush=True)
    metrics = {f"{key}_{k}": v for key, row in rows.items() for k, v in row.items()}
    write_result(
        "latent_diffusion", "mnist", None,
        config={"model": to_dict(model.cfg), "train": to_dict(TRAIN), "num_samples": NUM_SAMPLES,
                "timing_batch": TIMING_BATCH,
                "parameters_latent": sum(p.numel() for p in model.parameters()),
                "parameters_pixel": sum(p.numel() for p in pixel.parameters())},
        metrics={**metrics, "test_recon_mse": round(recon, 5),
                 "sampling_step_s_latent": round(step_s["latent"], 4),
                 "sampling_step_s_pixel": round(step_s["pixel"], 4),
                 "sampling_time_ratio_latent_over_pixel":
                     round(step_s["latent"] / step_s["pixel"], 3),
                 "sampling_time_s_latent_ancestral_1000": round(
                     sets["ancestral_1000"]["seconds"], 1),
                 "train_time_s": round(train_s, 1)},
        published={"note": "Rombach et al. 2022 report FID on CelebA-HQ/FFHQ/LSUN/ImageNet at "
                           "256x256 with Inception features; not comparable"},
        wall_time_s=total.seconds + train_s,
        notes=f"FD/PR of {NUM_SAMPLES} samples vs the first {NUM_SAMPLES} test images (project "
              "MNIST classifier); pixel model = benchmarks/diffusion_ddpm_mnist.py's run. Per-step "
              f"sampling time: best of 3 DDIM-50 runs on {TIMING_BATCH} samples, back to back. "
              "recon_mse: autoencoder D(E(x)) on test pixels in [0, 1]. The pixel model's "
              "ancestral 1000-step set is in ddpm-mnist-steps.json when the CPU budget allowed it.")


if __name__ == "__main__":
    main()
