"""Classifier-free guidance (Ho & Salimans 2022, "Classifier-Free Diffusion Guidance").

One network learns both the conditional eps_theta(x_t, t, c) and the unconditional
eps_theta(x_t, t) = eps_theta(x_t, t, null): while training, each label is replaced by the
null label with probability `label_dropout` (p_uncond, Algorithm 1). Sampling follows the
guided prediction (eq. 6)

    eps~(x_t, c) = (1 + w) eps_theta(x_t, t, c) - w eps_theta(x_t, t),

w = 0 the plain conditional model, larger w trading diversity for label fidelity. `GuidedEps`
wraps the network into such an eps function, so every sampler (ancestral, DDIM) guides.

The model is the DDPM of `ddpm.py` with a class-conditional U-Net (label embedding added to the
time embedding, label `num_classes` = null). `log_prob(x)` is minus the variational bound of
the unconditional model (null label): a lower bound on log p(x), see `ddpm.py`.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("ddpm_cfg", num_steps=20, channels=16)
    >>> model.sample(4, cond=torch.tensor([0, 1, 2, 3]), guidance_scale=3.0).shape
    torch.Size([4, 1, 8, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.diffusion.ddpm import (
    DDPM,
    DDPMConfig,
    check_image_data,
    resolve_sampler,
    to_data_space,
    unet_from_config,
)
from perceptzoo.diffusion.samplers import ReverseSampler
from perceptzoo.errors import UserError


class GuidedEps:
    """eps~(x, t) = (1 + w) eps(x, t, c) - w eps(x, t, null), both in one batched pass."""

    def __init__(self, net: nn.Module, cond: torch.Tensor, guidance_scale: float,
                 null_label: int):
        self.net, self.cond, self.w, self.null = net, cond, guidance_scale, null_label

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.w == 0:  # the conditional prediction itself
            return self.net(x_t, t, self.cond)
        null = torch.full_like(self.cond, self.null)
        eps = self.net(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([self.cond, null]))
        eps_cond, eps_uncond = eps.chunk(2)  # (B, C, H, W) each
        return (1 + self.w) * eps_cond - self.w * eps_uncond


@dataclass
class GuidedDDPMConfig(DDPMConfig):
    num_classes: int = 10
    """labels 0..num_classes-1; filled from the dataset"""
    label_dropout: float = 0.1
    """p_uncond: probability that a training label is replaced by the null label"""
    guidance_scale: float = 1.0
    """w of `sample` when not given"""


@register("ddpm_cfg", GuidedDDPMConfig, default_dataset="digits",
          family="diffusion", runner="trainer")
class GuidedDDPM(DDPM):
    conditional = True

    def __init__(self, cfg: GuidedDDPMConfig):
        if not 0 <= cfg.label_dropout <= 1:
            raise UserError(f"label_dropout must be in [0, 1], got {cfg.label_dropout}")
        super().__init__(cfg, net=unet_from_config(cfg, num_classes=cfg.num_classes))

    def check_data(self, info) -> None:
        check_image_data("ddpm_cfg", self.cfg, info)
        if info.num_classes is None:
            raise UserError(f"ddpm_cfg needs class labels; {info.name} has none")

    def train_cond(self, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:
            raise UserError("ddpm_cfg trains on labelled data; the batch has no labels")
        y = y.long()
        if self.training and self.cfg.label_dropout > 0:  # Algorithm 1, line 3
            drop = torch.rand(y.shape, device=y.device) < self.cfg.label_dropout
            y = torch.where(drop, torch.full_like(y, self.cfg.num_classes), y)
        return y

    def guided_eps(self, cond: torch.Tensor, guidance_scale: float) -> GuidedEps:
        return GuidedEps(self.net, cond, guidance_scale, self.cfg.num_classes)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               sampler: ReverseSampler | str | None = None, steps: int | None = None,
               guidance_scale: float | None = None) -> torch.Tensor:
        """Samples of labels `cond` (B,) (default 0, 1, 2, ... cycling) with guidance w;
        `sampler`, `steps` as in `DDPM.sample`."""
        device = self._ref.device
        if cond is None:
            cond = torch.arange(num_samples, device=device) % self.cfg.num_classes
        cond = torch.as_tensor(cond, device=device).long()
        if cond.shape != (num_samples,) or cond.min() < 0 or cond.max() >= self.cfg.num_classes:
            raise UserError(f"cond must be {num_samples} labels in 0..{self.cfg.num_classes - 1}")
        w = self.cfg.guidance_scale if guidance_scale is None else guidance_scale
        sampler = (self.default_sampler() if sampler is None and steps is None
                   else resolve_sampler(self.cfg, sampler, steps))
        x = sampler.sample(self.guided_eps(cond, w), self.schedule,
                           (num_samples, *self.cfg.data_shape), generator=generator,
                           device=device, dtype=self._ref.dtype)
        return to_data_space(x, self.cfg.num_levels)
