"""The EDM sampler (Karras et al. 2022) with exact denoisers: the eps -> D conversion gives the
posterior mean, Euler is DDIM, Heun converges at second order to the probability-flow ODE's
closed form (Euler at first), a point mass is followed exactly, churn keeps the distribution."""

from __future__ import annotations

import math

import pytest
import torch
from test_dpm_solver import COV, MEAN, T_MIN, T, exact, oracle_eps

from perceptzoo.diffusion.edm_sampler import (
    HeunSampler,
    denoise,
    karras_sigmas,
    round_sigma,
    vp_sigmas,
)
from perceptzoo.diffusion.samplers import DDIMSampler
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError

EYE = torch.eye(2, dtype=torch.float64)


def test_karras_sigmas_follow_eq_5():
    s = karras_sigmas(18, 0.002, 80.0, 7.0)
    assert len(s) == 19 and s[-1] == 0
    torch.testing.assert_close(s[[0, 17]], torch.tensor([80.0, 0.002], dtype=torch.float64))
    roots = s[:-1] ** (1 / 7)  # uniform in sigma^(1/rho)
    torch.testing.assert_close(roots.diff(), roots.diff()[:1].expand(17))
    one = karras_sigmas(1, 0.1, 5.0)
    torch.testing.assert_close(one, torch.tensor([5.0, 0.0], dtype=torch.float64))
    with pytest.raises(UserError, match="sigma_min"):
        karras_sigmas(5, 2.0, 1.0)


def test_denoiser_from_eps_is_the_gaussian_posterior_mean():
    """D(x; sigma) = x - sigma eps(x / sqrt(1 + sigma^2), t) with the exact eps of N(m, C) data
    equals E[y | y + sigma n = x] = m + C (C + sigma^2 I)^-1 (x - m) (Table 1, VP column)."""
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    levels = vp_sigmas(s)
    x = 3 * torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for t in (1, 50, 400, 1000):
        sigma = float(levels[t])
        want = MEAN + torch.linalg.solve(COV + sigma**2 * EYE, (x - MEAN).T).T @ COV.T
        torch.testing.assert_close(denoise(eps, x, sigma, t, torch.float64), want)


def test_euler_is_ddim_on_the_same_steps():
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    z = torch.randn(128, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for n, clip in ((1, False), (6, False), (10, True)):
        sampler = HeunSampler(n, solver="euler", clip_x0=clip)
        sigmas, steps = sampler.grid(s)
        x = z * sigmas[0] * s.alpha_bar[steps[0]].sqrt()  # DDIM's x_t at the first level
        ddim = DDIMSampler(clip_x0=clip)
        for t, t_prev in zip(steps[:-1].tolist(), steps[1:].tolist()):
            x = ddim.step(eps, s, x, t, t_prev)
        torch.testing.assert_close(sampler.sample(eps, s, z.shape, x_T=z.clone()), x)


def test_heun_is_second_order_and_euler_first_order():
    s = NoiseSchedule(T, "linear")
    eps = oracle_eps(s)
    levels = vp_sigmas(s)
    lo, hi = float(levels[T_MIN]), float(levels[T])
    z = torch.randn(256, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    target = exact(s, z * hi * s.alpha_bar[T].sqrt())  # the ODE from x_T = sqrt(abar_T) hi z
    err = {"heun": {}, "euler": {}}
    for n in (8, 16, 32):
        for solver in err:
            sampler = HeunSampler(n, sigma_min=lo, sigma_max=hi, solver=solver)
            steps = sampler.grid(s)[1]
            assert steps[0] == T and steps[-2] == T_MIN and len(steps) == n + 1
            x = sampler.sample(eps, s, z.shape, x_T=z.clone())
            err[solver][n] = float((x - target).abs().max())
    slope = {k: math.log2(v[8] / v[32]) / 2 for k, v in err.items()}  # order per doubling
    assert 1.7 < slope["heun"] < 2.5, (slope, err)
    assert 0.8 < slope["euler"] < 1.3, (slope, err)
    assert err["heun"][32] < err["euler"][32] / 4
    assert err["heun"][16] < err["euler"][32]  # 31 denoiser calls beat Euler's 32


def test_point_mass_is_followed_exactly():
    """Data = one point m: D = m, the ODE's solution from x(sigma_0) = sigma_0 z is
    x(sigma) = m + (sigma / sigma_0) (sigma_0 z - m), and every point the sampler queries lies
    on it (Euler's slope is constant along it: Heun is exact)."""
    s = NoiseSchedule(1000, "cosine")
    m = torch.tensor([0.3, -0.7], dtype=torch.float64)
    z = torch.randn(32, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    queries = []

    def eps(x_t, t):
        abar = s.alpha_bar[int(t[0])]
        queries.append((x_t / abar.sqrt() - m, float(((1 - abar) / abar).sqrt())))
        return (x_t - abar.sqrt() * m) / (1 - abar).sqrt()

    for n in (1, 3, 12):
        queries.clear()
        out = HeunSampler(n).sample(eps, s, z.shape, x_T=z.clone())
        torch.testing.assert_close(out, m.expand_as(out), atol=1e-10, rtol=0)
        assert len(queries) == HeunSampler(n).num_evaluations(s) == 2 * n - 1
        sigma_0 = queries[0][1]
        for offset, sigma in queries:
            torch.testing.assert_close(offset, sigma / sigma_0 * (sigma_0 * z - m), atol=1e-9,
                                       rtol=1e-9)


def test_churn_keeps_the_gaussian_and_is_seeded():
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    sampler = HeunSampler(32, churn=10.0, clip_x0=False)
    x = sampler.sample(eps, s, (20_000, 2), generator=torch.Generator().manual_seed(0),
                       dtype=torch.float64)
    torch.testing.assert_close(x.mean(0), MEAN, atol=0.02, rtol=0)
    torch.testing.assert_close(torch.cov(x.T), COV, atol=0.02, rtol=0)
    again = sampler.sample(eps, s, (20_000, 2), generator=torch.Generator().manual_seed(0),
                           dtype=torch.float64)
    torch.testing.assert_close(x, again, rtol=0, atol=0)
    plain = HeunSampler(32).sample(eps, s, (20_000, 2), dtype=torch.float64,
                                   generator=torch.Generator().manual_seed(0))
    assert (plain - x).abs().max() > 1e-3  # the churn did add noise


def test_rounding_validation_and_ddpm_wiring():
    s = NoiseSchedule(20, "linear")
    levels = vp_sigmas(s)
    value, step = round_sigma(levels[[3, 7]] * 1.001, levels)
    assert step.tolist() == [3, 7] and torch.equal(value, levels[[3, 7]])
    sigmas, steps = HeunSampler(18).grid(s)  # T = 20: levels that round together are merged
    assert steps.tolist() == sorted(set(steps.tolist()), reverse=True) and steps[-1] == 0
    assert (sigmas[:-1] > 0).all() and sigmas[-1] == 0
    with pytest.raises(UserError, match="solver"):
        HeunSampler(10, solver="rk4")
    with pytest.raises(UserError, match="churn"):
        HeunSampler(10, churn=-1)
    with pytest.raises(UserError, match="at least 1"):
        HeunSampler(0)

    import perceptzoo
    from perceptzoo.diffusion.ddpm import DDPMConfig, sampler_from_config

    sampler = sampler_from_config(DDPMConfig(sampler="heun", sample_steps=7))
    assert isinstance(sampler, HeunSampler) and sampler.num_steps == 7 and sampler.clip_x0
    assert sampler.churn == 0
    assert sampler_from_config(DDPMConfig(sampler="heun", heun_churn=40.0)).churn == 40.0
    model = perceptzoo.build("ddpm", **vars(DDPMConfig.tiny()))
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    x = model.sample(3, generator=g(), sampler="heun", steps=4)
    assert x.shape == (3, 1, 8, 8) and 0 <= x.min() and x.max() <= 16
    torch.testing.assert_close(x, model.sample(3, generator=g(), sampler=HeunSampler(4,
                                                                                clip_x0=True)))
    from perceptzoo.diffusion.ddpm import AncestralSampler  # the tiny config's own sampler

    torch.testing.assert_close(model.sample(3, generator=g(), steps=4),
                               model.sample(3, generator=g(),
                                            sampler=AncestralSampler("beta", 4, True)))
    with pytest.raises(UserError, match="steps= goes with a sampler name"):
        model.sample(3, sampler=HeunSampler(4), steps=4)
    with pytest.raises(UserError, match="heun"):
        model.sample(3, sampler="rk45")
