"""Normalizing flows: MNIST bits/dim and samples, 2D toys with known densities (C-Flow and SRFlow
are studies: benchmarks/flows_{cflow,srflow}_mnist.py).

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

from perceptzoo.bench.recipe import Published, Recipe

RECIPES: list[Recipe] = [
    # -- quick suite: seconds on a laptop CPU, embedded data ----------------------------------
    Recipe(
        name="realnvp-digits-quick",
        model="realnvp",
        dataset="digits",
        task="digits_sample_quality",
        variant="quick",
        model_config={"hidden": 32},
        train={
            "steps": 200,
            "batch_size": 64,
            "lr": 0.001,
            "eval_every": 200,
            "checkpoint_every": 100,
        },
        evaluate={"num_samples": 1000},
        suites=("quick",),
        minutes=1.5,
        notes="quick suite: RealNVP (dequantized, multi-scale), 200 steps on the 8x8 digits",
    ),
    # -- full and gpu suites ------------------------------------------------------------------
    Recipe(
        name="glow-mnist-gpu",
        model="glow",
        dataset="mnist",
        task="mnist_bits_per_dim",
        variant="gpu",
        model_config={"hidden": 512, "num_steps": 16, "num_scales": 2},
        train={
            "batch_size": 64,
            "lr": 0.001,
            "warmup_steps": 1000,
            "grad_clip": 50.0,
            "steps": 4294,
        },
        published=Published(
            {"test_bits_per_dim": 1.05},
            (
                "Grathwohl et al. 2019 (FFJORD), Table 2, MNIST column, row Glow (quoted from "
                "memory of the paper; not re-read here)"
            ),
        ),
        suites=("gpu",),
        minutes=13,
        device="cuda",
        notes=(
            "GPU budget run on one H200, sized to 6 minutes of training measured alone, but "
            "run beside four other jobs on the same GPU: it was cut off at the limit and "
            "resumed from its checkpoint to finish its 4294 steps; wall time is both "
            "invocations (the first shared the GPU). Far from converged: the published "
            "figure needs hundreds of epochs. figures/flows_glow_mnist_samples.png rows are "
            "temperatures 0.5, 0.7, 0.85, 1.0"
        ),
    ),
    Recipe(
        name="glow-mnist",
        model="glow",
        dataset="mnist",
        task="mnist_bits_per_dim",
        model_config={"hidden": 48, "num_steps": 4, "num_scales": 2, "logit_alpha": 0.05},
        train={"steps": 800, "batch_size": 64, "lr": 0.001, "warmup_steps": 50},
        published=Published(
            {"test_bits_per_dim": 1.05},
            (
                "Grathwohl et al. 2019 (FFJORD), Table 2, MNIST column, row Glow (quoted from "
                "memory of the paper; not re-read here)"
            ),
        ),
        suites=("full",),
        minutes=38,
        notes=(
            "cpu budget run: training 1569 s in this invocation (a resumed run counts only "
            "its last part); figures/flows_glow_mnist_samples.png rows are temperatures "
            "0.5, 0.7, 0.85, 1.0"
        ),
    ),
    Recipe(
        name="realnvp-mnist-gpu",
        model="realnvp",
        dataset="mnist",
        task="mnist_bits_per_dim",
        variant="gpu",
        model_config={"hidden": 256, "num_scales": 3},
        train={
            "batch_size": 64,
            "lr": 0.001,
            "warmup_steps": 1000,
            "grad_clip": 100.0,
            "steps": 11668,
        },
        published=Published(
            {"test_bits_per_dim": 1.06},
            (
                "Grathwohl et al. 2019 (FFJORD), Table 2, MNIST column, row Real NVP (quoted from "
                "memory of the paper; not re-read here)"
            ),
        ),
        suites=("gpu",),
        minutes=15,
        device="cuda",
        notes=(
            "GPU budget run on one H200, sized to 6 minutes of training measured alone, but "
            "run beside four other jobs on the same GPU: it was cut off at the limit and "
            "resumed from its checkpoint to finish its 11668 steps; wall time is both "
            "invocations (the first shared the GPU). Far from converged: the published "
            "figure needs hundreds of epochs. figures/flows_realnvp_mnist_samples.png rows "
            "are temperatures 0.5, 0.7, 0.85, 1.0"
        ),
    ),
    Recipe(
        name="realnvp-mnist",
        model="realnvp",
        dataset="mnist",
        task="mnist_bits_per_dim",
        model_config={"hidden": 32, "num_scales": 3},
        train={"steps": 500, "batch_size": 64, "lr": 0.001, "warmup_steps": 50},
        published=Published(
            {"test_bits_per_dim": 1.06},
            (
                "Grathwohl et al. 2019 (FFJORD), Table 2, MNIST column, row Real NVP (quoted from "
                "memory of the paper; not re-read here)"
            ),
        ),
        suites=("full",),
        minutes=54,
        notes=(
            "cpu budget run: training 2185 s in this invocation (a resumed run counts only "
            "its last part); figures/flows_realnvp_mnist_samples.png rows are temperatures "
            "0.5, 0.7, 0.85, 1.0"
        ),
    ),
    Recipe(
        name="realnvp2d-toy2d_25gaussians-mixture",
        model="realnvp2d",
        dataset="toy2d:25gaussians",
        task="toy2d",
        variant="mixture",
        model_config={"num_layers": 8, "hidden": 64, "base": "mixture", "num_components": 8},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=6,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_25gaussians.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_25gaussians",
        model="realnvp2d",
        dataset="toy2d:25gaussians",
        task="toy2d",
        model_config={"num_layers": 8, "hidden": 64, "base": "normal"},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=5,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_25gaussians.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_8gaussians-mixture",
        model="realnvp2d",
        dataset="toy2d:8gaussians",
        task="toy2d",
        variant="mixture",
        model_config={"num_layers": 8, "hidden": 64, "base": "mixture", "num_components": 8},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=7,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_8gaussians.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_8gaussians",
        model="realnvp2d",
        dataset="toy2d:8gaussians",
        task="toy2d",
        model_config={"num_layers": 8, "hidden": 64, "base": "normal"},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=8,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_8gaussians.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_checkerboard-mixture",
        model="realnvp2d",
        dataset="toy2d:checkerboard",
        task="toy2d",
        variant="mixture",
        model_config={"num_layers": 8, "hidden": 64, "base": "mixture", "num_components": 8},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=8,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_checkerboard.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_checkerboard",
        model="realnvp2d",
        dataset="toy2d:checkerboard",
        task="toy2d",
        model_config={"num_layers": 8, "hidden": 64, "base": "normal"},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=7,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_checkerboard.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_moons-mixture",
        model="realnvp2d",
        dataset="toy2d:moons",
        task="toy2d",
        variant="mixture",
        model_config={"num_layers": 8, "hidden": 64, "base": "mixture", "num_components": 8},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=10,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_moons.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_moons",
        model="realnvp2d",
        dataset="toy2d:moons",
        task="toy2d",
        model_config={"num_layers": 8, "hidden": 64, "base": "normal"},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=5,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_moons.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_rings-mixture",
        model="realnvp2d",
        dataset="toy2d:rings",
        task="toy2d",
        variant="mixture",
        model_config={"num_layers": 8, "hidden": 64, "base": "mixture", "num_components": 8},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=7,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_rings.png",
    ),
    Recipe(
        name="realnvp2d-toy2d_rings",
        model="realnvp2d",
        dataset="toy2d:rings",
        task="toy2d",
        model_config={"num_layers": 8, "hidden": 64, "base": "normal"},
        train={"steps": 2000, "batch_size": 256, "lr": 0.002, "warmup_steps": 100},
        evaluate={"num_samples": 2000},
        published=Published(
            {},
            (
                "no published figure for these toys; the reference is the true test NLL "
                "(test_true_nll_nats) where the toy has a closed form"
            ),
        ),
        suites=("full",),
        minutes=7,
        notes="CPU budget run; density plot benchmarks/figures/flows_toy2d_rings.png",
    ),
]
