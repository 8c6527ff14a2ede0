"""Classifier-free guidance on MNIST: class accuracy (the shipped classifier's head) and Frechet
distance of guided samples for w in {0, 0.5, 1, 3}.

CPU budget: the same small U-Net as the DDPM benchmark with a label embedding, trained 700
steps (batch 32) on one thread with label dropout 0.1; DDIM samples (25 steps, eta = 0 and
eta = 1), the same initial noise for every w. Stages are cached under
benchmarks/work/ddpm_cfg-mnist.

    nohup nice -n 5 python benchmarks/diffusion_guidance_mnist.py > benchmarks/work/cfg.log 2>&1 &
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, Timer, write_result  # noqa: E402
from diffusion_common import (  # noqa: E402
    class_accuracy,
    fd_pr,
    reference_images,
    save_figure,
    setup,
    timed_samples,
    train_or_resume,
    wait_for_classifier,
)

from perceptzoo.core.config import to_dict  # noqa: E402
from perceptzoo.core.trainer import TrainConfig  # noqa: E402
from perceptzoo.diffusion.samplers import DDIMSampler  # noqa: E402

RUN = WORK / "ddpm_cfg-mnist"
MODEL = dict(channels=16, channel_mults=[1, 2, 2], num_res_blocks=1, attention_levels=[2],
             num_steps=1000, schedule="linear", sampler="ddim", sample_steps=50,
             label_dropout=0.1, guidance_scale=1.0, bound_timesteps=20)
TRAIN = TrainConfig(steps=700, batch_size=32, lr=1e-3, warmup_steps=100, ema_decay=0.995,
                    eval_every=700, eval_examples=200, checkpoint_every=100, num_samples=64,
                    progress=False)
NUM_SAMPLES = 100
SCALES = [0.0, 0.5, 1.0, 3.0]


def main() -> None:
    setup()
    with Timer():
        model, train_s = train_or_resume("ddpm_cfg", RUN, TRAIN, MODEL)
        labels = torch.arange(NUM_SAMPLES) % 10
        # DDIM eta=0 (deterministic) and eta=1 (= the ancestral chain with beta~ on the same
        # 25 steps), the same initial noise for every w
        sets = {}
        for eta in (0.0, 1.0):
            for w in SCALES:
                name = f"samples-w{w}.pt" if eta == 0 else f"samples-eta1-w{w}.pt"
                sets[eta, w] = timed_samples(
                    RUN / name,
                    lambda w=w, eta=eta: model.sample(
                        NUM_SAMPLES, cond=labels, guidance_scale=w,
                        sampler=DDIMSampler(25, eta, clip_x0=True),
                        generator=torch.Generator().manual_seed(1)))
                print("eta", eta, "w", w, sets[eta, w]["seconds"], flush=True)
        # one figure: a row of ten (one per label) for each w, eta = 1
        save_figure(torch.cat([sets[1.0, w]["samples"][:10] for w in SCALES]),
                    "diffusion_cfg_mnist.png", nrow=10)
        if not wait_for_classifier("mnist"):
            print("no MNIST classifier; metrics not computed", flush=True)
            return
        start = time.time()  # stages are cached: count each one's own time once
        reference = reference_images("mnist", "test", NUM_SAMPLES)
        rows = {}
        for (eta, w), s in sets.items():
            rows[eta, w] = {**fd_pr(s["samples"], reference),
                            "class_accuracy": round(class_accuracy(s["samples"], labels), 4),
                            "sampling_time_s": round(s["seconds"], 1)}
            print(eta, w, rows[eta, w], flush=True)
        metrics_s = time.time() - start
    metrics = {}
    for (eta, w), r in rows.items():
        for k, v in r.items():
            metrics[f"{k}_w{w:g}" + ("_eta1" if eta else "")] = v
    write_result(
        "ddpm_cfg", "mnist", None,
        config={"model": to_dict(model.cfg), "train": to_dict(TRAIN), "num_samples": NUM_SAMPLES,
                "sampler": "DDIM 25 steps, x0 clipped: eta=0 (keys without suffix) and eta=1 "
                           "(keys ending _eta1)", "guidance_scales": SCALES},
        metrics={**metrics, "train_time_s": round(train_s, 1)},
        published={"note": "Ho & Salimans 2022 report ImageNet 64x64/128x128 FID and IS vs w; "
                           "not comparable with MNIST in this project's classifier features"},
        wall_time_s=train_s + metrics_s + sum(x["seconds"] for x in sets.values()),
        notes=f"{NUM_SAMPLES} samples per w (10 per class), same noise for every w; class "
              "accuracy = the shipped MNIST classifier's head agrees with the asked-for label; "
              "FD/PR against the first 100 test images.")


if __name__ == "__main__":
    main()
