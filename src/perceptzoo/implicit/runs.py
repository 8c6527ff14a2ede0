"""Run folders of implicit models: train, evaluate, sample (extract meshes), load.

Implicit fields are fitted to shapes, not to a `data` dataset, so `perceptzoo train/eval/sample`
hand these models to this module (see `perceptzoo.core.registry.family_runs`). The dataset
names shapes (see `sampling.shape_collection`): "sphere", "torus", "box", "capsule",
"mesh:bunny-watertight" (any mesh in $PERCEPTZOO_DATA/meshes), or the procedural collection
"shapes" / "shapes:N" / "shapes+meshes" (train and held-out test splits).

    perceptzoo train igr --dataset mesh:bunny-watertight --steps 2000
    perceptzoo eval runs/igr-mesh_bunny-watertight          # Chamfer, IoU, normals, F-score
    perceptzoo sample runs/igr-mesh_bunny-watertight --out bunny.ply   # or .obj, or .png views

A run folder holds config.json, model.safetensors, metrics.jsonl, checkpoint.pt (training
resumes from it when the same command is run again), mesh.ply (the extracted surface of the
first shape) and views.png (a turntable render of it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from perceptzoo.core import registry
from perceptzoo.core.config import apply_overrides, from_dict, to_dict
from perceptzoo.errors import UserError
from perceptzoo.core.runs import RunDir
from perceptzoo.io import write_json
from perceptzoo.implicit import sampling
from perceptzoo.implicit.mesh import extract_mesh, save_mesh
from perceptzoo.metrics.geometry import compare_surfaces, volumetric_iou

SINGLE_SHAPE = {"igr", "dvr"}  # models that fit one shape; deepsdf/occupancy take collections
EVAL_RESOLUTION = 128
EVAL_POINTS = 30_000  # surface points per mesh for Chamfer / normals / F-score
IOU_POINTS = 100_000  # uniform box points for volumetric IoU (as ONet)
EVAL_SEED = 20_000  # shape i of an evaluation is observed with seed EVAL_SEED + i
FSCORE_TAU = 0.01  # in the [-1, 1]^3 box: 0.5 % of its side
FIT_STEPS, FIT_POINTS = 400, 4000  # DeepSDF latent optimisation on a held-out shape


def _shapes(name: str, dataset: str, split: str, data_dir, cfg=None) -> list[sampling.Shape]:
    if name in SINGLE_SHAPE and sampling.is_collection(dataset):
        raise UserError(f"{name} fits one shape; name one (sphere, torus, mesh:bunny-watertight"
                        f", ...) instead of the collection {dataset!r}")
    if name == "igr" and dataset.startswith("mesh:"):
        # IGR needs no inside: raw scans (stanford-bunny, teapot) are welcome
        mesh = sampling.load_mesh(dataset[5:], data_dir, watertight=False)
        return [sampling.Shape(dataset, mesh)]
    return sampling.shape_collection(dataset, split, data_dir)


def _point_cloud(model, shape: sampling.Shape, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = model.cfg
    if cfg.scan_vertices:
        mesh = shape.mesh
        return (torch.as_tensor(np.asarray(mesh.vertices), dtype=torch.float32),
                torch.as_tensor(np.asarray(mesh.vertex_normals), dtype=torch.float32))
    return sampling.surface_points(shape, cfg.num_surface_points, seed=seed)


def _make_data(name: str, model, shapes, seed: int) -> dict:
    if name == "igr":
        pts, nrm = _point_cloud(model, shapes[0], seed)
        return model.make_dataset(pts, nrm if model.cfg.use_normals else None)
    if name == "dvr":
        return model.make_dataset(shapes[0], seed=seed)
    return model.make_dataset(shapes, seed=seed)


def train(name: str, *, dataset: str | None, out: str | Path | None, steps: int | None,
          seed: int | None, overrides: dict[str, Any], data_dir: str | Path | None = None
          ) -> Path:
    """Fit model `name` to the shapes of `dataset` for `steps` Adam steps into a run folder."""
    spec = registry.get_spec(name)
    dataset = dataset or spec.default_dataset
    steps = steps or 1000
    seed = 0 if seed is None else seed
    run = RunDir(out or Path("runs") / f"{name}-{dataset.replace(':', '_')}")
    shapes = _shapes(name, dataset, "train", data_dir)
    cfg = spec.config_class()
    if name == "deepsdf":
        cfg = apply_overrides(cfg, {"num_shapes": len(shapes)})
    cfg = apply_overrides(cfg, overrides)
    config = {"model": name, "family": "implicit", "dataset": dataset,
              "data_dir": None if data_dir is None else str(data_dir), "steps": steps,
              "seed": seed, "model_config": to_dict(cfg)}
    torch.manual_seed(seed)
    model = spec.model_class(cfg)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    opt = (model.configure_optimizers() if hasattr(model, "configure_optimizers")
           else torch.optim.Adam(model.parameters(), lr=cfg.lr))
    base_lrs = [g["lr"] for g in opt.param_groups]
    gen = torch.Generator().manual_seed(seed)
    start = 0
    if run.has_checkpoint() and (run.path / "config.json").exists() \
            and run.read_config() == config:
        state = run.load_checkpoint()
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        start = int(state["step"])
        if start >= steps and (run.path / "model.safetensors").exists():
            return run.path  # this exact run already finished
        run.truncate_metrics(start)
    else:
        if (run.path / "config.json").exists() and run.read_config() != config:
            # never overwrite another run's folder
            raise UserError(f"{run.path} already holds a different run; pass --out NEW_DIR, "
                            f"or --resume {run.path}")
        run.path.mkdir(parents=True, exist_ok=True)
        (run.path / "metrics.jsonl").unlink(missing_ok=True)
        run.write_config(config)
    data = _make_data(name, model, shapes, seed)
    log_every, ckpt_every = max(1, steps // 50), max(50, steps // 10)
    t0 = time.time()
    model.train()
    for step in range(start, steps):
        decay = 0.5 ** sum(step >= f * steps for f in (0.5, 0.75))  # halve at 50 % and 75 %
        for group, lr in zip(opt.param_groups, base_lrs):
            group["lr"] = lr * decay
        out = model.loss(model.batch(data, gen))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        if not np.isfinite(out.metrics.get("loss", float(out.loss.detach()))):
            raise UserError(f"{name} diverged at step {step} (loss is not finite); lower lr")
        if (step + 1) % log_every == 0 or step + 1 == steps:
            run.append_metrics({"step": step + 1, "time_s": round(time.time() - t0, 2),
                                **out.metrics})
        if (step + 1) % ckpt_every == 0 and step + 1 < steps:
            run.save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                 "generator": gen.get_state(), "step": step + 1})
    model.eval()
    run.save_weights(model)
    run.save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(),
                         "generator": gen.get_state(), "step": steps})
    try:
        mesh = extract_mesh(_field(model, name, shapes, 0, data), EVAL_RESOLUTION,
                            level=model.level, inside=model.inside, device=device)
        save_mesh(mesh, run.path / "mesh.ply")
        save_views(mesh, run.path / "views.png", up=_up(dataset))
    except UserError as err:  # no surface yet: say so in the log, keep the run
        run.append_metrics({"step": steps, "mesh_error": str(err)})
    return run.path


def resume(run_dir: str | Path) -> Path:
    """Continue an interrupted run from its checkpoint (`perceptzoo train --resume RUN`)."""
    config = RunDir(run_dir).read_config()
    return train(config["model"], dataset=config["dataset"], out=run_dir, steps=config["steps"],
                 seed=config["seed"], overrides=config["model_config"],
                 data_dir=config.get("data_dir"))


def _up(dataset: str) -> str:
    return "y" if dataset.startswith("mesh:") else "z"  # the scanned meshes are y-up


def _field(model, name: str, shapes, index: int, data: dict | None = None, seed: int = 0):
    """The points -> values function of shape `index` (training shapes of the model)."""
    if name == "deepsdf":
        return model.field_for(model.latents.weight[index].detach())
    if name == "occupancy_network":
        return model.field_for(*model.observe(shapes[index], torch.Generator().manual_seed(
            seed + index)))
    return model.field


def load(run_dir: str | Path):
    """The trained model of an implicit run folder, in eval mode."""
    run = RunDir(run_dir)
    config = run.read_config()
    spec = registry.get_spec(config["model"])
    try:
        cfg = from_dict(spec.config_class, config.get("model_config", {}))
    except UserError as err:
        raise UserError(f"{run.path}/config.json does not fit model {spec.name}: {err}") from None
    model = spec.model_class(cfg)
    run.load_weights(model)
    return model.eval()


def score_field(fn, model, shape: sampling.Shape, resolution: int | None = None,
                seed: int = 0, mesh=None) -> dict[str, float]:
    """Chamfer-L1/L2, normal consistency, F-score and (watertight GT) IoU of one field
    (`mesh`: its surface when already extracted, else marching cubes at `resolution`)."""
    resolution = resolution or EVAL_RESOLUTION
    if mesh is None:
        try:
            mesh = extract_mesh(fn, resolution, level=model.level, inside=model.inside)
        except UserError:
            return {"chamfer_l1": float("nan"), "no_surface": 1.0}
    pred, face = mesh.sample(EVAL_POINTS, return_index=True, seed=seed)
    gt, gt_n = shape.surface(EVAL_POINTS, seed=seed + 1)
    out = compare_surfaces(pred, np.asarray(mesh.face_normals)[face], gt, gt_n, FSCORE_TAU)
    if shape.mesh.is_watertight:
        pts = sampling.uniform_points(IOU_POINTS, torch.Generator().manual_seed(seed))
        with torch.no_grad():
            values = torch.cat([fn(p) for p in pts.split(65_536)])
        pred_occ = values > model.level if model.inside == "above" else values < model.level
        out["iou"] = volumetric_iou(pred_occ, shape.occupancy(pts) > 0.5)
    return out


def evaluate(run_dir: str | Path, *, split: str = "test", num_samples: int = 1000
             ) -> dict[str, float]:
    """Mesh metrics of the run's shapes, averaged. For collections, `split` picks train shapes
    (their own codes) or held-out test shapes (DeepSDF: codes fitted with the decoder frozen;
    ONet: encoded from a new observation); `num_samples` caps how many shapes are scored."""
    run = RunDir(run_dir)
    config = run.read_config()
    name, dataset, data_dir = config["model"], config["dataset"], config.get("data_dir")
    model = load(run_dir)
    collection = sampling.is_collection(dataset)
    use_split = split if collection else "train"
    shapes = _shapes(name, dataset, use_split, data_dir)
    shapes = shapes[:max(1, num_samples)]
    t0 = time.time()
    rows = []
    for i, shape in enumerate(shapes):
        if name == "deepsdf" and collection and use_split != "train":
            s = sampling.sample_sdf(shape, 2000, 18_000, seed=10_000 + i)
            z = model.fit_latent(s["points"], s["sdf"], steps=FIT_STEPS,
                                 points_per_step=FIT_POINTS,
                                 generator=torch.Generator().manual_seed(i))
            fn = model.field_for(z)
        elif name == "deepsdf" and collection and len(shapes) > model.cfg.num_shapes:
            raise UserError("this run's latent table is smaller than the dataset")
        else:
            fn = _field(model, name, shapes, i, seed=EVAL_SEED)
        mesh = None
        if not collection and (run.path / "mesh.ply").exists():
            # the surface extracted at the end of training, from these same weights
            import trimesh

            mesh = trimesh.load(run.path / "mesh.ply", force="mesh")
        rows.append(score_field(fn, model, shape, seed=i, mesh=mesh))
    keys = sorted({k for r in rows for k in r})
    def mean(values: list[float]) -> float:  # over the shapes that have the metric (no surface:
        finite = [v for v in values if np.isfinite(v)]  # no Chamfer), NaN if none has it
        return float(np.mean(finite)) if finite else float("nan")

    metrics = {k: mean([r.get(k, np.nan) for r in rows]) for k in keys}
    metrics.update(split=use_split, num_shapes=len(rows), eval_time_s=round(time.time() - t0, 1))
    run.append_metrics({"step": int(config["steps"]), "eval": metrics})
    write_json(run.path / f"eval-{use_split}.json", metrics)
    return metrics


def save_views(mesh, path: str | Path, views: int = 4, size: int = 96, up: str = "z") -> str:
    """A turntable of `views` renders of a mesh in one PNG row (about the `up` axis)."""
    from PIL import Image

    cams = sampling.orbit_cameras(views, radius=2.6, up=up)
    imgs = [sampling.render_mesh(mesh, c, size, size)["rgb"] for c in cams]
    row = torch.cat(imgs, 1).clamp(0, 1).mul(255).round().byte().numpy()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(row).save(path)
    return str(path)


def sample(run_dir: str | Path, *, num_samples: int = 1, out: str | Path = "mesh.ply",
           seed: int = 0) -> str:
    """Extract the surface of shape `seed` (mod the number of training shapes) to .ply/.obj,
    or write turntable views of the first `num_samples` shapes (up to 8) to a .png."""
    run = RunDir(run_dir)
    config = run.read_config()
    name = config["model"]
    model = load(run_dir)
    shapes = _shapes(name, config["dataset"], "train", config.get("data_dir"))
    out = Path(out)
    if out.suffix.lower() == ".png":
        from PIL import Image

        rows = []
        for k in range(min(num_samples, len(shapes), 8)):
            i = (seed + k) % len(shapes)
            mesh = extract_mesh(_field(model, name, shapes, i, seed=seed), EVAL_RESOLUTION,
                                level=model.level, inside=model.inside)
            tmp = run.path / f".views-{k}.png"
            save_views(mesh, tmp, up=_up(config["dataset"]))
            rows.append(np.asarray(Image.open(tmp)))
            tmp.unlink()
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(rows, 0)).save(out)
        return f"wrote turntable views of {len(rows)} shape(s) to {out}"
    i = seed % len(shapes)
    mesh = extract_mesh(_field(model, name, shapes, i, seed=seed), EVAL_RESOLUTION,
                        level=model.level, inside=model.inside)
    save_mesh(mesh, out)
    return f"wrote the surface of {shapes[i].name} ({len(mesh.faces)} faces) to {out}"
