"""HoloGAN: unsupervised learning of 3D representations from natural images (Nguyen-Phuoc,
Li, Theis, Richardt & Yang, ICCV 2019).

The generator learns a 3-D feature volume and renders it through an explicit rigid
transformation, so pose and identity are separate by construction (paper sec. 3.1, Fig. 3):

1. a learned constant 4^3 tensor is upsampled by 3-D transposed convolutions into a feature
   volume V(z) (C channels, N^3 voxels over the cube [-1, 1]^3), each layer's features
   restyled from z by adaptive instance normalisation (AdaIN, Huang & Belongie 2017; the
   paper's MLP per layer maps z to the scale and bias):  AdaIN(x, z) = s(z) (x - mu(x)) /
   sigma(x) + b(z);
2. the volume is rigidly rotated into the camera frame of a pose R drawn from the pose prior,
   by 3-D affine resampling (trilinear; `gans3d.projection.rotate_volume`):
   V_R(q) = V(R^T q), exact (a permutation of voxels) for 90-degree turns;
3. two 3-D convolutions, then the projection unit: the depth axis is folded into the
   channels, (C, D, H, W) -> (C D, H, W), and a 1x1 convolution with LeakyReLU learns the
   occlusion (sec. 3.1, "projection unit");
4. 2-D convolutions (restyled from z) give the image.

Only the rotation sees the pose; z never does, so the same z at two poses is the same object
seen twice. The discriminator also regresses z from the image (the identity regulariser,
sec. 3.3, L_identity = E ||z - F(G(z))||^2, weight `identity_weight`; averaged over the Q
entries as in the authors' code), meant to keep z from being ignored. Trained unsupervised
from unposed views with the non-saturating GAN loss.

At this scale the identity regulariser alone does not keep z: over the 300-step recipe D's
estimate of z never beat the prior (the logged identity loss stayed at Var U[-1, 1] = 1/3;
with G frozen D still needs far more steps), and an unregularised discriminator at G's rate
overpowered G, which collapsed onto one object per pose (issue 19: the pixel std across
latents of renders at one pose fell from 0.064 at initialisation to 0.014, against GRAF's
0.085). The discriminator therefore takes the R1 penalty on real images, (gamma / 2)
E ||grad D(x)||^2 (gamma 10, `r1_gamma`, as GRAF and GIRAFFE here; Mescheder et al. 2018),
which keeps the renders of different latents apart (tests/gans3d/test_latent_diversity.py).
Departures at this scale: the multi-scale style discriminator (sec. 3.3) is left out; R1
rather than the authors' code's spectral normalisation of D (tried here, it did not stop the
collapse); one grey channel; images at the volume's resolution (HoloGAN upsamples the
projected 16^2 features to 64^2-128^2).

    >>> import perceptzoo
    >>> model = perceptzoo.build("hologan", dataset="voxel_views16", channels=8)
    >>> model.sample(2).shape
    torch.Size([2, 1, 16, 16])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.data.voxels import check_resolution
from perceptzoo.errors import UserError
from perceptzoo.gans3d.common import check_image_shape, r1_gan_step
from perceptzoo.gans3d.projection import random_rotations, rotate_volume


class AdaIN(nn.Module):
    """Instance norm over the spatial axes, then a per-channel scale and bias from z (an MLP
    per layer, as in the paper)."""

    def __init__(self, channels: int, latent_dim: int):
        super().__init__()
        self.style = nn.Linear(latent_dim, 2 * channels)
        with torch.no_grad():  # scales start around 1, biases around 0
            self.style.bias[:channels].fill_(1.0)
            self.style.bias[channels:].zero_()

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))
        x = (x - x.mean(dims, keepdim=True)) / (x.var(dims, keepdim=True) + 1e-5).sqrt()
        scale, bias = self.style(z).chunk(2, 1)
        shape = (len(z), -1) + (1,) * len(dims)
        return x * scale.reshape(shape) + bias.reshape(shape)


class HoloGANGenerator(nn.Module):
    """z (B, Q) and rotations R (B, 3, 3) (world -> view) -> images (B, 1, N, N) in (0, 1)."""

    def __init__(self, cfg: HoloGANConfig):
        super().__init__()
        self.cfg = cfg
        n, c, q = cfg.data_shape[-1], cfg.channels, cfg.latent_dim
        levels = int(math.log2(n)) - 2                 # 4 -> N doublings of the volume
        widths = [c * 2 ** (levels - i) for i in range(levels + 1)]     # ... 4c, 2c, c
        # the learned constant 4^3 tensor, unit variance (uniform: cheap on the meta device)
        self.const = nn.Parameter(torch.empty(1, widths[0], 4, 4, 4).uniform_(-3**0.5, 3**0.5))
        self.up3d = nn.ModuleList(nn.ConvTranspose3d(widths[i], widths[i + 1], 4, 2, 1)
                                  for i in range(levels))
        self.style3d = nn.ModuleList(AdaIN(widths[i + 1], q) for i in range(levels))
        c3 = widths[-1]
        self.conv3d = nn.Sequential(nn.Conv3d(c3, c3 // 2, 3, 1, 1), nn.LeakyReLU(0.2),
                                    nn.Conv3d(c3 // 2, c3 // 2, 3, 1, 1), nn.LeakyReLU(0.2))
        self.projection = nn.Conv2d(c3 // 2 * n, cfg.projection_channels, 1)  # (C D) -> C'
        self.conv2d = nn.Conv2d(cfg.projection_channels, c * 2, 3, 1, 1)
        self.style2d = AdaIN(c * 2, q)
        self.to_image = nn.Conv2d(c * 2, 1, 3, 1, 1)

    def volume(self, z: torch.Tensor) -> torch.Tensor:
        """The learned feature volume V(z) (B, C, N, N, N) in the world frame; no pose."""
        x = self.const.expand(len(z), -1, -1, -1, -1)
        for up, style in zip(self.up3d, self.style3d):
            x = F.leaky_relu(style(up(x), z), 0.2)     # doubles the side
        return x

    def view_volume(self, z: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
        """V(z) rigidly rotated into the frames of rotations (B, 3, 3): V_R(q) = V(R^T q)."""
        return rotate_volume(self.volume(z), rotation.to(z).expand(len(z), 3, 3))

    def render_volume(self, view_volume: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """A view-frame volume (B, C, N, N, N) -> image (B, 1, N, N) (steps 3-4)."""
        h = self.conv3d(view_volume)                   # (B, C', D, H, W)
        b, c, d, hh, ww = h.shape
        h = F.leaky_relu(self.projection(h.reshape(b, c * d, hh, ww)), 0.2)
        h = F.leaky_relu(self.style2d(self.conv2d(h), z), 0.2)
        return torch.sigmoid(self.to_image(h))

    def forward(self, z: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
        return self.render_volume(self.view_volume(z, rotation), z)


class Discriminator(nn.Module):
    """Image (B, 1, N, N) -> (logit (B,), z estimate (B, Q)): stride-2 convolutions down to
    4 x 4, LeakyReLU(0.2), instance norm after the first; two linear heads."""

    def __init__(self, n: int, channels: int, latent_dim: int):
        super().__init__()
        levels = int(math.log2(n)) - 2
        layers: list[nn.Module] = []
        c_in = 1
        for i in range(levels):
            c_out = channels * 2**i
            layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1))
            if i > 0:
                layers.append(nn.InstanceNorm2d(c_out, affine=True))
            layers.append(nn.LeakyReLU(0.2))
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten(1))
        self.logit = nn.Linear(c_in * 16, 1)
        self.latent = nn.Linear(c_in * 16, latent_dim)

    def forward(self, x):
        h = self.body(x)
        return self.logit(h)[:, 0], self.latent(h)


class HoloGAN(nn.Module):
    def __init__(self, cfg: HoloGANConfig):
        super().__init__()
        shape = tuple(cfg.data_shape)
        if len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
            raise UserError(f"hologan learns from square one-channel views (1, N, N) "
                            f"(voxel_views16, voxel_views32), got data of shape {shape}")
        check_resolution(shape[-1], "hologan's feature volume")
        if shape[-1] < 8:
            raise UserError("hologan needs views of at least 8 x 8")
        self.cfg = cfg
        self.generator = HoloGANGenerator(cfg)
        self.discriminator = Discriminator(shape[-1], cfg.channels, cfg.latent_dim)

    def latent(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ U[-1, 1]^Q (the paper's prior)."""
        device = generator.device if generator is not None else next(self.parameters()).device
        return torch.rand(num_samples, self.cfg.latent_dim, generator=generator,
                          device=device) * 2 - 1

    def generate(self, num: int, generator: torch.Generator | None = None):
        """(images (B, 1, N, N), z) at rotations from the pose prior."""
        z = self.latent(num, generator)
        rotations = random_rotations(num, generator).to(z.device)
        return self.generator(z, rotations), z

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (0.5, 0.999)  # the paper's Adam
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def identity_loss(self, z_hat: torch.Tensor, z: torch.Tensor) -> tuple[str, torch.Tensor]:
        """identity_weight * L_identity = identity_weight * mean ||z - F(G(z))||^2 / Q."""
        return "identity", self.cfg.identity_weight * ((z_hat - z) ** 2).mean()

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """D's step (GAN loss + identity loss on the generated images + the R1 penalty on
        the real ones), then G's (GAN loss + identity loss, D frozen): `common.r1_gan_step`
        with the identity regulariser."""
        opt_g, opt_d = optimizers
        return r1_gan_step(self.generate, self.discriminator, batch[0].float(), opt_g, opt_d,
                           self.cfg.r1_gamma, "HoloGAN", regulariser=self.identity_loss)

    @torch.no_grad()
    def render_views(self, z: torch.Tensor, c2w: torch.Tensor) -> dict[str, torch.Tensor]:
        """One latent z (1, Q) at cameras c2w (K, 3, 4) (`gans3d.common.camera`; the
        rotation is the transpose of c2w's rotation part). No depth: HoloGAN has no explicit
        geometry to reproject."""
        rotations = c2w[:, :, :3].transpose(1, 2).to(z)
        return {"image": self.generator(z.expand(len(c2w), -1), rotations)}

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Views (B, 1, N, N) at random poses, binarised at 0.5 (the data's two levels)."""
        if cond is not None:
            raise UserError("hologan is unconditional; sample without cond")
        return (self.generate(num_samples, generator)[0] > 0.5).float()

    def check_data(self, info) -> None:
        check_image_shape("hologan", self.cfg.data_shape, info)
        if info.num_levels != 2:
            raise UserError(f"hologan trains on silhouettes (two levels, e.g. "
                            f"voxel_views16+real), not {info.name} ({info.num_levels} grey "
                            "levels); graf and eg3d train on the shaded views")


@dataclass
class HoloGANConfig:
    data_shape: tuple[int, ...] = (1, 16, 16)
    """(1, N, N) views, N a power of two >= 8; the feature volume is N^3"""
    latent_dim: int = 32
    channels: int = 16
    """channels of the last 3-D layer (earlier ones double per level)"""
    projection_channels: int = 64
    identity_weight: float = 1.0
    d_lr_scale: float = 1.0
    r1_gamma: float = 10.0
    """weight of the R1 penalty on real images (as graf / giraffe); 0 turns it off (the
    unregularised discriminator of the first implementation: z ignored, issue 19)"""

    @classmethod
    def tiny(cls) -> HoloGANConfig:
        return cls(latent_dim=4, channels=2, projection_channels=4)


HoloGAN = register("hologan", HoloGANConfig, family="gans3d", runner="trainer",
                   default_dataset="voxel_views16",
                   train_defaults={"lr": 2e-4, "batch_size": 16, "schedule": "constant",
                                   "grad_clip": None})(HoloGAN)
