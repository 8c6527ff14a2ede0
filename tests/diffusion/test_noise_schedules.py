"""The forward process: closed form vs iteration, the posterior, mu via eps (Ho et al. 2020)."""

from __future__ import annotations

import math

import pytest
import torch

from perceptzoo.diffusion.schedules import NoiseSchedule, cosine_alpha_bar
from perceptzoo.errors import UserError


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_closed_form_matches_iterating_one_step_kernels(kind):
    """q(x_t | x_0) from eq. 4 equals t applications of q(x_t | x_{t-1}) (Monte Carlo)."""
    T, n = 200, 40_000
    s = NoiseSchedule(T, kind)
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([1.5, -0.7, 0.0], dtype=torch.float64)
    x = x0.expand(n, 3).clone()
    checked = 0
    for t in range(1, T + 1):
        beta = s.betas[t]
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(n, 3, generator=g,
                                                               dtype=torch.float64)
        if t in (1, 10, 50, 120, T):
            abar = s.alpha_bar[t]
            mean, var = abar.sqrt() * x0, 1 - abar
            # tolerances from the sample size: 5 standard errors of the mean and the variance
            se_mean = (var / n).sqrt()
            se_var = var * math.sqrt(2 / (n - 1))
            assert (x.mean(0) - mean).abs().max() < 5 * se_mean
            assert (x.var(0) - var).abs().max() < 5 * se_var
            checked += 1
    assert checked == 5


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_closed_form_matches_iterated_moments_exactly(kind):
    """The mean/variance recursion m_t = sqrt(a_t) m_{t-1}, v_t = a_t v_{t-1} + b_t is eq. 4."""
    s = NoiseSchedule(1000, kind)
    m, v = torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    for t in range(1, 1001):
        m, v = s.alphas[t].sqrt() * m, s.alphas[t] * v + s.betas[t]
        assert torch.allclose(m, s.alpha_bar[t].sqrt(), rtol=1e-10, atol=1e-12)
        assert torch.allclose(v, 1 - s.alpha_bar[t], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_posterior_matches_bayes_rule(kind):
    """q(x_{t-1} | x_t, x_0) from eqs. 6-7 equals the product of q(x_{t-1}|x_0) q(x_t|x_{t-1})."""
    s = NoiseSchedule(100, kind)
    g = torch.Generator().manual_seed(1)
    t = torch.arange(2, 101)
    x0 = torch.randn(len(t), 4, generator=g, dtype=torch.float64)
    x_t = torch.randn(len(t), 4, generator=g, dtype=torch.float64)
    mean, var = s.posterior(x0, x_t, t)
    abar_prev, alpha, beta = (s.alpha_bar[t - 1][:, None], s.alphas[t][:, None],
                              s.betas[t][:, None])
    precision = 1 / (1 - abar_prev) + alpha / beta
    bayes_var = 1 / precision
    bayes_mean = bayes_var * (abar_prev.sqrt() * x0 / (1 - abar_prev) + alpha.sqrt() * x_t / beta)
    assert torch.allclose(var, bayes_var, rtol=1e-10)
    assert torch.allclose(mean, bayes_mean, rtol=1e-9, atol=1e-12)
    # at t = 1 the posterior is the point x_0
    mean_1, var_1 = s.posterior(x0[:1], x_t[:1], torch.tensor([1]))
    assert float(var_1) == 0.0 and torch.allclose(mean_1, x0[:1])


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_mu_via_eps_equals_posterior_mean_for_the_true_noise(kind):
    """Eq. 11 with eps_theta = the noise that made x_t gives the posterior mean mu~_t."""
    s = NoiseSchedule(1000, kind)
    g = torch.Generator().manual_seed(2)
    t = torch.randint(1, 1001, (64,), generator=g)
    x0 = torch.randn(64, 1, 4, 4, generator=g, dtype=torch.float64)
    eps = torch.randn(64, 1, 4, 4, generator=g, dtype=torch.float64)
    x_t = s.add_noise(x0, eps, t)
    mean, _ = s.posterior(x0, x_t, t)
    assert torch.allclose(s.mean_from_eps(x_t, t, eps), mean, rtol=1e-7, atol=1e-9)
    assert torch.allclose(s.predict_x0(x_t, t, eps), x0, rtol=1e-6, atol=1e-8)


def test_linear_and_cosine_schedules_are_the_papers():
    lin = NoiseSchedule(1000, "linear")
    assert math.isclose(float(lin.betas[1]), 1e-4) and math.isclose(float(lin.betas[1000]), 0.02)
    assert lin.alpha_bar.dtype == torch.float64 and float(lin.alpha_bar[0]) == 1.0
    assert float(lin.alpha_bar[1000]) < 1e-4  # x_T is nearly pure noise
    cos = NoiseSchedule(1000, "cosine")
    t = torch.arange(0, 1001, dtype=torch.float64)
    f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    # equal to f(t)/f(0) wherever the 0.999 clip of beta is inactive (all but the last steps)
    assert torch.allclose(cos.alpha_bar[:990], (f / f[0])[:990], rtol=1e-10)
    assert (cos.betas[1:] <= 0.999).all() and (cos.alpha_bar.diff() < 0).all()


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_continuous_time(kind):
    s = NoiseSchedule(100, kind)
    t = torch.arange(0, 101)
    # exact at integer steps (cosine: except the last steps, where the discrete betas are clipped)
    upto = 95 if kind == "cosine" else 101
    assert torch.allclose(s.alpha_bar_at(t.double())[:upto], s.alpha_bar[:upto], rtol=1e-10)
    mid = s.alpha_bar_at(torch.tensor([10.5]))
    assert s.alpha_bar[11] < mid < s.alpha_bar[10]
    if kind == "cosine":
        assert torch.allclose(mid, cosine_alpha_bar(torch.tensor([10.5]), 100))
    x0, eps = torch.randn(3, 2), torch.randn(3, 2)
    tt = torch.tensor([5, 40, 90])
    assert torch.allclose(s.add_noise(x0, eps, tt.float()), s.add_noise(x0, eps, tt), atol=1e-5)


def test_bad_schedule_is_a_user_error():
    with pytest.raises(UserError, match="linear"):
        NoiseSchedule(10, "quadratic")
