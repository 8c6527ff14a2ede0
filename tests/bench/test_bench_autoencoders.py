"""The autoencoder recipes' studies: the inpainting model beside the mean-image baseline."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.bench.recipes.autoencoders import (
    RECIPES,
    inpainting_against_mean_image,
    inpainting_study,
)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return perceptzoo.build("inpainting_ae", block_size=3, hidden_sizes=(16,), code_size=8)


def test_the_mean_image_baseline_is_scored_on_the_hidden_pixels_only(model):
    levels = model.cfg.num_levels
    zeros = torch.zeros(50, *model.cfg.data_shape, dtype=torch.uint8)
    full = torch.full_like(zeros, levels - 1)
    # a mean image of 0 against images at the top level: an error of 1 on every hidden pixel
    out = inpainting_against_mean_image(model, zeros, full, batch_size=16)
    assert out["mean_image_masked_mse"] == pytest.approx(1.0)
    assert out["masked_pixels"] == 50 * 3 * 3
    # the mean image equal to the test images: no error, wherever the squares are
    same = torch.randint(0, levels, (1, *model.cfg.data_shape)).to(torch.uint8).expand_as(zeros)
    exact = inpainting_against_mean_image(model, same, same)
    assert exact["mean_image_masked_mse"] == 0.0 and exact["masked_mse_ratio"] is None
    # the model's error: its prediction's on the hidden square, in [0, 1] units
    out = inpainting_against_mean_image(model, zeros, full)
    assert 0.0 < out["test_masked_mse"] < 1.0
    assert out["masked_mse_ratio"] == pytest.approx(out["test_masked_mse"], abs=1e-4)


def test_the_inpainting_recipe_scores_the_model_and_the_baseline_on_the_same_squares(tmp_path):
    from perceptzoo.core import runner

    recipe = next(r for r in RECIPES if r.name == "inpainting_ae-mnist")
    assert recipe.study is inpainting_study
    run = tmp_path / "run"
    runner.train("inpainting_ae", dataset="digits", out=run,
                 train_config={"steps": 2, "batch_size": 16, "progress": False},
                 model_overrides={"block_size": 3, "hidden_sizes": [16], "code_size": 8})
    out = inpainting_study(run)
    assert {"test_masked_mse", "mean_image_masked_mse", "masked_mse_ratio"} <= set(out)
    assert out["block_size"] == 3 and out["mean_image_masked_mse"] > 0
    assert out == inpainting_study(run)  # fixed squares: the same figures every time
