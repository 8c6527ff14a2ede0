"""ControlNet (Zhang, Rao & Agrawala, ICCV 2023, "Adding Conditional Control to Text-to-Image
Diffusion Models"): spatial conditioning (here MNIST edge maps) for a trained, frozen DDPM.

The pretrained denoiser F(x; Theta) is locked. A trainable copy of its encoder, Theta_c, reads
the noisy image plus the condition c, each of its outputs passes through a zero-initialised
1x1 convolution Z and is added into the locked network's skip connections and middle (eq. 2):

    y_c = F(x; Theta) + Z(F(x + Z(c; Theta_z1); Theta_c); Theta_z2).

At initialisation every Z outputs zero, so the output equals the base model's exactly and
training starts from the base's behaviour; gradients still reach the copy through Z (the
weight of Z gets gradient from its input, sec. 3.1). Only Theta_c, the condition encoder and the
Z convs are trained, with the DDPM objective on (image, edge map) pairs (eq. 5):
L = E || eps - eps_theta(x_t, t, c) ||^2, c = `perceptzoo.data.edges.edge_map(x_0)`.

The base comes from a DDPM run (`base_run`, made by `perceptzoo train ddpm`); its weights are
loaded when training starts and then saved with the ControlNet's, so a ControlNet run loads on
its own. `sample(n, cond=edges)` draws images for (n, 1, H, W) edge maps; without `cond` it
uses edge maps seen in training (a bank kept in the weights). `edge_consistency` scores samples
by the F1 overlap of their own edge map with the condition.

    perceptzoo train ddpm --dataset mnist --out runs/base
    perceptzoo train controlnet --dataset mnist --set base_run=runs/base
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.core.runs import RunDir
from perceptzoo.data.edges import edge_map
from perceptzoo.diffusion.ddpm import (
    DDPMConfig,
    check_image_data,
    resolve_sampler,
    sampler_from_config,
    to_data_space,
    to_model_space,
    unet_from_config,
)
from perceptzoo.diffusion.samplers import EpsFn, ReverseSampler
from perceptzoo.diffusion.schedules import NoiseSchedule
from perceptzoo.errors import UserError
from perceptzoo.nn.unet import UNet, zero_module

# fields of the base DDPM that must match (the network and the schedule)
ARCHITECTURE = ("data_shape", "num_levels", "num_steps", "schedule", "channels", "channel_mults",
                "num_res_blocks", "attention_levels", "num_heads", "groups")


def edge_consistency(samples: torch.Tensor, edges: torch.Tensor, num_levels: int) -> dict:
    """F1 (Dice) overlap and pixel agreement of edge_map(samples) with the condition edges."""
    e = edge_map(samples.round().clamp(0, num_levels - 1), num_levels).bool().flatten(1)
    c = edges.bool().flatten(1)
    inter = (e & c).sum(1).float()
    f1 = 2 * inter / (e.sum(1) + c.sum(1)).clamp_min(1)
    return {"edge_f1": float(f1.mean()), "edge_pixel_agreement": float((e == c).float().mean())}


@dataclass
class ControlNetConfig(DDPMConfig):
    base_run: str | None = None
    """run folder of the trained DDPM to control (`perceptzoo train ddpm ...`); required to train"""
    edge_bank_size: int = 256
    """edge maps kept from training for `sample()` without a condition"""
    sampler: str = "ddim"
    sample_steps: int | None = 50


@register("controlnet", ControlNetConfig, default_dataset="digits",
          family="diffusion", runner="trainer")
class ControlNet(nn.Module):
    def __init__(self, cfg: ControlNetConfig):
        super().__init__()
        if cfg.data_shape[0] != 1:
            raise UserError("ControlNet here is conditioned on edge maps of 1-channel images")
        self.cfg = cfg
        self.schedule = NoiseSchedule(cfg.num_steps, cfg.schedule)
        self.base: UNet = unet_from_config(cfg)
        self.base.requires_grad_(False)  # locked: Theta
        self.control = copy.deepcopy(self.base.encoder)  # trainable copy: Theta_c
        self.control.requires_grad_(True)
        ch = cfg.channels
        self.hint = nn.Sequential(  # condition encoder E(c) ending in the zero conv Z_1
            nn.Conv2d(1, 16, 3, padding=1), nn.SiLU(), nn.Conv2d(16, ch, 3, padding=1), nn.SiLU(),
            zero_module(nn.Conv2d(ch, ch, 1)))
        self.zero_convs = nn.ModuleList(  # Z_2: one per skip, one for the middle
            zero_module(nn.Conv2d(c, c, 1)) for c in self.base.encoder.skip_channels)
        self.zero_mid = zero_module(nn.Conv2d(self.control.out_channels,
                                              self.control.out_channels, 1))
        self.register_buffer("edge_bank", torch.zeros(cfg.edge_bank_size, *cfg.data_shape,
                                                      dtype=torch.uint8))
        self.register_buffer("edge_count", torch.zeros((), dtype=torch.long))

    def check_data(self, info) -> None:
        check_image_data("controlnet", self.cfg, info)
        if self.cfg.base_run is None:
            raise UserError("ControlNet controls a trained DDPM: train one with `perceptzoo "
                            "train ddpm --dataset DATA --out RUN` and pass --set base_run=RUN")

    def initialize(self, batch) -> None:
        """Load the locked base from `base_run` and copy its encoder into the trainable copy."""
        run = RunDir(self.cfg.base_run)
        config = run.read_config()
        if config["model"] != "ddpm":
            raise UserError(f"{run.path} is a {config['model']} run; base_run must be a ddpm run")
        base_cfg = config["model_config"]
        mine = json.loads(json.dumps({k: getattr(self.cfg, k) for k in ARCHITECTURE}))
        wrong = {k: base_cfg.get(k) for k in ARCHITECTURE if base_cfg.get(k) != mine[k]}
        if wrong:
            sets = " ".join(f"{k}={json.dumps(v).replace(' ', '')}" for k, v in wrong.items())
            raise UserError(f"the ControlNet must match its base {run.path}; add --set {sets}")
        holder = nn.Module()
        holder.net = self.base  # the DDPM saves its U-Net as `net.*`
        holder.schedule = nn.Module()
        run.load_weights(holder)
        self.reset_control()

    def reset_control(self) -> None:
        """Theta_c <- a copy of the base encoder's weights (the zero convs stay zero)."""
        self.control.load_state_dict(self.base.encoder.state_dict())

    def train(self, mode: bool = True):
        super().train(mode)
        self.base.eval()  # locked (no dropout noise from the frozen part either)
        return self

    def configure_optimizers(self, train_cfg):
        params = [p for p in self.parameters() if p.requires_grad]
        return [torch.optim.AdamW(params, lr=train_cfg.lr, weight_decay=train_cfg.weight_decay)]

    # -- the controlled denoiser (eq. 2) ----------------------------------------------------
    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x_t: (B, 1, H, W), t: (B,), cond: edge maps (B, 1, H, W) in {0, 1} -> eps."""
        hint = self.hint(cond.to(x_t.dtype) * 2 - 1)  # (B, channels, H, W)
        skips, mid, _ = self.control(x_t, t, None, hint=hint)
        residuals = [z(s) for z, s in zip(self.zero_convs, skips)]
        return self.base(x_t, t, down_residuals=residuals, mid_residual=self.zero_mid(mid))

    def eps_fn(self, cond: torch.Tensor) -> EpsFn:
        return lambda x_t, t: self(x_t, t, cond)

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        edges = edge_map(x, self.cfg.num_levels)  # (B, 1, H, W) the condition c
        if self.training:
            self._remember(edges)
        x0 = to_model_space(x, self.cfg.num_levels, self.zero_mid.weight.dtype)
        t = torch.randint(1, self.cfg.num_steps + 1, (x0.shape[0],), device=x0.device)
        eps = torch.randn_like(x0)
        loss = F.mse_loss(self(self.schedule.add_noise(x0, eps, t), t, edges), eps)
        return LossOutput(loss, {"mse": loss.item()})

    @torch.no_grad()
    def _remember(self, edges: torch.Tensor) -> None:
        n = self.edge_bank.shape[0]
        start = int(self.edge_count) % n
        k = min(len(edges), n - start)
        self.edge_bank[start:start + k] = edges[:k]
        self.edge_count += k

    # -- sampling -----------------------------------------------------------------------------
    def default_sampler(self) -> ReverseSampler:
        return sampler_from_config(self.cfg)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               sampler: ReverseSampler | str | None = None,
               steps: int | None = None) -> torch.Tensor:
        """Images (num_samples, 1, H, W) in levels for edge maps `cond` (num_samples, 1, H, W);
        `sampler`, `steps` as in `DDPM.sample`."""
        w = self.zero_mid.weight
        device = w.device
        if cond is None:
            seen = min(int(self.edge_count), self.edge_bank.shape[0])
            if seen == 0:
                raise UserError("this ControlNet has seen no edge maps; pass cond=edge maps")
            pick = torch.randint(seen, (num_samples,), generator=generator,
                                 device=generator.device if generator else "cpu")
            cond = self.edge_bank[pick.to(device)]
        cond = cond.to(device)
        if cond.shape != (num_samples, *self.cfg.data_shape):
            shape = (num_samples, *self.cfg.data_shape)
            raise UserError(f"cond must be edge maps of shape {shape}")
        sampler = (self.default_sampler() if sampler is None and steps is None
                   else resolve_sampler(self.cfg, sampler, steps))
        x = sampler.sample(self.eps_fn(cond), self.schedule, (num_samples, *self.cfg.data_shape),
                           generator=generator, device=device, dtype=w.dtype)
        return to_data_space(x, self.cfg.num_levels)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """Edge consistency of samples drawn for the edge maps of the first 100 images of x."""
        edges = edge_map(x[:100], self.cfg.num_levels)
        g = torch.Generator(device=edges.device).manual_seed(0)
        samples = self.sample(len(edges), cond=edges, generator=g)
        return edge_consistency(samples, edges, self.cfg.num_levels)


def load_base_config(base_run: str | Path) -> dict:
    """The model config of a DDPM run, to build a matching ControlNet."""
    return RunDir(base_run).read_config()["model_config"]

