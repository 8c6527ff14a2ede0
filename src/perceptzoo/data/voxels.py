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

    voxels16+real, voxels32+real, voxel_views16+real, voxel_views32+real
                           the same catalogue with real meshes mixed in (needs the shared
                           meshes; a UserError naming the missing files otherwise). Train:
                           the 256 catalogue primitives and 32 placements of each mesh of
                           `shapes.REAL_TRAIN` (armadillo, dragon, cow); valid: the 64
                           catalogue primitives and 8 new placements of each of those meshes
                           (so train and valid hold real meshes in the same proportion, 27 %);
                           test: 32 placements of each held-out mesh of `shapes.REAL_HELDOUT`
                           (bunny-watertight, spot), never trained on (the implicit family's
                           "shapes+real" split). A placement is a uniformly random rotation
                           and a random scale (the mesh's bounding sphere radius 0.63-0.9), so
                           three meshes are not three fixed grids a generator could memorise.
                           352 train / 88 valid / 64 test; y = kind, 4 for a real mesh
                           (`KINDS`). Building voxels32+real's train split takes about 30 s
                           of one core (all placements of a mesh in one inside test).
    voxel_views16:shaded, voxel_views32:shaded, voxel_views16+real:shaded,
    voxel_views32+real:shaded
                           (1, N, N) uint8 grey levels 0..255 of the same views (same shapes,
                           same poses, so `shaded > 0` is the silhouette): each pixel of the
                           silhouette is lit by a Lambertian model under a fixed world light
                           `data.shapes.LIGHT` (the implicit family's ground-truth light), intensity
                           AMBIENT + (1 - AMBIENT) max(0, n . l) with normal n of the visible
                           surface; background 0. `shaded_views(...)` returns the poses too.

The silhouettes are exact renders of the shape (its analytic SDF, or a real mesh's inside
test), not of the voxel grid: each pixel's ray is sampled at 2N depths of the rotated shape
(a pixel is on when any sample is inside),
so a 3D generator trained on them is not fitted to a voxel rasterisation it could copy.
The shaded views come from the same rays and inside tests (`shaded_renders`): the visible
surface of a pixel is its inside sample nearest the camera, refined by bisection against the
sample in front of it (`SURFACE_BISECTIONS` halvings of the 1/N sample spacing); its normal is
the exact SDF gradient of a primitive, or for a real mesh the face normal of the nearest of
`MESH_NORMAL_SAMPLES` area-uniform surface points of the mesh. The light is fixed in the world
(view-independent, so a radiance field without view direction, GRAF's colour branch, can
explain it). Rows index the view's up axis upwards (row 0 is the bottom: the silhouettes'
convention), so a figure shows an image upright after flipping its rows.
Poses are rotations R (world -> view); a view point q is the world point p = R^T q, and the
image is the projection along the view's D (z) axis. `view_rotation` builds R and refuses a
degenerate up vector. Real meshes (`mesh_voxels`, `PlacedMesh`) are loaded by the implicit
family's `shapes.load_mesh` (sha256-checked, watertight) and voxelised / rendered with its
inside test `shapes.inside`, at the same voxel centres and view rays as the primitives.

    >>> from perceptzoo.data import voxels
    >>> voxels.load("voxels16", "test").x.shape
    torch.Size([64, 1, 16, 16, 16])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.data.shapes import (
    LIGHT,
    PRIMITIVES,
    REAL_HELDOUT,
    REAL_TRAIN,
    Primitive,
    data_root,
    inside,
    list_meshes,
    load_mesh,
    random_primitive,
)
from perceptzoo.errors import UserError

SPLIT_SIZES = {"train": 256, "valid": 64, "test": 64}
_SEEDS = {"train": 11, "valid": 12, "test": 13}
RESOLUTIONS = (16, 32)
MAX_ELEVATION_DEG = 30.0
#: labels of the "+real" datasets: the primitive kinds, then one label for every real mesh
KINDS = (*PRIMITIVES, "mesh")
#: placements of each real mesh per split in the "+real" datasets (module docstring)
REAL_COPIES = {"train": 32, "valid": 8, "test": 32}
REAL_SUFFIX = "+real"
#: a placed mesh's bounding sphere radius is FIT times U[MIN_SCALE, 1]: inside the cube at any
#: rotation, and about as large as the catalogue's primitives (which fit in [-0.9, 0.9]^3)
FIT, MIN_SCALE = 0.9, 0.7
#: the shaded views' ambient term (their light is the scene's, `data.shapes.LIGHT`)
AMBIENT = 0.35
SHADED_SUFFIX = ":shaded"
SHADED_LEVELS = 256
#: halvings of the 1/N depth spacing that place a shaded pixel's surface point
SURFACE_BISECTIONS = 5
#: area-uniform surface points of a real mesh whose face normals shade it (nearest point)
MESH_NORMAL_SAMPLES = 100_000


def _real_split_sizes() -> dict[str, int]:
    return {"train": SPLIT_SIZES["train"] + len(REAL_TRAIN) * REAL_COPIES["train"],
            "valid": SPLIT_SIZES["valid"] + len(REAL_TRAIN) * REAL_COPIES["valid"],
            "test": len(REAL_HELDOUT) * REAL_COPIES["test"]}


def _info(name: str, shape: tuple[int, ...], what: str, classes: int | None,
          sizes: dict[str, int] | None = None, levels: int = 2) -> DatasetInfo:
    return DatasetInfo(name, data_shape=shape, num_levels=levels, value_range=(0.0, 1.0),
                       num_classes=classes, split_sizes=dict(sizes or SPLIT_SIZES),
                       description=what)


INFOS = {}
for _n in RESOLUTIONS:
    INFOS[f"voxels{_n}"] = _info(f"voxels{_n}", (1, _n, _n, _n),
                                 f"random primitives voxelised at {_n}^3 (occupancy 0/1)",
                                 len(PRIMITIVES))
    INFOS[f"voxel_views{_n}"] = _info(f"voxel_views{_n}", (1, _n, _n),
                                      f"silhouettes {_n}x{_n} of random primitives at random "
                                      "poses (one view per shape)", None)
    INFOS[f"voxels{_n}{REAL_SUFFIX}"] = _info(
        f"voxels{_n}{REAL_SUFFIX}", (1, _n, _n, _n),
        f"random primitives and real meshes (armadillo, dragon, cow; test: bunny, spot) at "
        f"random rotations and scales, voxelised at {_n}^3", len(KINDS), _real_split_sizes())
    INFOS[f"voxel_views{_n}{REAL_SUFFIX}"] = _info(
        f"voxel_views{_n}{REAL_SUFFIX}", (1, _n, _n),
        f"silhouettes {_n}x{_n} of voxels{_n}+real's shapes at random poses (one view per "
        "shape)", None, _real_split_sizes())
    for _real in ("", REAL_SUFFIX):
        _name = f"voxel_views{_n}{_real}{SHADED_SUFFIX}"
        INFOS[_name] = _info(
            _name, (1, _n, _n), f"Lambertian-shaded grey views {_n}x{_n} (0..255, background "
            f"0) of voxel_views{_n}{_real}'s shapes at the same poses", None,
            _real_split_sizes() if _real else None, SHADED_LEVELS)


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


@lru_cache(maxsize=16)
def _mesh(name: str, root: str):
    return load_mesh(name, root)


@dataclass(frozen=True)
class PlacedMesh:
    """A real mesh (normalised by `shapes.load_mesh`) rotated and scaled about the origin:
    the world point of a mesh point m is p = scale * R m."""

    name: str
    rotation: tuple[tuple[float, ...], ...]
    scale: float
    kind: str = "mesh"

    def inside(self, points: torch.Tensor) -> torch.Tensor:
        """Bool (N,): world points (N, 3) inside the placed mesh (`shapes.inside`)."""
        r = torch.as_tensor(self.rotation, dtype=points.dtype)
        return inside(_mesh(self.name, str(data_root())), points @ r / self.scale)


Shape = Primitive | PlacedMesh


def occupied(shape: Shape, points: torch.Tensor) -> torch.Tensor:
    """Bool (N,): points (N, 3) inside a primitive (its exact SDF < 0) or a placed mesh."""
    if isinstance(shape, PlacedMesh):
        return shape.inside(points)
    return shape.sdf(points) < 0


def random_rotation(rng: np.random.Generator) -> tuple[tuple[float, ...], ...]:
    """A uniformly random rotation matrix (a normalised Gaussian quaternion)."""
    w, x, y, z = (q := rng.normal(size=4)) / np.linalg.norm(q)
    rot = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
           [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
           [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    return tuple(tuple(float(v) for v in row) for row in rot)


def _check_meshes(names: tuple[str, ...]) -> None:
    missing = [m for m in names if m not in list_meshes()]
    if missing:
        raise UserError(
            f"the +real voxel datasets need the real meshes {', '.join(names)}, but "
            f"{', '.join(m + '.obj' for m in missing)} are not in {data_root() / 'meshes'}; "
            "set PERCEPTZOO_DATA to the shared data folder holding meshes/, or use the "
            "catalogue alone (voxels16, voxel_views16)")


def placed_meshes(names: tuple[str, ...], copies: int, seed: int) -> tuple[PlacedMesh, ...]:
    """`copies` placements of each mesh of `names` (a random rotation and scale each, see
    `FIT`), seeded; the meshes must be on disk (a UserError naming the missing)."""
    _check_meshes(names)
    rng = np.random.default_rng(seed)
    out = []
    for name in names:
        radius = float(np.linalg.norm(np.asarray(_mesh(name, str(data_root())).vertices),
                                      axis=1).max())
        for _ in range(copies):
            rot = random_rotation(rng)
            out.append(PlacedMesh(name, rot, FIT * rng.uniform(MIN_SCALE, 1.0) / radius))
    return tuple(out)


def split_shapes(split: str, real: bool = False) -> tuple[Shape, ...]:
    """The shapes of a split: the catalogue's primitives, or with `real` the "+real" split
    (module docstring: primitives and placements of `REAL_TRAIN` in train and valid,
    placements of `REAL_HELDOUT` alone in test)."""
    if not real:
        return _primitives(split)
    seed = _SEEDS[split] * 7919 + 1
    if split == "test":
        return placed_meshes(REAL_HELDOUT, REAL_COPIES["test"], seed)
    return _primitives(split) + placed_meshes(REAL_TRAIN, REAL_COPIES[split], seed)


@lru_cache(maxsize=4)
def _primitives(split: str) -> tuple[Primitive, ...]:
    return primitives(split, SPLIT_SIZES[split])


@lru_cache(maxsize=8)
def primitives(split: str, num: int) -> tuple[Primitive, ...]:
    """The first `num` draws of the split's seeded stream of random primitives: its first
    `SPLIT_SIZES[split]` are the split's catalogue shapes, and further draws continue the
    stream with new shapes of the same distribution. Each split has its own seed, so the
    streams of train, valid and test are disjoint however far they are drawn (the voxel
    scores draw 1,000 held-out shapes from the valid and test streams this way)."""
    if split not in SPLIT_SIZES:
        raise UserError(f"unknown split {split!r}; use train, valid or test")
    rng = np.random.default_rng(_SEEDS[split] * 7919)
    return tuple(random_primitive(rng) for _ in range(num))


#: points per inside test of a real mesh: the ray test bins the mesh's triangles once per call,
#: so all placements of one mesh are tested together, this many points at a time
MESH_CHUNK = 1 << 18


def occupied_many(shapes: tuple[Shape, ...] | list[Shape], points: torch.Tensor
                  ) -> torch.Tensor:
    """Bool (S, M): for each shape i, its world points points[i] (S, M, 3) inside it. The same
    as `occupied` shape by shape, with every placement of one mesh tested in one call."""
    out = torch.zeros(points.shape[:2], dtype=torch.bool)
    groups: dict[str, list[int]] = {}
    for i, shape in enumerate(shapes):
        if isinstance(shape, PlacedMesh):
            groups.setdefault(shape.name, []).append(i)
        else:
            out[i] = occupied(shape, points[i])
    for name, idx in groups.items():
        local = torch.stack([points[i] @ torch.as_tensor(shapes[i].rotation, dtype=points.dtype)
                             / shapes[i].scale for i in idx])           # m = R^T p / s
        hit = inside(_mesh(name, str(data_root())), local.reshape(-1, 3), chunk=MESH_CHUNK)
        out[idx] = hit.reshape(len(idx), -1)
    return out


def voxelize(shape: Shape, n: int) -> torch.Tensor:
    """(n, n, n) uint8 occupancy of a primitive or placed mesh at the voxel centres."""
    return occupied(shape, grid_points(n).reshape(-1, 3)).reshape(n, n, n).to(torch.uint8)


voxelize_primitive = voxelize


def _ray_points(n: int) -> torch.Tensor:
    """(2n * n * n, 3) view points: 2n depths along each pixel's ray, indexed [depth, h, w]."""
    c = (torch.arange(n, dtype=torch.float32) * 2 + 1) / n - 1
    depth = (torch.arange(2 * n, dtype=torch.float32) * 2 + 1) / (2 * n) - 1
    d, h, w = torch.meshgrid(depth, c, c, indexing="ij")
    return torch.stack([w, h, d], -1).reshape(-1, 3)


def silhouette(prim: Shape, rotation: torch.Tensor, n: int) -> torch.Tensor:
    """(n, n) uint8 exact orthographic silhouette of a primitive or placed mesh seen with view
    rotation R."""
    p = _ray_points(n) @ rotation                     # world p = R^T q (row vectors)
    return occupied(prim, p).reshape(2 * n, n, n).any(0).to(torch.uint8)


def silhouettes(shapes: tuple[Shape, ...], rotations: torch.Tensor, n: int) -> torch.Tensor:
    """(S, n, n) uint8: `silhouette` of each shape at its rotation (S, 3, 3), the real meshes'
    placements tested together (`occupied_many`)."""
    p = _ray_points(n)[None] @ rotations               # (S, 2n^3, 3) world points
    return occupied_many(shapes, p).reshape(len(shapes), 2 * n, n, n).any(1).to(torch.uint8)


def voxelize_many(shapes: tuple[Shape, ...] | list[Shape], n: int) -> torch.Tensor:
    """(S, 1, n, n, n) uint8: `voxelize` of each shape, the placements of one real mesh
    tested together (`occupied_many`)."""
    points = grid_points(n).reshape(1, -1, 3).expand(len(shapes), -1, -1)
    return occupied_many(shapes, points).reshape(-1, 1, n, n, n).to(torch.uint8)


@lru_cache(maxsize=8)
def _voxels(split: str, n: int, real: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    shapes = split_shapes(split, real)
    y = torch.tensor([KINDS.index(s.kind) for s in shapes])
    return voxelize_many(shapes, n), y


@lru_cache(maxsize=8)
def views(split: str, n: int, real: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(silhouettes (N, 1, n, n) uint8, poses (N, 3, 3)) of the split's shapes (with `real`,
    of the "+real" split's)."""
    shapes = split_shapes(split, real)
    poses = random_poses(len(shapes), torch.Generator().manual_seed(_SEEDS[split] + 100))
    return silhouettes(shapes, poses, n)[:, None], poses


@lru_cache(maxsize=8)
def shaded_views(split: str, n: int, real: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(shaded views (N, 1, n, n) uint8 0..255, poses (N, 3, 3)) of the split's shapes at the
    poses of `views` (module docstring)."""
    shapes = split_shapes(split, real)
    poses = random_poses(len(shapes), torch.Generator().manual_seed(_SEEDS[split] + 100))
    image = shaded_renders(shapes, poses, n)["image"]
    return (image * (SHADED_LEVELS - 1)).round().to(torch.uint8)[:, None], poses


def shaded_renders(shapes: tuple[Shape, ...] | list[Shape], rotations: torch.Tensor, n: int,
                   light=LIGHT) -> dict[str, torch.Tensor]:
    """Lambertian renders of shapes at view rotations (S, 3, 3) (module docstring), from the
    silhouettes' rays: image (S, n, n) in [0, 1] (AMBIENT + (1 - AMBIENT) max(0, n . l) on
    the silhouette, 0 off it), mask (S, n, n) bool (equal to `silhouettes`), depth (S, n, n)
    (view z of the visible surface, the camera at +z; -inf off the shape) and world normals
    (S, n, n, 3) (zero off the shape)."""
    s = len(shapes)
    q = _ray_points(n)                                                  # [depth, h, w]
    occ = occupied_many(shapes, q[None] @ rotations).reshape(s, 2 * n, n, n)
    mask = occ.any(1)
    step = 1.0 / n                                                      # depth spacing
    k = torch.where(occ, torch.arange(2 * n).view(1, -1, 1, 1), -1).amax(1)  # nearest inside
    lo = -1 + (2 * k.clamp(min=0) + 1) * step / 2                       # inside
    hi = (lo + step).clamp(max=1.0)                                     # the sample before it
    xy = q.reshape(2 * n, n, n, 3)[0, ..., :2]                          # (n, n, 2)
    for _ in range(SURFACE_BISECTIONS):
        mid = (lo + hi) / 2
        view = torch.cat([xy.expand(s, -1, -1, -1), mid[..., None]], -1).reshape(s, -1, 3)
        inside_mid = occupied_many(shapes, view @ rotations).reshape(s, n, n)
        lo, hi = torch.where(inside_mid, mid, lo), torch.where(inside_mid, hi, mid)
    depth = (lo + hi) / 2
    world = (torch.cat([xy.expand(s, -1, -1, -1), depth[..., None]], -1).reshape(s, -1, 3)
             @ rotations)                                               # (S, n*n, 3)
    normals = surface_normals(shapes, world, mask.reshape(s, -1)).reshape(s, n, n, 3)
    l_dir = torch.nn.functional.normalize(torch.as_tensor(light, dtype=torch.float32), dim=0)
    lam = (normals @ l_dir).clamp(min=0)
    image = torch.where(mask, AMBIENT + (1 - AMBIENT) * lam, torch.zeros(()))
    return {"image": image, "mask": mask, "normals": normals,
            "depth": torch.where(mask, depth, torch.full_like(depth, -math.inf))}


def surface_normals(shapes: tuple[Shape, ...] | list[Shape], points: torch.Tensor,
                    valid: torch.Tensor) -> torch.Tensor:
    """Outward unit normals (S, M, 3) at surface points (S, M, 3) of each shape where `valid`
    (S, M) (zero elsewhere): the normalised gradient of a primitive's exact SDF; for a placed
    mesh, R n_m of the mesh normal n_m at its point m = R^T p / s (`mesh_normals`)."""
    out = torch.zeros_like(points)
    for i, shape in enumerate(shapes):
        if not valid[i].any():
            continue
        p = points[i][valid[i]]
        if isinstance(shape, PlacedMesh):
            r = torch.as_tensor(shape.rotation, dtype=p.dtype)
            local = mesh_normals(_mesh(shape.name, str(data_root())), p @ r / shape.scale)
            out[i][valid[i]] = local @ r.T                             # n = R n_m
        else:
            with torch.enable_grad():
                p = p.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(shape.sdf(p).sum(), p)
            out[i][valid[i]] = torch.nn.functional.normalize(grad, dim=-1)
    return out


def mesh_normals(mesh, points: torch.Tensor, samples: int = MESH_NORMAL_SAMPLES) -> torch.Tensor:
    """(N, 3) face normals of a trimesh at points (N, 3) on (or near) its surface: the normal
    of the nearest of `samples` area-uniform surface points (seeded, cached per mesh)."""
    tree, normals = _surface_index(mesh, samples)
    _, idx = tree.query(points.detach().double().numpy())
    return torch.as_tensor(normals[idx], dtype=points.dtype)


_SURFACE_INDEX: dict[tuple[int, int], tuple] = {}


def _surface_index(mesh, samples: int):
    key = (id(mesh), samples)
    if key not in _SURFACE_INDEX:
        import trimesh
        from scipy.spatial import cKDTree

        pts, face = trimesh.sample.sample_surface(mesh, samples, seed=0)
        _SURFACE_INDEX[key] = (cKDTree(np.asarray(pts)),
                               np.asarray(mesh.face_normals, dtype=np.float64)[face], mesh)
    return _SURFACE_INDEX[key][:2]


def is_real(name: str) -> bool:
    """True for the datasets with real meshes mixed in (names ending in "+real", or in
    "+real:shaded")."""
    return name.removesuffix(SHADED_SUFFIX).endswith(REAL_SUFFIX)


def is_shaded(name: str) -> bool:
    """True for the shaded views (names ending in ":shaded")."""
    return name.endswith(SHADED_SUFFIX)


def load(name: str, split: str = "train") -> ArrayDataset:
    if name not in INFOS:
        raise UserError(f"unknown voxel dataset {name!r}; use one of {', '.join(INFOS)}")
    if split not in SPLIT_SIZES:
        raise UserError(f"unknown split {split!r}; use train, valid or test")
    n, real = INFOS[name].data_shape[-1], is_real(name)
    if name.startswith("voxels"):
        x, y = _voxels(split, n, real)
        return ArrayDataset(x, y, INFOS[name], split)
    if is_shaded(name):
        return ArrayDataset(shaded_views(split, n, real)[0], None, INFOS[name], split)
    return ArrayDataset(views(split, n, real)[0], None, INFOS[name], split)


def mesh_voxels(n: int, data_dir: str | Path | None = None,
                names: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
    """{mesh name: (n, n, n) uint8} for the watertight real meshes found on disk (normalised
    to a half-extent of 0.8 by `shapes.load_mesh`), all of the collection's or `names`."""
    from perceptzoo.data.shapes import COLLECTION_MESHES

    check_resolution(n)
    out = {}
    for name in names or COLLECTION_MESHES:
        if name in list_meshes(data_dir):
            mesh = load_mesh(name, data_dir)
            occ = inside(mesh, grid_points(n).reshape(-1, 3))
            out[name] = occ.reshape(n, n, n).to(torch.uint8)
    return out
