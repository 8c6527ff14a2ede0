"""EG3D: a tri-plane 3D-aware generator (Chan, Lin, Chan, Nagano, Pan, De Mello, Gallo,
Guibas, Tremblay, Khamis, Karras & Wetzstein, CVPR 2022, "Efficient Geometry-aware 3D
Generative Adversarial Networks"; section names below are the paper's).

A 2-D convolutional generator (StyleGAN-like: a mapping network z, c -> w, then styled
convolution blocks) outputs 3 C channels, reshaped into three axis-aligned feature planes
F_xy, F_xz, F_yz (C channels, P x P, covering the object box [-1, 1]^3). A 3-D point x is
projected onto each plane, its feature read by bilinear interpolation and the three summed
("Tri-plane hybrid 3D representation": the features are aggregated by summation):

    F(x) = F_xy(x, y) + F_xz(x, z) + F_yz(y, z)

A small MLP decoder maps F(x) to a density sigma(x) and a feature vector whose first channel
is the colour; volume rendering (`perceptzoo.implicit.cameras.volume_render`, NeRF eq. 3,
through `gans3d.common.render_field`) integrates them along camera rays into a raw image (and
a feature image). When the neural-rendering resolution is below the output size a 2-D
super-resolution module upsamples the feature image ("Super resolution"), and the
discriminator sees the final image concatenated with the bilinearly upsampled raw image
("Dual discrimination"; real images are down- and re-upsampled to the same pair), which keeps
the two consistent. At 16 x 16 the default renders at full size (no super-resolution).

Pose conditioning ("Modeling pose-correlated attributes"): the mapping network also takes a
camera c (the flattened camera-to-world matrix), so pose-correlated attributes can be
modelled; while training (with `pose_conditioning`, off by default: see below), the
conditioning camera is the rendering camera, swapped for
another random camera with probability `swap_prob` (50 % here; the paper swaps with a set
probability), so the generated 3D field does not depend on the rendering camera. For
multi-view renders of one object (turntables, the view-consistency error) the conditioning
camera is held fixed and only the rendering camera moves.
The mapping network and the style affines keep StyleGAN2's scaling (z and the camera
embedding normalised to unit second moment, weights of variance 1 / fan_in, LeakyReLU gain
sqrt 2; styles 1 + A w with A of variance 1 / w_dim), so w and the styles vary across
latents at unit scale. With PyTorch's default initialisation instead, w's spread across
latents was 0.07, the styles moved by 4 % and the generator ignored z (renders of different
latents at one pose near-identical: issue 19, tests/gans3d/test_latent_diversity.py).
Generator pose conditioning needs the pose-conditioned discriminator of the paper, which these
unlabelled views cannot have: without it the conditioning camera is a second latent the
generator uses in place of z (after the 300-step recipe with it on, the pixel std across
latents at one pose was 0.018 with the frontal conditioning camera and 0.060 conditioned on
the rendering camera, the std across conditioning cameras at one latent 0.067; 100 steps
without it: 0.083). So it is off by default (`pose_conditioning`): the generator is
conditioned on one fixed frontal camera, as the paper's generator is at inference.
The discriminator is regularised by the R1 penalty on real images, (gamma / 2)
E ||grad D(x)||^2, as in EG3D's StyleGAN2 training. Departures at this scale: the training
views carry no pose label through the trainer, so the discriminator is not pose-conditioned
(and generator pose conditioning is off by default);
styles are AdaIN (StyleGAN 1) rather than weight-demodulated convolutions; the mapping
network has 3 layers and no 0.01 learning-rate multiplier; one grey channel instead of RGB.

    >>> import perceptzoo
    >>> model = perceptzoo.build("eg3d", dataset="voxel_views16", plane_resolution=8)
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
    camera,
    check_image_shape,
    conv_discriminator,
    r1_gan_step,
    random_cameras,
    render_field,
)
from perceptzoo.gans3d.graf import to_levels, to_unit

#: (first, second) world axes of each plane: xy, xz, yz
PLANE_AXES = ((0, 1), (0, 2), (1, 2))
#: the fixed conditioning camera of multi-view renders (and of training without pose
#: conditioning)
FRONTAL = camera((1.0, 0.0, 0.0))


def sample_triplane(planes: torch.Tensor, points: torch.Tensor, bound: float = 1.0
                    ) -> torch.Tensor:
    """F(x) = sum over planes of the bilinear sample of each plane at x's projection.

    planes (B, 3, C, P, P): plane k spans world axes PLANE_AXES[k] = (a, b), its width along a
    and its height along b, over [-bound, bound]^2 with pixel (i, j) centred at
    (-bound + (2 j + 1) bound / P, -bound + (2 i + 1) bound / P) (grid_sample's
    align_corners=False; zero outside). points (B, N, 3) -> features (B, N, C).
    """
    if planes.dim() != 5 or planes.shape[1] != 3:
        raise UserError(f"tri-planes are (B, 3, C, P, P), got {tuple(planes.shape)}")
    b, n = points.shape[:2]
    out = 0
    for k, (a, c) in enumerate(PLANE_AXES):
        grid = (points[..., [a, c]] / bound).reshape(b, 1, n, 2)
        feats = F.grid_sample(planes[:, k], grid, mode="bilinear", padding_mode="zeros",
                              align_corners=False)                    # (B, C, 1, N)
        out = out + feats[:, :, 0].transpose(1, 2)
    return out


def _unit_gain_(layer: nn.Linear, gain: float = 1.0) -> nn.Linear:
    """Weights of variance gain^2 / fan_in (StyleGAN's FullyConnectedLayer: randn scaled by
    1 / sqrt(in_features)), so a unit-second-moment input gives outputs of second moment
    about gain^2; biases zero. Uniform (cheap on the meta device) of that variance."""
    bound = gain * (3.0 / layer.in_features) ** 0.5
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound)
        layer.bias.zero_()
    return layer


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x / sqrt(mean(x^2)) over the last axis (StyleGAN2's mapping-network input norm)."""
    return x * (x.square().mean(-1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """(z (B, Dz), camera c (B, 12)) -> w (B, Dw): StyleGAN2's mapping network as EG3D
    conditions it ("Modeling pose-correlated attributes"): z and a linear embedding of c
    (`embed_dim` wide, default w_dim as StyleGAN2's), each normalised to unit second moment,
    concatenated, then `num_layers` fully connected
    layers with LeakyReLU(0.2) times sqrt(2) (StyleGAN's activation gain), weights of
    variance 1 / fan_in, so w keeps a unit second moment and varies with z at that scale.
    (StyleGAN2's 0.01 learning-rate multiplier on these layers is left out.)"""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_layers: int = 3,
                 embed_dim: int | None = None):
        super().__init__()
        embed_dim = embed_dim or w_dim
        self.embed = _unit_gain_(nn.Linear(c_dim, embed_dim))
        sizes = [z_dim + embed_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(_unit_gain_(nn.Linear(a, b))
                                    for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        x = torch.cat([normalize_2nd_moment(z), normalize_2nd_moment(self.embed(c))], 1)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * 2**0.5
        return x


class AdaIN(nn.Module):
    """Instance norm, then a per-channel scale and bias from w (Huang & Belongie 2017):
    StyleGAN's affine map A, weights of variance 1 / w_dim, scale biases 1, so for a unit
    w the scales are 1 +- O(1) across latents."""

    def __init__(self, channels: int, w_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)
        self.style = _unit_gain_(nn.Linear(w_dim, 2 * channels))
        with torch.no_grad():  # StyleGAN: scales start around 1, biases around 0
            self.style.bias[:channels].fill_(1.0)

    def forward(self, x, w):
        scale, bias = self.style(w)[:, :, None, None].chunk(2, 1)
        return self.norm(x) * scale + bias


class StyledBlock(nn.Module):
    """x2 upsampling, 3x3 convolution, AdaIN from w, LeakyReLU(0.2)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.ada = AdaIN(c_out, w_dim)

    def forward(self, x, w):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return F.leaky_relu(self.ada(self.conv(x), w), 0.2)


class TriplaneGenerator(nn.Module):
    """(z (B, Dz), conditioning camera (B, 3, 4)) -> w (B, Dw) -> planes (B, 3, C, P, P)."""

    def __init__(self, cfg: TriplaneConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.w_dim
        # the camera embedded at z's width: z and c weigh equally in w, as in EG3D (z, the
        # embedding and w all 512 wide); a 64-wide embedding beside a 32-d z outweighs it
        self.mapping = MappingNetwork(cfg.latent_dim, 12, w, embed_dim=cfg.latent_dim)
        levels = int(math.log2(cfg.plane_resolution)) - 2      # 4 -> P doublings
        widths = [cfg.channels] * (levels + 1)
        # a learned constant input, unit variance (uniform: cheap to lay out on the meta
        # device, where core.validate counts parameters)
        self.const = nn.Parameter(torch.empty(1, widths[0], 4, 4).uniform_(-3**0.5, 3**0.5))
        self.blocks = nn.ModuleList(StyledBlock(widths[i], widths[i + 1], w)
                                    for i in range(levels))
        self.to_planes = nn.Conv2d(widths[-1], 3 * cfg.plane_channels, 1)

    def styles(self, z: torch.Tensor, c2w_cond: torch.Tensor) -> torch.Tensor:
        return self.mapping(z, c2w_cond.reshape(len(z), 12).to(z))

    def forward(self, z: torch.Tensor, c2w_cond: torch.Tensor) -> torch.Tensor:
        w = self.styles(z, c2w_cond)
        x = self.const.expand(len(z), -1, -1, -1)              # (B, C0, 4, 4)
        for block in self.blocks:
            x = block(x, w)                                    # doubles the side
        p = self.cfg.plane_resolution
        return self.to_planes(x).reshape(len(z), 3, self.cfg.plane_channels, p, p)


class Decoder(nn.Module):
    """Summed tri-plane features (B, N, C) -> sigma (B, N) >= 0 and features (B, N, Cf) whose
    first channel is the colour in (0, 1) (EG3D's one-hidden-layer MLP, softplus)."""

    def __init__(self, cfg: TriplaneConfig, num_features: int):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(cfg.plane_channels, cfg.hidden), nn.Softplus(),
                                 nn.Linear(cfg.hidden, 1 + num_features))

    def forward(self, feats):
        h = self.net(feats)
        sigma = F.softplus(h[..., 0] + self.cfg.sigma_bias) * self.cfg.sigma_scale
        return sigma, torch.cat([torch.sigmoid(h[..., 1:2]), h[..., 2:]], -1)


class SuperResolution(nn.Module):
    """Feature image (B, Cf, r, r) -> image (B, 1, N, N): bilinear upsampling, two 3x3
    convolutions, a residual on the upsampled raw image's logit ("Super resolution")."""

    def __init__(self, num_features: int, channels: int, size: int):
        super().__init__()
        self.size = size
        self.conv1 = nn.Conv2d(num_features, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 1, 3, padding=1)
        nn.init.normal_(self.conv2.weight, 0.0, 1e-3)  # starts as the upsampled raw image
        nn.init.zeros_(self.conv2.bias)

    def forward(self, features):
        up = F.interpolate(features, size=self.size, mode="bilinear", align_corners=False)
        raw = up[:, :1].clamp(1e-4, 1 - 1e-4)
        h = F.leaky_relu(self.conv1(up), 0.2)
        return torch.sigmoid(torch.logit(raw) + self.conv2(h))


class EG3D(nn.Module):
    def __init__(self, cfg: TriplaneConfig):
        super().__init__()
        shape = tuple(cfg.data_shape)
        if len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
            raise UserError(f"eg3d renders square one-channel views (1, N, N) (voxel_views16, "
                            f"voxel_views32), got data of shape {shape}")
        p = cfg.plane_resolution
        if p < 8 or p & (p - 1):
            raise UserError(f"plane_resolution must be a power of two >= 8, got {p}")
        size = shape[-1]
        self.render_size = cfg.render_resolution or size
        if self.render_size > size or size % self.render_size:
            raise UserError(f"render_resolution {self.render_size} must divide the image size "
                            f"{size} (set it to {size} for no super-resolution)")
        if not 0 <= cfg.swap_prob <= 1:
            raise UserError(f"swap_prob is a probability, got {cfg.swap_prob}")
        self.cfg = cfg
        self.superres_on = self.render_size < size
        num_features = cfg.feature_dim if self.superres_on else 1
        self.generator = TriplaneGenerator(cfg)
        self.decoder = Decoder(cfg, num_features)
        self.superres = (SuperResolution(num_features, cfg.channels, size)
                         if self.superres_on else None)
        self.discriminator = conv_discriminator(2, size, cfg.channels,
                                                in_channels=2 if self.superres_on else 1)

    @property
    def size(self) -> int:
        return self.cfg.data_shape[-1]

    def generator_parameters(self):
        parts = [self.generator, self.decoder] + ([self.superres] if self.superres else [])
        return [p for m in parts for p in m.parameters()]

    def latent(self, num_samples: int, generator: torch.Generator | None = None):
        device = generator.device if generator is not None else next(self.parameters()).device
        return torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=device)

    def render(self, z: torch.Tensor, c2w: torch.Tensor, c2w_cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Render latents z (B, Dz) at cameras c2w (B, 3, 4), the generator conditioned on
        c2w_cond (default: the rendering cameras). Returns image (B, 1, N, N) (after
        super-resolution when on), raw (B, 1, r, r), depth and opacity (B, r, r)."""
        cond = c2w if c2w_cond is None else c2w_cond
        planes = self.generator(z, cond.to(z.device))
        out = render_field(lambda pts: self.decoder(sample_triplane(planes, pts)), c2w,
                           self.render_size, self.cfg.num_steps, generator, z.device)
        feats = out.pop("image")
        out["raw"] = feats[:, :1]
        out["image"] = self.superres(feats) if self.superres_on else out["raw"]
        return out

    def generate(self, num: int, generator: torch.Generator | None = None,
                 swap_prob: float = 0.0) -> dict[str, torch.Tensor]:
        """Renders of `num` latents at cameras from the pose prior. With `pose_conditioning`
        each is conditioned on its rendering camera, swapped for an independent one with
        probability `swap_prob`; without, on the fixed frontal camera."""
        z = self.latent(num, generator)
        c2w = random_cameras(num, generator)
        if not self.cfg.pose_conditioning:
            return self.render(z, c2w, FRONTAL[None].expand(num, 3, 4), generator)
        cond = c2w
        if swap_prob > 0:
            other = random_cameras(num, generator)
            u = torch.rand(num, generator=generator, device=z.device).cpu()
            cond = torch.where((u < swap_prob)[:, None, None], other, c2w)
        return self.render(z, c2w, cond, generator)

    def discriminator_input(self, image: torch.Tensor, raw: torch.Tensor | None = None):
        """The image, and with super-resolution the raw image upsampled beside it (dual
        discrimination); for a real image `raw` is the image down- and re-upsampled."""
        if not self.superres_on:
            return image
        if raw is None:
            raw = F.interpolate(image, size=self.render_size, mode="area")
        up = F.interpolate(raw, size=self.size, mode="bilinear", align_corners=False)
        return torch.cat([image, up], 1)

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        betas = (0.0, 0.99)  # EG3D (StyleGAN2) trains with Adam at beta1 0
        return [torch.optim.Adam(self.generator_parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(),
                                 lr=train_cfg.lr * self.cfg.d_lr_scale, betas=betas)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """`common.r1_gan_step` on the discriminator's inputs (dual discrimination's pairs with
        super-resolution), the generator's conditioning camera swapped with `swap_prob`."""
        opt_g, opt_d = optimizers

        def generate(n: int) -> torch.Tensor:
            out = self.generate(n, swap_prob=self.cfg.swap_prob)
            return self.discriminator_input(out["image"], out["raw"])

        return r1_gan_step(generate, self.discriminator,
                           self.discriminator_input(to_unit(batch[0], self.cfg.num_levels)),
                           opt_g, opt_d,
                           self.cfg.r1_gamma, "EG3D")

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Renders (B, 1, N, N) at random poses (conditioned on their own camera) in the
        data's levels (`graf.to_levels`: silhouettes binarised at 0.5)."""
        if cond is not None:
            raise UserError("eg3d is unconditional (its pose conditioning is internal); "
                            "sample without cond")
        return to_levels(self.generate(num_samples, generator)["image"], self.cfg.num_levels)

    @torch.no_grad()
    def render_views(self, z: torch.Tensor, c2w: torch.Tensor) -> dict[str, torch.Tensor]:
        """One latent z (1, Dz) at several cameras (K, 3, 4), conditioned on a fixed frontal
        camera (how EG3D renders multi-view sequences)."""
        return self.render(z.expand(len(c2w), -1), c2w, FRONTAL[None].expand(len(c2w), 3, 4))

    def check_data(self, info) -> None:
        check_image_shape("eg3d", self.cfg.data_shape, info)


@dataclass
class TriplaneConfig:
    data_shape: tuple[int, ...] = (1, 16, 16)
    num_levels: int = 2
    """grey levels of the data (filled from the dataset): 2 silhouettes, 256 shaded views"""
    latent_dim: int = 32
    w_dim: int = 64
    channels: int = 32
    """width of the plane generator's convolutions (and the super-resolution's)"""
    plane_resolution: int = 32
    plane_channels: int = 16
    hidden: int = 64
    """the decoder MLP's one hidden layer"""
    num_steps: int = 24
    """samples per ray (stratified while training)"""
    render_resolution: int = 0
    """neural-rendering resolution; 0 = the image size (no super-resolution)"""
    feature_dim: int = 8
    """channels of the rendered feature image when super-resolution is on"""
    pose_conditioning: bool = False
    """condition the generator on the rendering camera (EG3D's generator pose conditioning);
    off by default: with no pose-conditioned discriminator the camera acts as a second latent
    and the generator leaves z unused (issue 19)"""
    swap_prob: float = 0.5
    """probability of conditioning the generator on a camera other than the rendering one"""
    sigma_scale: float = 4.0
    sigma_bias: float = -1.0
    d_lr_scale: float = 1.0
    r1_gamma: float = 1.0
    """weight of the R1 penalty on real images (EG3D: gamma 1 for FFHQ); 0 turns it off"""

    @classmethod
    def tiny(cls) -> TriplaneConfig:
        return cls(latent_dim=4, w_dim=8, channels=4, plane_resolution=8, plane_channels=4,
                   hidden=8, num_steps=6)


EG3D = register("eg3d", TriplaneConfig, family="gans3d", runner="trainer",
                default_dataset="voxel_views16",
                train_defaults={"lr": 5e-4, "batch_size": 8, "schedule": "constant",
                                "grad_clip": None})(EG3D)
