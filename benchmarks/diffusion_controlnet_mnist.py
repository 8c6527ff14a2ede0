"""ControlNet on MNIST edge maps: edge consistency of the samples and Frechet distance.

The locked base is the DDPM trained by `diffusion_ddpm_mnist.py` (waited for). The ControlNet
(trainable encoder copy + zero convs + condition encoder) trains on (edge map, image) pairs of
the MNIST training split, then draws one sample for each of the first NUM_SAMPLES test edge
maps (DDIM, 25 steps, eta = 0 and eta = 1). Figure rows: edge maps, eta=0 samples, eta=1
samples, the real images. Edge consistency = F1 overlap of the sample's own edge map with the
condition; for scale, the same score of the base model's unconditional samples against the
same edge maps (chance level) is recorded beside it. The base's weights are checked unchanged.

    nohup nice -n 5 python benchmarks/diffusion_controlnet_mnist.py > benchmarks/work/cn.log 2>&1 &
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, Timer, write_result  # noqa: E402
from diffusion_common import (  # noqa: E402
    fd_pr,
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
from perceptzoo.data.edges import edge_map  # noqa: E402
from perceptzoo.diffusion.controlnet import ARCHITECTURE, edge_consistency  # noqa: E402
from perceptzoo.diffusion.samplers import DDIMSampler  # noqa: E402

RUN = WORK / "controlnet-mnist"
BASE_RUN = WORK / "ddpm-mnist"
TRAIN = TrainConfig(steps=300, batch_size=32, lr=1e-3, warmup_steps=30, ema_decay=0.99,
                    eval_every=300, eval_examples=64, checkpoint_every=50, num_samples=0,
                    progress=False)
NUM_SAMPLES = 100
STEPS = 25


def main() -> None:
    setup()
    while not (BASE_RUN / "model.safetensors").exists():
        print("waiting for the base DDPM run ...", flush=True)
        time.sleep(60)
    base_cfg = json.loads((BASE_RUN / "config.json").read_text())["model_config"]
    overrides = {k: base_cfg[k] for k in ARCHITECTURE if k not in ("data_shape", "num_levels")}
    overrides.update(base_run=str(BASE_RUN), sampler="ddim", sample_steps=STEPS)
    with Timer():
        model, train_s = train_or_resume("controlnet", RUN, TRAIN, overrides)
        base = perceptzoo.load(BASE_RUN)
        unchanged = all(torch.equal(a, b) for a, b in zip(base.net.state_dict().values(),
                                                          model.base.state_dict().values()))
        print("base unchanged:", unchanged, flush=True)
        test = data.load("mnist", "test")
        edges = edge_map(test.x[:NUM_SAMPLES], 256)
        pairs = []  # per DDIM eta: (ControlNet samples, the locked base's own), cached on disk
        # eta=0 deterministic; eta=1 stochastic (the ancestral chain with beta~ on the same steps)
        for eta, suffix in ((0.0, ""), (1.0, "-eta1")):
            sampler = DDIMSampler(STEPS, eta, clip_x0=True)
            pairs.append((
                timed_samples(RUN / f"samples{suffix}.pt", lambda s=sampler: model.sample(
                    NUM_SAMPLES, cond=edges, sampler=s,
                    generator=torch.Generator().manual_seed(1))),
                timed_samples(RUN / f"base-samples{suffix}.pt", lambda s=sampler: base.sample(
                    NUM_SAMPLES, sampler=s, generator=torch.Generator().manual_seed(1)))))
        (cond, uncond), (cond1, uncond1) = pairs
        consistency = edge_consistency(cond["samples"], edges, 256)
        chance = edge_consistency(uncond["samples"], edges, 256)
        real = edge_consistency(test.x[:NUM_SAMPLES].float(), edges, 256)
        print(consistency, chance, real, flush=True)
        consistency1 = edge_consistency(cond1["samples"], edges, 256)
        chance1 = edge_consistency(uncond1["samples"], edges, 256)
        print("eta1", consistency1, chance1, flush=True)
        grid = torch.cat([edges[:16].float() * 255, cond["samples"][:16],
                          cond1["samples"][:16], test.x[:16].float()])
        save_figure(grid, "diffusion_controlnet_mnist.png", nrow=16)
        if not wait_for_classifier("mnist"):
            return
        start = time.time()  # stages are cached: count each one's own time once
        reference = test.x[NUM_SAMPLES:2 * NUM_SAMPLES]  # other test images than the conditions
        fd = fd_pr(cond["samples"], reference)
        fd_base = fd_pr(uncond["samples"], reference)
        fd1, fd_base1 = fd_pr(cond1["samples"], reference), fd_pr(uncond1["samples"], reference)
        metrics_s = time.time() - start
    wall_s = train_s + metrics_s + sum(x["seconds"] for x in (cond, uncond, cond1, uncond1))
    write_result(
        "controlnet", "mnist", "edges",
        config={"model": to_dict(model.cfg), "train": to_dict(TRAIN), "num_samples": NUM_SAMPLES,
                "sampler": f"DDIM {STEPS} steps, x0 clipped: eta=0 (keys without suffix) and "
                           "eta=1 (keys ending _eta1)",
                "trainable_parameters": sum(p.numel() for p in model.parameters()
                                            if p.requires_grad),
                "locked_parameters": sum(p.numel() for p in model.base.parameters())},
        metrics={**consistency, "frechet_distance": fd["frechet_distance"],
                 "precision": fd["precision"], "recall": fd["recall"],
                 "base_unconditional_edge_f1": chance["edge_f1"],
                 "base_unconditional_frechet_distance": fd_base["frechet_distance"],
                 "real_images_edge_f1": real["edge_f1"],
                 "base_weights_unchanged": float(unchanged),
                 "sampling_time_s": round(cond["seconds"], 1), "train_time_s": round(train_s, 1),
                 "edge_f1_eta1": consistency1["edge_f1"],
                 "edge_pixel_agreement_eta1": consistency1["edge_pixel_agreement"],
                 "frechet_distance_eta1": fd1["frechet_distance"],
                 "precision_eta1": fd1["precision"], "recall_eta1": fd1["recall"],
                 "base_unconditional_edge_f1_eta1": chance1["edge_f1"],
                 "base_unconditional_frechet_distance_eta1": fd_base1["frechet_distance"]},
        published={"note": "Zhang et al. 2023 evaluate Stable Diffusion with text prompts "
                           "(FID, CLIP score, user studies); no comparable MNIST figure"},
        wall_time_s=wall_s,
        notes=f"One sample per test edge map (first {NUM_SAMPLES}); edge_f1 = Dice overlap of "
              "edge_map(sample) with the condition (1.0 for the real images by construction); "
              "FD/PR against other test images (100..199). base_unconditional_*: the locked DDPM's "
              "own samples scored against the same edge maps (chance level).")


if __name__ == "__main__":
    main()
