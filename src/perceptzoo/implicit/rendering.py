"""DVR: Differentiable Volumetric Rendering of implicit surfaces (Niemeyer et al., CVPR 2020).

The shape is an occupancy field f_theta(p) (logits; the surface is f = tau, here logit 0.5 = 0)
and its colour a texture field t_theta(p) in [0, 1]^3. A pixel u with camera centre r0 and
unit ray direction w renders the colour of the first surface point along the ray:

    p_hat = r0 + d_hat w,   d_hat = the smallest d with f(r0 + d w) = tau.

Forward pass (sec. 3.5 and appendix): evaluate f at n equally spaced depths in [near, far],
take the first interval [d_j, d_j+1] where f goes from outside (< tau) to inside (>= tau), and
refine it with the secant method (appendix, eq. 17):

    d_s = d_a - (f_a - tau) (d_b - d_a) / (f_b - f_a),   then [d_a, d_b] <- [d_s, d_b] if
    f(d_s) < tau else [d_a, d_s], repeated.

Backward pass (sec. 3.2, eqs. 6-11): differentiating f(r0 + d_hat w) = tau in theta gives

    d d_hat / d theta = -(d f / d theta)(p_hat) / (grad_p f(p_hat) . w),

so no intermediate marching step is stored. `differentiable_depth` builds a tensor whose
value is d_hat and whose gradient is exactly this: d_hat - (f(p_hat) - tau) / sg[grad f . w]
(sg = stop gradient). The colour t_theta(r0 + d w) then back-propagates into both fields.

Training from multi-view images with masks (sec. 3.4, L = l0 L_rgb + l1 L_depth + l3 L_freespace
+ l4 L_occupancy): L1 on RGB where both the rendered and the true mask hit; a freespace loss
BCE(f(p), 0) on points of rays outside the true mask (at a random depth inside the bounding
box, and at the predicted surface point where one was wrongly found); an occupancy loss
BCE(f(p), 1) for rays inside the true mask where no surface was found (the paper takes a
random point on the ray; here the point of largest occupancy among the marched samples, so
the label is never put on empty space the ray only passes); optionally L1 on depth. Each term
is a sum over its rays divided by the number of rays in the batch (the reference code's
"sum / batch" reduction), so every ray weighs the same whichever term it falls in: a mean
over each term's own rays would give the few rays that miss as much weight as all free rays
together, and the field then grows past the silhouettes.

Trained through the runner (`perceptzoo train dvr --dataset torus`): the Trainer's
`batch_size` is rays per step, its `lr` Adam's rate, halved at 50 % and 75 %. Cameras, rays
and the box clipping come from `perceptzoo.implicit.cameras` (shared with volume rendering).

    >>> from perceptzoo.data.shapes import get_shape
    >>> model = DVR(DVRConfig(hidden=64, layers=4, skip_layers=(), views=2, image_size=8))
    >>> data = model.make_dataset([get_shape("sphere")])
    >>> model.loss(model.batch(data, torch.Generator().manual_seed(0), 64)).loss.shape
    torch.Size([])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data.shapes import Shape
from perceptzoo.implicit.cameras import camera_rays, orbit_cameras, ray_box_interval, render_shape
from perceptzoo.implicit.common import Field, ImplicitField
from perceptzoo.implicit.decoders import DecoderConfig, ImplicitMLP


# -- ray marching, secant refinement, implicit differentiation ------------------------------
@torch.no_grad()
def secant(fn: Field, origins: torch.Tensor, dirs: torch.Tensor, d_a: torch.Tensor,
           d_b: torch.Tensor, f_a: torch.Tensor, f_b: torch.Tensor, steps: int = 8,
           level: float = 0.0) -> torch.Tensor:
    """Secant refinement of roots bracketed by f(d_a) < level <= f(d_b), all (R,)."""
    d_s = d_a
    for _ in range(steps):
        d_s = d_a - (f_a - level) * (d_b - d_a) / (f_b - f_a)  # (R,)
        f_s = fn(origins + d_s[:, None] * dirs)
        outside = f_s < level
        d_a, f_a = torch.where(outside, d_s, d_a), torch.where(outside, f_s, f_a)
        d_b, f_b = torch.where(outside, d_b, d_s), torch.where(outside, f_b, f_s)
    return d_s


@torch.no_grad()
def find_surface(fn: Field, origins: torch.Tensor, dirs: torch.Tensor, near: float, far: float,
                 steps: int = 64, secant_steps: int = 8, level: float = 0.0,
                 chunk: int = 131_072) -> dict:
    """First outside-to-inside crossing of `level` along rays (R, 3): depth (R,), hit (R,)
    (bool), and the largest value seen on each ray and its depth (for the occupancy loss)."""
    r = len(dirs)
    depths = torch.linspace(near, far, steps, dtype=dirs.dtype, device=dirs.device)  # (S,)
    pts = origins[:, None] + depths[None, :, None] * dirs[:, None]  # (R, S, 3)
    vals = torch.cat([fn(p) for p in pts.reshape(-1, 3).split(chunk)]).reshape(r, steps)
    crossing = (vals[:, :-1] < level) & (vals[:, 1:] >= level)  # (R, S-1)
    hit = crossing.any(dim=1)
    # index of the first crossing: argmax of a cumulative flag (0 where there is none)
    first = torch.argmax(crossing.to(torch.int8), dim=1)  # (R,)
    rows = torch.arange(r, device=dirs.device)
    depth = torch.full((r,), float("inf"), dtype=dirs.dtype, device=dirs.device)
    if hit.any():
        h = hit.nonzero().squeeze(1)
        k = first[h]
        depth[h] = secant(fn, origins[h], dirs[h], depths[k], depths[k + 1], vals[h, k],
                          vals[h, k + 1], secant_steps, level)
    best = vals.argmax(dim=1)
    return {"depth": depth, "hit": hit, "max_value": vals[rows, best], "max_depth": depths[best]}


def differentiable_depth(fn: Field, origins: torch.Tensor, dirs: torch.Tensor,
                         depth: torch.Tensor, level: float = 0.0) -> torch.Tensor:
    """Depth (R,) with value `depth` and gradient -(df/dtheta)/(grad_p f . w) (eq. 11)."""
    p_hat = (origins + depth[:, None] * dirs).detach().requires_grad_(True)  # (R, 3)
    with torch.enable_grad():
        f = fn(p_hat)  # (R,): carries d f / d theta
        (grad_p,) = torch.autograd.grad(f.sum(), p_hat, retain_graph=True)
    denom = (grad_p * dirs).sum(-1).detach()  # grad_p f . w, (R,)
    denom = torch.where(denom.abs() < 1e-6, torch.full_like(denom, 1e-6), denom)
    return depth.detach() - (f - level) / denom


# -- the model ------------------------------------------------------------------------------
@dataclass
class DVRConfig:
    hidden: int = 128
    layers: int = 6
    skip_layers: tuple[int, ...] = (3,)
    fourier_levels: int = 0
    texture_hidden: int = 128
    texture_layers: int = 4
    texture_fourier_levels: int = 4
    init_radius: float = 0.5
    views: int = 24
    image_size: int = 48
    fov_deg: float = 40.0
    camera_radius: float = 2.5
    march_steps: int = 64
    secant_steps: int = 8
    lambda_rgb: float = 1.0
    lambda_freespace: float = 1.0
    lambda_occupancy: float = 1.0
    lambda_depth: float = 0.0
    """L1 on depth where both masks hit (0: RGB and masks only, DVR's 2.5D-free setting)"""
    bound: float = 1.0
    """the object lies in [-bound, bound]^3: outside it the field reads as free space (as DVR
    restricts rays to the unit cube); 0 turns this off"""
    full_eval: bool = False
    """evaluate with the benchmark protocol (implicit.common.FULL) instead of the quick one"""

    @classmethod
    def tiny(cls) -> DVRConfig:
        return cls(hidden=32, layers=3, skip_layers=(), texture_hidden=16, texture_layers=2,
                   views=2, image_size=8, march_steps=16)

    @property
    def near(self) -> float:
        return self.camera_radius - 1.5

    @property
    def far(self) -> float:
        return self.camera_radius + 1.5


@register("dvr", DVRConfig, default_dataset="torus", family="implicit", runner="field",
          train_defaults={"lr": 1e-3, "steps": 1000, "batch_size": 1024, "schedule": "step",
                          "grad_clip": None, "checkpoint_every": 100, "log_every": 20})
class DVR(ImplicitField):
    level = 0.0  # logits; occupancy probability 0.5
    inside = "above"
    single_shape = True

    def __init__(self, cfg: DVRConfig):
        super().__init__()
        self.cfg = cfg
        self.occupancy = ImplicitMLP(DecoderConfig(
            hidden=cfg.hidden, layers=cfg.layers, skip_layers=cfg.skip_layers,
            fourier_levels=cfg.fourier_levels, activation="softplus", geometric_init=True,
            init_radius=cfg.init_radius, inside_positive=True))
        self.texture = ImplicitMLP(DecoderConfig(
            hidden=cfg.texture_hidden, layers=cfg.texture_layers, skip_layers=(),
            fourier_levels=cfg.texture_fourier_levels, activation="relu", geometric_init=False,
            out_dim=3))

    def field(self, points: torch.Tensor) -> torch.Tensor:
        """Occupancy logits at points (N, 3) -> (N,); free (-10) outside the bounding box."""
        logits = self.occupancy(points[None])[0]
        if self.cfg.bound > 0:
            outside = points.detach().abs().amax(dim=-1) > self.cfg.bound
            logits = torch.where(outside, torch.full_like(logits, -10.0), logits)
        return logits

    def color(self, points: torch.Tensor) -> torch.Tensor:
        """Texture field: RGB in [0, 1] at points (N, 3) -> (N, 3)."""
        return torch.sigmoid(self.texture(points[None])[0])

    # -- data -----------------------------------------------------------------------------
    def make_dataset(self, shapes: list[Shape], seed: int = 0) -> dict:
        """Rays of `views` renders of the one shape from cameras on a sphere: origins, dirs,
        rgb, mask (and depth), each flattened to (V*H*W, ...), and the cameras (V, 3, 4)."""
        shape = shapes[0]
        cfg, size = self.cfg, self.cfg.image_size
        cams = orbit_cameras(cfg.views, radius=cfg.camera_radius, seed=seed)
        o, w, rgb, mask, depth = [], [], [], [], []
        for c2w in cams:
            img = render_shape(shape, c2w, size, size, cfg.fov_deg)
            ro, rd = camera_rays(c2w, size, size, cfg.fov_deg)
            o.append(ro)
            w.append(rd)
            rgb.append(img["rgb"].reshape(-1, 3))
            mask.append(img["mask"].reshape(-1))
            depth.append(img["depth"].reshape(-1))
        return {"origins": torch.cat(o), "dirs": torch.cat(w), "rgb": torch.cat(rgb),
                "mask": torch.cat(mask), "depth": torch.cat(depth), "cameras": cams}

    def num_items(self, data: dict) -> int:
        return len(data["dirs"])

    def batch(self, data: dict, generator: torch.Generator, batch_size: int) -> tuple:
        """`batch_size` random rays (origins, dirs, rgb, mask, depth) and a uniform number in
        [0, 1) per ray, the depth of its freespace sample inside the box."""
        n = min(batch_size, len(data["dirs"]))
        idx = torch.randperm(len(data["dirs"]), generator=generator)[:n]
        t = torch.rand(n, generator=generator)  # random depths for the freespace loss
        return tuple(data[k][idx] for k in ("origins", "dirs", "rgb", "mask", "depth")) + (t,)

    # -- objective (sec. 3.4) -------------------------------------------------------------
    def loss(self, batch: tuple) -> LossOutput:
        """L = l0 L_rgb + l1 L_depth + l3 L_freespace + l4 L_occupancy (sec. 3.4; the paper's
        normal smoothness term l2 L_normal is left out), each a sum over its rays divided by the
        batch's ray count (not a mean over its own rays)."""
        cfg = self.cfg
        origins, dirs, rgb_gt, mask_gt, depth_gt, t = batch
        n = len(dirs)
        surf = find_surface(self.field, origins, dirs, cfg.near, cfg.far, cfg.march_steps,
                            cfg.secant_steps, self.level)
        hit = surf["hit"]
        zero = origins.new_zeros(())
        metrics = {}
        # RGB (and depth) where both the rendered and the true mask hit
        both = hit & mask_gt
        rgb_loss, depth_loss = zero, zero
        if both.any():
            d = differentiable_depth(self.field, origins[both], dirs[both], surf["depth"][both],
                                     self.level)  # (H,)
            p = origins[both] + d[:, None] * dirs[both]  # (H, 3), differentiable in theta
            rgb_err = (self.color(p) - rgb_gt[both]).abs().sum(-1)  # (H,)
            rgb_loss = rgb_err.sum() / n
            metrics["rgb_l1"] = float(rgb_err.detach().mean())  # per hit ray, for the logs
            if cfg.lambda_depth > 0:
                depth_loss = (d - depth_gt[both]).abs().sum() / n
        # freespace: rays outside the mask are empty everywhere (a random depth where the ray
        # crosses the bounding box); a surface found there is wrong
        free = ~mask_gt
        t_in, t_out = ray_box_interval(origins[free], dirs[free], cfg.bound, cfg.near, cfg.far)
        free_pts = origins[free] + (t_in + (t_out - t_in) * t[free])[:, None] * dirs[free]
        wrong = hit & ~mask_gt
        free_pts = torch.cat([free_pts, origins[wrong] + surf["depth"][wrong][:, None]
                              * dirs[wrong]])
        free_loss = (F.binary_cross_entropy_with_logits(
            self.field(free_pts), torch.zeros(len(free_pts), device=free_pts.device),
            reduction="sum") / n if len(free_pts) else zero)
        # occupancy: rays inside the mask that found no surface must meet one
        miss = mask_gt & ~hit
        occ_loss = zero
        if miss.any():
            p = origins[miss] + surf["max_depth"][miss][:, None] * dirs[miss]
            occ_loss = F.binary_cross_entropy_with_logits(
                self.field(p), torch.ones(len(p), device=p.device), reduction="sum") / n
        total = (cfg.lambda_rgb * rgb_loss + cfg.lambda_freespace * free_loss
                 + cfg.lambda_occupancy * occ_loss + cfg.lambda_depth * depth_loss)
        with torch.no_grad():
            mask_iou = ((hit & mask_gt).sum() / (hit | mask_gt).sum().clamp(min=1)).item()
        metrics.update(loss=float(total.detach()), rgb=float(rgb_loss.detach()),
                       freespace=float(free_loss.detach()), occupancy=float(occ_loss.detach()),
                       mask_iou=mask_iou)
        if cfg.lambda_depth > 0:
            metrics["depth"] = float(depth_loss.detach())
        return LossOutput(total, metrics)

    # -- rendering a trained model --------------------------------------------------------
    @torch.no_grad()
    def render(self, c2w: torch.Tensor, height: int, width: int, background: float = 1.0,
               chunk: int = 4096) -> dict:
        """rgb (H, W, 3), mask (H, W) and depth (H, W) seen from camera c2w (3, 4)."""
        cfg = self.cfg
        device = next(self.parameters()).device
        origins, dirs = camera_rays(c2w, height, width, cfg.fov_deg)
        rgb = torch.full((len(dirs), 3), background)
        depth = torch.full((len(dirs),), float("inf"))
        for s in range(0, len(dirs), chunk):
            o, w = origins[s:s + chunk].to(device), dirs[s:s + chunk].to(device)
            surf = find_surface(self.field, o, w, cfg.near, cfg.far, cfg.march_steps,
                                cfg.secant_steps, self.level)
            h = surf["hit"]
            if h.any():
                p = o[h] + surf["depth"][h][:, None] * w[h]
                rgb[s:s + chunk][h.cpu()] = self.color(p).cpu()
                depth[s:s + chunk][h.cpu()] = surf["depth"][h].cpu()
        return {"rgb": rgb.reshape(height, width, 3), "mask": torch.isfinite(depth).reshape(
            height, width), "depth": depth.reshape(height, width)}

