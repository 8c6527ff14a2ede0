"""Peer comparison with Hugging Face `diffusers` (a `bench` extra): the same-size U-Net and the
DDPM scheduler, in one process on MNIST.

- the networks: our `UNet` (16 base channels, multipliers 1-2-2, one residual block per level,
  attention at 7x7) and `diffusers.UNet2DModel` with block_out_channels (16, 32, 32),
  layers_per_block 1, attention in the lowest block, 8 groups: the same architecture (equal
  parameter counts are checked and recorded);
- training-step time (batch 32, eps-MSE at uniform t, AdamW) and sampling-step time (100
  samples, ancestral sampler vs `DDPMScheduler`), measured interleaved (ours, theirs, ours, ...)
  so the shared machine's load hits both alike; ratio = ours / theirs (goal <= 1.0);
- FD after equal wall time: both trained in alternation until each has used BUDGET_S seconds
  of its own step time, then 100 DDIM (eta=0, 50 steps, x0 clipped) samples each.

    nohup nice -n 5 python benchmarks/diffusion_peer_diffusers.py > benchmarks/work/peer.log 2>&1 &
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, write_result  # noqa: E402
from diffusion_common import (  # noqa: E402
    fd_pr,
    reference_images,
    setup,
    wait_for_classifier,
)

import perceptzoo  # noqa: E402
from perceptzoo import data  # noqa: E402
from perceptzoo.diffusion.ddpm import AncestralSampler, to_data_space, to_model_space  # noqa: E402
from perceptzoo.diffusion.samplers import DDIMSampler  # noqa: E402

BUDGET_S = 240.0
BATCH = 32
NUM_SAMPLES = 100
SAMPLE_STEPS = 20


def theirs():
    from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

    net = UNet2DModel(sample_size=28, in_channels=1, out_channels=1,
                      block_out_channels=(16, 32, 32), layers_per_block=1,
                      down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                      up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
                      norm_num_groups=8, attention_head_dim=None)
    ddpm = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear",
                         variance_type="fixed_large", clip_sample=True)
    ddim = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True)
    return net, ddpm, ddim


def main() -> None:
    setup()
    torch.manual_seed(0)
    ours = perceptzoo.build("ddpm", dataset="mnist", channels=16, channel_mults=(1, 2, 2),
                            num_res_blocks=1, attention_levels=(2,), num_steps=1000)
    net, ddpm, ddim = theirs()
    params = (sum(p.numel() for p in ours.parameters()), sum(p.numel() for p in net.parameters()))
    print("parameters ours/theirs", params, flush=True)
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-3)
    opt_theirs = torch.optim.AdamW(net.parameters(), lr=1e-3)
    train = data.load("mnist", "train")
    g = torch.Generator().manual_seed(0)

    def batch():
        return train[torch.randint(len(train), (BATCH,), generator=g)]

    def step_ours(b):
        opt_ours.zero_grad()
        ours.loss(b).loss.backward()
        opt_ours.step()

    def step_theirs(b):
        x0 = to_model_space(b[0], 256)
        t = torch.randint(0, 1000, (len(x0),))  # diffusers counts t from 0
        eps = torch.randn_like(x0)
        loss = F.mse_loss(net(ddpm.add_noise(x0, eps, t), t).sample, eps)
        opt_theirs.zero_grad()
        loss.backward()
        opt_theirs.step()

    def timed(fn, *args) -> float:
        start = time.perf_counter()
        fn(*args)
        return time.perf_counter() - start

    with Timer() as total:
        # 1. training-step time, interleaved
        train_t = {"ours": [], "theirs": []}
        for _ in range(3):
            step_ours(batch()), step_theirs(batch())  # warm-up
        for _ in range(15):
            b = batch()
            train_t["ours"].append(timed(step_ours, b))
            train_t["theirs"].append(timed(step_theirs, b))
        # 2. sampling-step time, interleaved (SAMPLE_STEPS respaced ancestral steps)
        @torch.no_grad()
        def sample_theirs(n, scheduler, steps, seed):
            gen = torch.Generator().manual_seed(seed)
            x = torch.randn(n, 1, 28, 28, generator=gen)
            scheduler.set_timesteps(steps)
            for t in scheduler.timesteps:
                x = scheduler.step(net(x, t).sample, t, x, generator=gen).prev_sample
            return to_data_space(x, 256)

        sample_t = {"ours": [], "theirs": []}
        for r in range(3):
            sample_t["ours"].append(timed(lambda r=r: ours.sample(
                NUM_SAMPLES, sampler=AncestralSampler("beta", SAMPLE_STEPS, clip_x0=True),
                generator=torch.Generator().manual_seed(r))) / SAMPLE_STEPS)
            sample_t["theirs"].append(timed(sample_theirs, NUM_SAMPLES, ddpm, SAMPLE_STEPS, r)
                                      / SAMPLE_STEPS)
        med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
        train_s = {k: med(v) for k, v in train_t.items()}
        sample_s = {k: med(v) for k, v in sample_t.items()}
        print("train step", train_s, "sampling step", sample_s, flush=True)
        # 3. equal wall time: alternate, each until it has used BUDGET_S of its own time
        used = {"ours": sum(train_t["ours"]), "theirs": sum(train_t["theirs"])}
        steps = {"ours": 18, "theirs": 18}
        while min(used.values()) < BUDGET_S:
            who = min(used, key=used.get)
            used[who] += timed(step_ours if who == "ours" else step_theirs, batch())
            steps[who] += 1
        print("equal wall time steps", steps, flush=True)
        ours.eval()
        net.eval()
        samples_ours = ours.sample(NUM_SAMPLES, sampler=DDIMSampler(50, 0.0, clip_x0=True),
                                   generator=torch.Generator().manual_seed(1))
        samples_theirs = sample_theirs(NUM_SAMPLES, ddim, 50, 1)
        if not wait_for_classifier("mnist"):
            return
        reference = reference_images("mnist", "test", NUM_SAMPLES)
        fd_ours, fd_theirs = fd_pr(samples_ours, reference), fd_pr(samples_theirs, reference)
        print(fd_ours, fd_theirs, flush=True)
    import diffusers

    write_result(
        "ddpm", "mnist", "peer-diffusers",
        config={"unet": "16 channels, mults 1-2-2, 1 res block per level, attention at 7x7",
                "parameters_ours": params[0], "parameters_diffusers": params[1],
                "batch_size": BATCH, "sampling_batch": NUM_SAMPLES,
                "budget_s_each": BUDGET_S, "diffusers_version": diffusers.__version__},
        metrics={"train_step_s_ours": round(train_s["ours"], 4),
                 "train_step_s_diffusers": round(train_s["theirs"], 4),
                 "train_step_ratio": round(train_s["ours"] / train_s["theirs"], 3),
                 "sampling_step_s_ours": round(sample_s["ours"], 4),
                 "sampling_step_s_diffusers": round(sample_s["theirs"], 4),
                 "sampling_step_ratio": round(sample_s["ours"] / sample_s["theirs"], 3),
                 "equal_time_steps_ours": steps["ours"],
                 "equal_time_steps_diffusers": steps["theirs"],
                 "frechet_distance_ours": fd_ours["frechet_distance"],
                 "frechet_distance_diffusers": fd_theirs["frechet_distance"]},
        wall_time_s=total.seconds,
        notes="Medians of interleaved timings on a heavily shared 2-core CPU (one thread); "
              "ratio = ours / diffusers. FD after equal training wall time from 100 DDIM-50 "
              "samples each vs 100 test images: with minutes of CPU both models are far from "
              "converged, so the FD pair says only which learns faster per second here.")


if __name__ == "__main__":
    main()
