"""Reverse-process samplers as swappable objects: DDIM (deterministic and stochastic) and
DPM-Solver++(2M).

A sampler takes the denoiser as a callable `eps_fn(x_t, t) -> eps` (t: (B,) long steps of the
schedule) and the `NoiseSchedule`; it knows nothing about how the network was trained, so one
trained DDPM samples with any of them (`DDPM.sample(..., sampler=DDIMSampler(50))`). The DDPM
ancestral sampler lives with its model in `ddpm.py` and has the same interface.

DDIM (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", eq. 12): on a
subsequence tau_S > ... > tau_1 > tau_0 = 0 of the T steps, with x0_hat = (x_t -
sqrt(1 - abar_t) eps) / sqrt(abar_t),

    x_{t'} = sqrt(abar_{t'}) x0_hat + sqrt(1 - abar_{t'} - sigma^2) eps + sigma z,
    sigma  = eta sqrt((1 - abar_{t'}) / (1 - abar_t)) sqrt(1 - abar_t / abar_{t'})     (eq. 16),

eta = 0 a deterministic map from x_T to x_0 (the probability-flow ODE discretised), eta = 1 the
DDPM ancestral sampler on the subsequence. With eta = 0 the map is run backwards to encode
x_0 into x_T (`DDIMSampler.invert`, sec. 4.3 and appendix of Song et al.).

DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
Probabilistic Models", arXiv 2211.01095, Algorithm 2) solves the same probability-flow ODE in
the data-prediction form, exactly in its linear part, with alpha_t = sqrt(abar_t),
sigma_t = sqrt(1 - abar_t), lambda_t = log(alpha_t / sigma_t), h_i = lambda_i - lambda_{i-1}:

    x_i = (sigma_i / sigma_{i-1}) x_{i-1} - alpha_i (exp(-h_i) - 1) D_i,
    D_i = (1 + 1/(2 r_i)) x0_{i-1} - 1/(2 r_i) x0_{i-2},   r_i = h_{i-1} / h_i,

(D_1 = x0_0: the first step is first order and equals DDIM's), a second-order multistep method
costing one denoiser call per step. The last step, to t = 0 (sigma = 0, h infinite), is taken
first order (x_0 = x0_hat), as the reference implementation's `lower_order_final` does.
Timestep spacings (`spacing_steps`): trailing (T, T - T/S, ..., T/S, as DDIM here), leading
(1, 1 + T//S, ...: the top step is below T), linear (round(linspace(1, T, S))).

    >>> from perceptzoo.diffusion.schedules import NoiseSchedule
    >>> s = NoiseSchedule(100)
    >>> x = DDIMSampler(10).sample(lambda x, t: torch.zeros_like(x), s, (2, 3))
    >>> x.shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class ReverseSampler(Protocol):
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape: tuple[int, ...], *,
               generator: torch.Generator | None = None, device=None, dtype=None,
               x_T: torch.Tensor | None = None) -> torch.Tensor: ...


def timesteps(num_steps: int, total: int) -> list[int]:
    """Evenly spaced steps tau_0 = 0 < tau_1 < ... < tau_S = T (S = num_steps)."""
    if not 1 <= num_steps <= total:
        raise UserError(f"number of sampling steps must be in 1..{total}, got {num_steps}")
    taus = torch.linspace(0, total, num_steps + 1).round().long().tolist()
    return sorted(set(taus))


SPACINGS = ("trailing", "leading", "linear")


def spacing_steps(num_steps: int, total: int, spacing: str = "trailing") -> list[int]:
    """The S = num_steps steps a sampler evaluates the denoiser at, descending, then 0.

    trailing: T, T - T/S, ..., T/S (rounded); leading: 1 + k (T // S) for k = S-1..0 (the
    DDIM/diffusers "leading" convention with offset 1); linear: round(linspace(T, 1, S))."""
    if not 1 <= num_steps <= total:
        raise UserError(f"number of sampling steps must be in 1..{total}, got {num_steps}")
    if spacing == "trailing":
        steps = torch.linspace(total, 0, num_steps + 1)[:-1]
    elif spacing == "leading":
        steps = torch.arange(num_steps - 1, -1, -1) * (total // num_steps) + 1
    elif spacing == "linear":
        steps = torch.linspace(total, 1, num_steps)
    else:
        raise UserError(f"unknown timestep spacing {spacing!r}; use one of {', '.join(SPACINGS)}")
    out = sorted(set(steps.double().round().long().tolist()), reverse=True)
    return [t for t in out if t > 0] + [0]


def randn(shape, generator: torch.Generator | None, device=None, dtype=None) -> torch.Tensor:
    """N(0, I) drawn on the generator's device (so a CPU generator seeds GPU sampling too)."""
    source = generator.device if generator is not None else device
    out = torch.randn(shape, generator=generator, device=source, dtype=dtype)
    return out.to(device) if device is not None else out


def initial_noise(shape, generator, device, dtype=None) -> torch.Tensor:
    """x_T ~ N(0, I) in `dtype` (the denoiser's; default float32)."""
    return randn(shape, generator, device, dtype)


def _steps(t: int, x: torch.Tensor) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)


class DDIMSampler:
    """DDIM on `num_steps` steps; `eta` = 0 deterministic, 1 DDPM-like. `spacing` None: evenly
    spaced steps tau_i = round(i T / S), i = 0..S (`timesteps`); trailing | leading | linear:
    `spacing_steps`' grid (`invert` takes the even steps only)."""

    def __init__(self, num_steps: int = 50, eta: float = 0.0, clip_x0: bool = False,
                 spacing: str | None = None):
        if eta < 0:
            raise UserError(f"DDIM eta must be >= 0, got {eta}")
        if spacing is not None and spacing not in SPACINGS:
            raise UserError(f"unknown timestep spacing {spacing!r}; use one of "
                            f"{', '.join(SPACINGS)}")
        self.num_steps, self.eta, self.clip_x0, self.spacing = num_steps, eta, clip_x0, spacing

    def _abar(self, schedule: NoiseSchedule, t: int) -> torch.Tensor:
        return schedule.alpha_bar[t]  # float64 scalar

    def grid(self, schedule: NoiseSchedule) -> list[int]:
        """The steps visited, descending from the first to 0."""
        n, total = min(self.num_steps, schedule.num_steps), schedule.num_steps
        if self.spacing is None:
            return list(reversed(timesteps(n, total)))
        return spacing_steps(n, total, self.spacing)

    @torch.no_grad()
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape, *, generator=None,
               device=None, dtype=None, x_T=None) -> torch.Tensor:
        x = initial_noise(shape, generator, device, dtype) if x_T is None else x_T
        grid = self.grid(schedule)
        for t, t_prev in zip(grid[:-1], grid[1:]):
            x = self.step(eps_fn, schedule, x, t, t_prev, generator)
        return x

    def step(self, eps_fn, schedule, x, t: int, t_prev: int, generator=None) -> torch.Tensor:
        """One update x_t -> x_{t_prev} (eq. 12)."""
        abar, abar_prev = self._abar(schedule, t), self._abar(schedule, t_prev)
        eps = eps_fn(x, _steps(t, x)).double()
        x0 = (x.double() - (1 - abar).sqrt() * eps) / abar.sqrt()  # 1. predicted x_0
        if self.clip_x0:
            x0 = x0.clamp(-1, 1)
            eps = (x.double() - abar.sqrt() * x0) / (1 - abar).sqrt()
        sigma = self.eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()  # 16
        direction = (1 - abar_prev - sigma**2).clamp_min(0).sqrt() * eps  # 2. toward x_t
        out = abar_prev.sqrt() * x0 + direction
        if self.eta > 0 and t_prev > 0:  # 3. fresh noise (none at the last step)
            out = out + sigma * randn(x.shape, generator, x.device, x.dtype)
        return out.to(x.dtype)

    @torch.no_grad()
    def invert(self, eps_fn: EpsFn, schedule: NoiseSchedule, x0: torch.Tensor) -> torch.Tensor:
        """Encode x_0 into x_T with the eta = 0 map run forward (eps taken at the target step)."""
        if self.eta != 0:
            raise UserError("only deterministic DDIM (eta=0) can be inverted")
        taus = timesteps(min(self.num_steps, schedule.num_steps), schedule.num_steps)
        x = x0.double()
        for t_prev, t in zip(taus[:-1], taus[1:]):
            abar, abar_prev = self._abar(schedule, t), self._abar(schedule, t_prev)
            eps = eps_fn(x.to(x0.dtype), _steps(t, x)).double()
            x0_hat = (x - (1 - abar_prev).sqrt() * eps) / abar_prev.sqrt()
            x = abar.sqrt() * x0_hat + (1 - abar).sqrt() * eps
        return x.to(x0.dtype)


class DPMSolverPP2M:
    """DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) on `num_steps` denoiser calls.

    `spacing`: trailing | leading | linear (see `spacing_steps`); `steps` an explicit list of
    steps (descending, ending in 0) that overrides both; `clip_x0` clips each x0_hat to
    [-1, 1] (the data prediction is what the method extrapolates, so the clip is natural)."""

    def __init__(self, num_steps: int = 20, spacing: str = "trailing", clip_x0: bool = False,
                 steps: list[int] | None = None):
        if spacing not in SPACINGS:
            raise UserError(f"unknown timestep spacing {spacing!r}; use one of "
                            f"{', '.join(SPACINGS)}")
        if steps is not None and (list(steps) != sorted(set(steps), reverse=True)
                                  or steps[-1] != 0 or len(steps) < 2):
            raise UserError("explicit steps must be strictly descending and end with 0, "
                            f"got {steps}")
        self.num_steps, self.spacing, self.clip_x0 = num_steps, spacing, clip_x0
        self.steps = None if steps is None else [int(t) for t in steps]

    def grid(self, schedule: NoiseSchedule) -> list[int]:
        if self.steps is not None:
            if self.steps[0] > schedule.num_steps:
                raise UserError(f"step {self.steps[0]} exceeds the schedule's T = "
                                f"{schedule.num_steps}")
            return self.steps
        return spacing_steps(min(self.num_steps, schedule.num_steps), schedule.num_steps,
                             self.spacing)

    @torch.no_grad()
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape, *, generator=None,
               device=None, dtype=None, x_T=None) -> torch.Tensor:
        x = initial_noise(shape, generator, device, dtype) if x_T is None else x_T
        out_dtype = x.dtype
        grid = self.grid(schedule)
        abar = schedule.alpha_bar
        x = x.double()
        prev_x0, prev_h = None, None
        for t, t_next in zip(grid[:-1], grid[1:]):
            a_s, s_s = abar[t].sqrt(), (1 - abar[t]).sqrt()
            eps = eps_fn(x.to(out_dtype), _steps(t, x)).double()
            x0 = (x - s_s * eps) / a_s  # data prediction x0_hat(x_t, t)
            if self.clip_x0:
                x0 = x0.clamp(-1, 1)
            if t_next == 0:  # sigma = 0: lambda infinite, the step lands on x0_hat (1st order)
                x = x0
                break
            a_t, s_t = abar[t_next].sqrt(), (1 - abar[t_next]).sqrt()
            h = (a_t / s_t).log() - (a_s / s_s).log()
            if prev_x0 is None:
                d = x0
            else:
                r = prev_h / h
                d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * prev_x0
            x = (s_t / s_s) * x - a_t * torch.expm1(-h) * d
            prev_x0, prev_h = x0, h
        return x.to(out_dtype)
