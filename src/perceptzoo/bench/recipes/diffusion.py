"""Diffusion models: MNIST sample quality (Fréchet distance) and the variational bound.

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

from perceptzoo.bench.recipe import Published, Recipe

RECIPES: list[Recipe] = [
    # -- quick suite: seconds on a laptop CPU, embedded data ----------------------------------
    Recipe(
        name="ddpm-digits-quick",
        model="ddpm",
        dataset="digits",
        task="digits_sample_quality",
        variant="quick",
        model_config={"channels": 16, "sampler": "ddim", "sample_steps": 20},
        train={
            "steps": 400,
            "batch_size": 64,
            "lr": 0.002,
            "warmup_steps": 50,
            "eval_every": 400,
            "checkpoint_every": 200,
        },
        evaluate={"num_samples": 1000},
        suites=("quick",),
        minutes=2.0,
        notes="quick suite: a 16-channel U-Net DDPM, 400 steps on the 8x8 digits; samples "
        "with 20 deterministic DDIM steps",
    ),
    # -- full and gpu suites ------------------------------------------------------------------
    Recipe(
        name="controlnet-mnist-edges",
        model="controlnet",
        dataset="mnist",
        task="mnist_sample_quality",
        variant="edges",
        model_config={
            "num_steps": 1000,
            "schedule": "linear",
            "channels": 16,
            "channel_mults": [1, 2, 2],
            "num_res_blocks": 1,
            "attention_levels": [2],
            "num_heads": 1,
            "dropout": 0.0,
            "groups": 8,
            "variance": "beta",
            "sampler": "ddim",
            "sample_steps": 25,
            "ddim_eta": 0.0,
            "clip_x0": True,
            "bound_timesteps": 32,
            "base_run": "/work/main/benchmarks/work/ddpm-mnist",
            "edge_bank_size": 256,
        },
        train={
            "steps": 300,
            "batch_size": 32,
            "lr": 0.001,
            "warmup_steps": 30,
            "ema_decay": 0.99,
            "eval_every": 300,
            "eval_examples": 64,
            "checkpoint_every": 50,
            "num_samples": 0,
        },
        published=Published(
            {},
            (
                "Zhang et al. 2023 evaluate Stable Diffusion with text prompts (FID, CLIP score, "
                "user studies); no comparable MNIST figure"
            ),
        ),
        suites=("full",),
        minutes=26,
        notes=(
            "One sample per test edge map (first 100); edge_f1 = Dice overlap of "
            "edge_map(sample) with the condition (1.0 for the real images by construction); "
            "FD/PR against other test images (100..199). base_unconditional_*: the locked "
            "DDPM's own samples scored against the same edge maps (chance level)."
        ),
    ),
    Recipe(
        name="ddpm-mnist",
        model="ddpm",
        dataset="mnist",
        task="mnist_sample_quality",
        model_config={
            "num_steps": 1000,
            "schedule": "linear",
            "channels": 16,
            "channel_mults": [1, 2, 2],
            "num_res_blocks": 1,
            "attention_levels": [2],
            "num_heads": 1,
            "dropout": 0.0,
            "groups": 8,
            "variance": "beta",
            "sampler": "ddim",
            "sample_steps": 50,
            "ddim_eta": 0.0,
            "clip_x0": True,
            "bound_timesteps": 50,
        },
        train={
            "steps": 700,
            "batch_size": 32,
            "lr": 0.001,
            "warmup_steps": 100,
            "ema_decay": 0.995,
            "eval_every": 700,
            "eval_examples": 200,
            "checkpoint_every": 100,
        },
        published=Published(
            {},
            (
                "Ho et al. 2020, Table 1, CIFAR-10: FID 3.17 and NLL <= 3.75 bits/dim (L_simple); "
                "NLL <= 3.70, FID 13.51 (true bound L). Different data, Inception features, a "
                "35.7M-parameter net: not comparable"
            ),
        ),
        suites=("full",),
        minutes=99,
        notes=(
            "FD/PR from 100 samples (ancestral, 1000 steps, sigma^2=beta, x0 clipped) vs "
            "100 test images in the project's MNIST classifier features; "
            "real_vs_real_frechet_distance is train vs test images at the same sample size "
            "(the floor). The bound is estimated on the first 200 test images with 25 "
            "stratified terms of sum L_{t-1} (an unbiased Monte Carlo estimate of the "
            "bound)."
        ),
    ),
    Recipe(
        name="ddpm_cfg-mnist",
        model="ddpm_cfg",
        dataset="mnist",
        task="mnist_sample_quality",
        model_config={
            "num_steps": 1000,
            "schedule": "linear",
            "channels": 16,
            "channel_mults": [1, 2, 2],
            "num_res_blocks": 1,
            "attention_levels": [2],
            "num_heads": 1,
            "dropout": 0.0,
            "groups": 8,
            "variance": "beta",
            "sampler": "ddim",
            "sample_steps": 50,
            "ddim_eta": 0.0,
            "clip_x0": True,
            "bound_timesteps": 20,
            "num_classes": 10,
            "label_dropout": 0.1,
            "guidance_scale": 1.0,
        },
        train={
            "steps": 700,
            "batch_size": 32,
            "lr": 0.001,
            "warmup_steps": 100,
            "ema_decay": 0.995,
            "eval_every": 700,
            "eval_examples": 200,
            "checkpoint_every": 100,
        },
        published=Published(
            {},
            (
                "Ho & Salimans 2022 report ImageNet 64x64/128x128 FID and IS vs w; not comparable "
                "with MNIST in this project's classifier features"
            ),
        ),
        suites=("full",),
        minutes=78,
        notes=(
            "100 samples per w (10 per class), same noise for every w; class accuracy = the "
            "shipped MNIST classifier's head agrees with the asked-for label; FD/PR against "
            "the first 100 test images."
        ),
    ),
    Recipe(
        name="latent_diffusion-mnist",
        model="latent_diffusion",
        dataset="mnist",
        task="mnist_sample_quality",
        model_config={
            "num_steps": 1000,
            "schedule": "linear",
            "channels": 32,
            "channel_mults": [1, 2],
            "num_res_blocks": 1,
            "attention_levels": [1],
            "num_heads": 1,
            "dropout": 0.0,
            "groups": 8,
            "variance": "beta",
            "sampler": "ddim",
            "sample_steps": 50,
            "ddim_eta": 0.0,
            "clip_x0": True,
            "bound_timesteps": 32,
            "latent_channels": 4,
            "ae_channels": 32,
            "ae_downsamples": 2,
            "kl_weight": 0.001,
            "ae_steps": 600,
            "grad_clip": 1.0,
        },
        train={
            "steps": 1500,
            "batch_size": 64,
            "lr": 0.001,
            "warmup_steps": 100,
            "ema_decay": 0.995,
            "eval_every": 1500,
            "eval_examples": 500,
            "checkpoint_every": 250,
        },
        published=Published(
            {},
            (
                "Rombach et al. 2022 report FID on CelebA-HQ/FFHQ/LSUN/ImageNet at 256x256 with "
                "Inception features; not comparable"
            ),
        ),
        suites=("full",),
        minutes=128,
        notes=(
            "FD/PR of 100 samples vs the first 100 test images (project MNIST classifier); "
            "pixel model = benchmarks/diffusion_ddpm_mnist.py's run. Per-step sampling "
            "time: best of 3 DDIM-50 runs on 50 samples, back to back. recon_mse: "
            "autoencoder D(E(x)) on test pixels in [0, 1]. The pixel model's ancestral "
            "1000-step set is in ddpm-mnist-steps.json when the CPU budget allowed it."
        ),
    ),
]
