"""GRAF: Generative Radiance Fields for 3D-aware image synthesis (Schwarz, Liao, Niemeyer &
Geiger, NeurIPS 2020).

The generator is a conditional radiance field: at a point x (positional encoding gamma(x),
NeRF eq. 4) a shape code z_s gives the density and a feature, and an appearance code z_a the
colour (paper eq. 5-6):

    h = g_theta(gamma(x), z_s),   sigma = sigma_theta(h),   c = c_theta(h, z_a)

An image is rendered at a random pose xi ~ p_xi (camera on the sphere, looking at the origin)
with the shared emission-absorption quadrature (`perceptzoo.implicit.cameras.volume_render`,
NeRF eq. 3; rays from `camera_rays`, clipped to the object box by `ray_box_interval`). A
convolutional discriminator compares rendered images with real views (here the whole 16 x 16
or 32 x 32 image is the patch: at these sizes GRAF's K x K patch sampling with scale s = 1
covers the image). As in GRAF's training, the discriminator takes the R1 penalty
(gamma / 2) E ||grad D(x)||^2 on real images (gamma 10; Mescheder et al. 2018) and a fifth of
the generator's learning rate. Since every pixel is a ray through one 3D field, two renders
of one latent from nearby poses agree after reprojecting one through its rendered depth; a 2D
generator that takes the pose as input need not (`view_consistency_error`,
tests/gans3d/test_graf.py).

This implementation renders one grey channel over a black background, with perspective
cameras at distance 4 and a 30-degree field of view; the training views are orthographic, a
perspective mismatch of up to +-25 % in apparent size over the object's depth. It trains on
the silhouettes of `voxel_views*` (two levels: the radiance is the ink) or on their shaded
variants (`voxel_views16+real:shaded`: 256 grey levels of a Lambertian render under a fixed
world light, which a radiance field without view direction can explain): the data's levels
0..L-1 become [0, 1] for the discriminator (`to_unit`) and samples are the renders quantised
back to them (`to_levels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError

# camera, random_cameras and view_consistency_error are GRAF's public names (shared in common)
from perceptzoo.gans3d.common import (  # noqa: F401
    FOV,
    RADIUS,
    camera,
    check_image_shape,
    conv_discriminator,
    positional_encoding,
    r1_gan_step,
    random_cameras,
    render_field,
    view_consistency_error,
)


def to_unit(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Data levels 0..L-1 (as the views datasets store them) -> floats in [0, 1]."""
    return x.float() / (num_levels - 1)


def to_levels(images: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Renders in [0, 1] -> the data's levels as floats: binarised at 0.5 for silhouettes
    (two levels), else rounded to the nearest of the L levels."""
    if num_levels == 2:
        return (images > 0.5).float()
    return (images.clamp(0, 1) * (num_levels - 1)).round()


class RadianceField(nn.Module):
    """(points (B, P, 3), z_s (B, Ds), z_a (B, Da)) -> sigma (B, P) >= 0, colour (B, P, 1)."""

    def __init__(self, cfg: GRAFConfig):
        super().__init__()
        self.cfg = cfg
        d_in = 3 + 6 * cfg.num_freqs + cfg.shape_dim
        self.shape_net = nn.Sequential(nn.Linear(d_in, cfg.hidden), nn.ReLU(),
                                       nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU())
        self.sigma = nn.Linear(cfg.hidden, 1)
        self.color = nn.Sequential(nn.Linear(cfg.hidden + cfg.appearance_dim, cfg.hidden // 2),
                                   nn.ReLU(), nn.Linear(cfg.hidden // 2, 1), nn.Sigmoid())

    def forward(self, points, z_shape, z_app):
        p = points.shape[1]
        h = self.shape_net(torch.cat([positional_encoding(points, self.cfg.num_freqs),
                                      z_shape[:, None].expand(-1, p, -1)], -1))
        sigma = F.softplus(self.sigma(h)[..., 0] + self.cfg.sigma_bias) * self.cfg.sigma_scale
        color = self.color(torch.cat([h, z_app[:, None].expand(-1, p, -1)], -1))
        return sigma, color


class GRAF(nn.Module):
    def __init__(self, cfg: GRAFConfig):
        super().__init__()
        shape = tuple(cfg.data_shape)
        if len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
            raise UserError(f"graf renders square one-channel views (1, N, N) (voxel_views16, "
                            f"voxel_views32), got data of shape {shape}")
        self.cfg = cfg
        self.field = RadianceField(cfg)
        self.generator = self.field
        self.discriminator = conv_discriminator(2, shape[-1], cfg.channels)

    @property
    def size(self) -> int:
        return self.cfg.data_shape[-1]

    def latent(self, num_samples: int, generator: torch.Generator | None = None):
        device = generator.device if generator is not None else next(self.parameters()).device
        z = torch.randn(num_samples, self.cfg.shape_dim + self.cfg.appearance_dim,
                        generator=generator, device=device)
        return z[:, :self.cfg.shape_dim], z[:, self.cfg.shape_dim:]

    def render(self, z_shape: torch.Tensor, z_app: torch.Tensor, c2w: torch.Tensor,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Images (B, 1, N, N) and depths (B, N, N) of latents at cameras c2w (B, 3, 4);
        stratified depths with `generator`, bin midpoints without."""
        return render_field(lambda p: self.field(p, z_shape, z_app), c2w, self.size,
                            self.cfg.num_steps, generator, z_shape.device)

    def generate(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z_s, z_a = self.latent(num, generator)
        return self.render(z_s, z_a, random_cameras(num, generator), generator)["image"]

    @torch.no_grad()
    def render_views(self, z: torch.Tensor, c2w: torch.Tensor) -> dict[str, torch.Tensor]:
        """One latent z (1, Ds + Da) (shape and appearance codes side by side) at cameras
        (K, 3, 4)."""
        z = z.expand(len(c2w), -1)
        return self.render(z[:, :self.cfg.shape_dim], z[:, self.cfg.shape_dim:], c2w)

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (0.0, 0.99)  # GRAF trains with RMSprop (alpha 0.99): Adam at beta1 0
        return [torch.optim.Adam(self.field.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        return r1_gan_step(self.generate, self.discriminator,
                           to_unit(batch[0], self.cfg.num_levels), opt_g, opt_d,
                           self.cfg.r1_gamma, "GRAF")

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Renders (B, 1, N, N) at random poses in the data's levels (`to_levels`: silhouettes
        binarised at 0.5)."""
        if cond is not None:
            raise UserError("graf is unconditional; sample without cond")
        return to_levels(self.generate(num_samples, generator), self.cfg.num_levels)

    def check_data(self, info) -> None:
        check_image_shape("graf", self.cfg.data_shape, info)


@dataclass
class GRAFConfig:
    data_shape: tuple[int, ...] = (1, 16, 16)
    num_levels: int = 2
    """grey levels of the data (filled from the dataset): 2 silhouettes, 256 shaded views"""
    shape_dim: int = 32
    appearance_dim: int = 16
    hidden: int = 64
    num_freqs: int = 4
    num_steps: int = 24
    """samples per ray (stratified while training)"""
    sigma_scale: float = 4.0
    sigma_bias: float = -1.0
    channels: int = 16
    r1_gamma: float = 10.0
    """weight of the R1 penalty on real images (GRAF's gamma 10); 0 turns it off"""
    d_lr_scale: float = 0.2
    """the discriminator's learning rate over the generator's (GRAF: 1e-4 vs 5e-4)"""

    @classmethod
    def tiny(cls) -> GRAFConfig:
        return cls(shape_dim=4, appearance_dim=4, hidden=16, num_steps=8, channels=4)


GRAF = register("graf", GRAFConfig, family="gans3d", runner="trainer",
                default_dataset="voxel_views16",
                train_defaults={"lr": 5e-4, "batch_size": 8, "schedule": "constant",
                                "grad_clip": None})(GRAF)
