"""Progressive GAN (Karras, Aila, Laine & Lehtinen, ICLR 2018).

Generator and discriminator grow together from low to high resolution: for images of side 4s
the stages are s x s, 2s x 2s and 4s x 4s (7 -> 14 -> 28 on MNIST). A new stage is *faded in*
(sec. 2, Fig. 2): while alpha goes 0 -> 1 over `stage_steps` steps,

    G: x = (1 - alpha) upsample(toRGB_{l-1}(h_{l-1})) + alpha toRGB_l(block_l(upsample(h_{l-1})))
    D: h = (1 - alpha) fromRGB_{l-1}(downsample(x)) + alpha block_l(fromRGB_l(x)),

then the stage trains stabilised (alpha = 1) for `stage_steps` more. Real images are shown at
the current stage's resolution (average pooling). Further:

- equalised learning rate (sec. 4.1): weights drawn N(0, 1) and scaled at run time by He's
  constant sqrt(2 / fan_in), so Adam's per-parameter steps are the same size in every layer;
- pixelwise feature normalisation in G after each convolution (sec. 4.2);
- minibatch standard deviation before D's last block (sec. 3, `common.MinibatchStd`);
- the WGAN-GP loss (lambda 10) with the drift term eps_drift E D(x)^2, eps_drift = 0.001
  (appendix A.1), one critic step per generator step, Adam betas (0, 0.99), G at lr 1e-3;
- the critic at `d_lr_scale` = 4 times G's rate (the two time-scale update rule, Heusel et al.
  2017; the paper uses equal rates). At equal rates our runs, ~1000x shorter than the paper's,
  collapsed (digits: FD 557, recall 0): the generator outran the critic, which scored the fakes
  above the reals (Wasserstein estimate < 0) in 67 of the 68 logged steps after the first
  growth; at a fixed 8x8 resolution G pushed half or more of its pixels outside [-1, 1]. With
  equalised learning rates D's weights move ~1e-3 of their scale per step, too slow for the
  minibatch-std feature to take effect. The collapse was the same at a fixed 8x8 resolution
  without any growth, so it is not the fade-in (whose continuity at alpha = 0 the tests check;
  Adam's state is per parameter and created at a layer's first gradient, so new layers start
  fresh). Measured on the recipe's schedule, same seed and batches: FD 605 -> 80, recall
  0 -> 0.41 (tests/gans/test_progressive_gan.py::test_the_critic_keeps_up_with_the_generator);
  on the later schedule (stages of 50 steps) equal rates collapse the same way (FD 582,
  recall 0);
- on 8x8 digits the 2x2 and 4x4 stages are short (the recipe's `stage_steps` 50) so most of
  the budget trains stabilised at the final resolution: with stages of 125 an 800-step run
  spent 300 steps there and trailed the DCGAN (FD 80.5 / 88.9 at seeds 0 / 1 against 44.8);
  stages of 50 gave 56.2 / 76.5 at the same 800 steps; training at 8x8 from the start, 62.5.
  Switching off the minibatch std (71.7) or the drift term (82.0) moved FD less than the
  seeds do. (Probes of 800 steps of 32, FD of 1000 samples against the 360 test digits.)
  The recipe now trains 2000 steps of 32 with stages of 50, as many images as dcgan-digits:
  FD 28.5, precision 0.57, recall 0.68 (DCGAN 44.8, StyleGAN 42.4; one seed each, floor 7.8);
- an exponential average of G's weights (decay 0.999) for sampling (sec. 4.1 footnote / A.1).

The stage and alpha are functions of the step count kept in the model (a buffer), so a run
resumes at the right stage. `sample` draws at the current stage, upsampled (nearest) to the
data's side.

    >>> import perceptzoo
    >>> model = perceptzoo.build("progressive_gan", dataset="digits", channels=16)
    >>> model.sample(2).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.gans.common import (
    GANBase,
    MinibatchStd,
    check_image_shape,
    ema_decay_with_rampup,
    finite,
    frozen,
    gradient_penalty,
    step,
    to_data_space,
    update_ema,
)


class EqualizedConv2d(nn.Module):
    """Conv2d with weights N(0, 1) used as w * sqrt(2 / fan_in) (sec. 4.1)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, padding: int = 0,
                 gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.scale = gain / math.sqrt(in_ch * kernel * kernel)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


class ProgressiveGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, data_shape):
        super().__init__()
        c, side, _ = check_image_shape(data_shape, "the progressive GAN")
        self.s, ch = side // 4, channels
        # stage 0: z -> (2ch, s, s) by a 'dense' s x s convolution of the 1x1 latent
        self.first = EqualizedConv2d(latent_dim, 2 * ch * self.s * self.s, 1,
                                     gain=math.sqrt(2) / 4)
        self.blocks = nn.ModuleList([
            EqualizedConv2d(2 * ch, 2 * ch, 3, 1),
            nn.ModuleList([EqualizedConv2d(2 * ch, ch, 3, 1), EqualizedConv2d(ch, ch, 3, 1)]),
            nn.ModuleList([EqualizedConv2d(ch, ch, 3, 1), EqualizedConv2d(ch, ch, 3, 1)]),
        ])
        self.to_rgb = nn.ModuleList([EqualizedConv2d(2 * ch, c, 1, gain=1.0),
                                     EqualizedConv2d(ch, c, 1, gain=1.0),
                                     EqualizedConv2d(ch, c, 1, gain=1.0)])
        self.ch = ch

    def features(self, z: torch.Tensor, stage: int) -> list[torch.Tensor]:
        """Hidden maps of stages 0..stage."""
        act = lambda t: pixel_norm(F.leaky_relu(t, 0.2))  # noqa: E731
        h = act(self.first(pixel_norm(z)[:, :, None, None]).reshape(-1, 2 * self.ch, self.s,
                                                                    self.s))
        h = act(self.blocks[0](h))
        hs = [h]
        for level in range(1, stage + 1):
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            for conv in self.blocks[level]:
                h = act(conv(h))
            hs.append(h)
        return hs

    def forward(self, z: torch.Tensor, stage: int = 2, alpha: float = 1.0) -> torch.Tensor:
        """(B, C, s 2^stage, s 2^stage) in [-1, 1] (no tanh in the paper; clamped at sampling)."""
        hs = self.features(z, stage)
        img = self.to_rgb[stage](hs[stage])
        if stage > 0 and alpha < 1.0:
            low = F.interpolate(self.to_rgb[stage - 1](hs[stage - 1]), scale_factor=2,
                                mode="nearest")
            img = (1 - alpha) * low + alpha * img
        return img


class ProgressiveDiscriminator(nn.Module):
    def __init__(self, channels: int, data_shape):
        super().__init__()
        c, side, _ = check_image_shape(data_shape, "the progressive GAN")
        ch, s = channels, side // 4
        self.from_rgb = nn.ModuleList([EqualizedConv2d(c, 2 * ch, 1), EqualizedConv2d(c, ch, 1),
                                       EqualizedConv2d(c, ch, 1)])
        self.blocks = nn.ModuleList([
            None,
            nn.ModuleList([EqualizedConv2d(ch, ch, 3, 1), EqualizedConv2d(ch, 2 * ch, 3, 1)]),
            nn.ModuleList([EqualizedConv2d(ch, ch, 3, 1), EqualizedConv2d(ch, ch, 3, 1)]),
        ])
        self.mbstd = MinibatchStd()
        self.last_conv = EqualizedConv2d(2 * ch + 1, 2 * ch, 3, 1)
        self.last_dense = EqualizedConv2d(2 * ch, 2 * ch, s)   # s x s -> 1 x 1
        self.out = EqualizedConv2d(2 * ch, 1, 1, gain=1.0)

    def forward(self, x: torch.Tensor, stage: int = 2, alpha: float = 1.0) -> torch.Tensor:
        act = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        h = act(self.from_rgb[stage](x))
        for level in range(stage, 0, -1):
            for conv in self.blocks[level]:
                h = act(conv(h))
            h = F.avg_pool2d(h, 2)
            if level == stage and alpha < 1.0:  # fade the new input layer in
                h = (1 - alpha) * act(self.from_rgb[stage - 1](F.avg_pool2d(x, 2))) + alpha * h
        h = act(self.last_conv(self.mbstd(h)))
        return self.out(act(self.last_dense(h))).flatten()


@dataclass
class ProgressiveGANConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    num_levels: int | None = 17
    latent_dim: int = 64
    channels: int = 32
    stage_steps: int = 500
    """steps of each fade-in and of each stabilisation"""
    gp_weight: float = 10.0
    drift: float = 0.001
    ema_decay: float = 0.999
    ema_rampup: float = 0.05
    """the average's half-life is at most this fraction of the steps so far, so a short run's
    average holds no weights from its low-resolution stages (0: plain ema_decay)"""
    beta1: float = 0.0
    beta2: float = 0.99
    d_lr_scale: float = 4.0
    """the critic's learning rate over G's (1: the paper's equal rates, which collapsed here;
    see the module docstring)"""

    @classmethod
    def tiny(cls) -> ProgressiveGANConfig:
        return cls(latent_dim=8, channels=4, stage_steps=1)


@register("progressive_gan", ProgressiveGANConfig, family="gans", runner="trainer",
          default_dataset="digits",
          train_defaults={"lr": 1e-3, "batch_size": 32, "schedule": "constant",
                          "grad_clip": None})
class ProgressiveGAN(GANBase):
    def __init__(self, cfg: ProgressiveGANConfig):
        super().__init__()
        if cfg.num_levels is None:
            raise UserError("the progressive GAN models images with grey levels; use digits, "
                            "mnist or fashion_mnist")
        if cfg.stage_steps < 1:
            raise UserError(f"stage_steps must be >= 1, got {cfg.stage_steps}")
        if not cfg.d_lr_scale > 0:
            raise UserError(f"d_lr_scale (the critic's learning rate over the generator's) must "
                            f"be positive, got {cfg.d_lr_scale}; use 4 (the default) or 1")
        self.cfg = cfg
        self.generator = ProgressiveGenerator(cfg.latent_dim, cfg.channels, cfg.data_shape)
        self.discriminator = ProgressiveDiscriminator(cfg.channels, cfg.data_shape)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def stage_and_alpha(self, step: int | None = None) -> tuple[int, float]:
        """Stage 0 trains stage_steps; each later stage fades in over stage_steps, then trains
        stabilised stage_steps; the last stage stays."""
        t = int(self.steps_done) if step is None else step
        n = self.cfg.stage_steps
        if t < n:
            return 0, 1.0
        stage, within = divmod(t - n, 2 * n)
        if stage >= 2:
            return 2, 1.0
        return stage + 1, min(1.0, within / n)

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        stage, alpha = self.stage_and_alpha()
        x = self.model_space(batch[0])
        x = F.avg_pool2d(x, 2 ** (2 - stage)) if stage < 2 else x   # reals at this resolution
        if alpha < 1.0:  # the reals fade between resolutions too (sec. 2)
            x = (1 - alpha) * F.interpolate(F.avg_pool2d(x, 2), scale_factor=2) + alpha * x
        n = len(x)
        d = lambda t: self.discriminator(t, stage, alpha)  # noqa: E731
        with torch.no_grad():
            fake = self.generator(self.latent(n), stage, alpha)
        real_scores, fake_scores = d(x), d(fake)
        distance = real_scores.mean() - fake_scores.mean()
        penalty, _ = gradient_penalty(d, x, fake)
        loss_d = (-distance + self.cfg.gp_weight * penalty
                  + self.cfg.drift * real_scores.pow(2).mean())
        step(opt_d, loss_d, self.discriminator)
        with frozen(self.discriminator):
            loss_g = -d(self.generator(self.latent(n), stage, alpha)).mean()
            step(opt_g, loss_g, self.generator)
        self.steps_done += 1
        update_ema(self.generator_ema, self.generator,
                   ema_decay_with_rampup(self.cfg.ema_decay, int(self.steps_done),
                                         self.cfg.ema_rampup))
        return finite({"loss": loss_d.detach(), "loss_d": loss_d.detach(),
                       "loss_g": loss_g.detach(), "wasserstein_estimate": distance.detach(),
                       "gradient_penalty": penalty.detach(), "stage": stage, "alpha": alpha},
                      "ProgressiveGAN")

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        stage, alpha = self.stage_and_alpha()
        img = self.generator_ema(z, stage, alpha)
        side = self.cfg.data_shape[-1]
        if img.shape[-1] != side:
            img = F.interpolate(img, size=(side, side), mode="nearest")
        return img.clamp(-1, 1)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        if cond is not None:
            raise UserError("the progressive GAN is unconditional; sample without cond")
        return to_data_space(self.generate(self.latent(num_samples, generator)),
                             self.cfg.num_levels)
