"""SRFlow: super-resolution with a conditional normalizing flow (Lugmayr et al., ECCV 2020).

A Glow-shaped flow models the high-resolution image x given its low-resolution version u:

    log p(x | u) = log N(f(x; u)) + log |det df/dx|,

so super-resolution is sampling x = f^{-1}(z; u), z ~ N(0, tau^2 I): many sharp answers that all
explain u, instead of one blurred regression mean. u enters through an encoder g(u) whose
features, resized to each level's resolution, condition every step through

    affine injector      h' = exp(s(g(u))) * h + b(g(u))      log-det = sum s   (section 3.2)
    conditional coupling h_b' = exp(s(h_a, g(u))) * h_b + t(h_a, g(u))

and the learned prior of the factored-out latents (split). Each step of flow is ActNorm,
invertible 1x1 conv, affine injector, conditional affine coupling (SRFlow's "flow step").
The flow is invertible for every u (the property test checks it with u fixed).

Here u = the 4x average-pooled image (MNIST 28x28 -> 7x7 by default); the encoder is a small
conv net on the bilinearly upsampled u (the paper uses an RRDB super-resolution network).
`log_prob(x)` is the dequantized conditional bound log p(x | u(x)), so `perceptzoo eval`
bits/dim are conditional bits/dim; `extra_metrics` gives PSNR of the sample mean, average
per-sample PSNR, sample diversity and the bicubic baseline.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("srflow", data_shape=(1, 8, 8), hidden=8, num_steps=1)
    >>> lr = torch.rand(3, 1, 2, 2)
    >>> model.sample(3, cond=lr, temperature=0.8).shape
    torch.Size([3, 1, 8, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.flows.bases import StandardNormal
from perceptzoo.flows.dequantization import make_dequantization
from perceptzoo.flows.layers import (
    Logit,
    Shift,
    ZeroConv2d,
    _soft_clamp,
    _sum_per_example,
    glow_levels,
)
from perceptzoo.flows.model import FlowModel


@dataclass
class SRFlowConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """(C, H, W) of the high-resolution images; filled from the dataset"""
    num_levels: int | None = 256
    """grey levels; filled from the dataset"""
    scale: int = 4
    """super-resolution factor: the low-resolution input is H/scale x W/scale"""
    num_scales: int = 2
    num_steps: int = 4
    """flow steps per level"""
    hidden: int = 32
    """channels of the coupling / injector networks"""
    cond_features: int = 16
    """channels of the low-resolution encoder's features"""
    lu: bool = True
    coupling: str = "affine"
    learned_prior: bool = True
    dequantization: str = "uniform"
    logit_alpha: float | None = None
    """None: centre y - 1/2 (as Glow); a float: RealNVP's logit pre-processing with this alpha"""
    seed: int = 0
    sample_temperature: float = 0.8
    """temperature of `sample` when none is given (the paper samples at 0.9)"""
    metric_examples: int = 200
    """test images used by extra_metrics (PSNR, diversity)"""
    metric_samples: int = 8
    """super-resolutions drawn per image for the sample mean and diversity"""

    @classmethod
    def tiny(cls) -> SRFlowConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(data_shape=(1, 8, 8), num_steps=1, hidden=8, cond_features=4, metric_examples=8,
                   metric_samples=2)


class AffineInjector(nn.Module):
    """h' = exp(s(c)) h + b(c): an affine map of all of h whose parameters depend only on the
    condition c (B, K, H, W), so it is invertible for any c; log-det = sum s(c)."""

    def __init__(self, channels: int, cond_channels: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(cond_channels, hidden, 3, padding=1), nn.ReLU(),
                                 ZeroConv2d(hidden, 2 * channels))

    def _params(self, cond):
        shift, raw = self.net(cond).chunk(2, 1)
        return shift, _soft_clamp(raw)

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._params(cond)
        return x * torch.exp(log_scale) + shift, _sum_per_example(log_scale.expand_as(x))

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._params(cond)
        return (z - shift) * torch.exp(-log_scale), -_sum_per_example(log_scale.expand_as(z))


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio (dB) per image of values in [0, 1]: (B,)."""
    mse = (a - b).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


@register("srflow", SRFlowConfig, default_dataset="mnist", family="flows", runner="trainer")
class SRFlow(FlowModel):
    def __init__(self, cfg: SRFlowConfig):
        if len(cfg.data_shape) != 3 or cfg.num_levels is None:
            raise UserError(f"srflow models discrete images (C, H, W), got {cfg.data_shape} "
                            f"with num_levels={cfg.num_levels}")
        c, h, w = cfg.data_shape
        if h % cfg.scale or w % cfg.scale:
            raise UserError(f"{h}x{w} images cannot be downscaled by {cfg.scale}")
        k = cfg.cond_features
        transform, _ = glow_levels(
            cfg, cond_channels=k,
            extra_layers=lambda level, channels: [AffineInjector(channels, k, cfg.hidden)])
        preprocess = Logit(cfg.logit_alpha) if cfg.logit_alpha is not None else Shift()
        super().__init__(transform, StandardNormal((c * h * w,)), data_shape=cfg.data_shape,
                         num_levels=cfg.num_levels, preprocess=preprocess,
                         dequantization=make_dequantization(cfg.dequantization,
                                                            cfg.data_shape, cfg.num_levels))
        self.cfg = cfg
        self.encoder = nn.Sequential(
            nn.Conv2d(c, k, 3, padding=1), nn.ReLU(),
            nn.Conv2d(k, k, 3, padding=1), nn.ReLU(),
            nn.Conv2d(k, k, 3, padding=1),
        )
        # low-resolution images for `sample` without a condition (set by `initialize`)
        self.register_buffer("reference_lr", torch.zeros(64, c, h // cfg.scale, w // cfg.scale))

    # -- the condition ---------------------------------------------------------------------
    def low_res(self, x: torch.Tensor) -> torch.Tensor:
        """Integer-level images (B, C, H, W) -> low-resolution u in [0, 1], (B, C, H/s, W/s)."""
        return F.avg_pool2d(x.to(self._dtype()) / (self.cfg.num_levels - 1), self.cfg.scale)

    def features(self, lr: torch.Tensor) -> list[torch.Tensor]:
        """g(u) resized to every level: [(B, K, H/2^(l+1), W/2^(l+1))]."""
        up = F.interpolate(lr.to(self._dtype()), size=self.data_shape[1:], mode="bilinear",
                           align_corners=False)
        feat = self.encoder(up - 0.5)
        return [F.avg_pool2d(feat, 2 ** (level + 1)) for level in range(self.cfg.num_scales)]

    def conditional_flow(self) -> nn.Module:
        """The flow y -> z for a given low-res image: a layer with cond = u (property tests)."""
        return _GivenLowRes(self)

    # -- density and sampling (forward / inverse: FlowModel's, with cond = level features) --
    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Dequantized bound on log p(x | u) in nats, (B,); u = cond or low_res(x)."""
        lr = self.low_res(x) if cond is None else cond
        return super().log_prob(x, cond=self.features(lr), generator=generator)

    @torch.no_grad()
    def initialize(self, batch) -> None:
        x, _ = batch
        lr = self.low_res(x)
        n = min(len(lr), len(self.reference_lr))
        self.reference_lr[:n] = lr[:n]
        super().initialize(batch)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               temperature: float | None = None) -> torch.Tensor:
        """Super-resolutions (num_samples, C, H, W) in integer levels of the low-res images
        `cond` (B, C, H/s, W/s) in [0, 1]; without cond, of the stored reference images."""
        t = self.cfg.sample_temperature if temperature is None else temperature
        if cond is None:
            idx = torch.arange(num_samples, device=self.reference_lr.device)
            cond = self.reference_lr[idx % len(self.reference_lr)]
        if len(cond) != num_samples:
            raise UserError(f"cond holds {len(cond)} low-resolution images for {num_samples} "
                            "samples; pass one per sample")
        z = self.base.sample(num_samples, temperature=t, generator=generator)
        y, _ = self.inverse(z, self.features(cond))
        return self.to_data(y)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """PSNR (dB, [0,1] scale) of the mean of `metric_samples` super-resolutions, their
        average PSNR, diversity (mean per-pixel std across samples, [0,1] scale), the bicubic
        baseline's PSNR, and low-res consistency (PSNR of the downscaled samples vs u)."""
        x = x[: self.cfg.metric_examples]
        lr = self.low_res(x)
        hr = x.float() / (self.cfg.num_levels - 1)
        g = torch.Generator(device=x.device).manual_seed(0)
        samples = torch.stack([
            self.sample(len(x), cond=lr, generator=g) / (self.cfg.num_levels - 1)
            for _ in range(self.cfg.metric_samples)
        ])  # (S, B, C, H, W)
        bicubic = F.interpolate(lr, size=hr.shape[2:], mode="bicubic",
                                align_corners=False).clamp(0, 1)
        flat = samples.flatten(0, 1)
        consistency = psnr(F.avg_pool2d(flat, self.cfg.scale), lr.repeat(len(samples), 1, 1, 1))
        return {
            "psnr_mean_db": float(psnr(samples.mean(0), hr).mean()),
            "psnr_sample_db": float(psnr(flat, hr.repeat(len(samples), 1, 1, 1)).mean()),
            "diversity_std": float(samples.std(0).mean()),
            "psnr_bicubic_db": float(psnr(bicubic, hr).mean()),
            "lr_consistency_db": float(consistency.mean()),
        }


class _GivenLowRes(nn.Module):
    """SRFlow's flow as a layer whose `cond` is the low-resolution image."""

    def __init__(self, model: SRFlow):
        super().__init__()
        self.model = model

    def forward(self, y, cond=None):
        return self.model(y, self.model.features(cond))

    def inverse(self, z, cond=None):
        return self.model.inverse(z, self.model.features(cond))
