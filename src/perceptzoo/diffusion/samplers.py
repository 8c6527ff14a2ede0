"""Reverse-process samplers as swappable objects: DDIM (deterministic and stochastic).

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
    """DDIM on `num_steps` evenly spaced steps; `eta` = 0 deterministic, 1 DDPM-like."""

    def __init__(self, num_steps: int = 50, eta: float = 0.0, clip_x0: bool = False):
        if eta < 0:
            raise UserError(f"DDIM eta must be >= 0, got {eta}")
        self.num_steps, self.eta, self.clip_x0 = num_steps, eta, clip_x0

    def _abar(self, schedule: NoiseSchedule, t: int) -> torch.Tensor:
        return schedule.alpha_bar[t]  # float64 scalar

    @torch.no_grad()
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape, *, generator=None,
               device=None, dtype=None, x_T=None) -> torch.Tensor:
        x = initial_noise(shape, generator, device, dtype) if x_T is None else x_T
        taus = timesteps(min(self.num_steps, schedule.num_steps), schedule.num_steps)
        for t, t_prev in zip(reversed(taus[1:]), reversed(taus[:-1])):
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
