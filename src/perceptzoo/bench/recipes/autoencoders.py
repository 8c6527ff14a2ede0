"""Autoencoders: the linear AE against PCA (digits) and inpainting (MNIST).

Neither has a published figure: PCA in closed form is the linear AE's reference (the model's
`extra_metrics` reports it beside the reconstruction error), the mean training image the
inpainting baseline: `inpainting_study` fills the same hidden squares of every test image with
the model and with the mean training image and scores both by the masked-pixel MSE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Recipe


def inpainting_against_mean_image(model: Any, train_x: Any, test_x: Any, *, seed: int = 0,
                                  batch_size: int = 1000) -> dict[str, Any]:
    """Masked-pixel MSE (pixels in [0, 1]) of an inpainting model and of the mean-image
    baseline on the same hidden squares: one fixed random `block_size` square per test image
    (`model.block_mask` drawn from a generator seeded with `seed`), filled by `model.inpaint`
    and, for the baseline, by the mean of `train_x` at those pixels; both errors are averaged
    over every hidden pixel of `test_x` (the ratio model / baseline is None where the
    baseline is exact)."""
    import torch

    device = next(model.parameters()).device
    mask = model.block_mask(len(test_x), generator=torch.Generator().manual_seed(seed))
    sq_model = sq_mean = 0.0
    hidden = 0
    with torch.no_grad():
        mean = sum(model.inputs(train_x[i : i + batch_size].to(device)).sum(0)
                   for i in range(0, len(train_x), batch_size)) / len(train_x)
        for i in range(0, len(test_x), batch_size):
            x, m = test_x[i : i + batch_size].to(device), mask[i : i + batch_size].to(device)
            v, hide = model.inputs(x), m.reshape(len(x), -1)
            filled = model.inputs(model.inpaint(x, m))
            sq_model += (filled - v)[hide].pow(2).sum().item()
            sq_mean += (mean.expand_as(v) - v)[hide].pow(2).sum().item()
            hidden += int(hide.sum().item())
    model_mse, mean_mse = sq_model / hidden, sq_mean / hidden
    return {"test_masked_mse": round(model_mse, 6), "mean_image_masked_mse": round(mean_mse, 6),
            "masked_mse_ratio": round(model_mse / mean_mse, 4) if mean_mse else None,
            "block_size": int(model.cfg.block_size), "masked_pixels": hidden}


def inpainting_study(run: Path) -> dict[str, Any]:
    """The inpainting run's masked-pixel MSE beside the mean training image's, on the whole
    test split of the run's dataset (`inpainting_against_mean_image`)."""
    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    config = runner.read_config(RunDir(run))
    model = runner.load(run)
    train = data.load(config["dataset"], "train", config.get("data_dir"))
    test = data.load(config["dataset"], "test", config.get("data_dir"))
    return inpainting_against_mean_image(model, train.x, test.x)


RECIPES: list[Recipe] = [
    Recipe(
        name="linear_ae-digits-k10", model="linear_ae", dataset="digits", task="autoencoders",
        variant="k10", model_config={"num_components": 10},
        train={"steps": 3000, "batch_size": 128, "lr": 1e-2, "eval_every": 3000},
        evaluate={"num_samples": 0}, suites=("quick", "full"), minutes=1.0,
        notes="eval reports reconstruction_mse beside pca_mse_same_data and the largest "
              "principal angle (extra_metrics)",
    ),
    Recipe(
        name="denoising_ae-mnist", model="denoising_ae", dataset="mnist", task="autoencoders",
        model_config={"hidden_sizes": [512], "code_size": 128, "corruption": "salt_pepper",
                      "noise": 0.2},
        train={"steps": 3000, "batch_size": 100, "lr": 1e-3, "eval_every": 3000},
        evaluate={"num_samples": 0}, suites=("full",), minutes=8,
    ),
    Recipe(
        name="inpainting_ae-mnist", model="inpainting_ae", dataset="mnist", task="autoencoders",
        model_config={"block_size": 12},
        train={"steps": 2000, "batch_size": 100, "lr": 1e-3, "eval_every": 2000,
               "eval_examples": 500},
        evaluate={"num_samples": 0}, suites=("full",), minutes=10, study=inpainting_study,
        notes="test_masked_mse: MSE on the hidden 12x12 square (pixels in [0, 1]) of each of "
              "the 10,000 MNIST test images, one fixed random square per image (seed 0), "
              "filled by inpaint() (known pixels returned unchanged); mean_image_masked_mse: "
              "the same squares filled with the mean training image (the baseline); "
              "masked_mse_ratio = model / baseline. test_loss and test_masked_bce are the "
              "training objective on the test split with squares drawn by the loss",
    ),
]
