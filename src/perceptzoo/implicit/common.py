"""The field contract (`perceptzoo.core.contracts.FieldModel`) written once for the family.

Every implicit model subclasses `ImplicitField` and writes in its own file only what is its
own algorithm:

    level, inside                      the surface is {x : f(x) = level}; inside "below" (an
                                       SDF) or "above" (occupancy logits)
    single_shape                       fits one shape (IGR, DVR) or a collection (DeepSDF, ONet)
    make_dataset(shapes, seed) -> dict         its training data, drawn once from the shapes
    batch(data, generator, batch_size)         one batch; `batch_size` is the Trainer's
                                       (points for IGR, shapes for DeepSDF / ONet, rays for DVR)
    loss(batch) -> LossOutput          its objective
    shape_field(shapes, index, split, seed, settings) -> Field
                                       the points (N, 3) -> values (N,) function of one shape
                                       (a code fitted or encoded for held-out shapes)

From these this module gives what the runner asks of a field model: `data_source` (batches
that are a pure function of the step: a generator seeded from (seed, step), so a resumed run
draws what the uninterrupted one did), `configure_optimizers` (Adam at the Trainer's lr),
`evaluate_shapes` (Chamfer-L1/L2, normal consistency, F-score@1 %, volumetric IoU) and
`write_samples` (a .ply/.obj mesh and a turntable views.png beside it, or a .png of
turntables). Public helpers other code may use: `score_field` (metrics of one field against
one shape), `save_views` (turntable PNG of a mesh), `EvalSettings` with `QUICK` and `FULL`.

Evaluation cost. The default evaluation (`QUICK`) is sized to take at most about a fifth of
a short training run (measured: `perceptzoo train deepsdf --steps 300` trained in 167 s and
scored its 16 held-out shapes in 35 s of CPU time, 0.21 of it; peak memory 0.95 GB):
marching cubes at 40^3, 30,000 surface points per mesh, 16,384 IoU points, DeepSDF codes of
held-out shapes fitted for 40 steps of 800 samples; the metrics say `"full": false`.
`full=True` (`FULL`) is the protocol of the benchmark figures: 128^3, 100,000 IoU points (as
ONet), 400 fitting steps of 4,000 samples. Measured on the exact SDFs of the 16 held-out
"shapes", the floor the extraction and sampling put under Chamfer-L1 is 0.0050 at 40^3 and
0.0043 at 128^3 (F-score@1 %: 0.95 and 0.97; IoU 1.0 for both); a trained field's quick and
full figures differ more where its surface has detail finer than the coarse grid.

Memory is bounded by fixed chunks: every field is evaluated `CHUNK` points at a time, the
marching-cubes grid is generated chunk by chunk and mesh queries (occupancy, SDF) work on
chunks too, so beyond the R^3 float32 volume marching cubes needs, nothing grows with the
resolution or the point counts (a test holds each model's default evaluation under 2 GB).

    perceptzoo train igr --dataset mesh:bunny-watertight --steps 2000
    perceptzoo eval runs/igr-mesh_bunny-watertight          # Chamfer, IoU, normals, F-score
    perceptzoo sample runs/igr-mesh_bunny-watertight --out bunny.ply   # or .obj, or .png views
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from perceptzoo.data import shapes as shape_data
from perceptzoo.data.shapes import Shape
from perceptzoo.errors import UserError
from perceptzoo.implicit.cameras import orbit_cameras, render_mesh
from perceptzoo.implicit.mesh import extract_mesh, save_mesh
from perceptzoo.metrics.geometry import compare_surfaces

Field = Callable[[torch.Tensor], torch.Tensor]  # points (N, 3) -> values (N,)

EVAL_SEED = 20_000  # shape i of an evaluation is observed with seed EVAL_SEED + i
FSCORE_TAU = 0.01  # in the [-1, 1]^3 box: 0.5 % of its side
CHUNK = 65_536  # points per forward pass in evaluation and mesh extraction
MESH_RESOLUTION = 64  # marching cubes grid of the meshes `write_samples` writes


@dataclass(frozen=True)
class EvalSettings:
    """How thoroughly `evaluate_shapes` scores a field (see the module docstring)."""

    resolution: int
    """marching cubes grid per axis"""
    surface_points: int
    """points sampled on each surface for Chamfer, normals and F-score"""
    iou_points: int
    """uniform box points for volumetric IoU"""
    fit_steps: int
    """DeepSDF: Adam steps fitting a held-out shape's code"""
    fit_points: int
    """DeepSDF: SDF samples per fitting step"""


QUICK = EvalSettings(resolution=40, surface_points=30_000, iou_points=16_384, fit_steps=40,
                     fit_points=800)
FULL = EvalSettings(resolution=128, surface_points=30_000, iou_points=100_000, fit_steps=400,
                    fit_points=4_000)


class FieldSource:
    """Batches of a field model: `batch_at(step)` draws with a generator seeded from
    (seed, step), so it is a pure function of the step; `len` is the training items."""

    def __init__(self, model: ImplicitField, data: dict, seed: int, batch_size: int,
                 length: int):
        self.model, self.data, self.seed, self.batch_size, self.length = (
            model, data, seed, batch_size, length)

    def batch_at(self, step: int) -> Any:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        return self.model.batch(self.data, g, self.batch_size)

    def __len__(self) -> int:
        return self.length


class ImplicitField(nn.Module):
    """Base of the implicit family's models: the runner's field contract from the hooks in
    the module docstring."""

    level: float = 0.0
    inside: str = "below"
    single_shape: bool = False

    # -- what each model writes ---------------------------------------------------------------
    def make_dataset(self, shapes: list[Shape], seed: int = 0) -> dict:
        raise NotImplementedError

    def batch(self, data: dict, generator: torch.Generator, batch_size: int) -> Any:
        raise NotImplementedError

    def shape_field(self, shapes: list[Shape], index: int, split: str, seed: int,
                    settings: EvalSettings) -> Field:
        """The field of shape `index` of `shapes` (training shapes when split is "train")."""
        return self.field

    def field(self, points: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def num_items(self, data: dict) -> int:
        """Training items in `data` (points, shapes or rays): the source's length."""
        return len(next(iter(data.values())))

    # -- shapes ---------------------------------------------------------------------------------
    def shapes(self, dataset: str, split: str, data_dir: str | Path | None) -> list[Shape]:
        """The shapes of a dataset name and split (one named shape for single-shape models)."""
        if self.single_shape and shape_data.is_collection(dataset):
            raise UserError(
                f"{type(self).__name__} fits one shape; name one (sphere, torus, "
                f"mesh:bunny-watertight, ...) instead of the collection {dataset!r}")
        return shape_data.shape_collection(dataset, split, data_dir)

    # -- the runner's contract ------------------------------------------------------------------
    def data_source(self, dataset: str, split: str, data_dir: str | Path | None, seed: int,
                    batch_size: int) -> FieldSource:
        """Training batches drawn from the shapes of `dataset` (see `FieldSource`)."""
        data = self.make_dataset(self.shapes(dataset, split, data_dir), seed=seed)
        return FieldSource(self, data, seed, batch_size, self.num_items(data))

    def configure_optimizers(self, train_cfg: Any) -> list[torch.optim.Optimizer]:
        """Adam at the Trainer's learning rate (the optimiser of every paper of the family)."""
        return [torch.optim.Adam(self.parameters(), lr=train_cfg.lr,
                                 weight_decay=train_cfg.weight_decay)]

    def evaluate_shapes(self, dataset: str, split: str, data_dir: str | Path | None, *,
                        num_shapes: int = 16, full: bool = False) -> dict[str, Any]:
        """Mesh metrics averaged over the first `num_shapes` shapes of `split` (one-shape
        datasets: that shape). Held-out shapes of a collection get a code fitted with the
        decoder frozen (DeepSDF) or encoded from a new observation (ONet). `full`: the
        benchmark protocol (`FULL`) instead of the quick one (`QUICK`); so does a config
        with `full_eval=True` (`perceptzoo train NAME --set full_eval=true`)."""
        full = full or bool(getattr(self.cfg, "full_eval", False))
        settings = FULL if full else QUICK
        collection = shape_data.is_collection(dataset)
        use_split = split if collection else "train"
        shapes = self.shapes(dataset, use_split, data_dir)[:max(1, num_shapes)]
        start, rows = time.time(), []
        self.eval()
        bar = tqdm(range(len(shapes)), desc="evaluating shapes", disable=None, leave=False)
        for i in bar:
            fn = self.shape_field(shapes, i, use_split, EVAL_SEED, settings)
            rows.append(score_field(fn, self, shapes[i], settings, seed=i))
        bar.close()
        keys = sorted({k for r in rows for k in r})
        metrics: dict[str, Any] = {k: _mean([r.get(k, np.nan) for r in rows]) for k in keys}
        metrics.update(split=use_split, num_shapes=len(rows), full=full,
                       eval_time_s=round(time.time() - start, 1))
        return metrics

    def write_samples(self, dataset: str, data_dir: str | Path | None, *, num_samples: int = 1,
                      out: str | Path = "mesh.ply", seed: int = 0,
                      resolution: int | None = None) -> str:
        """The surface of training shape `seed` (mod their number) as .ply/.obj, with its
        turntable views.png beside it; or, for a .png, turntables of the first `num_samples`
        shapes (up to 8) from shape `seed` on, one row each."""
        resolution = resolution or MESH_RESOLUTION
        shapes = self.shapes(dataset, "train", data_dir)
        up = "y" if dataset.startswith("mesh:") else "z"  # the scanned meshes are y-up
        out = Path(out)
        self.eval()
        if out.suffix.lower() == ".png":
            rows = []
            for k in range(min(num_samples, len(shapes), 8)):
                i = (seed + k) % len(shapes)
                mesh = self.extract(self.shape_field(shapes, i, "train", seed, QUICK),
                                    resolution)
                rows.append(turntable(mesh, up=up))
            out.parent.mkdir(parents=True, exist_ok=True)
            _save_png(np.concatenate(rows, 0), out)
            return f"wrote turntable views of {len(rows)} shape(s) to {out}"
        i = seed % len(shapes)
        mesh = self.extract(self.shape_field(shapes, i, "train", seed, QUICK), resolution)
        save_mesh(mesh, out)
        views = out.with_name("views.png" if out.stem == "mesh" else f"{out.stem}-views.png")
        save_views(mesh, views, up=up)
        return (f"wrote the surface of {shapes[i].name} ({len(mesh.faces)} faces) to {out} "
                f"and its views to {views}")

    def extract(self, fn: Field, resolution: int):
        """Marching cubes of `fn` at this model's level set (a trimesh.Trimesh)."""
        device = next(self.parameters()).device
        return extract_mesh(fn, resolution, level=self.level, inside=self.inside,
                            chunk=CHUNK, device=device)


def _mean(values: list[float]) -> float:
    """Mean over the shapes that have the metric (no surface: no Chamfer); NaN if none has."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


@torch.no_grad()
def field_values(fn: Field, points: torch.Tensor, device: torch.device | str = "cpu"
                 ) -> torch.Tensor:
    """fn at points (N, 3), `CHUNK` points at a time, on the CPU as (N,)."""
    return torch.cat([fn(p.to(device)).reshape(-1).float().cpu() for p in points.split(CHUNK)])


def score_field(fn: Field, model: ImplicitField, shape: Shape,
                settings: EvalSettings = QUICK, seed: int = 0, mesh=None) -> dict[str, float]:
    """Chamfer-L1/L2, accuracy, completeness, normal consistency, F-score@1 % and (watertight
    ground truth) volumetric IoU of one field against one shape (`mesh`: the field's surface
    when already extracted, else marching cubes at `settings.resolution`)."""
    if mesh is None:
        try:
            mesh = model.extract(fn, settings.resolution)
        except UserError:
            return {"chamfer_l1": float("nan"), "no_surface": 1.0}
    n = settings.surface_points
    pred, face = mesh.sample(n, return_index=True, seed=seed)
    gt, gt_n = shape.surface(n, seed=seed + 1)
    out = compare_surfaces(pred, np.asarray(mesh.face_normals)[face], gt, gt_n, FSCORE_TAU)
    out["no_surface"] = 0.0
    if shape.analytic is not None or shape.mesh.is_watertight:
        g = torch.Generator().manual_seed(seed)
        device = next(model.parameters()).device
        hits = union = 0
        for start in range(0, settings.iou_points, CHUNK):  # chunks of the IoU points
            pts = shape_data.uniform_points(min(CHUNK, settings.iou_points - start), g)
            values = field_values(fn, pts, device)
            pred_occ = values > model.level if model.inside == "above" else values < model.level
            true_occ = shape.occupancy(pts) > 0.5
            hits += int((pred_occ & true_occ).sum())
            union += int((pred_occ | true_occ).sum())
        out["iou"] = 1.0 if union == 0 else hits / union
    return out


def turntable(mesh, views: int = 4, size: int = 96, up: str = "z") -> np.ndarray:
    """`views` renders of a mesh about the `up` axis in one row: (size, views * size, 3) uint8."""
    cams = orbit_cameras(views, radius=2.6, up=up)
    imgs = [render_mesh(mesh, c, size, size)["rgb"] for c in cams]
    return torch.cat(imgs, 1).clamp(0, 1).mul(255).round().byte().numpy()


def save_views(mesh, path: str | Path, views: int = 4, size: int = 96, up: str = "z") -> str:
    """A turntable of `views` renders of a mesh in one PNG row (about the `up` axis)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_png(turntable(mesh, views, size, up), path)
    return str(path)


def _save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    from perceptzoo.io import atomic_write

    atomic_write(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))


__all__ = ["CHUNK", "EVAL_SEED", "FULL", "MESH_RESOLUTION", "QUICK", "EvalSettings", "Field",
           "FieldSource", "ImplicitField", "field_values", "save_views", "score_field", "turntable"]
