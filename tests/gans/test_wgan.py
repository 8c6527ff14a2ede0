"""WGAN and WGAN-GP: the gradient penalty on interpolates, weight clipping, n_critic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.gans.common import gradient_penalty


@pytest.mark.parametrize("shape", [(2,), (1, 8, 8)])
def test_penalty_is_zero_for_a_unit_norm_linear_critic(shape):
    """f(x) = w.x + b with ||w|| = 1 is 1-Lipschitz with ||grad f|| = 1 everywhere: penalty 0;
    scaling w by 2 makes ||grad f|| = 2 and the penalty (2 - 1)^2 = 1."""
    torch.manual_seed(0)
    dim = int(torch.tensor(shape).prod())
    linear = nn.Linear(dim, 1)
    with torch.no_grad():
        linear.weight /= linear.weight.norm()
    critic = nn.Sequential(nn.Flatten(1), linear, nn.Flatten(0))
    real, fake = torch.randn(64, *shape), torch.randn(64, *shape) + 3
    penalty, norm = gradient_penalty(critic, real, fake)
    penalty = penalty.detach()
    assert float(penalty) < 1e-10 and float(norm) == pytest.approx(1.0, abs=1e-6)
    with torch.no_grad():
        linear.weight *= 2
    penalty, _ = gradient_penalty(critic, real, fake)
    assert float(penalty) == pytest.approx(1.0, abs=1e-5)


def test_penalty_is_computed_on_interpolates():
    """With f(x) = ||x||^2 / 2, grad f(xhat) = xhat: the penalty equals
    mean (||eps x + (1 - eps) x~|| - 1)^2 for the given eps, and differs from the penalty at
    the real or the fake points."""
    torch.manual_seed(0)
    critic = lambda x: 0.5 * (x ** 2).sum(1)  # noqa: E731
    real, fake = torch.randn(32, 2), torch.randn(32, 2) * 3
    eps = torch.rand(32)
    penalty, _ = gradient_penalty(critic, real, fake, eps=eps)
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    expected = ((x_hat.norm(dim=1) - 1) ** 2).mean()
    assert float(penalty) == pytest.approx(float(expected), rel=1e-6)
    at_real = float(((real.norm(dim=1) - 1) ** 2).mean())
    at_fake = float(((fake.norm(dim=1) - 1) ** 2).mean())
    assert abs(float(penalty) - at_real) > 1e-3 and abs(float(penalty) - at_fake) > 1e-3


def test_penalty_trains_the_critic_not_the_samples():
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    fake = torch.randn(16, 2, requires_grad=True)
    penalty, _ = gradient_penalty(critic, torch.randn(16, 2), fake)
    penalty.backward()
    assert fake.grad is None
    # every weight shapes grad f, so every weight is trained (the last bias shapes nothing)
    assert critic[0].weight.grad is not None and critic[2].weight.grad is not None
    assert critic[0].weight.grad.abs().sum() > 0


def test_weight_clipping_keeps_the_critic_in_the_box():
    torch.manual_seed(0)
    model = perceptzoo.build("wgan", dataset="toy2d:8gaussians", hidden=(16,), latent_dim=4,
                             clip_value=0.05, n_critic=3)
    assert all(p.abs().max() <= 0.05 for p in model.discriminator.parameters())
    opts = model.configure_optimizers(TrainConfig(lr=0.5))
    assert isinstance(opts[1], torch.optim.RMSprop)
    model.train_step((torch.randn(30, 2), None), opts)
    assert all(p.abs().max() <= 0.05 + 1e-7 for p in model.discriminator.parameters())
    assert any(p.abs().max() > 0.049 for p in model.discriminator.parameters())


def test_n_critic_steps_per_generator_step():
    """Each critic step on its own share of the batch: n_critic optimiser steps for D, one
    for G (Adam's step counters)."""
    torch.manual_seed(0)
    model = perceptzoo.build("wgan_gp", dataset="toy2d:8gaussians", hidden=(8,), latent_dim=4,
                             n_critic=4)
    opt_g, opt_d = model.configure_optimizers(TrainConfig(lr=1e-3))
    metrics = model.train_step((torch.randn(40, 2), None), [opt_g, opt_d])
    steps = lambda opt: int(next(iter(opt.state.values()))["step"])  # noqa: E731
    assert steps(opt_d) == 4 and steps(opt_g) == 1
    assert {"gradient_penalty", "grad_norm", "wasserstein_estimate"} <= set(metrics)


def test_gp_critic_has_no_batch_norm():
    model = perceptzoo.build("wgan_gp", dataset="digits", channels=8, latent_dim=8)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.discriminator.modules())
