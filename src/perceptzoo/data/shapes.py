"""Shapes for implicit models: primitives with exact SDFs, real meshes, procedural collections.

The signed distance of a point x to a closed surface S is

    sdf(x) = s(x) * min_{y in S} ||x - y||,   s(x) = -1 inside, +1 outside,

and its occupancy o(x) = [sdf(x) < 0]. For meshes the distance is trimesh's exact closest
point on the triangles; the sign is trimesh's ray test (`mesh.contains`, fast with embreex) or,
without embree, the parity of a ray's crossings with triangles binned on a grid
(`ray_parity_inside`). The generalised winding number w(x) = (1/4pi) sum_f Omega_f(x)
(Jacobson et al. 2013; Omega_f is a triangle's solid angle, van Oosterom & Strackee 1983),
inside when w > 1/2, is the slow O(points x faces) reference the tests compare with. All
need a watertight mesh: `load_mesh` merges seam-split vertices, tries
trimesh's hole filling, and refuses the mesh with a `UserError` when it stays open. Every
mesh query works on fixed-size chunks of points, so its memory does not grow with the number
of points asked for.

Analytic SDFs (sphere, box, torus, capsule) are exact and are what the tests check against.
Samples follow DeepSDF (Park et al. 2019, sec. 5): most points near the surface (surface
points plus Gaussian noise at two scales) and some uniform in the box [-1, 1]^3.

Datasets of the implicit family (`dataset_names()`, listed by `perceptzoo list`):
"sphere", "box", "torus", "capsule" (canonical primitives with analytic SDFs), "mesh:<name>"
for the real meshes in $PERCEPTZOO_DATA/meshes (normalised so that the bounding box is
centred and its largest half-extent is 0.8), and the collections "shapes" (64 randomly sized
and rotated primitives; its test split is 16 more with a disjoint seed), "shapes:N" (N train
shapes), "shapes+meshes" (the watertight real meshes added to the train split) and
"shapes+real" / "shapes:N+real" (the catalogue plus three real meshes for training, two other
real meshes held out as the test split; see `shape_collection` and `REAL_TRAIN`).
Cameras and renders of these shapes are in `perceptzoo.implicit.cameras`.

    >>> shape = get_shape("torus")
    >>> s = sample_sdf(shape, num_uniform=100, num_near=100, seed=0)
    >>> s["points"].shape, s["sdf"].shape
    (torch.Size([200, 3]), torch.Size([200]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from perceptzoo.errors import UserError

PRIMITIVES = ("sphere", "box", "torus", "capsule")
BOX = (-1.0, 1.0)  # every shape lives in [-1, 1]^3
#: the scene's fixed world light direction (unit): the implicit family's ground-truth renders
#: (`implicit.cameras`) and the shaded voxel views (`data.voxels`) are lit by it
LIGHT = (0.4, 0.3, 0.866)
MESH_SCALE = 0.8  # largest half-extent of a normalised real mesh
CHUNK = 16_384  # points per mesh query
#: points per closest-point query: trimesh gathers candidate triangles for each point, and for
#: points far from a large mesh there are thousands (measured: 10,000 uniform points on the
#: 100k-face armadillo peaked near 10 GB in chunks of 16,384, 3.4 GB in chunks of 2,048)
SDF_CHUNK = 2_048
COLLECTION_MESHES = ("bunny-watertight", "spot", "cow", "dragon", "armadillo")
#: "shapes+real": real meshes that join the catalogue's train split ...
REAL_TRAIN = ("armadillo", "dragon", "cow")
#: ... and the real meshes that are its test split, never trained on. Of the seven shared
#: meshes the other two are in neither: stanford-bunny is a scan of the held-out bunny (the
#: same object: training on it would leak the test shape), and it and teapot are open (no
#: inside, so no occupancy or SDF to train on).
REAL_HELDOUT = ("bunny-watertight", "spot")
REAL_EXCLUDED = ("stanford-bunny", "teapot")


# -- analytic signed distances (torch, points (..., 3) -> (...)) ----------------------------
def sdf_sphere(p: torch.Tensor, radius: float = 0.5) -> torch.Tensor:
    return p.norm(dim=-1) - radius


def sdf_box(p: torch.Tensor, half: tuple[float, float, float] = (0.4, 0.3, 0.5)) -> torch.Tensor:
    q = p.abs() - torch.as_tensor(half, dtype=p.dtype, device=p.device)
    outside = q.clamp(min=0).norm(dim=-1)
    inside = q.max(dim=-1).values.clamp(max=0)
    return outside + inside


def sdf_torus(p: torch.Tensor, major: float = 0.5, minor: float = 0.2) -> torch.Tensor:
    """Torus around the z axis, its ring in the xy plane (trimesh's convention)."""
    ring = p[..., :2].norm(dim=-1) - major
    return torch.stack([ring, p[..., 2]], -1).norm(dim=-1) - minor


def sdf_capsule(p: torch.Tensor, height: float = 0.8, radius: float = 0.3) -> torch.Tensor:
    """Segment from (0,0,-h/2) to (0,0,h/2) thickened by `radius` (trimesh's convention)."""
    z = p[..., 2].clamp(-height / 2, height / 2)
    axis_point = torch.stack([torch.zeros_like(z), torch.zeros_like(z), z], -1)
    return (p - axis_point).norm(dim=-1) - radius


@dataclass
class Primitive:
    """A primitive with parameters, rotated by `rotation` (3x3) and moved to `center`."""

    kind: str
    params: tuple[float, ...]
    rotation: tuple[tuple[float, ...], ...] = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    center: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def sdf(self, points: torch.Tensor) -> torch.Tensor:
        r = torch.as_tensor(self.rotation, dtype=points.dtype, device=points.device)
        c = torch.as_tensor(self.center, dtype=points.dtype, device=points.device)
        local = (points - c) @ r  # world -> local: R^T (x - c), written for row vectors
        fn = {"sphere": sdf_sphere, "box": sdf_box, "torus": sdf_torus,
              "capsule": sdf_capsule}[self.kind]
        if self.kind == "box":
            return fn(local, tuple(self.params))
        return fn(local, *self.params)

    def mesh(self, detail: int = 64):
        import trimesh

        if self.kind == "sphere":
            m = trimesh.creation.icosphere(subdivisions=5, radius=self.params[0])
        elif self.kind == "box":
            m = trimesh.creation.box(extents=[2 * h for h in self.params])
        elif self.kind == "torus":
            m = trimesh.creation.torus(self.params[0], self.params[1], major_sections=detail,
                                       minor_sections=detail // 2)
        else:
            m = trimesh.creation.capsule(height=self.params[0], radius=self.params[1],
                                         count=[detail, detail])
        transform = np.eye(4)
        transform[:3, :3] = np.asarray(self.rotation)
        transform[:3, 3] = self.center
        m.apply_transform(transform)
        return m


CANONICAL = {
    "sphere": Primitive("sphere", (0.5,)),
    "box": Primitive("box", (0.4, 0.3, 0.5)),
    "torus": Primitive("torus", (0.5, 0.2)),
    "capsule": Primitive("capsule", (0.8, 0.3)),
}


# -- shapes -------------------------------------------------------------------------------
@dataclass
class Shape:
    """A closed surface: its mesh and, for primitives, its exact SDF."""

    name: str
    mesh: object  # trimesh.Trimesh, watertight, inside [-1, 1]^3
    analytic: Primitive | None = None

    def sdf(self, points: torch.Tensor) -> torch.Tensor:
        """Signed distance at points (N, 3): analytic when known, else from the mesh."""
        if self.analytic is not None:
            return self.analytic.sdf(points)
        return mesh_sdf(self.mesh, points)

    def occupancy(self, points: torch.Tensor) -> torch.Tensor:
        """1.0 inside, 0.0 outside, at points (N, 3)."""
        if self.analytic is not None:
            return (self.analytic.sdf(points) < 0).float()
        return inside(self.mesh, points).float()

    def surface(self, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """n points uniformly on the surface (by area) and their outward unit normals."""
        return surface_points(self, n, seed)


def data_root(data_dir: str | Path | None = None) -> Path:
    """The data folder (`data_dir`, else $PERCEPTZOO_DATA, else the user cache)."""
    from perceptzoo.data.base import data_dir as default_dir

    return default_dir(data_dir)


def list_meshes(data_dir: str | Path | None = None) -> list[str]:
    folder = data_root(data_dir) / "meshes"
    return sorted(p.stem for p in folder.glob("*.obj")) if folder.is_dir() else []


def normalize_mesh(mesh, scale: float = MESH_SCALE):
    """Centre the bounding box at the origin and scale its largest half-extent to `scale`."""
    lo, hi = mesh.bounds
    mesh = mesh.copy()
    mesh.apply_translation(-(lo + hi) / 2)
    mesh.apply_scale(scale / (max(hi - lo) / 2))
    return mesh


#: sha256 of the shared data's meshes (the data README's table), checked on first use.
MESH_SHA256 = {
    "stanford-bunny": "1eb35d1e21ce99e5ce911353b6be278990713448dd9e8f5c9387f9de39b32205",
    "bunny-watertight": "0d3c1c1b13861c03579b42ca8bb3ad0b8d5de14d307dbebc359a696795645605",
    "armadillo": "fd25edd020bef63a5999073774ef4f0775d6ce96b7b17370e69019585f953508",
    "dragon": "4af53808c59f86a5a69c40c6946d4a7bc85749a071c7f013503862b1e6c167fa",
    "spot": "0738b5e8608fed74e5e8c7aa8dd0af97b4b74f9f6cbf7aac84cd7e40b2e44a75",
    "teapot": "1b5396fedd74b577e32cef41146582c2f2e1a050d5b4915193c0ac1ad4187ed4",
    "cow": "69afce548640bc2beb0c44894d1a24d5766cc9cd3fd74f3ec55b4e229104b23f",
}


def load_mesh(name: str, data_dir: str | Path | None = None, *, watertight: bool = True):
    """The real mesh `name` (file meshes/<name>.obj), normalised; watertight or a UserError.
    The shared meshes are checked against their pinned sha256 on first use; any mesh that
    cannot be read as triangles is a UserError naming the file."""
    import trimesh

    from perceptzoo.data.base import check_once, file_sha256

    path = data_root(data_dir) / "meshes" / f"{name}.obj"
    if not path.exists():
        known = ", ".join(list_meshes(data_dir)) or "none"
        raise UserError(f"no mesh {path} (set PERCEPTZOO_DATA or --data-dir to the folder "
                        f"holding meshes/); available: {known}")
    if name in MESH_SHA256:
        check_once(path, lambda: None if file_sha256(path) == MESH_SHA256[name] else
                   "its sha256 is not the pinned one")
    try:
        raw = trimesh.load(path, force="mesh", process=False)
        if len(raw.faces) == 0:
            raise ValueError("no faces")
    except Exception as err:  # noqa: BLE001 - trimesh raises many types on a broken file
        raise UserError(f"{path} is not a readable triangle mesh ({type(err).__name__}: "
                        f"{err}); copy an intact .obj there") from None
    # rebuild from positions only: merges the vertices OBJ files split at UV seams
    mesh = trimesh.Trimesh(np.asarray(raw.vertices), np.asarray(raw.faces), process=True)
    if watertight and not mesh.is_watertight:
        trimesh.repair.fill_holes(mesh)
    if watertight and not mesh.is_watertight:
        raise UserError(f"mesh {name!r} is not watertight (some edges bound one face), so its "
                        "inside is undefined and it has no SDF or occupancy; use a watertight "
                        "mesh such as mesh:bunny-watertight, or fit it from points with igr")
    if watertight:
        trimesh.repair.fix_normals(mesh)
    return normalize_mesh(mesh)


def get_shape(name: str, data_dir: str | Path | None = None) -> Shape:
    """A named shape: a primitive ("sphere", "box", "torus", "capsule") or "mesh:<name>"."""
    if name in CANONICAL:
        prim = CANONICAL[name]
        return Shape(name, prim.mesh(), prim)
    if name.startswith("mesh:"):
        return Shape(name, load_mesh(name[5:], data_dir))
    raise UserError(f"unknown shape {name!r}; use one of {', '.join(PRIMITIVES)}, "
                    f"mesh:<name> ({', '.join(list_meshes(data_dir)) or 'no meshes found'}), "
                    "or a collection: shapes, shapes:N, shapes+meshes, shapes+real, "
                    "shapes:N+real")


def random_primitive(rng: np.random.Generator) -> Primitive:
    """A randomly sized and rotated primitive that fits well inside [-0.9, 0.9]^3."""
    kind = PRIMITIVES[rng.integers(len(PRIMITIVES))]
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    if kind == "sphere":
        params = (rng.uniform(0.3, 0.7),)
    elif kind == "box":
        params = tuple(rng.uniform(0.15, 0.45, size=3))
    elif kind == "torus":
        major = rng.uniform(0.35, 0.55)
        params = (major, rng.uniform(0.08, min(0.25, 0.85 - major)))
    else:
        radius = rng.uniform(0.15, 0.3)
        params = (rng.uniform(0.2, 2 * (0.8 - radius)), radius)
    rotation = tuple(tuple(float(v) for v in row) for row in rot)
    return Primitive(kind, tuple(float(p) for p in params), rotation)


def shape_collection(name: str, split: str = "train", data_dir: str | Path | None = None,
                     num_test: int = 16) -> list[Shape]:
    """Shapes of a dataset name: one named shape, or the procedural collection's split.

    "shapes" (64 train shapes), "shapes:N" (N train shapes); test is `num_test` more with a
    different seed. "shapes+meshes" adds the watertight real meshes to train.

    "shapes+real" and "shapes:N+real": real meshes beside the catalogue, with a held-out real
    test split. train = the catalogue's 64 (or N) primitives followed by the real meshes
    `REAL_TRAIN` (armadillo, dragon, cow); test = the real meshes `REAL_HELDOUT`
    (bunny-watertight, spot) and nothing else; valid = the catalogue's valid primitives.
    The held-out meshes are never loaded for the train split, and `REAL_EXCLUDED`
    (stanford-bunny: the same bunny, scanned; teapot: open) is never used. Every mesh is
    normalised as `load_mesh` does for "mesh:<name>" (bounding box centred, largest
    half-extent 0.8: inside the [-1, 1]^3 box of the catalogue, whose primitives fit in
    [-0.9, 0.9]^3), and each model draws its occupancy / SDF samples from these shapes
    exactly as from the primitives (`sample_sdf`: the mesh's exact distance and inside test
    in place of the analytic SDF). The five meshes are required: without the shared data
    this is a UserError, not a silently smaller set.
    """
    if not is_collection(name):
        return [get_shape(name, data_dir)]
    base = name[:-len("+real")] if name.endswith("+real") else name
    num_train = 64
    if base.startswith("shapes:"):
        try:
            num_train = int(base.split(":", 1)[1])
        except ValueError:
            raise UserError(f"{name!r}: write shapes:N (or shapes:N+real) with N a whole "
                            "number") from None
        if num_train < 0:
            raise UserError(f"{name!r}: N is a count of shapes, at least 0")
    if name.endswith("+real"):
        if split == "test":
            return [get_shape(f"mesh:{m}", data_dir) for m in _real_meshes(REAL_HELDOUT,
                                                                            data_dir)]
        real = ([get_shape(f"mesh:{m}", data_dir) for m in _real_meshes(REAL_TRAIN, data_dir)]
                if split == "train" else [])
        return _primitives(num_train if split == "train" else num_test, split) + real
    count = num_train if split == "train" else num_test
    shapes = _primitives(count, split)
    if name == "shapes+meshes" and split == "train":
        for mesh_name in COLLECTION_MESHES:
            if mesh_name in list_meshes(data_dir):
                shapes.append(get_shape(f"mesh:{mesh_name}", data_dir))
    return shapes


def _primitives(count: int, split: str) -> list[Shape]:
    """The catalogue's `count` random primitives of a split (seeded by the split)."""
    rng = np.random.default_rng({"train": 1, "valid": 2, "test": 3}.get(split, 3) * 7919)
    shapes = []
    for i in range(count):
        prim = random_primitive(rng)
        shapes.append(Shape(f"{prim.kind}-{split}-{i}", prim.mesh(detail=48), prim))
    return shapes


def _real_meshes(names: tuple[str, ...], data_dir: str | Path | None) -> tuple[str, ...]:
    """`names`, after checking that every one is on disk (a UserError naming the missing)."""
    found = set(list_meshes(data_dir))
    missing = [m for m in names if m not in found]
    if missing:
        raise UserError(
            f"shapes+real needs the real meshes {', '.join(names)} but "
            f"{', '.join(m + '.obj' for m in missing)} are not in {data_root(data_dir) / 'meshes'}"
            "; set PERCEPTZOO_DATA (or --data-dir) to the shared data folder holding meshes/, "
            "or train on the catalogue alone (dataset shapes)")
    return names


def is_collection(name: str) -> bool:
    """True for the dataset names of shape collections (shapes, shapes:N, shapes+meshes,
    shapes+real, shapes:N+real)."""
    base = name[:-len("+real")] if name.endswith("+real") else name
    return base == "shapes" or base.startswith("shapes:") or name == "shapes+meshes"


def dataset_names(data_dir: str | Path | None = None) -> list[str]:
    """Every shape dataset name: primitives, collections and the meshes found on disk."""
    return [*PRIMITIVES, "shapes", "shapes:N", "shapes+meshes", "shapes+real", "shapes:N+real",
            *(f"mesh:{m}" for m in list_meshes(data_dir))]


# -- ground truth from meshes ---------------------------------------------------------------
def has_embree() -> bool:
    try:
        import trimesh

        return bool(trimesh.ray.has_embree)
    except Exception:
        return False


def winding_number(mesh, points: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Generalised winding number at points (N, 3): ~1 inside a closed mesh, ~0 outside."""
    tri = torch.as_tensor(np.asarray(mesh.vertices)[np.asarray(mesh.faces)], dtype=torch.float64)
    budget = max(1, 1_000_000 // len(tri))  # points per chunk: (points, faces) arrays < 80 MB
    out = []
    for p in points.to(torch.float64).split(min(chunk, budget)):
        v = tri[None] - p[:, None, None]  # (n, F, 3 corners, 3)
        a, b, c = v[:, :, 0], v[:, :, 1], v[:, :, 2]
        la, lb, lc = a.norm(dim=-1), b.norm(dim=-1), c.norm(dim=-1)
        det = (a * torch.cross(b, c, dim=-1)).sum(-1)
        den = (la * lb * lc + (a * b).sum(-1) * lc + (b * c).sum(-1) * la
               + (c * a).sum(-1) * lb)
        out.append(torch.atan2(det, den).sum(-1) / (2 * math.pi))  # sum Omega/(4 pi)
    return torch.cat(out).to(points.dtype)


def ray_parity_inside(mesh, points: torch.Tensor, cells: int = 64) -> torch.Tensor:
    """Bool (N,): points inside a watertight mesh by the parity of the crossings of a ray
    from each point along +x (Jordan's theorem).

    Triangles are binned by their bounding boxes on a `cells` x `cells` grid over the yz
    plane, so a ray is tested only against the triangles of its cell (a few dozen, not all
    F): O(N x F / cells^2) work and memory, where the winding number needs O(N x F). A ray
    meets a triangle when its (y, z) is strictly inside the triangle's yz projection and the
    hit lies ahead of it; rays through an edge or a vertex exactly (measure zero for random
    points) are the one degenerate case.
    """
    tri = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]  # (F, 3, 3)
    p = points.detach().cpu().double().numpy()  # (N, 3)
    out = np.zeros(len(p), dtype=bool)
    if len(p) == 0 or len(tri) == 0:
        return torch.as_tensor(out)
    yz_lo = np.minimum(tri[:, :, 1:].min((0, 1)), p[:, 1:].min(0))
    yz_hi = np.maximum(tri[:, :, 1:].max((0, 1)), p[:, 1:].max(0))
    size = (yz_hi - yz_lo) / cells + 1e-12  # (2,)
    t_lo = np.clip(((tri[:, :, 1:].min(1) - yz_lo) / size).astype(np.int64), 0, cells - 1)
    t_hi = np.clip(((tri[:, :, 1:].max(1) - yz_lo) / size).astype(np.int64), 0, cells - 1)
    span = t_hi - t_lo + 1  # (F, 2) cells covered along y and z
    counts = span[:, 0] * span[:, 1]
    face = np.repeat(np.arange(len(tri)), counts)  # one row per (triangle, cell) pair
    local = np.arange(len(face)) - np.repeat(np.cumsum(counts) - counts, counts)
    cy = t_lo[face, 0] + local // span[face, 1]
    cz = t_lo[face, 1] + local % span[face, 1]
    cell = cy * cells + cz
    order = np.argsort(cell, kind="stable")
    face, cell = face[order], cell[order]
    p_cell = (np.clip(((p[:, 1:] - yz_lo) / size).astype(np.int64), 0, cells - 1)
              * np.array([cells, 1])).sum(1)
    for c in np.unique(p_cell):
        idx = np.nonzero(p_cell == c)[0]
        cand = face[np.searchsorted(cell, c, "left"):np.searchsorted(cell, c, "right")]
        if len(cand) == 0:
            continue
        a, b, cc = tri[cand, 0], tri[cand, 1], tri[cand, 2]  # (T, 3) each
        q = p[idx, None, 1:]  # (n, 1, 2)

        w_c, w_a, w_b = _edge(a, b, q), _edge(b, cc, q), _edge(cc, a, q)  # opposite c, a, b
        area = w_a + w_b + w_c
        within = ((w_a > 0) & (w_b > 0) & (w_c > 0)) | ((w_a < 0) & (w_b < 0) & (w_c < 0))
        safe = np.where(area == 0, 1.0, area)
        x_hit = (w_a * a[:, 0] + w_b * b[:, 0] + w_c * cc[:, 0]) / safe  # barycentric x
        hits = within & (x_hit > p[idx, None, 0])
        out[idx] = hits.sum(1) % 2 == 1
    return torch.as_tensor(out)


def _edge(u: np.ndarray, v: np.ndarray, q: np.ndarray) -> np.ndarray:
    """2D cross product (v - u) x (q - u) in the yz plane: vertices (T, 3), q (n, 1, 2) ->
    (n, T); positive when q is to the left of the edge u -> v."""
    return ((v[:, 1] - u[:, 1]) * (q[..., 1] - u[:, 2])
            - (v[:, 2] - u[:, 2]) * (q[..., 0] - u[:, 1]))


def inside(mesh, points: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """Bool (N,): points inside a watertight mesh (embree ray test, else the binned ray
    parity test), `chunk` points at a time."""
    points = points.detach().cpu()
    test = ((lambda p: torch.as_tensor(mesh.contains(p.double().numpy()))) if has_embree()
            else (lambda p: ray_parity_inside(mesh, p)))
    parts = [test(p) for p in points.split(chunk)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.bool)


def mesh_sdf(mesh, points: torch.Tensor, chunk: int = SDF_CHUNK) -> torch.Tensor:
    """Exact signed distance to a watertight mesh at points (N, 3), negative inside
    (`chunk` points at a time: trimesh's closest-point query holds candidate triangles for
    every point it is given; see `SDF_CHUNK`)."""
    import trimesh

    out = []
    for p in points.detach().cpu().split(chunk):
        _, dist, _ = trimesh.proximity.closest_point(mesh, p.double().numpy())
        sign = 1.0 - 2.0 * inside(mesh, p).double().numpy()
        out.append(torch.as_tensor(sign * dist, dtype=points.dtype))
    return torch.cat(out) if out else torch.zeros(0, dtype=points.dtype)


def surface_points(shape: Shape, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n area-uniform surface points and outward normals; primitives projected exactly."""
    import trimesh

    pts, face = trimesh.sample.sample_surface(shape.mesh, n, seed=seed)
    pts = torch.as_tensor(np.asarray(pts), dtype=torch.float32)
    if shape.analytic is None:
        normals = torch.as_tensor(np.asarray(shape.mesh.face_normals)[face], dtype=torch.float32)
        return pts, normals
    # project onto the exact surface along the analytic gradient (one Newton step is exact
    # for an SDF) and take the gradient there as the normal
    for _ in range(2):
        p = pts.double().requires_grad_(True)
        d = shape.analytic.sdf(p)
        (g,) = torch.autograd.grad(d.sum(), p)
        pts = (p - d[:, None] * g).detach().float()
    p = pts.double().requires_grad_(True)
    (g,) = torch.autograd.grad(shape.analytic.sdf(p).sum(), p)
    return pts, torch.nn.functional.normalize(g, dim=-1).float()


def uniform_points(n: int, generator: torch.Generator | None = None,
                   bounds: tuple[float, float] = BOX) -> torch.Tensor:
    lo, hi = bounds
    return lo + (hi - lo) * torch.rand(n, 3, generator=generator)


def sample_sdf(shape: Shape, num_uniform: int = 25_000, num_near: int = 225_000,
               sigmas: tuple[float, ...] = (0.05, 0.0158), seed: int = 0) -> dict:
    """DeepSDF-style samples: surface points jittered at each sigma, plus uniform box points.

    Returns points (N, 3), sdf (N,), occupancy (N,) (1 inside), as float32 tensors.
    """
    g = torch.Generator().manual_seed(seed)
    per = [num_near // len(sigmas)] * len(sigmas)
    per[0] += num_near - sum(per)
    surf, _ = surface_points(shape, num_near, seed=seed) if num_near else (torch.zeros(0, 3), None)
    chunks, start = [], 0
    for sigma, k in zip(sigmas, per):
        chunks.append(surf[start:start + k] + sigma * torch.randn(k, 3, generator=g))
        start += k
    chunks.append(uniform_points(num_uniform, g))
    points = torch.cat(chunks).clamp(*BOX)
    sdf = shape.sdf(points).float()
    return {"points": points, "sdf": sdf, "occupancy": (sdf < 0).float()}
