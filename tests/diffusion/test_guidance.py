"""Classifier-free guidance: w = 0 is the conditional model; label dropout; sampling."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.diffusion.samplers import DDIMSampler
from perceptzoo.errors import UserError

TINY = dict(num_steps=20, channels=8, channel_mults=(1, 2), attention_levels=(1,))


def trained_like(model):
    """Perturb the zero-initialised output so predictions depend on the label."""
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.1)
    return model.eval()


def test_guidance_w0_equals_the_conditional_prediction_and_w_mixes():
    """eq. 6 through the batched two-branch pass for every w > 0, and w = 0 (a shortcut that
    skips the unconditional branch) is its limit w -> 0: a swapped or mislabelled branch, or a
    shortcut that returned anything but the conditional prediction, fails here."""
    torch.manual_seed(0)
    model = trained_like(perceptzoo.build("ddpm_cfg", **TINY)).double()
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    t = torch.randint(1, 21, (6,))
    c = torch.tensor([0, 1, 2, 3, 4, 5])
    cond = model.net(x, t, c)
    uncond = model.net(x, t, torch.full_like(c, 10))
    assert (cond - uncond).abs().max() > 1e-3  # the label matters, so the branches differ
    for w in (1e-9, 0.5, 3.0):
        torch.testing.assert_close(model.guided_eps(c, w)(x, t), (1 + w) * cond - w * uncond)
    near_zero = model.guided_eps(c, 1e-9)(x, t)  # the two-branch pass, (1 + w) cond - w uncond
    torch.testing.assert_close(model.guided_eps(c, 0.0)(x, t), near_zero, atol=1e-7, rtol=0)
    # the null label is the model's unconditional prediction
    assert torch.equal(model.net(x, t, None), uncond)


def test_label_dropout():
    model = perceptzoo.build("ddpm_cfg", label_dropout=0.3, **TINY).train()
    y = torch.zeros(20_000, dtype=torch.long)
    dropped = (model.train_cond(y) == 10).float().mean()
    assert abs(float(dropped) - 0.3) < 5 * (0.3 * 0.7 / 20_000) ** 0.5
    assert torch.equal(model.eval().train_cond(y), y)  # no dropout outside training
    with pytest.raises(UserError, match="labels"):
        model.train_cond(None)


def test_guided_sampling_shapes_and_errors():
    model = trained_like(perceptzoo.build("ddpm_cfg", **TINY))
    g = torch.Generator().manual_seed(0)
    x = model.sample(4, cond=torch.tensor([1, 1, 7, 7]), guidance_scale=2.0,
                     sampler=DDIMSampler(5), generator=g)
    assert x.shape == (4, 1, 8, 8) and x.min() >= 0 and x.max() <= 16
    assert model.sample(3, sampler=DDIMSampler(3)).shape == (3, 1, 8, 8)  # labels 0, 1, 2
    with pytest.raises(UserError, match="labels"):
        model.sample(2, cond=torch.tensor([3, 12]))
    with pytest.raises(UserError, match="class labels"):
        model.check_data(data.info("binarized_mnist").__class__(
            "unlabelled", (1, 8, 8), 17, (0.0, 16.0), None))


def test_train_run_through_the_api(tmp_path):
    run = perceptzoo.train("ddpm_cfg", out=tmp_path / "cfg",
                           train_config=perceptzoo.TrainConfig(steps=2, batch_size=16,
                                                               progress=False, num_samples=4,
                                                               eval_examples=16),
                           model_overrides={**TINY, "sample_steps": 3, "sampler": "ddim",
                                            "bound_timesteps": 3})
    model = perceptzoo.load(run)
    assert model.cfg.num_classes == 10 and (run / "samples.png").exists()
