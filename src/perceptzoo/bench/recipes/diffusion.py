"""Diffusion models: MNIST sample quality (Fréchet distance) and the variational bound (guidance,
ControlNet, latent diffusion and the sampler sweep are studies: benchmarks/diffusion_*.py).

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

from typing import Any

from perceptzoo.bench.recipe import Published, Recipe


def _train(steps: int, batch_size: int, lr: float, warmup_steps: int, checkpoint_every: int,
           **more: Any) -> dict[str, Any]:
    """A diffusion recipe's train options: evaluated once, at the end of training."""
    return {"steps": steps, "batch_size": batch_size, "lr": lr, "warmup_steps": warmup_steps,
            "eval_every": steps, "checkpoint_every": checkpoint_every, **more}


def _ddpm(name: str, dataset: str, task: str, *, model_config: dict[str, Any],
          train: dict[str, Any], num_samples: int | None = 1000, **fields: Any) -> Recipe:
    """A DDPM recipe scored by samples (Fréchet distance, precision, recall): `num_samples`,
    or None for the suite's size (`bench.metrics.sample_size`)."""
    evaluate = {} if num_samples is None else {"num_samples": num_samples}
    return Recipe(name=name, model="ddpm", dataset=dataset, task=task,
                  model_config=model_config, train=train, evaluate=evaluate, **fields)


#: the 16-channel two-level U-Net of the digits recipes
_DIGITS_UNET = {"channels": 16, "channel_mults": [1, 2], "sample_steps": 20}

RECIPES: list[Recipe] = [
    # -- quick suite: seconds on a laptop CPU, embedded data ----------------------------------
    _ddpm(
        "ddpm-digits-quick", "digits", "digits_sample_quality", variant="quick",
        model_config={**_DIGITS_UNET, "sampler": "ddim"},
        train=_train(250, 32, 0.002, warmup_steps=25, checkpoint_every=125),
        suites=("quick",), minutes=2.0,
        notes="quick suite: a 16-channel U-Net DDPM, 250 steps of 32 on the 8x8 digits; samples "
        "with 20 deterministic DDIM steps",
    ),
    # -- full and gpu suites ------------------------------------------------------------------
    _ddpm(
        "ddpm-digits", "digits", "digits_sample_quality",
        model_config={**_DIGITS_UNET, "sampler": "dpm_solver"},
        train=_train(2000, 64, 0.002, warmup_steps=100, checkpoint_every=250,
                     ema_decay=0.999),
        num_samples=None,  # the full suite's: as many as the 1,257 training digits, as the
        # other digits rows
        suites=("full",), minutes=15.0,
        notes="the quick recipe's 16-channel U-Net trained 8x longer (2000 steps of 64, EMA "
        "0.999): the DDPM the sampler study (benchmarks/diffusion_samplers.py) compares "
        "ancestral, DDIM, DPM-Solver++ and Heun on; samples with 20 DPM-Solver++(2M) steps",
    ),
    _ddpm(
        "ddpm-mnist", "mnist", "mnist_sample_quality",
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
            "sampler": "dpm_solver",
            "sample_steps": 20,
            "clip_x0": True,
            "bound_timesteps": 50,
        },
        train=_train(15000, 32, 0.001, warmup_steps=100, checkpoint_every=250,
                     ema_decay=0.999, eval_examples=200),
        num_samples=None,  # the full suite's 10,000: 20 DPM-Solver++ steps make it about
        # 15 CPU-minutes (50 DDIM steps took 225 ms an image)
        published=Published(
            {},
            (
                "Ho et al. 2020, Table 1, CIFAR-10: FID 3.17 and NLL <= 3.75 bits/dim (L_simple); "
                "NLL <= 3.70, FID 13.51 (true bound L). Different data, Inception features, a "
                "35.7M-parameter net: not comparable"
            ),
        ),
        suites=("full",),
        minutes=60,
        notes=(
            "a 16-channel three-level U-Net (280k parameters), 15,000 steps of 32 (8 epochs), "
            "EMA 0.999. FD/precision/recall of 10,000 samples (DPM-Solver++(2M), 20 steps, x0 "
            "clipped) against the 10,000 test images in the project's MNIST "
            "classifier features; real_vs_real_frechet_distance is train vs test images at "
            "the same sample size (the floor). The bound is estimated on the test split with "
            "50 stratified terms of sum L_{t-1} (an unbiased Monte Carlo estimate of it)."
        ),
    ),
]
