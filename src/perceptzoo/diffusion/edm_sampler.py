"""The EDM sampler (Karras, Aittala, Aila & Laine 2022, "Elucidating the Design Space of
Diffusion-Based Generative Models", arXiv 2206.00364): Heun's second-order method on the
probability-flow ODE, on the Karras sigma schedule, optionally with stochastic churn, run on
the project's eps-prediction DDPMs.

The ODE in the paper's sigma(t) = t, s(t) = 1 form (eq. 1 with the score of eq. 3) is

    dx / dsigma = (x - D(x; sigma)) / sigma,

x = x_t / sqrt(abar_t) the unscaled noisy image, sigma = sqrt((1 - abar_t) / abar_t) its noise
level. An eps-prediction network is the denoiser through Table 1's VP / iDDPM preconditioning
(eq. 7, c_skip = 1, c_out = -sigma, c_in = 1 / sqrt(sigma^2 + 1), c_noise = the network's time):

    D(x; sigma) = x - sigma eps_theta(x / sqrt(1 + sigma^2), t(sigma)),

where x / sqrt(1 + sigma^2) = sqrt(abar_t) x is the DDPM's x_t. The DDPM here is trained at
integer steps only, so, as the paper does for the discrete-time iDDPM/ADM model (Table 1's
c_noise = argmin_j |u_j - sigma|), every noise level is rounded to the nearest level
u_t = sqrt((1 - abar_t) / abar_t) of the schedule (t = 1..T) and t(sigma) is that t.

Time steps (eq. 5, rho = 7):

    sigma_i = (sigma_max^(1/rho) + i / (N - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
    i = 0..N-1, and sigma_N = 0,

with sigma_min = max(0.002, u_1) and sigma_max = min(80, u_T) (the paper's defaults clipped to
the levels the network knows); x_0 = sigma_0 z, z ~ N(0, I) (`x_T` is z).

Algorithm 1 (deterministic; Algorithm 2 with churn = 0): for i = 0..N-1

    d_i     = (x_i - D(x_i; sigma_i)) / sigma_i                      (Euler slope)
    x_{i+1} = x_i + (sigma_{i+1} - sigma_i) d_i
    if sigma_{i+1} != 0:                                              (2nd-order correction)
        d'      = (x_{i+1} - D(x_{i+1}; sigma_{i+1})) / sigma_{i+1}
        x_{i+1} = x_i + (sigma_{i+1} - sigma_i) (d_i / 2 + d' / 2),

2N - 1 denoiser calls (the last step, to sigma = 0, is Euler's and lands on D). Algorithm 2
(stochastic) first raises the noise of x_i to sigma_hat = (1 + gamma_i) sigma_i,
gamma_i = min(S_churn / N, sqrt(2) - 1) where S_tmin <= sigma_i <= S_tmax (else 0), by adding
sqrt(sigma_hat^2 - sigma_i^2) S_noise z, then takes the step above from sigma_hat. With
`solver="euler"` the correction is skipped: that Euler step is exactly DDIM's (sec. 3), a
check of the eps -> D conversion the tests make.

    >>> from perceptzoo.diffusion.schedules import NoiseSchedule
    >>> sampler = HeunSampler(num_steps=5)
    >>> sampler.sample(lambda x, t: torch.zeros_like(x), NoiseSchedule(100), (2, 3)).shape
    torch.Size([2, 3])
    >>> sampler.num_evaluations(NoiseSchedule(100))
    9
"""

from __future__ import annotations

import math

import torch

from perceptzoo.diffusion.samplers import EpsFn, initial_noise, randn
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError

SOLVERS = ("heun", "euler")


def karras_sigmas(num_steps: int, sigma_min: float, sigma_max: float,
                  rho: float = 7.0) -> torch.Tensor:
    """(N + 1,) float64: sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min, sigma_N = 0
    (eq. 5); N = 1 gives [sigma_max, 0]."""
    if num_steps < 1:
        raise UserError(f"number of sampling steps must be at least 1, got {num_steps}")
    if not 0 < sigma_min <= sigma_max:
        raise UserError(f"need 0 < sigma_min <= sigma_max, got {sigma_min} and {sigma_max}")
    if rho <= 0:
        raise UserError(f"rho must be positive, got {rho}")
    i = torch.arange(num_steps, dtype=torch.float64)
    frac = i / (num_steps - 1) if num_steps > 1 else i
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return torch.cat([(hi + frac * (lo - hi)) ** rho, torch.zeros(1, dtype=torch.float64)])


def vp_sigmas(schedule: NoiseSchedule) -> torch.Tensor:
    """(T + 1,) float64: u_t = sqrt((1 - abar_t) / abar_t), the noise level of each step in the
    unscaled x = x_t / sqrt(abar_t) (u_0 = 0)."""
    abar = schedule.alpha_bar.detach().cpu()
    return ((1 - abar) / abar).sqrt()


def round_sigma(sigma: torch.Tensor, levels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest noise levels u_t (t >= 1) to `sigma` and their steps t (Table 1, iDDPM)."""
    sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1)
    t = (sigma[:, None] - levels[None, 1:]).abs().argmin(1) + 1
    return levels[t], t


def denoise(eps_fn: EpsFn, x: torch.Tensor, sigma: float, t: int,
            dtype: torch.dtype = torch.float32, clip: bool = False) -> torch.Tensor:
    """D(x; sigma) = x - sigma eps(x / sqrt(1 + sigma^2), t) (eq. 7 with Table 1's VP/iDDPM
    preconditioning), x the unscaled noisy image (float64), t the step whose level is sigma;
    the network sees x_t in `dtype`. `clip` clips D to [-1, 1]."""
    x_t = (x / math.sqrt(1 + sigma**2)).to(dtype)
    eps = eps_fn(x_t, torch.full((x.shape[0],), t, dtype=torch.long, device=x.device))
    d = x - sigma * eps.double()
    return d.clamp(-1, 1) if clip else d


class HeunSampler:
    """EDM sampling (Karras et al. 2022, Algorithms 1 and 2) of an eps-prediction DDPM.

    `num_steps` N noise levels on the rho-schedule (2N - 1 denoiser calls with Heun, N with
    Euler); `churn` S_churn (0: deterministic), applied for churn_min <= sigma <= churn_max,
    with `noise_inflation` S_noise; `clip_x0` clips D to [-1, 1] (the DDPM's data range)."""

    def __init__(self, num_steps: int = 18, *, rho: float = 7.0, sigma_min: float = 0.002,
                 sigma_max: float = 80.0, solver: str = "heun", churn: float = 0.0,
                 churn_min: float = 0.0, churn_max: float = math.inf,
                 noise_inflation: float = 1.0, clip_x0: bool = False):
        if num_steps < 1:
            raise UserError(f"number of sampling steps must be at least 1, got {num_steps}")
        if solver not in SOLVERS:
            raise UserError(f"unknown ODE solver {solver!r}; use one of {', '.join(SOLVERS)}")
        if churn < 0 or noise_inflation <= 0:
            raise UserError(f"churn must be >= 0 and noise_inflation > 0, got {churn} and "
                            f"{noise_inflation}")
        self.num_steps, self.rho, self.solver = num_steps, rho, solver
        self.sigma_min, self.sigma_max = sigma_min, sigma_max
        self.churn, self.churn_min, self.churn_max = churn, churn_min, churn_max
        self.noise_inflation, self.clip_x0 = noise_inflation, clip_x0

    def grid(self, schedule: NoiseSchedule) -> tuple[torch.Tensor, torch.Tensor]:
        """The rounded noise levels sigma_0 > ... > sigma_{N'-1} > sigma_{N'} = 0 (float64)
        and their steps t (0 last); levels that round to the same step are merged (N' <= N)."""
        levels = vp_sigmas(schedule)
        lo = max(self.sigma_min, float(levels[1]))
        hi = min(self.sigma_max, float(levels[-1]))
        sigmas = karras_sigmas(self.num_steps, min(lo, hi), hi, self.rho)[:-1]
        _, steps = round_sigma(sigmas, levels)
        steps = torch.unique_consecutive(steps)
        steps = torch.cat([steps, torch.zeros(1, dtype=torch.long)])
        return levels[steps], steps

    def num_evaluations(self, schedule: NoiseSchedule) -> int:
        """Denoiser calls of one `sample` (NFE): 2N' - 1 with Heun, N' with Euler."""
        n = len(self.grid(schedule)[1]) - 1
        return 2 * n - 1 if self.solver == "heun" else n

    @torch.no_grad()
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape, *, generator=None,
               device=None, dtype=None, x_T=None) -> torch.Tensor:
        z = initial_noise(shape, generator, device, dtype) if x_T is None else x_T
        out_dtype, levels = z.dtype, vp_sigmas(schedule)
        sigmas, steps = self.grid(schedule)
        n = len(steps) - 1

        def D(x: torch.Tensor, sigma: float, t: int) -> torch.Tensor:  # noqa: N802
            return denoise(eps_fn, x, sigma, t, out_dtype, self.clip_x0)

        x = z.double() * float(sigmas[0])  # x_0 = sigma_0 z
        for i in range(n):
            sigma, t = float(sigmas[i]), int(steps[i])
            sigma_next, t_next = float(sigmas[i + 1]), int(steps[i + 1])
            # Algorithm 2, lines 4-6: raise the noise to sigma_hat (no-op when churn = 0)
            gamma = (min(self.churn / n, math.sqrt(2) - 1)
                     if self.churn > 0 and self.churn_min <= sigma <= self.churn_max else 0.0)
            if gamma > 0:
                hat, t_hat = round_sigma(torch.tensor(sigma * (1 + gamma)), levels)
                sigma_hat, t_hat = float(hat), int(t_hat)
                noise = randn(x.shape, generator, x.device, torch.float64)
                x = x + math.sqrt(max(sigma_hat**2 - sigma**2, 0.0)) * self.noise_inflation * noise
                sigma, t = sigma_hat, t_hat
            # Euler step (Algorithm 1, lines 4-5)
            d = (x - D(x, sigma, t)) / sigma
            x_next = x + (sigma_next - sigma) * d
            # second-order correction (lines 6-8), not at the last step (sigma_N = 0)
            if self.solver == "heun" and sigma_next > 0:
                d_next = (x_next - D(x_next, sigma_next, t_next)) / sigma_next
                x_next = x + (sigma_next - sigma) * (0.5 * d + 0.5 * d_next)
            x = x_next
        return x.to(out_dtype)
