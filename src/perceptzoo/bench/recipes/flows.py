"""Normalizing flows: MNIST bits/dim and samples, 2D toys with known densities, C-Flow's paired
edge <-> digit translation and SRFlow's 4x super-resolution on MNIST.

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Published, Recipe


def cflow_translation(run: Path) -> dict[str, Any]:
    """C-Flow's translations of the first 500 test pairs at temperature 0.7: edges -> digits:
    how often the generated digit's own edge map equals the input edge map, and the MNIST
    classifier's accuracy on the generated digits against the true labels; digits -> edges:
    the pixel accuracy of the generated edge map."""
    import torch

    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.data.edges import edge_map
    from perceptzoo.metrics import classifier

    model = runner.load(run)
    test = data.load("mnist", "test")
    x_a, x_b = model.pair(test.x[:500])
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.translate(x_a, generator=torch.Generator().manual_seed(1), temperature=0.7)
        if model.cfg.direction != "edges_to_digits":
            return {"edge_pixel_accuracy": float((out == x_b).float().mean())}
        metrics = {"edge_consistency":
                   float((edge_map(out.to(torch.uint8), 256) == x_a).float().mean())}
        if classifier.has_classifier("mnist"):
            logits = classifier.load_classifier("mnist")(out)
            metrics["generated_class_accuracy"] = float(
                (logits.argmax(1) == test.y[:500]).float().mean())
    return metrics


_CFLOW_TRAIN = {"steps": 500, "batch_size": 64, "lr": 1e-3, "warmup_steps": 100,
                "eval_every": 500, "eval_examples": 500, "checkpoint_every": 100}
_NO_MNIST_FIGURE = ("C-Flow (Pumarola et al. 2020) reports no MNIST figure; test_bits_per_dim "
                    "is the pair's bound per digit pixel, an upper bound on the digit's")

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
    # -- paired translation and super-resolution on MNIST --------------------------------
    *[Recipe(
        name=f"cflow-mnist-{direction}", model="cflow", dataset="mnist",
        task="paired_mnist", figure="test_bits_per_dim", variant=direction,
        model_config={"hidden": 32, "num_steps": 4, "num_scales": 2, "direction": direction},
        train=dict(_CFLOW_TRAIN), evaluate={"num_samples": 1000}, study=cflow_translation,
        published=Published({}, _NO_MNIST_FIGURE), suites=("full",), minutes=25,
        notes=f"C-Flow {direction.replace('_', ' ')} on (digit, Sobel edge map) pairs; "
              "bits/dim of the pair's bound, of flow A and of B given A; study: the "
              "translations' consistency at temperature 0.7",
    ) for direction in ("edges_to_digits", "digits_to_edges")],
    Recipe(
        name="srflow-mnist-4x", model="srflow", dataset="mnist", task="super_resolution",
        figure="test_psnr_mean_db", variant="4x",
        model_config={"hidden": 32, "num_steps": 4, "num_scales": 2, "cond_features": 16,
                      "logit_alpha": 0.05},
        train={"steps": 450, "batch_size": 64, "lr": 1e-3, "warmup_steps": 100,
               "eval_every": 500, "eval_examples": 500, "checkpoint_every": 100},
        evaluate={"num_samples": 0}, log_prob_of="conditional",
        published=Published({}, "SRFlow publishes DIV2K and CelebA figures only (Lugmayr et "
                            "al. 2020, Tables 1-2); no MNIST figure: the reference is the "
                            "bicubic PSNR (test_psnr_bicubic_db) measured in the same run"),
        suites=("full",), minutes=15,
        notes="7x7 -> 28x28; PSNR of the mean of 8 samples at temperature 0.8 on 200 test "
              "digits (extra_metrics), beside bicubic; log p(x | low-res) is a conditional "
              "likelihood, stored as test_conditional_nll_nats, no bits/dim",
    ),
]
