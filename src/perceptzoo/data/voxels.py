"""Voxelised shapes and their silhouettes at known random poses, for the 3D generators.

Shapes are the random primitives of `perceptzoo.data.shapes` (spheres, boxes, tori, capsules,
each randomly sized and rotated; `random_primitive`), voxelised exactly from their analytic SDF
at the voxel centres of the cube [-1, 1]^3. Voxel (d, h, w) holds the occupancy of the world
point (x, y, z) = (c_w, c_h, c_d) (c_i = -1 + (2 i + 1) / N), so a grid indexes like
`torch.nn.functional.grid_sample` reads it (x along W, y along H, z along D).

Datasets (imported by `perceptzoo.data`, so `perceptzoo list`, `data.load` and
`perceptzoo train --dataset` know them):

    voxels16, voxels32     (1, N, N, N) uint8 occupancy 0/1, y = primitive kind (0 sphere,
                           1 box, 2 torus, 3 capsule); 256 train / 64 valid / 64 test shapes
    voxel_views16, voxel_views32
                           (1, N, N) uint8 silhouettes 0/1 of the same shapes, one view per
                           shape at a random pose (azimuth ~ U[0, 2 pi), elevation ~ U[-30, 30]
                           degrees), orthographic along the view axis; y = None (PlatonicGAN
                           learns from unposed views). `views(...)` returns the poses too.

The silhouettes are exact renders of the SDF, not of the voxel grid: each pixel's ray is
sampled at 2N depths of the rotated analytic shape (a pixel is on when any sample is inside),
so a 3D generator trained on them is not fitted to a voxel rasterisation it could copy.
Poses are rotations R (world -> view); a view point q is the world point p = R^T q, and the
image is the projection along the view's D (z) axis. `view_rotation` builds R and refuses a
degenerate up vector. Real meshes (`mesh_voxels`) are voxelised with `shapes.inside` from the
watertight meshes in PERCEPTZOO_DATA/meshes.

    >>> from perceptzoo.data import voxels
    >>> voxels.load("voxels16", "test").x.shape
    torch.Size([64, 1, 16, 16, 16])
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.data.shapes import PRIMITIVES, Primitive, random_primitive
from perceptzoo.errors import UserError

SPLIT_SIZES = {"train": 256, "valid": 64, "test": 64}
_SEEDS = {"train": 11, "valid": 12, "test": 13}
RESOLUTIONS = (16, 32)
MAX_ELEVATION_DEG = 30.0


def _info(name: str, shape: tuple[int, ...], what: str, classes: int | None) -> DatasetInfo:
    return DatasetInfo(name, data_shape=shape, num_levels=2, value_range=(0.0, 1.0),
                       num_classes=classes, split_sizes=dict(SPLIT_SIZES), description=what)


INFOS = {}
for _n in RESOLUTIONS:
    INFOS[f"voxels{_n}"] = _info(f"voxels{_n}", (1, _n, _n, _n),
                                 f"random primitives voxelised at {_n}^3 (occupancy 0/1)",
                                 len(PRIMITIVES))
    INFOS[f"voxel_views{_n}"] = _info(f"voxel_views{_n}", (1, _n, _n),
                                      f"silhouettes {_n}x{_n} of random primitives at random "
                                      "poses (one view per shape)", None)


def check_resolution(n: int, who: str = "a voxel grid") -> int:
    """n if it is a power of two >= 4, else a UserError."""
    if not isinstance(n, int) or n < 4 or n & (n - 1):
        raise UserError(f"{who} needs a resolution that is a power of two (>= 4: 8, 16, 32), "
                        f"got {n}")
    return n


def grid_points(n: int) -> torch.Tensor:
    """Voxel centres (n, n, n, 3) as world (x, y, z), indexed [d, h, w]."""
    c = (torch.arange(n, dtype=torch.float32) * 2 + 1) / n - 1
    d, h, w = torch.meshgrid(c, c, c, indexing="ij")
    return torch.stack([w, h, d], -1)


def view_rotation(direction, up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """R (3, 3), world -> view: rows right, up, back of a camera whose back axis (view z, the
    projection axis) is `direction` (unit or not), i.e. it looks along -`direction`.
    A zero direction or an `up` parallel to it is a UserError (no unique camera)."""
    back = torch.as_tensor(direction, dtype=torch.float32)
    up = torch.as_tensor(up, dtype=torch.float32)
    if back.norm() < 1e-8 or up.norm() < 1e-8:
        raise UserError("a camera needs a non-zero view direction and up vector")
    back = back / back.norm()
    right = torch.linalg.cross(up, back)
    if right.norm() < 1e-6 * up.norm():
        raise UserError(f"degenerate camera: the up vector {up.tolist()} is parallel to the "
                        f"view direction {back.tolist()}; choose an up vector not along it")
    right = right / right.norm()
    true_up = torch.linalg.cross(back, right)
    return torch.stack([right, true_up, back])


def pose_rotation(azimuth: float, elevation: float) -> torch.Tensor:
    """R (3, 3) of a camera on the unit sphere at azimuth / elevation (radians), z up."""
    direction = (math.cos(elevation) * math.cos(azimuth),
                 math.cos(elevation) * math.sin(azimuth), math.sin(elevation))
    return view_rotation(direction)


def random_poses(n: int, generator: torch.Generator | None = None,
                 max_elevation_deg: float = MAX_ELEVATION_DEG) -> torch.Tensor:
    """(n, 3, 3) rotations from the pose prior: azimuth U[0, 2 pi), elevation U[-e, e]."""
    u = torch.rand(n, 2, generator=generator)
    az = u[:, 0] * 2 * math.pi
    el = (u[:, 1] * 2 - 1) * math.radians(max_elevation_deg)
    return torch.stack([pose_rotation(float(a), float(e)) for a, e in zip(az, el)])


@lru_cache(maxsize=4)
def _primitives(split: str) -> tuple[Primitive, ...]:
    rng = np.random.default_rng(_SEEDS[split] * 7919)
    return tuple(random_primitive(rng) for _ in range(SPLIT_SIZES[split]))


def voxelize_primitive(prim: Primitive, n: int) -> torch.Tensor:
    """(n, n, n) uint8 occupancy at the voxel centres."""
    return (prim.sdf(grid_points(n).reshape(-1, 3)) < 0).reshape(n, n, n).to(torch.uint8)


def silhouette(prim: Primitive, rotation: torch.Tensor, n: int) -> torch.Tensor:
    """(n, n) uint8 exact orthographic silhouette of `prim` seen with view rotation R."""
    c = (torch.arange(n, dtype=torch.float32) * 2 + 1) / n - 1
    depth = (torch.arange(2 * n, dtype=torch.float32) * 2 + 1) / (2 * n) - 1
    d, h, w = torch.meshgrid(depth, c, c, indexing="ij")
    q = torch.stack([w, h, d], -1).reshape(-1, 3)    # view points
    p = q @ rotation                                   # world p = R^T q (row vectors)
    inside = (prim.sdf(p) < 0).reshape(2 * n, n, n)
    return inside.any(0).to(torch.uint8)


@lru_cache(maxsize=8)
def _voxels(split: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    prims = _primitives(split)
    x = torch.stack([voxelize_primitive(p, n) for p in prims])[:, None]
    y = torch.tensor([PRIMITIVES.index(p.kind) for p in prims])
    return x, y


@lru_cache(maxsize=8)
def views(split: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(silhouettes (N, 1, n, n) uint8, poses (N, 3, 3)) of the split's shapes."""
    prims = _primitives(split)
    poses = random_poses(len(prims), torch.Generator().manual_seed(_SEEDS[split] + 100))
    x = torch.stack([silhouette(p, r, n) for p, r in zip(prims, poses)])[:, None]
    return x, poses


def load(name: str, split: str = "train") -> ArrayDataset:
    if name not in INFOS:
        raise UserError(f"unknown voxel dataset {name!r}; use one of {', '.join(INFOS)}")
    if split not in SPLIT_SIZES:
        raise UserError(f"unknown split {split!r}; use train, valid or test")
    n = INFOS[name].data_shape[-1]
    if name.startswith("voxels"):
        x, y = _voxels(split, n)
        return ArrayDataset(x, y, INFOS[name], split)
    return ArrayDataset(views(split, n)[0], None, INFOS[name], split)


def mesh_voxels(n: int, data_dir: str | Path | None = None,
                names: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
    """{mesh name: (n, n, n) uint8} for the watertight real meshes found on disk (normalised
    to a half-extent of 0.8 by `shapes.load_mesh`), all of the collection's or `names`."""
    from perceptzoo.data.shapes import COLLECTION_MESHES, inside, list_meshes, load_mesh

    check_resolution(n)
    out = {}
    for name in names or COLLECTION_MESHES:
        if name in list_meshes(data_dir):
            mesh = load_mesh(name, data_dir)
            occ = inside(mesh, grid_points(n).reshape(-1, 3))
            out[name] = occ.reshape(n, n, n).to(torch.uint8)
    return out
