"""GIRAFFE: representing scenes as compositional generative neural feature fields (Niemeyer &
Geiger, CVPR 2021).

A scene is N objects and a background, each a generative feature field
h(gamma(x), z_s, z_a) -> (sigma, f) (density and an M-dimensional feature; gamma the
positional encoding, z_s and z_a shape and appearance codes; paper eq. 4). Object i has an
affine pose T_i = {s_i, t_i, R_i} (scale, translation, rotation about the up axis) drawn from
a pose prior, and is queried in its own frame (eq. 5):

    k_i^{-1}(x) = R_i^T (x - t_i) / s_i

The fields are composited at every point by the density-weighted mean (eq. 6):

    sigma(x) = sum_i sigma_i(x),   f(x) = (1 / sigma(x)) sum_i sigma_i(x) f_i(x)

volume-rendered into a low-resolution feature image (eq. 7, the shared quadrature
`perceptzoo.implicit.cameras.volume_render` through `gans3d.common.render_field`), and a 2-D
neural renderer (convolutions with upsampling; sec. 3.3) maps it to the image. One shape
field serves all objects (shared weights, own codes); an object has no density outside its
box (as in the authors' code); the background has its own field without a pose. A
discriminator compares the images with real views (non-saturating loss with R1, gamma 10).

Departures at this scale: one grey channel and no view direction input (the silhouettes have
no view-dependent effects); the neural renderer is two upsampling convolutions, not the
paper's skip-to-RGB stack; the training views hold one object, so `num_objects` is 1 by
default (two or more compose, see tests/gans3d/test_giraffe.py). The first 300-step run with
the background field on collapsed (the background filled the box, opacity 1 on every ray, and
the neural renderer drew one fixed pattern); the recipe turns it off, the silhouettes' black
background being empty space.

    >>> import perceptzoo
    >>> model = perceptzoo.build("giraffe", dataset="voxel_views16", num_objects=2)
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
from perceptzoo.errors import UserError
from perceptzoo.gans3d.common import (
    check_image_shape,
    conv_discriminator,
    positional_encoding,
    r1_gan_step,
    random_cameras,
    render_field,
)


def composite(sigmas: torch.Tensor, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 6: densities (K, B, P) and features (K, B, P, M) of K fields -> sigma (B, P) =
    sum_i sigma_i and f (B, P, M) = sum_i sigma_i f_i / sigma (the plain mean where every
    density is zero)."""
    sigma = sigmas.sum(0)
    weights = sigmas / sigma.clamp(min=1e-8)
    weights = torch.where(sigma > 1e-8, weights, torch.full_like(weights, 1 / len(sigmas)))
    return sigma, (weights[..., None] * features).sum(0)


def to_object_frame(points: torch.Tensor, scale: torch.Tensor, translation: torch.Tensor,
                    angle: torch.Tensor) -> torch.Tensor:
    """Eq. 5, k^{-1}(x) = R^T (x - t) / s: points (B, P, 3), scales (B, 3), translations
    (B, 3), rotation angles about z (B,) -> points in the object's frame (B, P, 3)."""
    c, s = angle.cos(), angle.sin()
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    rot = torch.stack([torch.stack([c, -s, zero], -1), torch.stack([s, c, zero], -1),
                       torch.stack([zero, zero, one], -1)], -2)          # (B, 3, 3)
    # rows of x - t times R: R^T (x - t) for row vectors
    return ((points - translation[:, None]) @ rot) / scale[:, None]


class FeatureField(nn.Module):
    """(points (B, P, 3), z_s (B, Ds), z_a (B, Da)) -> sigma (B, P) >= 0, f (B, P, M)."""

    def __init__(self, cfg: GIRAFFEConfig, hidden: int, num_freqs: int):
        super().__init__()
        self.cfg, self.num_freqs = cfg, num_freqs
        self.shape_net = nn.Sequential(nn.Linear(3 + 6 * num_freqs + cfg.shape_dim, hidden),
                                       nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.sigma = nn.Linear(hidden, 1)
        self.feature = nn.Sequential(nn.Linear(hidden + cfg.appearance_dim, hidden),
                                     nn.ReLU(), nn.Linear(hidden, cfg.feature_dim))

    def forward(self, points, z_shape, z_app):
        p = points.shape[1]
        h = self.shape_net(torch.cat([positional_encoding(points, self.num_freqs),
                                      z_shape[:, None].expand(-1, p, -1)], -1))
        sigma = F.softplus(self.sigma(h)[..., 0] + self.cfg.sigma_bias) * self.cfg.sigma_scale
        return sigma, self.feature(torch.cat([h, z_app[:, None].expand(-1, p, -1)], -1))


class NeuralRenderer(nn.Module):
    """Feature image (B, M, r, r) -> image (B, 1, N, N) in (0, 1): upsampling convolutions."""

    def __init__(self, feature_dim: int, channels: int, render_size: int, size: int):
        super().__init__()
        self.ups = int(round(math.log2(size // render_size)))
        self.inp = nn.Conv2d(feature_dim, channels, 3, padding=1)
        self.blocks = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1)
                                    for _ in range(self.ups))
        self.out = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, features):
        h = F.leaky_relu(self.inp(features), 0.2)
        for conv in self.blocks:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = F.leaky_relu(conv(h), 0.2)
        return torch.sigmoid(self.out(h))


class GIRAFFE(nn.Module):
    def __init__(self, cfg: GIRAFFEConfig):
        super().__init__()
        shape = tuple(cfg.data_shape)
        if len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
            raise UserError(f"giraffe renders square one-channel views (1, N, N) "
                            f"(voxel_views16, voxel_views32), got data of shape {shape}")
        size, r = shape[-1], cfg.render_resolution
        if r < 4 or size % r or (size // r) & (size // r - 1):
            raise UserError(f"render_resolution {r} must be the image size {size} divided by a "
                            "power of two (e.g. 8 for 16 x 16 views)")
        if cfg.num_objects < 1:
            raise UserError("giraffe needs num_objects >= 1")
        self.cfg = cfg
        self.objects = FeatureField(cfg, cfg.hidden, cfg.num_freqs)
        self.background = (FeatureField(cfg, cfg.hidden // 2, max(cfg.num_freqs // 2, 1))
                           if cfg.background else None)
        self.renderer = NeuralRenderer(cfg.feature_dim, cfg.channels, r, size)
        self.discriminator = conv_discriminator(2, size, cfg.channels)

    @property
    def size(self) -> int:
        return self.cfg.data_shape[-1]

    def generator_parameters(self):
        parts = [self.objects, self.renderer] + ([self.background] if self.background else [])
        return [p for m in parts for p in m.parameters()]

    def latent(self, num_samples: int, generator: torch.Generator | None = None
               ) -> torch.Tensor:
        """(B, K, Ds + Da + 7): per object (and the background, last) the shape and
        appearance codes ~ N(0, I), then the pose: scale (3), translation (3) and rotation
        angle (1) from the pose prior (the background's pose is unused)."""
        cfg = self.cfg
        device = generator.device if generator is not None else next(self.parameters()).device
        k = cfg.num_objects + 1
        codes = torch.randn(num_samples, k, cfg.shape_dim + cfg.appearance_dim,
                            generator=generator, device=device)
        u = torch.rand(num_samples, k, 7, generator=generator, device=device)
        lo, hi = cfg.scale_range
        scale = (lo + (hi - lo) * u[..., :1]).expand(-1, -1, 3)       # isotropic
        translation = (u[..., 1:4] * 2 - 1) * torch.tensor(cfg.translation_range,
                                                            device=device)
        angle = u[..., 4:5] * 2 * math.pi
        return torch.cat([codes, scale, translation, angle], -1)

    def field(self, points: torch.Tensor, latent: torch.Tensor):
        """The composite field at points (B, P, 3) of scenes `latent` (B, K, ...): eq. 5-6."""
        ds, da = self.cfg.shape_dim, self.cfg.appearance_dim
        sigmas, feats = [], []
        for i in range(self.cfg.num_objects):
            z = latent[:, i]
            local = to_object_frame(points, z[:, ds + da:ds + da + 3],
                                    z[:, ds + da + 3:ds + da + 6], z[:, ds + da + 6])
            s, f = self.objects(local, z[:, :ds], z[:, ds:ds + da])
            # an object has no density outside its box (padded by 0.1, as the authors' code)
            s = s * (local.abs().amax(-1) <= 1.1)
            sigmas.append(s)
            feats.append(f)
        if self.background is not None:
            z = latent[:, -1]
            s, f = self.background(points, z[:, :ds], z[:, ds:ds + da])
            sigmas.append(s)
            feats.append(f)
        return composite(torch.stack(sigmas), torch.stack(feats))

    def render(self, latent: torch.Tensor, c2w: torch.Tensor,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Scenes (B, K, ...) at cameras (B, 3, 4): feature image (B, M, r, r), image
        (B, 1, N, N), depth and opacity (B, r, r)."""
        out = render_field(lambda p: self.field(p, latent), c2w, self.cfg.render_resolution,
                           self.cfg.num_steps, generator, latent.device)
        out["features"] = out.pop("image")
        out["image"] = self.renderer(out["features"])
        return out

    def generate(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        latent = self.latent(num, generator)
        return self.render(latent, random_cameras(num, generator), generator)["image"]

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (0.0, 0.99)  # RMSprop-like, as GRAF / GIRAFFE
        return [torch.optim.Adam(self.generator_parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        return r1_gan_step(self.generate, self.discriminator, batch[0].float(), opt_g, opt_d,
                           self.cfg.r1_gamma, "GIRAFFE")

    @torch.no_grad()
    def render_views(self, z: torch.Tensor, c2w: torch.Tensor) -> dict[str, torch.Tensor]:
        """One scene z (1, K, Ds + Da + 7) (`latent`, or it flattened) at cameras (V, 3, 4).
        The image passes the 2-D neural renderer, so no depth is returned at its size."""
        latent = z.reshape(1, self.cfg.num_objects + 1, -1).expand(len(c2w), -1, -1)
        return {"image": self.render(latent, c2w)["image"]}

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Renders (B, 1, N, N) at random poses, binarised at 0.5 (the data's two levels)."""
        if cond is not None:
            raise UserError("giraffe is unconditional; sample without cond")
        return (self.generate(num_samples, generator) > 0.5).float()

    def check_data(self, info) -> None:
        check_image_shape("giraffe", self.cfg.data_shape, info)
        if info.num_levels != 2:
            raise UserError(f"giraffe trains on silhouettes (two levels, e.g. "
                            f"voxel_views16+real), not {info.name} ({info.num_levels} grey "
                            "levels); graf and eg3d train on the shaded views")


@dataclass
class GIRAFFEConfig:
    data_shape: tuple[int, ...] = (1, 16, 16)
    num_objects: int = 1
    background: bool = True
    """a background field (no pose); off for data on an empty background (voxel_views)"""
    shape_dim: int = 32
    appearance_dim: int = 16
    feature_dim: int = 16
    """M, the rendered feature image's channels"""
    hidden: int = 64
    num_freqs: int = 4
    num_steps: int = 24
    render_resolution: int = 8
    """feature-image resolution; the neural renderer upsamples it to the image size"""
    channels: int = 16
    scale_range: tuple[float, float] = (0.6, 1.0)
    translation_range: tuple[float, float, float] = (0.15, 0.15, 0.15)
    sigma_scale: float = 4.0
    sigma_bias: float = -1.0
    r1_gamma: float = 10.0
    d_lr_scale: float = 0.2

    @classmethod
    def tiny(cls) -> GIRAFFEConfig:
        return cls(shape_dim=4, appearance_dim=4, feature_dim=4, hidden=16, num_steps=6,
                   channels=4)


GIRAFFE = register("giraffe", GIRAFFEConfig, family="gans3d", runner="trainer",
                   default_dataset="voxel_views16",
                   train_defaults={"lr": 5e-4, "batch_size": 16, "schedule": "constant",
                                   "grad_clip": None})(GIRAFFE)
