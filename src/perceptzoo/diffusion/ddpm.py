"""DDPM: Denoising Diffusion Probabilistic Models (Ho, Jain & Abbeel, NeurIPS 2020).

Images x_0 (integer levels mapped to [-1, 1]) are noised by a fixed Markov chain q (see
`schedules.py`); a U-Net eps_theta learns to predict the noise, with the simplified objective
(eq. 14, Algorithm 1)

    L_simple = E_{t ~ U{1..T}, x_0, eps ~ N(0, I)} || eps - eps_theta(sqrt(abar_t) x_0 +
               sqrt(1 - abar_t) eps, t) ||^2.

Ancestral sampling (Algorithm 2): x_T ~ N(0, I), then for t = T..1

    x_{t-1} = (x_t - (1 - alpha_t) / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t)
              + sigma_t z,

z ~ N(0, I) for t > 1 and z = 0 at the last step, sigma_t^2 = beta_t or beta~_t (sec. 3.2).
`AncestralSampler(num_steps=S)` also runs on S < T evenly spaced steps with the betas of the
respaced chain, beta'_i = 1 - abar_{tau_i} / abar_{tau_{i-1}} (Nichol & Dhariwal 2021, sec. 4).

The variational bound (eq. 5), the figure reported as NLL in bits/dim:

    -log p(x_0) <= L_T + sum_{t=2}^T L_{t-1} + L_0,
    L_T     = KL(q(x_T | x_0) || N(0, I)),
    L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)),  x_t ~ q(x_t | x_0),
    L_0     = -log p_theta(x_0 | x_1), the discretized Gaussian decoder of eq. 13: the
              probability of x_0's bin (width 2/(L-1), the edge bins open) under
              N(mu_theta(x_1, 1), sigma_1^2).

The decoder's probabilities are of the discrete levels, so the bound is on -log P(x) of the
discrete image directly (no dequantization term). `log_prob(x)` returns MINUS THIS BOUND (a lower
bound on log P(x), in nats), estimated without bias: one x_t per term, and with
`bound_timesteps = k > 0` the sum over t = 2..T is estimated from k strata of steps (one t per
stratum and example, weighted by the stratum size); `bound_timesteps = 0` sums all T - 1 terms.

    >>> import perceptzoo
    >>> model = perceptzoo.build("ddpm", num_steps=50, channels=16)
    >>> model.sample(2).shape                         # digits 8x8 levels 0..16
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.config import apply_overrides
from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.diffusion.edm_sampler import HeunSampler
from perceptzoo.diffusion.samplers import (
    SPACINGS,
    DDIMSampler,
    DPMSolverPP2M,
    EpsFn,
    ReverseSampler,
    initial_noise,
    randn,
    timesteps,
)
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError
from perceptzoo.nn.unet import UNet


def to_model_space(x: torch.Tensor, num_levels: int,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Integer levels 0..L-1 -> [-1, 1] (level k at 2k/(L-1) - 1), in `dtype`."""
    return x.to(dtype) / (num_levels - 1) * 2 - 1


def to_data_space(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """[-1, 1] -> the nearest integer level 0..L-1 (as float)."""
    return ((x + 1) / 2 * (num_levels - 1)).round().clamp(0, num_levels - 1)


def gaussian_kl(mean_1, var_1, mean_2, var_2) -> torch.Tensor:
    """KL(N(mean_1, var_1) || N(mean_2, var_2)) elementwise (float64)."""
    return 0.5 * (torch.log(var_2 / var_1) + (var_1 + (mean_1 - mean_2) ** 2) / var_2 - 1)


def discretized_gaussian_log_prob(x0, mean, var, num_levels: int) -> torch.Tensor:
    """log P(level of x0) under N(mean, var) binned at width 2/(L-1), edge bins open (eq. 13)."""
    x0, mean, std = x0.double(), mean.double(), var.double().sqrt().expand_as(x0)
    half = 1.0 / (num_levels - 1)
    upper, lower = (x0 + half - mean) / std, (x0 - half - mean) / std
    log_cdf_upper = torch.special.log_ndtr(upper)  # log Phi(upper), for the lowest bin
    log_sf_lower = torch.special.log_ndtr(-lower)  # log (1 - Phi(lower)), for the highest bin
    mid = torch.log((torch.special.ndtr(upper) - torch.special.ndtr(lower)).clamp_min(1e-30))
    return torch.where(x0 < -1 + half / 2, log_cdf_upper,
                       torch.where(x0 > 1 - half / 2, log_sf_lower, mid))


class AncestralSampler:
    """Algorithm 2 on `num_steps` evenly spaced steps (None: all T); sigma^2 = beta or beta~."""

    def __init__(self, variance: str = "beta", num_steps: int | None = None,
                 clip_x0: bool = False):
        if variance not in ("beta", "beta_tilde"):
            raise UserError(f"unknown reverse variance {variance!r}; use beta or beta_tilde")
        self.variance, self.num_steps, self.clip_x0 = variance, num_steps, clip_x0

    @torch.no_grad()
    def sample(self, eps_fn: EpsFn, schedule: NoiseSchedule, shape, *, generator=None,
               device=None, dtype=None, x_T=None) -> torch.Tensor:
        x = initial_noise(shape, generator, device, dtype) if x_T is None else x_T  # N(0, I)
        T = schedule.num_steps
        taus = timesteps(self.num_steps or T, T)
        for t, t_prev in zip(reversed(taus[1:]), reversed(taus[:-1])):
            abar, abar_prev = schedule.alpha_bar[t], schedule.alpha_bar[t_prev]
            beta = 1 - abar / abar_prev  # = beta_t when t_prev = t - 1
            eps = eps_fn(x, torch.full((shape[0],), t, device=x.device, dtype=torch.long))
            eps, xd = eps.double(), x.double()
            if self.clip_x0:  # posterior mean at the clipped x0 prediction (Ho et al.'s code)
                x0 = ((xd - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
                mean = (abar_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - abar_prev) * xd) \
                    / (1 - abar)
            else:  # eq. 11
                mean = (xd - beta / (1 - abar).sqrt() * eps) / (1 - beta).sqrt()
            var = beta if self.variance == "beta" else (1 - abar_prev) / (1 - abar) * beta
            x = mean.to(x.dtype)
            if t_prev > 0:  # z = 0 at the last step
                x = x + var.sqrt().to(x.dtype) * randn(shape, generator, x.device, x.dtype)
        return x


@dataclass
class DDPMConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape (C, H, W); filled from the dataset"""
    num_levels: int = 17
    """grey levels of the data, mapped to [-1, 1]; filled from the dataset"""
    num_steps: int = 1000
    """T, the number of diffusion steps"""
    schedule: str = "linear"
    """beta schedule: linear (Ho et al. 2020) | cosine (Nichol & Dhariwal 2021)"""
    channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 1
    attention_levels: tuple[int, ...] = (2,)
    """U-Net levels (0 = full resolution) with self-attention; the middle always has it"""
    num_heads: int = 1
    dropout: float = 0.0
    groups: int = 8
    variance: str = "beta"
    """reverse-process variance sigma_t^2: beta | beta_tilde"""
    sampler: str = "ancestral"
    """default sampler of `sample`: ancestral | ddim | dpm_solver (DPM-Solver++(2M)) | heun
    (Karras et al. 2022, EDM Algorithm 1)"""
    sample_steps: int | None = None
    """steps of the default sampler (None: T for ancestral, 50 for DDIM, 20 for DPM-Solver,
    18 noise levels for Heun, 2 x 18 - 1 = 35 denoiser calls)"""
    ddim_eta: float = 0.0
    """DDIM's eta (0: deterministic; 1: ancestral-like)"""
    heun_churn: float = 0.0
    """Heun's S_churn (EDM Algorithm 2; 0: deterministic), applied for 0.05 <= sigma <= 50
    with S_noise 1.003 (Karras et al. 2022, Table 5, ImageNet-64)"""
    sample_spacing: str | None = None
    """timestep spacing of DDIM and DPM-Solver: trailing | leading | linear (None: DDIM's
    even steps round(i T / S), DPM-Solver's trailing); Heun has the Karras sigma spacing"""
    clip_x0: bool = True
    """clip the predicted x_0 to [-1, 1] while sampling (as Ho et al.'s code does)"""
    bound_timesteps: int = 32
    """terms of sum_{t>=2} L_{t-1} drawn (stratified) per bound estimate; 0: all T - 1"""

    @classmethod
    def tiny(cls) -> DDPMConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(num_steps=20, channels=8, channel_mults=(1, 2), attention_levels=(1,),
                   groups=4, bound_timesteps=4, sample_steps=10)

    def sampling_options(self) -> tuple[str, ...]:
        """The options `with_sampling` may change on a trained model."""
        return SAMPLING_OPTIONS + (("guidance_scale",) if hasattr(self, "guidance_scale")
                                   else ())

    def with_sampling(self, overrides: dict[str, Any]) -> DDPMConfig:
        """This config with sampling-time options changed (`perceptzoo sample RUN --set
        sampler=ddim sample_steps=20`), checked: only the options of `sampling_options`,
        each value valid for this model and meant for the sampler that will run. A new
        `sampler` without `sample_steps` takes that sampler's default number of steps."""
        return with_sampling(self, overrides)


def unet_from_config(cfg, num_classes: int | None = None, in_channels: int | None = None) -> UNet:
    return UNet(in_channels=in_channels or cfg.data_shape[0], channels=cfg.channels,
                channel_mults=tuple(cfg.channel_mults), num_res_blocks=cfg.num_res_blocks,
                attention_levels=tuple(cfg.attention_levels), num_heads=cfg.num_heads,
                dropout=cfg.dropout, groups=cfg.groups, num_classes=num_classes)


SAMPLERS = ("ancestral", "ddim", "dpm_solver", "heun")
#: Config options a trained model may change when it samples (the rest fix its network, its
#: noise schedule and its bound); a config with `guidance_scale` (ddpm_cfg) may change it too.
SAMPLING_OPTIONS = ("sampler", "sample_steps", "ddim_eta", "heun_churn", "sample_spacing")
#: The sampler each option is read by (the others ignore it, so asking for it is a mistake).
OPTION_SAMPLERS = {"ddim_eta": ("ddim",), "heun_churn": ("heun",),
                   "sample_spacing": ("ddim", "dpm_solver")}


def with_sampling(cfg, overrides: dict[str, Any]):
    """`cfg` (a DDPMConfig or subclass) with the sampling-time `overrides` applied and
    checked; a UserError names the allowed options and values otherwise."""
    allowed = cfg.sampling_options()
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        fixed = [k for k in unknown if k in {f.name for f in fields(cfg)}]
        why = (f"{', '.join(fixed)} {'is' if len(fixed) == 1 else 'are'} fixed by training; "
               if fixed else "")
        raise UserError(f"no sampling option {', '.join(unknown)} ({why}options at sampling "
                        f"time: {', '.join(allowed)}; sampler is one of {', '.join(SAMPLERS)})")
    values = dict(overrides)
    if "sampler" in values and "sample_steps" not in values:
        values["sample_steps"] = None  # the new sampler's own default, not the old one's steps
    new = apply_overrides(cfg, values)
    if new.sampler not in SAMPLERS:
        raise UserError(f"unknown sampler {new.sampler!r}; use one of {', '.join(SAMPLERS)}")
    for key, takers in OPTION_SAMPLERS.items():
        if key in overrides and new.sampler not in takers:
            raise UserError(f"{key} applies to sampler={' or '.join(takers)}, and this model "
                            f"samples with {new.sampler}; add sampler={takers[0]} or drop {key}")
    steps, T = new.sample_steps, new.num_steps
    if steps is not None and not 1 <= steps <= T:
        raise UserError(f"sample_steps must be in 1..{T} (this model has T = {T} diffusion "
                        f"steps) or null for the sampler's default, got {steps}")
    if new.ddim_eta < 0 or new.heun_churn < 0:
        raise UserError(f"ddim_eta and heun_churn must be >= 0, got {new.ddim_eta} and "
                        f"{new.heun_churn}")
    if new.sample_spacing is not None and new.sample_spacing not in SPACINGS:
        raise UserError(f"unknown sample_spacing {new.sample_spacing!r}; use one of "
                        f"{', '.join(SPACINGS)}")
    if getattr(new, "guidance_scale", 0.0) < 0:
        raise UserError(f"guidance_scale must be >= 0, got {new.guidance_scale}")
    sampler_from_config(new)  # anything the sampler itself refuses, now rather than later
    return new


def sampler_from_config(cfg, clip_x0: bool | None = None) -> ReverseSampler:
    """The sampler a config names: `sampler` (ancestral | ddim | dpm_solver | heun),
    `sample_steps` (None: all T for ancestral, 50 for DDIM, 20 for DPM-Solver, 18 for Heun),
    `variance`, `ddim_eta`, `heun_churn`, `sample_spacing`, and `clip_x0` unless
    overridden."""
    clip = cfg.clip_x0 if clip_x0 is None else clip_x0
    if cfg.sampler == "ancestral":
        return AncestralSampler(cfg.variance, cfg.sample_steps, clip)
    spacing = getattr(cfg, "sample_spacing", None)
    if cfg.sampler == "ddim":
        return DDIMSampler(cfg.sample_steps or 50, cfg.ddim_eta, clip, spacing)
    if cfg.sampler == "dpm_solver":
        return DPMSolverPP2M(cfg.sample_steps or 20, spacing or "trailing", clip)
    if cfg.sampler == "heun":
        return HeunSampler(cfg.sample_steps or 18, churn=getattr(cfg, "heun_churn", 0.0),
                           churn_min=0.05, churn_max=50.0, noise_inflation=1.003, clip_x0=clip)
    raise UserError(f"unknown sampler {cfg.sampler!r}; use one of {', '.join(SAMPLERS)}")


def resolve_sampler(cfg, sampler: ReverseSampler | str | None, steps: int | None,
                    clip_x0: bool | None = None) -> ReverseSampler:
    """`sample`'s sampler argument: a sampler object as is; a name (ancestral | ddim |
    dpm_solver | heun) built with `steps` (None: that sampler's default) from the config's
    other sampling options; None the config's own (with `steps` if given)."""
    if sampler is not None and not isinstance(sampler, str):
        if steps is not None:
            raise UserError("steps= goes with a sampler name (sampler='heun', steps=10); a "
                            "sampler object carries its own steps")
        return sampler
    changes = {"sample_steps": steps} if sampler is not None or steps is not None else {}
    if sampler is not None:
        changes["sampler"] = sampler
    return sampler_from_config(replace(cfg, **changes) if changes else cfg, clip_x0)


def check_image_data(model_name: str, cfg, info) -> None:
    if info.num_levels is None or len(info.data_shape) != 3:
        raise UserError(f"{model_name} models images with integer levels; {info.name} is not "
                        "one (use digits, mnist or fashion_mnist)")
    if tuple(info.data_shape) != tuple(cfg.data_shape) or info.num_levels != cfg.num_levels:
        raise UserError(f"this {model_name} was built for {tuple(cfg.data_shape)} with "
                        f"{cfg.num_levels} levels, not {info.name}")


@register("ddpm", DDPMConfig, default_dataset="digits", family="diffusion", runner="trainer")
class DDPM(nn.Module):
    conditional = False  # whether the denoiser takes labels (`cond`); the plain DDPM does not

    def __init__(self, cfg: DDPMConfig, net: nn.Module | None = None):
        super().__init__()
        if len(cfg.data_shape) != 3:
            raise UserError(f"DDPM needs image data (C, H, W), got shape {cfg.data_shape}")
        self.cfg = cfg
        self.schedule = NoiseSchedule(cfg.num_steps, cfg.schedule)
        self.net = net if net is not None else unet_from_config(cfg)
        self.num_dims = math.prod(cfg.data_shape)
        # on the model's device in its dtype (moved and cast with it, not saved): what the
        # denoiser's inputs, samples and the returned bound are made in
        self.register_buffer("_ref", torch.zeros(()), persistent=False)
    def check_data(self, info) -> None:
        check_image_data(type(self).__name__, self.cfg, info)

    # -- the denoiser as the samplers see it ------------------------------------------------
    def eps_fn(self, cond: torch.Tensor | None = None) -> EpsFn:
        if cond is not None and not self.conditional:
            raise UserError(f"{type(self).__name__} is unconditional; call it without cond "
                            "(ddpm_cfg takes class labels)")
        return lambda x_t, t: self.net(x_t, t, cond)

    def default_sampler(self) -> ReverseSampler:
        return sampler_from_config(self.cfg)

    # -- training: L_simple (eq. 14) --------------------------------------------------------
    def loss(self, batch) -> LossOutput:
        x, y = batch
        x0 = to_model_space(x, self.cfg.num_levels, self._ref.dtype)  # (B, C, H, W)
        t = torch.randint(1, self.cfg.num_steps + 1, (x0.shape[0],), device=x0.device)
        eps = torch.randn_like(x0)
        eps_pred = self.net(self.schedule.add_noise(x0, eps, t), t, self.train_cond(y))
        loss = F.mse_loss(eps_pred, eps)
        return LossOutput(loss, {"mse": loss.item()})

    def train_cond(self, y: torch.Tensor | None) -> torch.Tensor | None:
        """What the network is conditioned on while training (none for the plain DDPM)."""
        return None

    # -- sampling ---------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               sampler: ReverseSampler | str | None = None,
               steps: int | None = None) -> torch.Tensor:
        """(num_samples, C, H, W) integer levels (float); `sampler` (an object, or a name
        with `steps`: `sample(64, sampler="heun", steps=10)`) overrides the config's."""
        sampler = (self.default_sampler() if sampler is None and steps is None
                   else resolve_sampler(self.cfg, sampler, steps))
        ref = self._ref
        x = sampler.sample(self.eps_fn(cond), self.schedule, (num_samples, *self.cfg.data_shape),
                           generator=generator, device=ref.device, dtype=ref.dtype)
        return to_data_space(x, self.cfg.num_levels)

    # -- the variational bound (eq. 5) ------------------------------------------------------
    @torch.no_grad()
    def bound_terms(self, x: torch.Tensor, cond=None, num_timesteps: int | None = None,
                    generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Per-example L_T, sum_{t>=2} L_{t-1} and L_0 in nats, (B,) each (float64)."""
        cfg, s = self.cfg, self.schedule
        T = cfg.num_steps
        x0 = to_model_space(x, cfg.num_levels, torch.float64)
        b, dev = x0.shape[0], x0.device
        eps_fn = self.eps_fn(cond)
        per_example = lambda v: v.flatten(1).sum(1)  # noqa: E731
        noise = lambda: randn(x0.shape, generator, dev, torch.float64)  # noqa: E731

        def reverse_var(steps: torch.Tensor) -> torch.Tensor:  # (B, 1, ..., 1)
            if cfg.variance == "beta":
                var = s.betas[steps]
            else:  # beta~_1 = 0: use beta~_2 at t = 1 (Ho et al.'s clipped log-variance)
                var = s.posterior_variance[steps.clamp(min=2)]
            return var.reshape(-1, *([1] * (x0.dim() - 1)))

        def model_mean(x_t, steps: torch.Tensor) -> torch.Tensor:
            eps = eps_fn(x_t.to(self._ref.dtype), steps).double()
            return s.mean_from_eps(x_t, steps, eps)

        # L_T: KL(q(x_T | x_0) || N(0, I))
        abar_T = s.alpha_bar[T]
        prior = per_example(gaussian_kl(abar_T.sqrt() * x0, 1 - abar_T, torch.zeros_like(x0),
                                        torch.ones((), dtype=torch.float64, device=dev)))
        # sum_{t=2}^T L_{t-1}: all terms, or k strata with one t per stratum and example
        k = T - 1 if not num_timesteps or num_timesteps >= T - 1 else num_timesteps
        edges = torch.linspace(2, T + 1, k + 1).floor().long().tolist()
        diffusion = torch.zeros(b, dtype=torch.float64, device=dev)
        for low, high in zip(edges[:-1], edges[1:]):
            if high <= low:
                continue
            steps = torch.randint(low, high, (b,), generator=generator,
                                  device=generator.device if generator else "cpu").to(dev)
            x_t = s.add_noise(x0, noise(), steps)
            true_mean, true_var = s.posterior(x0, x_t, steps)
            kl = gaussian_kl(true_mean, true_var, model_mean(x_t, steps), reverse_var(steps))
            diffusion += (high - low) * per_example(kl)  # stratum size x its sampled term
        # L_0: the discretized decoder at x_1 ~ q(x_1 | x_0)
        ones = torch.ones(b, dtype=torch.long, device=dev)
        x_1 = s.add_noise(x0, noise(), ones)
        decoder = -per_example(discretized_gaussian_log_prob(
            x0, model_mean(x_1, ones), reverse_var(ones), cfg.num_levels))
        return {"prior": prior, "diffusion": diffusion, "decoder": decoder}

    def variational_bound(self, x: torch.Tensor, cond=None, num_timesteps: int | None = None,
                          generator=None) -> torch.Tensor:
        """-ELBO = L_T + sum L_{t-1} + L_0 in nats per example, (B,): >= -log P(x)."""
        terms = self.bound_terms(x, cond, num_timesteps, generator)
        return sum(terms.values())

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor:
        """MINUS the variational bound (nats, (B,)): a lower bound on log P(x [| cond]), not
        log P(x). Computed in float64, returned in the denoiser's dtype."""
        bound = self.variational_bound(x, cond, self.cfg.bound_timesteps)
        return -bound.to(self._ref.dtype)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """The three parts of the bound in bits/dim (on up to 500 examples)."""
        terms = self.bound_terms(x[:500], None, self.cfg.bound_timesteps)
        scale = self.num_dims * math.log(2)
        return {f"bound_{k}_bits_per_dim": float(v.mean() / scale) for k, v in terms.items()}
