"""Noise schedules of the diffusion forward process, precomputed in float64 as buffers.

The forward process (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", eqs. 2 and 4)
adds Gaussian noise in T steps,

    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
    q(x_t | x_0)     = N(sqrt(abar_t) x_0, (1 - abar_t) I),   alpha_t = 1 - beta_t,
                                                              abar_t = prod_{s<=t} alpha_s,

so `add_noise(x0, eps, t) = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps` draws x_t in one step. The
posterior of one reverse step is Gaussian (eqs. 6-7):

    q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I),
    mu~_t   = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1}) /
              (1 - abar_t) x_t,
    beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t,

and writing x_0 through the noise, x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), the mean
becomes (eq. 11) mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t).

Schedules: `linear` (Ho et al. 2020, sec. 4: beta from 1e-4 to 0.02 over T = 1000, rescaled by
1000/T so other T keep the same total noise) and `cosine` (Nichol & Dhariwal 2021, "Improved
Denoising Diffusion Probabilistic Models", eq. 17: abar(t) = f(t)/f(0),
f(t) = cos^2((t/T + s)/(1 + s) pi/2), s = 0.008, betas clipped at 0.999).

Indexing follows the paper: t = 0..T, with index 0 meaning "no noise" (abar_0 = 1, beta_0 = 0),
so `schedule.alpha_bar[t]` is the paper's abar_t. Continuous t in [0, T] (`alpha_bar_at`): the
cosine schedule evaluates its closed form; the linear one interpolates log abar linearly between
integer steps (exact at integers).

    >>> s = NoiseSchedule(1000, "linear")
    >>> x0, eps = torch.zeros(2, 3), torch.ones(2, 3)
    >>> torch.allclose(s.add_noise(x0, eps, torch.tensor([1000, 1000])), eps, atol=1e-2)
    True
"""

from __future__ import annotations

import math

import torch
from torch import nn

from perceptzoo.errors import UserError

SCHEDULES = ("linear", "cosine")


def linear_betas(num_steps: int) -> torch.Tensor:
    """(T,) float64: beta_1..beta_T from 1e-4 to 0.02 at T = 1000 (scaled by 1000/T)."""
    scale = 1000.0 / num_steps
    return torch.linspace(scale * 1e-4, min(scale * 0.02, 0.999), num_steps, dtype=torch.float64)


def cosine_alpha_bar(t: torch.Tensor, num_steps: int, s: float = 0.008) -> torch.Tensor:
    """abar(t) = f(t)/f(0) for real t in [0, T] (Nichol & Dhariwal 2021, eq. 17)."""
    f = lambda u: torch.cos((u / num_steps + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return f(t.double()) / f(torch.zeros((), dtype=torch.float64))


def cosine_betas(num_steps: int, max_beta: float = 0.999) -> torch.Tensor:
    """(T,) float64: beta_t = 1 - abar(t)/abar(t-1), clipped at `max_beta`."""
    t = torch.arange(num_steps + 1, dtype=torch.float64)
    abar = cosine_alpha_bar(t, num_steps)
    return (1 - abar[1:] / abar[:-1]).clamp(max=max_beta)


def _gather(values: torch.Tensor, t: torch.Tensor, ndim: int, dtype: torch.dtype) -> torch.Tensor:
    """values[t] as (B, 1, ..., 1) broadcastable against a (B, ...) tensor of `ndim` dims."""
    t = torch.as_tensor(t, device=values.device)
    return values[t.long()].to(dtype).reshape(-1, *([1] * (ndim - 1)))


class NoiseSchedule(nn.Module):
    """beta_t, alpha_t, abar_t and the posterior coefficients for t = 0..T (float64 buffers)."""

    def __init__(self, num_steps: int = 1000, kind: str = "linear"):
        super().__init__()
        if kind not in SCHEDULES:
            raise UserError(f"unknown noise schedule {kind!r}; use one of {', '.join(SCHEDULES)}")
        if num_steps < 1:
            raise UserError(f"the number of diffusion steps must be positive, got {num_steps}")
        self.num_steps, self.kind = num_steps, kind
        betas = linear_betas(num_steps) if kind == "linear" else cosine_betas(num_steps)
        betas = torch.cat([torch.zeros(1, dtype=torch.float64), betas])  # index 0: t = 0
        alphas = 1 - betas
        alpha_bar = torch.cumprod(alphas, 0)
        alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        # beta~_t (eq. 7); 0 at t = 0 and t = 1 (the posterior of x_0 given x_1 and x_0).
        post_var = torch.where(
            torch.arange(num_steps + 1) >= 1,
            (1 - alpha_bar_prev) / (1 - alpha_bar).clamp_min(1e-300) * betas,
            torch.zeros((), dtype=torch.float64),
        )
        buffers = {
            "betas": betas,
            "alphas": alphas,
            "alpha_bar": alpha_bar,
            "alpha_bar_prev": alpha_bar_prev,
            "posterior_variance": post_var,
            "posterior_coef_x0": alpha_bar_prev.sqrt() * betas / (1 - alpha_bar).clamp_min(1e-300),
            "posterior_coef_xt": alphas.sqrt() * (1 - alpha_bar_prev)
            / (1 - alpha_bar).clamp_min(1e-300),
        }
        for name, value in buffers.items():
            self.register_buffer(name, value, persistent=False)

    # -- continuous time ------------------------------------------------------------------
    def alpha_bar_at(self, t: torch.Tensor) -> torch.Tensor:
        """abar at real t in [0, T] (float64): cosine in closed form, linear interpolated."""
        t = torch.as_tensor(t, dtype=torch.float64, device=self.alpha_bar.device)
        if self.kind == "cosine":
            # the discrete betas are clipped at 0.999 only near t = T; the closed form is exact
            return cosine_alpha_bar(t, self.num_steps)
        log_abar = self.alpha_bar.log()
        low = t.floor().long().clamp(0, self.num_steps)
        high = (low + 1).clamp(max=self.num_steps)
        w = t - low.double()
        return torch.exp(torch.lerp(log_abar[low], log_abar[high], w))

    # -- the forward process ----------------------------------------------------------------
    def add_noise(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (eq. 4), t: (B,) integer or real."""
        t = torch.as_tensor(t, device=x0.device)
        if t.is_floating_point():
            abar = self.alpha_bar_at(t).to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
        else:
            abar = _gather(self.alpha_bar, t, x0.dim(), x0.dtype)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * eps

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (eq. 4 solved for x_0)."""
        abar = _gather(self.alpha_bar, t, x_t.dim(), x_t.dtype)
        return (x_t - (1 - abar).sqrt() * eps) / abar.sqrt()

    def posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor):
        """Mean and variance (B, 1, ...) of q(x_{t-1} | x_t, x_0) (eqs. 6-7)."""
        mean = (_gather(self.posterior_coef_x0, t, x_t.dim(), x_t.dtype) * x0
                + _gather(self.posterior_coef_xt, t, x_t.dim(), x_t.dtype) * x_t)
        return mean, _gather(self.posterior_variance, t, x_t.dim(), x_t.dtype)

    def mean_from_eps(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) (eq. 11)."""
        beta = _gather(self.betas, t, x_t.dim(), torch.float64)
        abar = _gather(self.alpha_bar, t, x_t.dim(), torch.float64)
        alpha = _gather(self.alphas, t, x_t.dim(), torch.float64)
        mean = (x_t.double() - beta / (1 - abar).sqrt() * eps.double()) / alpha.sqrt()
        return mean.to(x_t.dtype)

    def reverse_variance(self, t: torch.Tensor, kind: str, ndim: int, dtype) -> torch.Tensor:
        """sigma_t^2 of p_theta(x_{t-1} | x_t): `beta` (sigma^2 = beta_t) or `beta_tilde`."""
        if kind == "beta":
            return _gather(self.betas, t, ndim, dtype)
        if kind == "beta_tilde":
            return _gather(self.posterior_variance, t, ndim, dtype)
        raise UserError(f"unknown reverse variance {kind!r}; use beta or beta_tilde")
