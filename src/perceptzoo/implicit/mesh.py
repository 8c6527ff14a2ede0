"""Mesh extraction from any implicit function, with scikit-image's marching cubes.

`extract_mesh(fn, resolution, bounds, level)` evaluates `fn` (points (N, 3) -> values (N,),
a torch module or function, or a numpy function) on a regular grid of resolution^3 points in
the cube `bounds`, in chunks (the grid itself is made chunk by chunk, so memory beyond the
R^3 volume does not grow with the resolution), and runs
marching cubes (Lorensen & Cline 1987; scikit-image's Lewiner et al. 2003 variant) on the
`level` set. The triangles are oriented so that normals point from values below `level`
(inside an SDF) towards values above it; pass `inside="above"` for occupancy-style fields
whose inside is the larger value. Like DeepSDF's `create_mesh`, it takes any points-to-values
callable, so it serves SDF decoders, occupancy logits and analytic shapes alike.

    >>> import torch
    >>> mesh = extract_mesh(lambda p: p.norm(dim=-1) - 0.5, resolution=32)
    >>> bool(abs(mesh.volume - 4 / 3 * 3.14159 * 0.125) < 0.01)
    True
    >>> save_mesh(mesh, "/tmp/sphere.ply")  # or .obj
    '/tmp/sphere.ply'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from perceptzoo.errors import UserError


def grid_points(resolution: int, bounds: tuple[float, float] = (-1.0, 1.0),
                start: int = 0, stop: int | None = None) -> torch.Tensor:
    """Points start..stop-1 of the resolution^3 grid in x-major order, (stop - start, 3)
    (all of it by default): a chunk of the grid without building the whole."""
    stop = resolution**3 if stop is None else stop
    axis = torch.linspace(bounds[0], bounds[1], resolution)
    index = torch.arange(start, stop)
    i, rest = index // (resolution * resolution), index % (resolution * resolution)
    return torch.stack([axis[i], axis[rest // resolution], axis[rest % resolution]], -1)


@torch.no_grad()
def evaluate_grid(fn: Callable, resolution: int, bounds: tuple[float, float] = (-1.0, 1.0),
                  chunk: int = 65_536, device: str | torch.device | None = None,
                  progress: bool | None = None) -> np.ndarray:
    """fn on the grid as a (R, R, R) float32 array (x, y, z axes), `chunk` points at a time:
    beyond the 4 R^3 bytes of the result, memory does not grow with R. `progress`: a bar
    (None: on a terminal, for grids of 128^3 and more)."""
    from tqdm.auto import tqdm

    if device is None and isinstance(fn, torch.nn.Module):
        params = list(fn.parameters())
        device = params[0].device if params else "cpu"
    total = resolution**3
    volume = np.empty(total, dtype=np.float32)
    show = (None if total >= 128**3 else False) if progress is None else progress
    starts = range(0, total, chunk)
    for start in tqdm(starts, desc=f"mesh {resolution}^3", disable=None if show is None
                      else not show, leave=False):
        stop = min(start + chunk, total)
        v = fn(grid_points(resolution, bounds, start, stop).to(device or "cpu"))
        if isinstance(v, np.ndarray):
            v = torch.as_tensor(v)
        volume[start:stop] = v.reshape(-1).float().cpu().numpy()
    return volume.reshape(resolution, resolution, resolution)


def extract_mesh(fn: Callable, resolution: int = 128, bounds: tuple[float, float] = (-1.0, 1.0),
                 level: float = 0.0, *, inside: str = "below", chunk: int = 65_536,
                 device: str | torch.device | None = None):
    """The `level` set of `fn` in the cube `bounds`^3 as a trimesh.Trimesh (outward normals).

    Raises `UserError` when the field never crosses `level` in the cube (no surface).
    """
    import trimesh
    from skimage.measure import marching_cubes

    if inside not in ("below", "above"):
        raise ValueError("inside must be 'below' (SDF) or 'above' (occupancy)")
    if resolution < 2:
        raise UserError("resolution must be at least 2")
    volume = evaluate_grid(fn, resolution, bounds, chunk, device)
    if not np.isfinite(volume).all():
        raise UserError("the field has non-finite values on the grid; the model diverged")
    if not (volume.min() < level < volume.max()):
        raise UserError(f"the field does not cross level {level} in the box {bounds} "
                        f"(values span [{volume.min():.3g}, {volume.max():.3g}]): no surface "
                        "to extract; train longer or choose another level")
    spacing = (bounds[1] - bounds[0]) / (resolution - 1)
    verts, faces, _, _ = marching_cubes(volume, level=level, spacing=(spacing,) * 3)
    verts = verts + bounds[0]
    if inside == "above":
        faces = faces[:, ::-1]
    mesh = trimesh.Trimesh(verts, faces, process=False)
    # skimage orients triangles by the gradient; make normals point outwards (positive volume)
    if mesh.is_watertight and mesh.volume < 0:
        mesh.invert()
    return mesh


#: The mesh files `save_mesh` writes (by suffix), through trimesh.
MESH_SUFFIXES = (".ply", ".obj", ".stl", ".off", ".glb")


def save_mesh(mesh, path: str | Path) -> str:
    """Write a mesh as .ply, .obj, .stl, .off or .glb (by suffix) through trimesh, atomically;
    returns the path."""
    from perceptzoo.io import atomic_write

    path = Path(path)
    kind = path.suffix.lower()
    if kind not in MESH_SUFFIXES:
        raise UserError(f"write meshes as {', '.join(MESH_SUFFIXES[:-1])} or "
                        f"{MESH_SUFFIXES[-1]} (by the file's suffix), got {path.name!r}")
    atomic_write(path, lambda tmp: mesh.export(tmp, file_type=kind[1:]))
    return str(path)
