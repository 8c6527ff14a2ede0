"""Differentiable projections of a voxel grid to an image at a pose (PlatonicGAN's image
formation, Henzler, Mitra & Ritschel, ICCV 2019, sec. 3.3).

A volume v (B, 1, N, N, N) of occupancies in [0, 1], indexed [d, h, w] <-> world (z, y, x) on
the cube [-1, 1]^3 (see `perceptzoo.data.voxels`), is resampled trilinearly into the view frame
of a rotation R (world -> view; view point q <-> world point p = R^T q), then each pixel (h, w)
integrates its ray of N samples v_1..v_N along the view's depth axis:

    visual hull      I = 1 - exp(-sum_i v_i)
    absorption only  I = 1 - prod_i (1 - v_i)

Both are differentiable in every v_i along the ray: dI/dv_i = exp(-sum_j v_j) and
prod_{j != i} (1 - v_j), non-zero while no other voxel on the ray is exactly opaque. With
R = I the resampling is the identity (samples at the voxel centres), so an axis-aligned cube
projects exactly: 1 - exp(-a L) and 1 - (1 - a)^L for L voxels of value a on the ray
(tests/gans3d/test_projection.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from perceptzoo.data.voxels import MAX_ELEVATION_DEG, grid_points
from perceptzoo.errors import UserError
from perceptzoo.implicit.cameras import look_at

MODES = ("visual_hull", "absorption")


def camera_rotation(direction, up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """R (3, 3), world -> view, of the shared camera `implicit.cameras.look_at` placed along
    `direction` (its c2w columns right, up, back are R's rows), so the projection axis is the
    camera's back axis. An `up` parallel to `direction` is a UserError (look_at would swap in
    another up silently, turning the image by an arbitrary angle)."""
    direction = torch.as_tensor(direction, dtype=torch.float32)
    up = torch.as_tensor(up, dtype=torch.float32)
    if direction.norm() < 1e-8 or up.norm() < 1e-8:
        raise UserError("a camera needs a non-zero view direction and up vector")
    if torch.linalg.cross(up / up.norm(), direction / direction.norm()).norm() < 1e-6:
        raise UserError(f"degenerate camera: the up vector {up.tolist()} is parallel to the "
                        f"view direction {direction.tolist()}; choose an up vector not along it")
    return look_at(direction, up=up)[:, :3].T.contiguous()


def random_rotations(n: int, generator: torch.Generator | None = None,
                     max_elevation_deg: float = MAX_ELEVATION_DEG) -> torch.Tensor:
    """(n, 3, 3) camera rotations from the view prior of the training silhouettes
    (`data.voxels.random_poses`): azimuth U[0, 2 pi), elevation U[-e, e], z up."""
    device = generator.device if generator is not None else None
    u = torch.rand(n, 2, generator=generator, device=device).cpu()
    az = u[:, 0] * 2 * math.pi
    el = (u[:, 1] * 2 - 1) * math.radians(max_elevation_deg)
    dirs = torch.stack([el.cos() * az.cos(), el.cos() * az.sin(), el.sin()], -1)
    return torch.stack([camera_rotation(d) for d in dirs])


def rotate_volume(volume: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """volume (B, C, N, N, N) in world frame -> (B, C, N, N, N) in the view frames of
    rotations (B, 3, 3) (trilinear, zero outside the cube)."""
    n = volume.shape[-1]
    q = grid_points(n).to(volume.device, volume.dtype).reshape(1, -1, 3)  # (1, N^3, 3) view
    p = q @ rotation.to(volume.dtype)                                     # world = R^T q
    grid = p.reshape(-1, n, n, n, 3)
    return F.grid_sample(volume, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def integrate(view_volume: torch.Tensor, mode: str) -> torch.Tensor:
    """(B, 1, N, N, N) in view frame -> image (B, 1, N, N), integrating along depth (dim 2)."""
    v = view_volume.clamp(0, 1)
    if mode == "visual_hull":
        return 1 - torch.exp(-v.sum(2))
    if mode == "absorption":
        # prod (1 - v_i) in log space for stability; log1p(-1) = -inf gives exp(-inf) = 0
        return 1 - torch.exp(torch.log1p(-v.clamp(max=1 - 1e-6)).sum(2))
    raise UserError(f"unknown projection {mode!r}; use one of {', '.join(MODES)}")


def project(volume: torch.Tensor, rotation: torch.Tensor, mode: str = "absorption"
            ) -> torch.Tensor:
    """The image (B, 1, N, N) in [0, 1] of volumes (B, 1, N, N, N) seen at rotations
    (B, 3, 3) under the `mode` image formation (module docstring)."""
    if volume.dim() != 5 or rotation.shape[-2:] != (3, 3):
        raise UserError(f"project takes volumes (B, 1, N, N, N) and rotations (B, 3, 3), got "
                        f"{tuple(volume.shape)} and {tuple(rotation.shape)}")
    return integrate(rotate_volume(volume, rotation.expand(len(volume), 3, 3)), mode)
