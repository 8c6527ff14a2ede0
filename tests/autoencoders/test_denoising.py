"""Denoising and inpainting AEs: measured denoising; inpainting touches masked pixels only."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.errors import UserError


def _train(model, x, steps=300, lr=3e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = model.loss((x[idx], None)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("corruption,noise", [("gaussian", 0.3), ("masking", 0.3),
                                              ("salt_pepper", 0.2)])
def test_denoiser_output_is_closer_to_the_clean_input_than_the_corruption(corruption, noise):
    torch.manual_seed(0)
    x, test = data.load("digits", "train").x, data.load("digits", "test").x
    model = _train(perceptzoo.build("denoising_ae", hidden_sizes=(128,), code_size=48,
                                    corruption=corruption, noise=noise), x)
    x_tilde = model.corrupt(test, generator=torch.Generator().manual_seed(1))
    corrupted_mse = (x_tilde - test).pow(2).mean()
    denoised_mse = (model.denoise(x_tilde) - test).pow(2).mean()
    clean_mse = (model.denoise(test) - test).pow(2).mean()
    assert denoised_mse < 0.7 * corrupted_mse, (denoised_mse, corrupted_mse)
    assert clean_mse < corrupted_mse


def test_inpainting_changes_only_the_masked_pixels_and_beats_the_mean_image():
    torch.manual_seed(0)
    x, test = data.load("digits", "train").x, data.load("digits", "test").x
    model = perceptzoo.build("inpainting_ae", hidden_sizes=(128,), code_size=48, block_size=4)
    mask = model.block_mask(len(test), generator=torch.Generator().manual_seed(2))
    before = model.inpaint(test, mask)
    assert torch.equal(before[~mask], test[~mask].float())
    model = _train(model, x, steps=400)
    after = model.inpaint(test, mask)
    assert torch.equal(after[~mask], test[~mask].float())
    assert not torch.equal(after[mask], before[mask])
    mean_image = x.float().mean(0, keepdim=True).expand_as(test)
    model_mse = (after - test)[mask].pow(2).mean()
    baseline_mse = (mean_image - test)[mask].pow(2).mean()
    assert model_mse < baseline_mse


def test_bad_masks_and_settings_raise():
    model = perceptzoo.build("inpainting_ae", hidden_sizes=(8,), code_size=4, block_size=3)
    x = torch.randint(0, 17, (2, 1, 8, 8))
    with pytest.raises(UserError, match="larger than the 8x8 image"):
        model.inpaint(x, torch.ones(2, 1, 10, 10, dtype=torch.bool))
    with pytest.raises(UserError, match="block_size 9 does not fit"):
        perceptzoo.build("inpainting_ae", block_size=9)
    with pytest.raises(UserError, match="unknown corruption"):
        perceptzoo.build("denoising_ae", corruption="blur")
    with pytest.raises(UserError, match="fraction"):
        perceptzoo.build("denoising_ae", corruption="masking", noise=1.5)
