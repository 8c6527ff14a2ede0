"""DeepSDF: learning continuous signed distance functions (Park et al., CVPR 2019).

An auto-decoder: no encoder. Each training shape i owns a latent code z_i (a row of a table
that lives inside this module, initialised N(0, 0.01^2)), and one decoder f_theta(x, z) is
shared by all shapes. Codes and weights are fitted jointly (eq. 9):

    argmin_{theta, {z_i}} sum_i [ sum_j L1( clamp(f_theta(x_j, z_i), delta),
                                             clamp(s_j, delta) ) + (1 / sigma^2) ||z_i||^2 ]

with clamp(x, delta) = min(delta, max(-delta, x)) (eq. 5; delta = 0.1) so capacity goes to
the surface, and the code prior N(0, sigma^2 I) (here `latent_reg` = 1/sigma^2 times the mean
over points, as the reference code scales it). At inference (eq. 10) a new shape's code is
found from its SDF samples by the same loss over z alone, with theta frozen:

    z_hat = argmin_z sum_j L1(clamp(f_theta(x_j, z)), clamp(s_j)) + (1 / sigma^2) ||z||^2

`fit_latent` does that and never touches the decoder's weights.

Shape completion (sec. 6.3) is the same inference from a partial observation: `depth_scan`
turns one depth image into SDF samples (two per back-projected point, eta along its normal,
with SDF +eta and -eta) and free-space points (on the camera rays before the surface), and
`complete` solves eq. 10 with the L1 clamped at eta plus the free-space hinge max(0, -f) (the
paper: |f| where f < 0); `completion_metrics` scores completed shapes against the full
shapes beside the convex hull of the scan and the nearest training code. The decoder re-injects
[x, z] at a middle layer (see decoders.py). Paper: 8 x 512 ReLU layers, dropout 0.2, weight
norm, 256-d codes; the defaults here are smaller so that it trains on a CPU in minutes.

Trained through the runner (`perceptzoo train deepsdf --dataset shapes`): the Trainer's
`batch_size` is shapes per step (each with `points_per_shape` SDF samples), its `lr` the
decoder's Adam rate (`lr_latent` the codes', by default the same), halved at 50 % and 75 %.
Evaluation on the test split fits a code for each held-out shape (eq. 10).

    >>> from perceptzoo.data.shapes import shape_collection
    >>> shapes = shape_collection("shapes:4", "train")
    >>> model = DeepSDF(DeepSDFConfig(num_shapes=4, hidden=64, layers=4, skip_layers=(2,),
    ...                               samples_per_shape=2000))
    >>> data = model.make_dataset(shapes)
    >>> model.loss(model.batch(data, torch.Generator().manual_seed(0), 4)).loss.shape
    torch.Size([])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data.shapes import Shape, sample_sdf
from perceptzoo.errors import UserError
from perceptzoo.implicit.common import EVAL_SEED, FULL, EvalSettings, Field, ImplicitField
from perceptzoo.implicit.decoders import DecoderConfig, ImplicitMLP


@dataclass
class DeepSDFConfig:
    num_shapes: int = 128
    """rows of the latent table: at least the training shapes (row i is shape i; rows past the
    dataset's shapes stay unused). 128 holds "shapes" (64) and "shapes+meshes" (69)"""
    latent_dim: int = 64
    hidden: int = 256
    layers: int = 6
    skip_layers: tuple[int, ...] = (3,)
    fourier_levels: int = 0
    activation: str = "relu"
    geometric_init: bool = True
    weight_norm: bool = False
    dropout: float = 0.0
    clamp: float = 0.1
    """delta of the clamped L1 loss"""
    latent_reg: float = 1e-4
    """1/sigma^2 of the code prior, per point (the reference code's code_reg_lambda)"""
    latent_init_std: float = 0.01
    points_per_shape: int = 2048
    """SDF samples per shape in a batch"""
    samples_per_shape: int = 50_000
    """SDF samples stored per shape (DeepSDF: 500k), from which batches draw"""
    lr_latent: float | None = None
    """Adam's rate for the code table (None: the Trainer's lr, as the decoder's)"""
    full_eval: bool = False
    """evaluate with the benchmark protocol (implicit.common.FULL) instead of the quick one"""

    @classmethod
    def tiny(cls) -> DeepSDFConfig:
        return cls(hidden=32, layers=3, skip_layers=(), latent_dim=4, points_per_shape=64,
                   samples_per_shape=1000)


@register("deepsdf", DeepSDFConfig, default_dataset="shapes", family="implicit",
          runner="field", train_defaults={"lr": 1e-3, "steps": 1000, "batch_size": 8,
                                          "schedule": "step", "grad_clip": None,
                                          "checkpoint_every": 100, "log_every": 20})
class DeepSDF(ImplicitField):
    level = 0.0
    inside = "below"

    def __init__(self, cfg: DeepSDFConfig):
        super().__init__()
        self.cfg = cfg
        self.decoder = ImplicitMLP(DecoderConfig(
            hidden=cfg.hidden, layers=cfg.layers, latent_dim=cfg.latent_dim,
            skip_layers=cfg.skip_layers, fourier_levels=cfg.fourier_levels,
            activation=cfg.activation, geometric_init=cfg.geometric_init,
            weight_norm=cfg.weight_norm, dropout=cfg.dropout))
        self.latents = nn.Embedding(cfg.num_shapes, cfg.latent_dim)  # the auto-decoder's codes
        nn.init.normal_(self.latents.weight, 0.0, cfg.latent_init_std)

    def forward(self, points: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """SDF at points (B, N, 3) of the shapes with codes latent (B, D) -> (B, N)."""
        return self.decoder(points, latent)

    # -- data -----------------------------------------------------------------------------
    def make_dataset(self, shapes: list[Shape], seed: int = 0) -> dict:
        """SDF samples of every shape: points (S, M, 3), sdf (S, M) (DeepSDF's sampling:
        90 % near the surface, 10 % uniform), M = samples_per_shape."""
        if len(shapes) > self.cfg.num_shapes:
            raise UserError(f"the dataset has {len(shapes)} training shapes but the latent "
                            f"table {self.cfg.num_shapes} rows; pass --set "
                            f"num_shapes={len(shapes)}")
        m = self.cfg.samples_per_shape
        samples = [sample_sdf(s, num_uniform=m // 10, num_near=m - m // 10, seed=seed + i)
                   for i, s in enumerate(shapes)]
        return {"points": torch.stack([s["points"] for s in samples]),
                "sdf": torch.stack([s["sdf"] for s in samples])}

    def batch(self, data: dict, generator: torch.Generator, batch_size: int) -> tuple:
        """`batch_size` shapes (indices (B,)) with `points_per_shape` samples each."""
        num_shapes, num_points = data["sdf"].shape
        b = min(batch_size, num_shapes)
        idx = torch.randperm(num_shapes, generator=generator)[:b]  # (B,)
        cols = torch.randint(num_points, (b, self.cfg.points_per_shape), generator=generator)
        pts = data["points"][idx[:, None], cols]  # (B, N, 3)
        sdf = data["sdf"][idx[:, None], cols]  # (B, N)
        return idx, pts, sdf

    # -- objective (eq. 9) ----------------------------------------------------------------
    def clamped_l1(self, pred: torch.Tensor, sdf: torch.Tensor, clamp: float | None = None
                   ) -> torch.Tensor:
        """mean |clamp(pred, delta) - clamp(sdf, delta)| (eq. 4-5); delta = cfg.clamp unless
        given."""
        d = self.cfg.clamp if clamp is None else clamp
        return (pred.clamp(-d, d) - sdf.clamp(-d, d)).abs().mean()

    def loss(self, batch: tuple) -> LossOutput:
        idx, pts, sdf = batch
        z = self.latents(idx)  # (B, D)
        recon = self.clamped_l1(self(pts, z), sdf)
        prior = z.pow(2).sum(-1).mean()
        total = recon + self.cfg.latent_reg * prior
        return LossOutput(total, {"loss": float(total.detach()),
                                  "clamped_l1": float(recon.detach()),
                                  "latent_norm": float(prior.detach().sqrt())})

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """Adam with separate learning rates for the decoder and the code table (as DeepSDF)."""
        lr_latent = self.cfg.lr_latent if self.cfg.lr_latent is not None else train_cfg.lr
        return [torch.optim.Adam([
            {"params": self.decoder.parameters(), "lr": train_cfg.lr},
            {"params": self.latents.parameters(), "lr": lr_latent}])]

    # -- inference on a new shape (eq. 10) ------------------------------------------------
    def fit_latent(self, points: torch.Tensor, sdf: torch.Tensor, steps: int = 800,
                   lr: float = 5e-3, points_per_step: int = 8000,
                   generator: torch.Generator | None = None, *,
                   free: torch.Tensor | None = None, clamp: float | None = None
                   ) -> torch.Tensor:
        """The code (D,) that best explains SDF samples points (M, 3), sdf (M,); theta frozen.

        Shape completion (sec. 6.3): `free` (F, 3) are points seen to be empty (between a
        depth camera and the surface), held to f >= 0 by the hinge max(0, -f); `clamp` the
        delta of the clamped L1 (DeepSDF clamps at eta, the offset of its scan samples)."""
        device = self.latents.weight.device
        points, sdf = points.to(device), sdf.to(device)
        free = None if free is None or len(free) == 0 else free.to(device)
        g = generator or torch.Generator().manual_seed(0)
        z = (self.cfg.latent_init_std * torch.randn(1, self.cfg.latent_dim, generator=g)
             ).to(device).requires_grad_(True)
        was_training = self.training
        self.eval()
        flags = [p.requires_grad for p in self.parameters()]
        for p in self.parameters():  # the network is frozen: only z is optimised
            p.requires_grad_(False)
        opt = torch.optim.Adam([z], lr=lr)
        try:
            for step in range(steps):
                if step == steps // 2:  # the reference code halves the rate midway
                    for group in opt.param_groups:
                        group["lr"] = lr / 2
                loss = self.latent_objective(z[0], points, sdf, free, clamp,
                                             points_per_step, g)
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p, flag in zip(self.parameters(), flags):
                p.requires_grad_(flag)
            self.train(was_training)
        return z.detach()[0]

    def latent_objective(self, z: torch.Tensor, points: torch.Tensor, sdf: torch.Tensor,
                         free: torch.Tensor | None = None, clamp: float | None = None,
                         points_per_step: int | None = None,
                         generator: torch.Generator | None = None,
                         prior: bool = True) -> torch.Tensor:
        """Eq. 10's objective for code z (D,): clamped L1 on (a random `points_per_step` of)
        the SDF samples, plus the free-space hinge mean(max(0, -f)) on `free` (completion),
        plus the code prior latent_reg ||z||^2 when `prior`."""
        if points_per_step is not None and points_per_step < len(sdf):
            cols = torch.randint(len(sdf), (points_per_step,), generator=generator)
            points, sdf = points[cols], sdf[cols]
        loss = self.clamped_l1(self(points[None], z[None]), sdf[None], clamp)
        if free is not None and len(free):
            if points_per_step is not None and points_per_step < len(free):
                free = free[torch.randint(len(free), (points_per_step,), generator=generator)]
            loss = loss + torch.relu(-self(free[None], z[None])).mean()
        if prior:
            loss = loss + self.cfg.latent_reg * z.pow(2).sum()
        return loss

    def complete(self, scan: dict, steps: int = 400, points_per_step: int = 4000,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """The code of a shape seen only in a partial scan (`depth_scan`): eq. 10 over the
        scan's +-eta samples (clamped at eta) and its free-space points, theta frozen."""
        return self.fit_latent(scan["points"], scan["sdf"], steps=steps,
                               points_per_step=points_per_step, generator=generator,
                               free=scan["free"], clamp=scan["eta"])

    def field_for(self, latent: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The SDF of the shape with code latent (D,) as a points (N, 3) -> (N,) function."""
        return lambda p: self(p[None], latent[None].to(p.device))[0]

    def field(self, points: torch.Tensor, index: int = 0) -> torch.Tensor:
        """SDF of training shape `index` at points (N, 3)."""
        return self.field_for(self.latents.weight[index])(points)

    def shape_field(self, shapes: list[Shape], index: int, split: str, seed: int,
                    settings: EvalSettings) -> Field:
        """A training shape's own code; a held-out shape's code fitted to its SDF samples
        (2,000 uniform and 18,000 near the surface) with the decoder frozen (eq. 10)."""
        if split == "train":
            return self.field_for(self.latents.weight[index].detach())
        s = sample_sdf(shapes[index], 2000, 18_000, seed=10_000 + index)
        z = self.fit_latent(s["points"], s["sdf"], steps=settings.fit_steps,
                            points_per_step=settings.fit_points,
                            generator=torch.Generator().manual_seed(index))
        return self.field_for(z)


# -- shape completion from a partial scan (sec. 6.3) --------------------------------------
def scan_camera(index: int, radius: float = 2.5, elevation_deg: float = 25.0,
                up: str = "y") -> torch.Tensor:
    """The depth camera (3, 4) of completion scan `index`: on a circle about the `up` axis
    ("y" for the scanned meshes, "z" for primitives) at `elevation_deg`, looking at the
    origin, azimuth 30 deg + 137.5 deg x index (the golden angle, so views differ)."""
    from perceptzoo.implicit.cameras import look_at

    az, el = math.radians(30.0 + 137.5 * index), math.radians(elevation_deg)
    horizontal = (radius * math.cos(el) * math.sin(az), radius * math.cos(el) * math.cos(az))
    if up == "y":
        return look_at((horizontal[0], radius * math.sin(el), horizontal[1]),
                       up=(0.0, 1.0, 0.0))
    return look_at((horizontal[0], horizontal[1], radius * math.sin(el)))


def depth_scan(shape: Shape, c2w: torch.Tensor, size: int = 64, fov_deg: float = 40.0,
               eta: float = 0.025, free_per_ray: int = 4, seed: int = 0,
               bound: float = 1.0) -> dict:
    """A single-view depth image of `shape` turned into DeepSDF's completion samples (sec. 6.3).

    The depth image (size x size pixels, camera c2w) is back-projected to surface points
    (K, 3); a normal is estimated at each from the depth image alone (the cross product of
    its neighbours' differences, oriented towards the camera). As the paper, each surface
    point gives two samples eta along its normal, with SDF +eta (in front) and -eta
    (behind); free space is `free_per_ray` points drawn uniformly on each camera ray inside
    the [-bound, bound]^3 box before the surface (up to eta short of it) or, for rays that
    miss the shape, along the whole box: seen empty, held to f >= 0 by `latent_objective`.

    Returns surface (K, 3), normals (K, 3), points (2K, 3), sdf (2K,), free (F, 3), eta.
    """
    from perceptzoo.implicit.cameras import camera_rays, ray_box_interval, render_mesh

    if eta <= 0 or size < 3:
        raise UserError(f"depth_scan needs eta > 0 and an image of at least 3x3 pixels "
                        f"(got eta={eta}, size={size})")
    origins, dirs = camera_rays(c2w, size, size, fov_deg)
    depth = render_mesh(shape.mesh, c2w, size, size, fov_deg)["depth"].reshape(-1)
    hit = torch.isfinite(depth)
    if int(hit.sum()) < 3:
        raise UserError(f"the depth camera sees {int(hit.sum())} pixels of {shape.name}; "
                        "point it at the shape (scan_camera) or raise the image size")
    grid = torch.where(hit[:, None], origins + depth.clamp(max=1e6)[:, None] * dirs,
                       torch.full_like(dirs, float("nan")))
    normals = _depth_normals(grid.reshape(size, size, 3), dirs.reshape(size, size, 3))
    surface, normals = grid[hit], normals.reshape(-1, 3)[hit]
    points = torch.cat([surface + eta * normals, surface - eta * normals])
    sdf = torch.cat([torch.full((len(surface),), eta), torch.full((len(surface),), -eta)])
    t_in, t_out = ray_box_interval(origins, dirs, bound, 0.0, 1e6)
    t_out = torch.where(hit, depth - eta, t_out)
    seen = t_out > t_in
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(int(seen.sum()), free_per_ray, generator=g)
    t = t_in[seen, None] + (t_out - t_in)[seen, None] * u  # (R, k)
    free = (origins[seen, None] + t[..., None] * dirs[seen, None]).reshape(-1, 3)
    return {"surface": surface, "normals": normals, "points": points, "sdf": sdf,
            "free": free, "eta": eta}


def _depth_normals(grid: torch.Tensor, dirs: torch.Tensor, max_step: float = 0.1
                   ) -> torch.Tensor:
    """Unit normals (H, W, 3) of a back-projected depth image grid (H, W, 3) (NaN off the
    shape): the cross product of the horizontal and vertical differences (central where both
    neighbours are on the surface and no step exceeds `max_step`, else one-sided), turned to
    face the camera (rays `dirs`); -dirs where a pixel has no usable neighbour."""
    h, w, _ = grid.shape
    pad = torch.full((h + 2, w + 2, 3), float("nan"))
    pad[1:-1, 1:-1] = grid

    def tangent(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(grid, float("nan"))
        for a, b, scale in ((after, before, 2.0), (after, grid, 1.0), (grid, before, 1.0)):
            d = a - b
            ok = torch.isfinite(d).all(-1) & (d.norm(dim=-1) <= scale * max_step)
            take = ok & ~torch.isfinite(out).all(-1)
            out[take] = d[take]
        return out

    tu = tangent(pad[1:-1, :-2], pad[1:-1, 2:])
    tv = tangent(pad[:-2, 1:-1], pad[2:, 1:-1])
    n = torch.cross(tu, tv, dim=-1)
    good = torch.isfinite(n).all(-1) & (n.norm(dim=-1) > 1e-12)
    n = torch.where(good[..., None], torch.nn.functional.normalize(
        torch.nan_to_num(n), dim=-1), -dirs)
    return torch.where(((n * dirs).sum(-1) > 0)[..., None], -n, n)


def completion_metrics(model: DeepSDF, shapes: list[Shape], num_codes: int,
                       settings: EvalSettings | None = None, seed: int = EVAL_SEED,
                       size: int = 64, eta: float = 0.025,
                       views_png: str | Path | None = None) -> dict[str, float]:
    """Shape completion of each of `shapes` from one depth scan (camera `scan_camera(i)`, free
    space drawn with seed `seed` + i), scored against the full shape with `score_field`
    at `settings` (default: the benchmark protocol FULL)
    (Chamfer-L1, normal consistency, F-score, IoU; seed i, as `evaluate_shapes`), beside two
    references given the same scan: the convex hull of its surface points
    (`baselines.hull_metrics`) and the nearest training code (of the first `num_codes` rows,
    the one with the lowest objective on the scan's samples, no fitting). Keys: completion_*,
    completion_hull_*, completion_nearest_code_* (means over shapes), the same with a
    _<shape> suffix for iou and chamfer_l1, completion_scan_points (mean K),
    completion_time_s. `views_png`: turntables (ground truth, completion, hull) per shape."""
    from perceptzoo.implicit.baselines import hull_metrics
    from perceptzoo.implicit.common import score_field, turntable

    settings = settings or FULL
    start, rows, pictures = time.time(), {"": [], "hull_": [], "nearest_code_": []}, []
    model.eval()
    out: dict[str, float] = {}
    for i, shape in enumerate(shapes):
        up = "z" if shape.analytic is not None else "y"
        scan = depth_scan(shape, scan_camera(i, up=up), size=size, eta=eta, seed=seed + i)
        z = model.complete(scan, steps=settings.fit_steps,
                           points_per_step=settings.fit_points,
                           generator=torch.Generator().manual_seed(seed + i))
        with torch.no_grad():
            costs = [float(model.latent_objective(model.latents.weight[j], scan["points"],
                                                  scan["sdf"], scan["free"], scan["eta"],
                                                  prior=False))
                     for j in range(num_codes)]
        nearest = model.latents.weight[int(np.argmin(costs))].detach()
        mesh = model.extract(model.field_for(z), settings.resolution)
        scores = {"": score_field(model.field_for(z), model, shape, settings, seed=i,
                                  mesh=mesh),
                  "hull_": hull_metrics(scan["surface"], shape, settings, seed=i),
                  "nearest_code_": score_field(model.field_for(nearest), model, shape,
                                               settings, seed=i)}
        name = shape.name.removeprefix("mesh:")
        for prefix, row in scores.items():
            rows[prefix].append(row)
            for key in ("iou", "chamfer_l1"):
                if key in row:
                    out[f"completion_{prefix}{key}_{name}"] = float(row[key])
        out.setdefault("completion_scan_points", 0.0)
        out["completion_scan_points"] += len(scan["surface"]) / len(shapes)
        if views_png is not None:
            hull = _hull_mesh(scan["surface"])
            pictures.append(np.concatenate([turntable(m, up=up)
                                            for m in (shape.mesh, mesh, hull)], 1))
    for prefix, rs in rows.items():
        keys = sorted({k for r in rs for k in r} - {"no_surface"})
        for k in keys:
            vals = [r[k] for r in rs if k in r and np.isfinite(r[k])]
            out[f"completion_{prefix}{k}"] = float(np.mean(vals)) if vals else float("nan")
    if views_png is not None and pictures:
        from PIL import Image

        from perceptzoo.io import atomic_write

        image = np.concatenate(pictures, 0)
        atomic_write(Path(views_png), lambda tmp: Image.fromarray(image).save(tmp, "PNG"))
    out["completion_time_s"] = round(time.time() - start, 1)
    return out


def _hull_mesh(points: torch.Tensor):
    import trimesh

    return trimesh.convex.convex_hull(points.double().numpy())
