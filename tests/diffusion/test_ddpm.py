"""DDPM: loss contract, the variational bound's pieces, sampling, and runs through the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.cli import main
from perceptzoo.diffusion.ddpm import (
    AncestralSampler,
    discretized_gaussian_log_prob,
    gaussian_kl,
    to_data_space,
    to_model_space,
)
from perceptzoo.diffusion.samplers import DDIMSampler
from perceptzoo.errors import UserError

TINY = dict(num_steps=20, channels=8, channel_mults=(1, 2), attention_levels=(1,))


def digits_batch(n=16):
    return data.load("digits", "train")[torch.arange(n)]


def test_loss_is_finite_and_reaches_every_parameter():
    torch.manual_seed(0)
    model = perceptzoo.build("ddpm", **TINY)
    # the zero-initialised convs (DDPM's init) block gradients only at step 0: perturb them
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.05)
    out = model.loss(digits_batch())
    assert torch.isfinite(out.loss)
    out.loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing


def test_loss_is_the_eps_mse_at_uniform_t():
    """With a network that returns the true noise the loss is 0; with zeros it is E||eps||^2/D."""
    model = perceptzoo.build("ddpm", **TINY)
    captured = {}

    class Oracle(torch.nn.Module):
        def forward(self, x_t, t, cond=None):
            captured.setdefault("t", []).append(t)
            return torch.zeros_like(x_t)

    model.net = Oracle()
    torch.manual_seed(0)
    x, y = data.load("digits", "train")[torch.arange(1000)]
    loss = model.loss((x, y)).loss
    assert abs(float(loss) - 1.0) < 0.02  # E eps^2 = 1
    t = torch.cat(captured["t"])
    assert int(t.min()) == 1 and int(t.max()) == 20  # t ~ U{1..T}


def test_levels_round_trip():
    x = torch.arange(17, dtype=torch.uint8).reshape(1, 1, 1, 17)
    assert torch.equal(to_data_space(to_model_space(x, 17), 17), x.float())
    assert float(to_model_space(x, 17).min()) == -1 and float(to_model_space(x, 17).max()) == 1


def test_discretized_decoder_is_a_distribution_over_levels():
    levels = 17
    grid = to_model_space(torch.arange(levels), levels).double()
    for mean, var in [(0.1, 0.01), (-0.93, 1e-4), (1.4, 0.5), (0.0, 1e-6)]:
        logp = discretized_gaussian_log_prob(grid, torch.full_like(grid, mean),
                                             torch.tensor(var, dtype=torch.float64), levels)
        assert math.isclose(float(logp.exp().sum()), 1.0, abs_tol=1e-6)


def test_gaussian_kl_matches_torch_distributions():
    from torch.distributions import Normal, kl_divergence

    m1, v1, m2, v2 = (torch.rand(10, dtype=torch.float64) + 0.1 for _ in range(4))
    expected = kl_divergence(Normal(m1, v1.sqrt()), Normal(m2, v2.sqrt()))
    assert torch.allclose(gaussian_kl(m1, v1, m2, v2), expected)


def test_bound_terms_and_stratified_estimate():
    torch.manual_seed(0)
    model = perceptzoo.build("ddpm", **TINY).eval()
    x, _ = digits_batch(8)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    full = model.bound_terms(x, None, 0, g())
    assert set(full) == {"prior", "diffusion", "decoder"}
    assert all((v >= 0).all() and v.shape == (8,) for v in full.values())
    # L_T in closed form: sum over pixels of KL(N(sqrt(abar_T) x0, 1 - abar_T) || N(0, 1))
    abar = model.schedule.alpha_bar[20]
    x0 = to_model_space(x, 17).double()
    prior = 0.5 * (abar * x0**2 + (1 - abar) - 1 - torch.log(1 - abar)).flatten(1).sum(1)
    assert torch.allclose(full["prior"], prior)
    # k = T - 1 strata is the full sum
    assert torch.allclose(model.bound_terms(x, None, 19, g())["diffusion"], full["diffusion"])
    nll = -model.log_prob(x)
    assert nll.shape == (8,) and (nll > 0).all()


def test_stratified_bound_estimate_is_unbiased():
    """k strata (one t per stratum and example) estimate the same sum as all T - 1 terms."""
    torch.manual_seed(0)
    model = perceptzoo.build("ddpm", **TINY).eval()
    with torch.no_grad():  # a non-trivial denoiser
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.05)
    x, _ = digits_batch(1)
    x = x.expand(500, -1, -1, -1)  # replicas of one image
    full = model.bound_terms(x, None, 0, torch.Generator().manual_seed(1))["diffusion"]
    few = model.bound_terms(x, None, 4, torch.Generator().manual_seed(2))["diffusion"]
    se = (full.var() / len(full) + few.var() / len(few)).sqrt()
    assert (full.mean() - few.mean()).abs() < 5 * se, (full.mean(), few.mean(), se)
    assert few.var() > full.var()  # fewer terms, more variance: the test has power


def test_sample_shapes_and_swappable_samplers():
    model = perceptzoo.build("ddpm", **TINY).eval()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    for sampler in (None, AncestralSampler("beta_tilde", 5), DDIMSampler(5), DDIMSampler(5, 1.0)):
        x = model.sample(3, generator=g(), sampler=sampler)
        assert x.shape == (3, 1, 8, 8) and x.min() >= 0 and x.max() <= 16
        assert torch.equal(x, x.round())
    assert torch.equal(model.sample(2, generator=g(), sampler=DDIMSampler(4)),
                       model.sample(2, generator=g(), sampler=DDIMSampler(4)))


def test_refuses_non_image_data():
    model = perceptzoo.build("ddpm", **TINY)
    with pytest.raises(UserError, match="images"):
        model.check_data(data.info("toy2d:moons"))
    with pytest.raises(UserError):
        perceptzoo.build("ddpm", variance="sigma", **TINY).default_sampler()


def test_cli_train_sample_eval_with_ema(tmp_path, capsys):
    run = tmp_path / "ddpm"
    args = ["train", "ddpm", "--steps", "3", "--batch-size", "16", "--out", str(run),
            "--no-progress", "--eval-samples", "20", "--full-eval", "--set", "num_steps=10",
            "channels=8", "channel_mults=[1,2]", "attention_levels=[1]", "bound_timesteps=4",
            "train.ema_decay=0.9", "train.eval_examples=32"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["test_bits_per_dim"] > 0 and math.isfinite(result["frechet_distance"])
    model = perceptzoo.load(run)
    assert model.cfg.num_steps == 10
    # the saved weights are the EMA ones, which differ from the live weights in the checkpoint
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    live = state["model"]["net.encoder.input_conv.weight"]
    assert not torch.equal(live, model.net.encoder.input_conv.weight)
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").exists()
    assert main(["eval", str(run), "--eval-samples", "0"]) == 0
    assert "test_bound_decoder_bits_per_dim" in capsys.readouterr().out
