"""DPM-Solver++(2M) with the exact denoiser of Gaussian data: second-order convergence to the
probability-flow ODE's closed-form solution (DDIM: first order), spacings, validation."""

from __future__ import annotations

import math

import pytest
import torch

from perceptzoo.diffusion.samplers import DDIMSampler, DPMSolverPP2M, spacing_steps
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError

MEAN = torch.tensor([0.5, -0.3], dtype=torch.float64)
COV = torch.tensor([[0.30, 0.12], [0.12, 0.10]], dtype=torch.float64)
T = 100_000  # fine integer grid: a lambda-uniform step list rounds to it with tiny error
T_MIN = 1000  # the last noisy step (sigma^2 ~ 1e-3): every grid ends here, then at 0


def oracle_eps(schedule: NoiseSchedule):
    """E[eps | x_t] for x_0 ~ N(MEAN, COV)."""
    eye = torch.eye(2, dtype=torch.float64)

    def eps(x, t):
        abar = schedule.alpha_bar[int(t[0])]
        resid = x.double() - abar.sqrt() * MEAN
        return (1 - abar).sqrt() * torch.linalg.solve(abar * COV + (1 - abar) * eye, resid.T).T

    return eps


def exact(schedule: NoiseSchedule, x_T: torch.Tensor) -> torch.Tensor:
    """The ODE's exact map x_T -> x_{T_MIN} (in COV's eigenbasis each standardized coordinate
    (x - sqrt(abar) m) / sqrt(abar c + 1 - abar) is constant), then x0_hat at T_MIN."""
    c, u = torch.linalg.eigh(COV)
    a_T, a_m = schedule.alpha_bar[T], schedule.alpha_bar[T_MIN]
    z = ((x_T - a_T.sqrt() * MEAN) @ u) / (a_T * c + 1 - a_T).sqrt()
    x_m = a_m.sqrt() * MEAN + (z * (a_m * c + 1 - a_m).sqrt()) @ u.T
    return (x_m - (1 - a_m).sqrt() * oracle_eps(schedule)(x_m, torch.tensor([T_MIN]))) / a_m.sqrt()


def lambda_grid(schedule: NoiseSchedule, n: int) -> list[int]:
    """n steps uniform in lambda = log(alpha/sigma) from T to T_MIN (rounded), then 0."""
    lam = 0.5 * (schedule.alpha_bar / (1 - schedule.alpha_bar)).log()
    targets = torch.linspace(float(lam[T]), float(lam[T_MIN]), n)
    steps = [int(torch.searchsorted(-lam[1:], -v)) + 1 for v in targets]
    return sorted(set(steps), reverse=True) + [0]


def ddim_on(grid, eps, schedule, x):
    sampler = DDIMSampler()
    for t, t_prev in zip(grid[:-1], grid[1:]):
        x = sampler.step(eps, schedule, x, t, t_prev)
    return x


def test_dpm_solver_is_second_order_and_ddim_first_order():
    s = NoiseSchedule(T, "linear")
    eps = oracle_eps(s)
    x_T = torch.randn(256, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    target = exact(s, x_T)
    err = {"dpm": {}, "ddim": {}}
    for n in (16, 32, 64):
        grid = lambda_grid(s, n)
        assert grid[0] == T and grid[-2] == T_MIN and len(grid) == n + 1
        x = DPMSolverPP2M(steps=grid).sample(eps, s, x_T.shape, x_T=x_T.clone())
        err["dpm"][n] = float((x - target).abs().max())
        err["ddim"][n] = float((ddim_on(grid, eps, s, x_T.clone()) - target).abs().max())
    slope = {k: math.log2(v[16] / v[64]) / 2 for k, v in err.items()}  # order per doubling
    assert 1.7 < slope["dpm"] < 2.5, (slope, err)
    assert 0.8 < slope["ddim"] < 1.3, (slope, err)
    assert err["dpm"][16] < err["ddim"][16] / 5


def test_first_step_is_ddim_and_one_step_is_x0_hat():
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for spacing in ("trailing", "leading", "linear"):
        for n in (1, 2):  # one or two noisy steps: every update is first order, = DDIM's
            grid = spacing_steps(n, 1000, spacing)
            dpm = DPMSolverPP2M(n, spacing).sample(eps, s, x_T.shape, x_T=x_T.clone())
            torch.testing.assert_close(dpm, ddim_on(grid, eps, s, x_T.clone()))


def test_spacings_and_validation():
    assert spacing_steps(10, 1000, "trailing") == list(range(1000, 0, -100)) + [0]
    assert spacing_steps(10, 1000, "leading") == list(range(901, 0, -100)) + [0]
    lin = spacing_steps(10, 1000, "linear")
    assert lin[0] == 1000 and lin[-2:] == [1, 0] and len(lin) == 11
    assert spacing_steps(1000, 1000, "trailing") == list(range(1000, -1, -1))
    with pytest.raises(UserError, match="spacing"):
        DPMSolverPP2M(10, "karras")
    with pytest.raises(UserError, match="descending"):
        DPMSolverPP2M(steps=[10, 20, 0])
    with pytest.raises(UserError, match="1..1000"):
        spacing_steps(0, 1000)
    s = NoiseSchedule(100, "cosine")
    x = DPMSolverPP2M(10, clip_x0=True).sample(lambda x, t: 3 * torch.sin(5 * x), s, (64, 2),
                                               generator=torch.Generator().manual_seed(0))
    assert x.abs().max() <= 1 + 1e-6


def test_ddpm_config_names_it():
    from perceptzoo.diffusion.ddpm import DDPMConfig, sampler_from_config

    sampler = sampler_from_config(DDPMConfig(sampler="dpm_solver", sample_steps=15))
    assert isinstance(sampler, DPMSolverPP2M) and sampler.num_steps == 15 and sampler.clip_x0
    with pytest.raises(UserError, match="dpm_solver"):
        sampler_from_config(DDPMConfig(sampler="rk45"))
