"""A style-based generator (Karras, Laine & Aila, CVPR 2019; StyleGAN2: Karras et al., CVPR 2020).

A mapping network f: z -> w (an MLP after pixel normalisation of z) feeds a synthesis network
that starts from a learned constant (C, s, s) and doubles the side twice (s -> 2s -> 4s). Each
convolution is *modulated* by its own copy of w (StyleGAN2 sec. 2.2, eqs. 1 and 3):

    style  s_i = A(w) (an affine map, bias 1)
    w'_ijk = s_i w_ijk,      w''_ijk = w'_ijk / sqrt(sum_{i,k} w'_ijk^2 + eps)   (demodulation)

per example through a grouped convolution; per-pixel Gaussian noise scaled by a learned
per-layer factor follows each convolution, and 1x1 modulated (not demodulated) toRGB layers
sum into the image at every resolution (skip architecture). One w per layer
(`num_ws` = 8) makes *style mixing* possible: `synthesize(ws)` takes a (B, num_ws, w_dim)
tensor, `mix(w1, w2, layers)` swaps w at chosen layers: coarse layers (the s x s ones) set
shape, fine layers (4s x 4s) set stroke detail (measured in tests/gans/test_stylegan.py).
Training applies mixing regularisation (a random crossover for `mixing_prob` of the batch).

The *truncation trick*: w = w_avg + psi (w - w_avg), psi in [0, 1], w_avg an exponential average
of f(z) kept during training; psi = 0 gives the mean-w image for every z.

Training (StyleGAN sec. 4 and appendix C, StyleGAN2 sec. 3.1): the non-saturating loss with R1
regularisation gamma/2 E ||grad D(x)||^2 on real images (Mescheder et al. 2018), gamma = 10,
computed lazily every 16th D step with 16x the weight; the equalised learning rate in every
layer of both networks (weights N(0, 1) scaled at run time by 1/sqrt(fan_in), He's gain in
front of LeakyReLU); Adam lr 1e-3, betas (0, 0.99), the mapping network at 0.01x that rate; an
exponential moving average of the generator (`generator_ema`, decay `ema_decay`, half-life
ramped up with training as in StyleGAN2-ADA) that `sample` draws from. The discriminator ends
with minibatch standard deviation (`common.MinibatchStd`). Without the equalised learning rate
(plain PyTorch init) at lr 2e-3 and gamma 1, D won outright on digits (FD 899).

    >>> import perceptzoo
    >>> model = perceptzoo.build("stylegan", dataset="digits", channels=16, w_dim=32)
    >>> model.sample(2, truncation_psi=0.7).shape
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
    discriminator_loss,
    ema_decay_with_rampup,
    finite,
    frozen,
    generator_loss,
    r1_penalty,
    step,
    to_data_space,
    update_ema,
)
from perceptzoo.gans.progressive_gan import EqualizedConv2d


def pixel_norm(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    return x * torch.rsqrt((x * x).mean(dim, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with the equalised learning rate (Karras et al. 2018 sec. 4.1, kept by
    StyleGAN): weights N(0, 1) used as w * gain / sqrt(fan_in), so Adam's steps change every
    layer at the same relative rate; the bias starts at `bias_init`."""

    def __init__(self, in_features: int, out_features: int, *, bias_init: float = 0.0,
                 gain: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class ModulatedConv2d(nn.Module):
    """x (B, I, H, W), w (B, w_dim) -> (B, O, H, W); StyleGAN2 eqs. 1 and 3."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, kernel: int = 3,
                 demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))  # equalised
        self.scale = 1 / math.sqrt(in_ch * kernel * kernel)
        # styles start at 1: an unmodulated convolution
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.demodulate, self.padding = demodulate, kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        b, i, h, wd = x.shape
        style = self.affine(w)                                       # (B, I)
        weight = self.scale * self.weight[None] * style[:, None, :, None, None]  # (B,O,I,k,k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        o = weight.shape[1]
        out = F.conv2d(x.reshape(1, b * i, h, wd), weight.reshape(b * o, i, *weight.shape[3:]),
                       padding=self.padding, groups=b)               # one group per example
        return out.reshape(b, o, h, wd)


class StyleLayer(nn.Module):
    """Modulated 3x3 convolution, scaled per-pixel noise, bias, LeakyReLU(0.2) times sqrt(2).

    The gain sqrt(2) is StyleGAN2's (its bias_act LeakyReLU gain): demodulation keeps a layer's
    output at its input's second moment, and LeakyReLU(0.2) halves it, so without the gain the
    activations' RMS halved at every layer (measured at init in the recipe's generator: 0.54
    after the first layer, 0.06 after the fifth; with the gain 0.76 and 0.34, the rest lost to
    zero padding on 2x2 and 4x4 maps), leaving the fine layers' signal at the size of their
    noise and bias. 400-step digits probe, same seed: FD 151 -> 123, recall 0.28 -> 0.38.
    """

    def __init__(self, in_ch: int, out_ch: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x, w, noise: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(x, w)
        if noise is not None:
            x = x + self.noise_strength * noise
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * math.sqrt(2)


class StyleGenerator(nn.Module):
    """mapping z -> w and synthesis ws -> image in [-1, 1]."""

    def __init__(self, cfg):
        super().__init__()
        c_img, side, _ = check_image_shape(cfg.data_shape, "StyleGAN")
        s, ch, wd = side // 4, cfg.channels, cfg.w_dim
        layers: list[nn.Module] = []
        for i in range(cfg.mapping_layers):
            layers += [EqualLinear(cfg.latent_dim if i == 0 else wd, wd, gain=math.sqrt(2)),
                       nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*layers)
        self.const = nn.Parameter(torch.randn(1, 2 * ch, s, s))
        # w index per layer: 0 conv@s, 1 rgb@s | 2-3 convs@2s, 4 rgb@2s | 5-6 convs@4s, 7 rgb@4s
        self.convs = nn.ModuleList([StyleLayer(2 * ch, 2 * ch, wd), StyleLayer(2 * ch, 2 * ch, wd),
                                    StyleLayer(2 * ch, ch, wd), StyleLayer(ch, ch, wd),
                                    StyleLayer(ch, ch, wd)])
        self.to_rgb = nn.ModuleList([ModulatedConv2d(2 * ch, c_img, wd, 1, demodulate=False),
                                     ModulatedConv2d(ch, c_img, wd, 1, demodulate=False),
                                     ModulatedConv2d(ch, c_img, wd, 1, demodulate=False)])
        self.rgb_bias = nn.Parameter(torch.zeros(3, c_img))
        self.side = side
        self.register_buffer("w_avg", torch.zeros(wd))

    num_ws = 8
    #: which w of `num_ws` each resolution uses: coarse (s), middle (2s), fine (4s)
    LAYERS = {"coarse": (0, 1), "middle": (2, 3, 4), "fine": (5, 6, 7)}

    def map(self, z: torch.Tensor) -> torch.Tensor:
        return self.mapping(pixel_norm(z))

    def synthesize(self, ws: torch.Tensor, noise: str = "random",
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """ws (B, num_ws, w_dim) -> images (B, C, 4s, 4s) in model space; noise: random | none."""
        b = ws.shape[0]

        def noise_like(h):
            if noise == "none":
                return None
            return torch.randn(b, 1, h, h, generator=generator, device=ws.device)

        x = self.const.expand(b, -1, -1, -1)
        s = x.shape[-1]
        x = self.convs[0](x, ws[:, 0], noise_like(s))
        img = self.to_rgb[0](x, ws[:, 1]) + self.rgb_bias[0][None, :, None, None]
        k = 2
        for level in (1, 2):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            s = x.shape[-1]
            x = self.convs[2 * level - 1](x, ws[:, k], noise_like(s))
            x = self.convs[2 * level](x, ws[:, k + 1], noise_like(s))
            img = F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)
            img = img + self.to_rgb[level](x, ws[:, k + 2]) + self.rgb_bias[level][None, :, None,
                                                                                   None]
            k += 3
        return torch.tanh(img)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.map(z)
        return self.synthesize(w[:, None].expand(-1, self.num_ws, -1))


def check_psi(psi: float) -> None:
    if not 0.0 <= psi <= 1.0:
        raise UserError(f"truncation psi must be in [0, 1] (1: no truncation, 0: the mean w), "
                        f"got {psi}")


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """w_avg + psi (w - w_avg) (StyleGAN sec. 3 / appendix B)."""
    check_psi(psi)
    return w_avg + psi * (w - w_avg)


class StyleDiscriminator(nn.Module):
    """(B, C, 4s, 4s) -> logit (B,): two [conv, conv, avg-pool] blocks, minibatch std, conv,
    two linear layers."""

    def __init__(self, data_shape, channels: int):
        super().__init__()
        c, side, _ = check_image_shape(data_shape, "StyleGAN's discriminator")
        ch, s = channels, side // 4
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        conv = EqualizedConv2d  # equalised learning rate throughout (He gain sqrt 2)
        self.net = nn.Sequential(
            conv(c, ch, 1), act(),
            conv(ch, ch, 3, padding=1), act(), conv(ch, 2 * ch, 3, padding=1), act(),
            nn.AvgPool2d(2),
            conv(2 * ch, 2 * ch, 3, padding=1), act(),
            conv(2 * ch, 2 * ch, 3, padding=1), act(), nn.AvgPool2d(2),   # (B, 2ch, s, s)
            MinibatchStd(), conv(2 * ch + 1, 2 * ch, 3, padding=1), act(),
            nn.Flatten(1), EqualLinear(2 * ch * s * s, 2 * ch, gain=math.sqrt(2)), act(),
            EqualLinear(2 * ch, 1), nn.Flatten(0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class StyleGANConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    num_levels: int | None = 17
    latent_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    channels: int = 32
    """channels at the finest resolution (twice that at the coarse one)"""
    mixing_prob: float = 0.9
    r1_gamma: float = 10.0
    """R1 weight gamma (the penalty is gamma / 2 E ||grad D(x)||^2; StyleGAN's 10)"""
    r1_every: int = 16
    """lazy regularisation (StyleGAN2 sec. 3.1): R1 on every r1_every-th D step, weighted by
    r1_every so its average strength is unchanged (1: every step)"""
    w_avg_decay: float = 0.995
    ema_decay: float = 0.999
    """decay of the generator average that `sample` uses (0: sample the trained generator)"""
    ema_rampup: float = 0.05
    """the average's half-life is at most this fraction of the steps so far (StyleGAN2-ADA's
    ramp-up), so a short run's average is not dominated by its first, untrained steps"""
    truncation_psi: float = 1.0
    """psi `sample` uses unless told otherwise"""
    mapping_lr_scale: float = 0.01
    beta1: float = 0.0
    beta2: float = 0.99
    d_lr_scale: float = 1.0

    @classmethod
    def tiny(cls) -> StyleGANConfig:
        return cls(latent_dim=8, w_dim=8, mapping_layers=1, channels=4)


@register("stylegan", StyleGANConfig, family="gans", runner="trainer", default_dataset="digits",
          train_defaults={"lr": 1e-3, "batch_size": 32, "schedule": "constant",
                          "grad_clip": None})
class StyleGAN(GANBase):
    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        if cfg.num_levels is None:
            raise UserError("StyleGAN models images with grey levels; use digits, mnist or "
                            "fashion_mnist")
        check_psi(cfg.truncation_psi)  # (no tensor op: the build is timed on the meta device)
        if not 0.0 <= cfg.mixing_prob <= 1.0:
            raise UserError(f"mixing_prob must be in [0, 1], got {cfg.mixing_prob}")
        if cfg.r1_every < 1:
            raise UserError(f"r1_every must be >= 1 (1: R1 on every step), got {cfg.r1_every}")
        self.cfg = cfg
        self.generator = StyleGenerator(cfg)
        self.discriminator = StyleDiscriminator(tuple(cfg.data_shape), cfg.channels)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        mapping = list(self.generator.mapping.parameters())
        ids = {id(p) for p in mapping}
        rest = [p for p in self.generator.parameters() if id(p) not in ids]
        return [torch.optim.Adam([{"params": rest},
                                  {"params": mapping,
                                   "lr": train_cfg.lr * self.cfg.mapping_lr_scale}],
                                 lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    # -- latents and mixing ----------------------------------------------------------------
    def mapped(self, z: torch.Tensor, net: StyleGenerator | None = None) -> torch.Tensor:
        """(B, num_ws, w_dim): f(z) broadcast to every layer."""
        net = net or self.generator
        return net.map(z)[:, None].expand(-1, net.num_ws, -1)

    @staticmethod
    def mix(ws_a: torch.Tensor, ws_b: torch.Tensor, layers) -> torch.Tensor:
        """ws_a with the layers in `layers` (indices, or coarse | middle | fine) from ws_b."""
        if isinstance(layers, str):
            if layers not in StyleGenerator.LAYERS:
                raise UserError(f"layers must be coarse, middle, fine or indices, got {layers!r}")
            layers = StyleGenerator.LAYERS[layers]
        out = ws_a.clone()
        out[:, list(layers)] = ws_b[:, list(layers)]
        return out

    def training_ws(self, n: int) -> torch.Tensor:
        """Mixing regularisation: for mixing_prob of the batch, w_b from the crossover on."""
        ws = self.mapped(self.latent(n))
        if self.cfg.mixing_prob > 0:
            ws_b = self.mapped(self.latent(n))
            cut = torch.randint(1, StyleGenerator.num_ws, (n, 1), device=ws.device)
            use = (torch.rand(n, 1, device=ws.device) < self.cfg.mixing_prob)
            after = torch.arange(StyleGenerator.num_ws, device=ws.device)[None] >= cut
            ws = torch.where((after & use)[..., None], ws_b, ws)
        return ws

    # -- training ----------------------------------------------------------------------------
    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        x = self.model_space(batch[0])
        n = len(x)
        # discriminator: non-saturating loss + R1 on the reals
        with torch.no_grad():
            fake = self.generator.synthesize(self.training_ws(n))
        lazy = self.cfg.r1_gamma > 0 and int(self.steps_done) % self.cfg.r1_every == 0
        real = x.detach().requires_grad_(lazy)
        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        metrics = {"loss_d": loss_d.detach(),
                   "d_real": torch.sigmoid(real_logits).mean().detach(),
                   "d_fake": torch.sigmoid(fake_logits).mean().detach()}
        if lazy:
            r1 = r1_penalty(real_logits, real)
            loss_d = loss_d + self.cfg.r1_gamma / 2 * self.cfg.r1_every * r1
            metrics["r1"] = r1.detach()
        step(opt_d, loss_d, self.discriminator)
        # generator
        with frozen(self.discriminator):
            ws = self.training_ws(n)
            loss_g = generator_loss(self.discriminator(self.generator.synthesize(ws)),
                                    "non_saturating")
            step(opt_g, loss_g, self.generator)
        with torch.no_grad():
            self.steps_done += 1
            self.generator.w_avg.lerp_(ws[:, 0].mean(0), 1 - self.cfg.w_avg_decay)
            decay = ema_decay_with_rampup(self.cfg.ema_decay, int(self.steps_done),
                                          self.cfg.ema_rampup)
            if decay > 0:
                update_ema(self.generator_ema, self.generator, decay)
            else:
                self.generator_ema.load_state_dict(self.generator.state_dict())
        metrics.update(loss=metrics["loss_d"], loss_g=loss_g.detach())
        return finite(metrics, "StyleGAN")

    # -- sampling ---------------------------------------------------------------------------
    def generate(self, z: torch.Tensor, *, truncation_psi: float | None = None,
                 noise: str = "random", generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Images in model space from z through the averaged generator, truncated by psi."""
        net = self.generator_ema
        psi = self.cfg.truncation_psi if truncation_psi is None else truncation_psi
        ws = truncate(self.mapped(z, net), net.w_avg, psi)
        return net.synthesize(ws, noise, generator)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None, generator: torch.Generator | None = None,
               truncation_psi: float | None = None) -> torch.Tensor:
        if cond is not None:
            raise UserError("StyleGAN is unconditional; sample without cond")
        z = self.latent(num_samples, generator)
        return to_data_space(self.generate(z, truncation_psi=truncation_psi,
                                           generator=generator), self.cfg.num_levels)
