"""Latent diffusion (Rombach et al., CVPR 2022, "High-Resolution Image Synthesis with Latent
Diffusion Models"): a DDPM that runs in the latent space of an autoencoder.

Stage 1 (sec. 3.1): a convolutional autoencoder with a KL-regularised latent,
E(x) = q(z | x) = N(mu(x), diag sigma^2(x)), z of shape (latent_channels, H/f, W/f), f =
2^ae_downsamples, trained with

    L_AE = ||x - D(z)||^2 + kl_weight KL(q(z | x) || N(0, I)),     z ~ q(z | x)

(the paper adds a perceptual and an adversarial term; a plain squared error suffices at 28x28).
Stage 2 (sec. 3.2, eq. 2): with the autoencoder frozen, the DDPM objective on latents scaled
to unit variance (the paper's scale factor 1/std, measured on the first stage-2 batch),

    L_LDM = E_{E(x), eps, t} || eps - eps_theta(z_t, t) ||^2.

Sampling draws z_0 with any sampler (`ddpm.AncestralSampler`, `samplers.DDIMSampler`) on the
latent shape, then decodes x = D(z_0 / scale). One run trains both stages: the first
`ae_steps` optimizer steps train the autoencoder, the rest the latent denoiser
(`train_step`). The autoencoder's parameters stay out of the Trainer's EMA (they have
requires_grad off except inside a stage-1 step), so the decoder that is saved is the one the
latent model was trained against.

There is no `log_prob`: a bound on latents is not a bound on images. `extra_metrics` reports
the autoencoder's reconstruction error (pixels in [0, 1]).

    >>> import perceptzoo
    >>> model = perceptzoo.build("latent_diffusion", num_steps=20)
    >>> model.sample(2).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.diffusion.ddpm import (
    DDPMConfig,
    check_image_data,
    resolve_sampler,
    sampler_from_config,
    to_data_space,
    to_model_space,
    unet_from_config,
)
from perceptzoo.diffusion.samplers import ReverseSampler
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError
from perceptzoo.nn.unet import ResBlock, group_norm


class KLAutoencoder(nn.Module):
    """x (B, C, H, W) in [-1, 1] <-> z (B, latent_channels, H/2^k, W/2^k)."""

    def __init__(self, in_channels: int, channels: int, latent_channels: int, downsamples: int,
                 groups: int = 8):
        super().__init__()
        enc = [nn.Conv2d(in_channels, channels, 3, padding=1)]
        for _ in range(downsamples):
            enc += [nn.SiLU(), nn.Conv2d(channels, channels, 4, stride=2, padding=1)]
        self.enc = nn.Sequential(*enc)
        self.enc_res = ResBlock(channels, channels, 1, 0.0, groups)
        self.to_moments = nn.Sequential(group_norm(channels, groups), nn.SiLU(),
                                        nn.Conv2d(channels, 2 * latent_channels, 3, padding=1))
        self.from_latent = nn.Conv2d(latent_channels, channels, 3, padding=1)
        self.dec_res = ResBlock(channels, channels, 1, 0.0, groups)
        self.up = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1)
                                for _ in range(downsamples))
        self.out = nn.Sequential(group_norm(channels, groups), nn.SiLU(),
                                 nn.Conv2d(channels, in_channels, 3, padding=1))
        self.register_buffer("_no_emb", torch.zeros(1, 1), persistent=False)  # no time input

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x), each (B, latent_channels, h, w)."""
        h = self.enc_res(self.enc(x), self._no_emb.expand(x.shape[0], 1))
        mean, log_var = self.to_moments(h).chunk(2, dim=1)
        return mean, log_var.clamp(-30, 20)

    def decode(self, z: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """z -> x in [-1, 1] of spatial `size` (nearest upsampling to the encoder's sizes)."""
        h = self.dec_res(self.from_latent(z), self._no_emb.expand(z.shape[0], 1))
        sizes = [(math.ceil(size[0] / 2**k), math.ceil(size[1] / 2**k))
                 for k in range(len(self.up) - 1, -1, -1)]
        for conv, s in zip(self.up, sizes):
            h = conv(F.silu(F.interpolate(h, size=s, mode="nearest")))
        return torch.tanh(self.out(h))


@dataclass
class LatentDiffusionConfig(DDPMConfig):
    latent_channels: int = 4
    ae_channels: int = 32
    ae_downsamples: int = 1
    """halvings of the resolution by the autoencoder (f = 2^k; 2 for 28x28 -> 7x7)"""
    kl_weight: float = 1e-3
    ae_steps: int = 500
    """the first ae_steps optimizer steps train the autoencoder, the rest the latent DDPM"""
    attention_levels: tuple[int, ...] = (1,)
    channel_mults: tuple[int, ...] = (1, 2)
    grad_clip: float = 1.0

    @classmethod
    def tiny(cls) -> LatentDiffusionConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(num_steps=20, channels=8, groups=4, ae_channels=8, latent_channels=2,
                   ae_steps=1, sample_steps=10)


@register("latent_diffusion", LatentDiffusionConfig, default_dataset="digits",
          family="diffusion", runner="trainer")
class LatentDiffusion(nn.Module):
    def __init__(self, cfg: LatentDiffusionConfig):
        super().__init__()
        self.cfg = cfg
        self.autoencoder = KLAutoencoder(cfg.data_shape[0], cfg.ae_channels, cfg.latent_channels,
                                         cfg.ae_downsamples, cfg.groups)
        self.autoencoder.requires_grad_(False)  # trained only inside stage-1 steps (no EMA)
        self.schedule = NoiseSchedule(cfg.num_steps, cfg.schedule)
        self.net = unet_from_config(cfg, in_channels=cfg.latent_channels)
        h, w = cfg.data_shape[1:]
        for _ in range(cfg.ae_downsamples):
            h, w = math.ceil(h / 2), math.ceil(w / 2)
        self.latent_shape = (cfg.latent_channels, h, w)
        self.register_buffer("latent_scale", torch.ones(()))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def check_data(self, info) -> None:
        check_image_data("latent_diffusion", self.cfg, info)

    def configure_optimizers(self, train_cfg):
        make = lambda ps: torch.optim.AdamW(ps, lr=train_cfg.lr,  # noqa: E731
                                            weight_decay=train_cfg.weight_decay)
        return [make(list(self.autoencoder.parameters())), make(list(self.net.parameters()))]

    # -- stage 1: the autoencoder -----------------------------------------------------------
    def autoencoder_loss(self, x0: torch.Tensor) -> tuple[torch.Tensor, dict]:
        mean, log_var = self.autoencoder.encode(x0)
        z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
        recon = self.autoencoder.decode(z, x0.shape[-2:])
        mse = F.mse_loss(recon, x0)
        kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).mean()
        return mse + self.cfg.kl_weight * kl, {"recon_mse": mse.item(), "kl": kl.item()}

    # -- stage 2: DDPM on scaled latents ----------------------------------------------------
    def latents(self, x0: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            mean, log_var = self.autoencoder.encode(x0)
            return (mean + (0.5 * log_var).exp() * torch.randn_like(mean)) * self.latent_scale

    def diffusion_loss(self, x0: torch.Tensor) -> tuple[torch.Tensor, dict]:
        z0 = self.latents(x0)  # (B, latent_channels, h, w)
        t = torch.randint(1, self.cfg.num_steps + 1, (z0.shape[0],), device=z0.device)
        eps = torch.randn_like(z0)
        mse = F.mse_loss(self.net(self.schedule.add_noise(z0, eps, t), t), eps)
        return mse, {"latent_mse": mse.item()}

    def loss(self, batch) -> LossOutput:
        """Both objectives (for evaluation); training uses them one stage at a time."""
        x0 = to_model_space(batch[0], self.cfg.num_levels, self.latent_scale.dtype)
        ae, m1 = self.autoencoder_loss(x0)
        dm, m2 = self.diffusion_loss(x0)
        return LossOutput(ae + dm, {**m1, **m2})

    def train_step(self, batch, optimizers) -> dict[str, float]:
        ae_opt, net_opt = optimizers
        x0 = to_model_space(batch[0], self.cfg.num_levels, self.latent_scale.dtype)
        stage_1 = int(self.step) < self.cfg.ae_steps
        if stage_1:
            self.autoencoder.requires_grad_(True)
            loss, metrics = self.autoencoder_loss(x0)
            params, opt = list(self.autoencoder.parameters()), ae_opt
        else:
            if int(self.step) == self.cfg.ae_steps:  # scale factor 1/std (Rombach et al. sec. 4.3)
                self.latent_scale.fill_(1.0)
                self.latent_scale.fill_(1.0 / self.latents(x0).std().clamp_min(1e-6))
            loss, metrics = self.diffusion_loss(x0)
            params, opt = list(self.net.parameters()), net_opt
        if not torch.isfinite(loss):
            raise RuntimeError(f"loss is {loss.item()} at step {int(self.step)}; lower --lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        opt.step()
        idle = net_opt if stage_1 else ae_opt  # no gradients: its step is a no-op that keeps
        idle.zero_grad(set_to_none=True)  # the LR schedulers' "optimizer stepped first" order
        idle.step()
        self.autoencoder.requires_grad_(False)
        self.step += 1
        return {"loss": loss.item(), "stage": 1.0 if stage_1 else 2.0, "grad_norm": float(norm),
                **metrics}

    # -- sampling -------------------------------------------------------------------------
    def default_sampler(self) -> ReverseSampler:
        return sampler_from_config(self.cfg, clip_x0=False)  # latents are not in [-1, 1]

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               sampler: ReverseSampler | str | None = None,
               steps: int | None = None) -> torch.Tensor:
        """Decoded samples (num_samples, C, H, W) in integer levels (float). Latents are not
        clipped: their range is not [-1, 1]. `sampler`, `steps` as in `DDPM.sample`."""
        if cond is not None:
            raise UserError("latent_diffusion is unconditional; sample without cond")
        scale = self.latent_scale
        sampler = (self.default_sampler() if sampler is None and steps is None
                   else resolve_sampler(self.cfg, sampler, steps, clip_x0=False))
        z = sampler.sample(lambda z_t, t: self.net(z_t, t), self.schedule,
                           (num_samples, *self.latent_shape), generator=generator,
                           device=scale.device, dtype=scale.dtype)
        x = self.autoencoder.decode(z / self.latent_scale, self.cfg.data_shape[1:])
        return to_data_space(x, self.cfg.num_levels)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """D(mean of E(x)) in integer levels: what the autoencoder keeps of x."""
        x0 = to_model_space(x, self.cfg.num_levels, self.latent_scale.dtype)
        mean, _ = self.autoencoder.encode(x0)
        return to_data_space(self.autoencoder.decode(mean, x0.shape[-2:]), self.cfg.num_levels)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        x = x[:1000]
        err = (self.reconstruct(x) - x.float()) / (self.cfg.num_levels - 1)
        return {"recon_mse": float(err.pow(2).mean())}

