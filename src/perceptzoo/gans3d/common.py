"""What the 3D generators share: the adversarial losses, one network's update with the other
frozen, the 3D convolutional generator of Wu et al. (2016), and, for the 3D-aware image
generators (GRAF, the EG3D tri-plane generator), the camera prior, the rendering of a field
through `perceptzoo.implicit.cameras` and the view-consistency error.

The adversarial losses (Goodfellow et al. 2014, non-saturating), the R1 penalty and the
one-network update with the other frozen are `perceptzoo.nn.gan_losses`, shared with
`perceptzoo.gans`; they are re-exported here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.data.voxels import check_resolution
from perceptzoo.errors import UserError
from perceptzoo.gans3d.projection import camera_rotation
from perceptzoo.implicit.cameras import (
    camera_rays,
    ray_box_interval,
    stratified_depths,
    volume_render,
)
from perceptzoo.nn.gan_losses import (  # noqa: F401 - re-exported for the 3D generators
    discriminator_loss,
    finite,
    frozen,
    generator_loss,
    r1_penalty,
    step,
)

RADIUS, FOV = 4.0, 30.0
"""the 3D-aware generators' cameras: perspective, at distance 4, 30-degree field of view"""


def voxel_generator(latent_dim: int, channels: int, resolution: int) -> nn.Module:
    """z (B, Q) -> occupancy (B, 1, N, N, N) in (0, 1): Wu et al. (2016) sec. 3.1.

    A 4^3 transposed convolution projects z to a 4^3 volume; stride-2 transposed convolutions
    (kernel 4) double the side up to N (a power of two, >= 8); batch norm and ReLU between,
    a sigmoid at the output. Channels halve at each doubling from channels * 2^(levels-1).
    """
    check_resolution(resolution, "the voxel generator")
    levels = int(math.log2(resolution)) - 2  # 4 -> N doublings
    if levels < 1:
        raise ValueError("resolution >= 8")
    widths = [channels * 2 ** (levels - 1 - i) for i in range(levels)]
    layers: list[nn.Module] = [nn.Unflatten(1, (latent_dim, 1, 1, 1)),
                               nn.ConvTranspose3d(latent_dim, widths[0], 4, 1, 0, bias=False),
                               nn.BatchNorm3d(widths[0]), nn.ReLU(True)]  # (B, w0, 4, 4, 4)
    for i in range(levels - 1):
        layers += [nn.ConvTranspose3d(widths[i], widths[i + 1], 4, 2, 1, bias=False),
                   nn.BatchNorm3d(widths[i + 1]), nn.ReLU(True)]
    layers += [nn.ConvTranspose3d(widths[-1], 1, 4, 2, 1), nn.Sigmoid()]  # (B, 1, N, N, N)
    return nn.Sequential(*layers)


def conv_discriminator(dims: int, resolution: int, channels: int, in_channels: int = 1
                       ) -> nn.Module:
    """(B, C, N, ...) in [0, 1] (dims = 2 images or 3 volumes) -> logit (B,): stride-2
    convolutions (kernel 4) halve the side down to 4, LeakyReLU(0.2), batch norm after the
    first layer; a last convolution covers the 4^dims map (Wu et al. 2016's mirrored D)."""
    check_resolution(resolution, "the discriminator")
    conv = nn.Conv3d if dims == 3 else nn.Conv2d
    norm = nn.BatchNorm3d if dims == 3 else nn.BatchNorm2d
    levels = int(math.log2(resolution)) - 2
    layers: list[nn.Module] = []
    c_in = in_channels
    for i in range(levels):
        c_out = channels * 2**i
        layers.append(conv(c_in, c_out, 4, 2, 1, bias=i == 0))
        if i > 0:
            layers.append(norm(c_out))
        layers.append(nn.LeakyReLU(0.2, True))
        c_in = c_out
    layers += [conv(c_in, 1, 4, 1, 0), nn.Flatten(0)]
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02) (Radford et al. 2016 sec. 4).
    Skipped on the meta device (core.validate lays models out there to count parameters; the
    first normal_ there loads torch's decompositions, seconds on a busy machine)."""
    if any(p.is_meta for p in module.parameters()):
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# -- cameras and rendering of the 3D-aware image generators ----------------------------------
def camera(direction, radius: float = RADIUS) -> torch.Tensor:
    """c2w (3, 4) of the shared look_at convention for a camera at radius * direction, z up
    (a degenerate up vector is a UserError)."""
    r = camera_rotation(direction)  # rows right, up, back
    d = torch.as_tensor(direction, dtype=torch.float32)
    return torch.cat([r.T, (radius * d / d.norm())[:, None]], 1)


def random_cameras(n: int, generator: torch.Generator | None = None,
                   max_elevation_deg: float = 30.0) -> torch.Tensor:
    """(n, 3, 4) cameras from the pose prior (azimuth uniform, elevation within +-e)."""
    u = torch.rand(n, 2, generator=generator, device=generator.device if generator else None)
    u = u.cpu()
    az, el = u[:, 0] * 2 * math.pi, (u[:, 1] * 2 - 1) * math.radians(max_elevation_deg)
    dirs = torch.stack([el.cos() * az.cos(), el.cos() * az.sin(), el.sin()], -1)
    return torch.stack([camera(d) for d in dirs])


def render_field(field, c2w: torch.Tensor, size: int, num_steps: int,
                 generator: torch.Generator | None = None, device=None
                 ) -> dict[str, torch.Tensor]:
    """Volume-render a field at cameras c2w (B, 3, 4), size x size pixels, `num_steps` samples
    per ray inside the object box [-1, 1]^3 (stratified with `generator`, bin midpoints
    without), with the shared quadrature `implicit.cameras.volume_render` over a black
    background. `field(points (B, P, 3)) -> (sigma (B, P) >= 0, features (B, P, C))`.

    Returns image (B, C, size, size), depth and opacity (B, size, size).
    """
    n, s = size, num_steps
    rays = [camera_rays(c.cpu(), n, n, FOV) for c in c2w]
    origins = torch.stack([o for o, _ in rays]).to(device)   # (B, R, 3)
    dirs = torch.stack([d for _, d in rays]).to(device)
    b, r = origins.shape[:2]
    near, far = ray_box_interval(origins.reshape(-1, 3), dirs.reshape(-1, 3), 1.0,
                                 RADIUS - 1.8, RADIUS + 1.8)
    t = stratified_depths(near, far, b * r, s, generator, device)      # (B*R, S)
    points = origins.reshape(-1, 1, 3) + t[..., None] * dirs.reshape(-1, 1, 3)
    sigma, feats = field(points.reshape(b, r * s, 3))
    c = feats.shape[-1]
    out = volume_render(sigma.reshape(b * r, s), feats.reshape(b * r, s, c), t,
                        background=0.0, last_delta=1e-3)
    return {"image": out["rgb"].reshape(b, n, n, c).permute(0, 3, 1, 2),
            "depth": out["depth"].reshape(b, n, n),
            "opacity": out["opacity"].reshape(b, n, n)}


def view_consistency_error(render_a: dict, render_b: dict, c2w_a: torch.Tensor,
                           c2w_b: torch.Tensor, min_opacity: float = 0.5) -> float:
    """Mean |I_a(p) - I_b(pi_b(X_a(p)))| over pixels p of view a with opacity > min_opacity:
    X_a(p) is p lifted to 3D with view a's rendered depth, pi_b its projection into view b,
    I_b read there bilinearly. Images (1, 1, N, N), depths and opacities (1, M, M): a
    super-resolved image (EG3D's, N > M) is lifted with its depth and opacity upsampled
    bilinearly to N x N, so the error is that of the images the model outputs."""
    n = render_a["image"].shape[-1]
    depth, opacity = render_a["depth"], render_a["opacity"]
    if depth.shape[-1] != n:
        depth, opacity = (F.interpolate(t[:, None], size=(n, n), mode="bilinear",
                                        align_corners=False)[:, 0] for t in (depth, opacity))
    origins, dirs = camera_rays(c2w_a, n, n, FOV)
    x = origins + depth.reshape(-1, 1) * dirs                         # (R, 3) world
    rel = (x - c2w_b[:, 3]) @ c2w_b[:, :3]                            # camera b coords
    focal = 0.5 * n / math.tan(math.radians(FOV) / 2)
    u = rel[:, 0] / -rel[:, 2] * focal / (n / 2)                      # [-1, 1] across
    v = -rel[:, 1] / -rel[:, 2] * focal / (n / 2)
    grid = torch.stack([u, v], -1).reshape(1, n, n, 2)
    warped = F.grid_sample(render_b["image"], grid, align_corners=False)[0, 0]
    mask = (opacity[0] > min_opacity) & (u.abs() < 1).reshape(n, n) \
        & (v.abs() < 1).reshape(n, n)
    if not mask.any():
        raise UserError("no opaque pixel in view a to compare")
    return (warped - render_a["image"][0, 0]).abs()[mask].mean().item()


def check_image_shape(name: str, built_shape, info) -> None:
    """Refuse data whose examples (images or volumes) are not the shape the model was built for."""
    if tuple(info.data_shape) != tuple(built_shape):
        raise UserError(f"this {name} was built for {tuple(built_shape)}, not "
                        f"{info.name} {tuple(info.data_shape)}")


def r1_gan_step(generate, discriminator, real: torch.Tensor,
                opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, gamma: float,
                where: str, regulariser=None) -> dict[str, float]:
    """One update of D (non-saturating loss + gamma/2 R1 on the real images, gamma 0: none),
    then of G (`generate(n)` renders n fresh images) with D frozen: the training step of the
    3D-aware image generators (Mescheder et al. 2018's R1).

    `discriminator(x)` gives logits (B,). With `regulariser(d_extra, g_extra) -> (name,
    loss)`, `generate(n)` gives (images, g_extra) and `discriminator(x)` gives (logits,
    d_extra), and the loss is added to both D's and G's objectives on the generated images
    (HoloGAN's identity regulariser: g_extra = z, d_extra = D's estimate of z); its value
    on G's step is logged under `name`.
    """
    def gen(n):
        return generate(n) if regulariser else (generate(n), None)

    def disc(x):
        return discriminator(x) if regulariser else (discriminator(x), None)

    with torch.no_grad():
        fake, g_extra = gen(len(real))
    real_in = real.requires_grad_(gamma > 0)
    (real_logits, _), (fake_logits, d_extra) = disc(real_in), disc(fake)
    loss_d = discriminator_loss(real_logits, fake_logits)
    r1 = r1_penalty(real_logits, real_in) if gamma > 0 else torch.zeros(())
    extra_d = regulariser(d_extra, g_extra)[1] if regulariser else torch.zeros(())
    step(opt_d, loss_d + 0.5 * gamma * r1 + extra_d)
    with frozen(discriminator):
        images, g_extra = gen(len(real))
        logits, d_extra = disc(images)
        loss_g = generator_loss(logits)
        name, extra_g = regulariser(d_extra, g_extra) if regulariser else ("", None)
        step(opt_g, loss_g + extra_g if regulariser else loss_g)
    out = {"loss": (loss_d + extra_d).detach(), "loss_d": (loss_d + extra_d).detach(),
           "loss_g": (loss_g + extra_g if regulariser else loss_g).detach(),
           "r1": r1.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
           "d_fake": torch.sigmoid(fake_logits).mean().detach()}
    if regulariser:
        out[name] = extra_g.detach()
    return finite(out, where)


def positional_encoding(x: torch.Tensor, num_freqs: int) -> torch.Tensor:
    """gamma(x) = (x, sin(2^k pi x), cos(2^k pi x)) for k < L: (..., 3) -> (..., 3 + 6L)."""
    freqs = (2.0 ** torch.arange(num_freqs, device=x.device)) * math.pi
    xf = x[..., None] * freqs                       # (..., 3, L)
    return torch.cat([x, xf.sin().flatten(-2), xf.cos().flatten(-2)], -1)
