"""RealNVP over vectors: 2D toy densities, heat-maps, and conditional flows over any latent space.

The same affine coupling as the image RealNVP (Dinh et al. 2017, eq. 7), with MLP networks and
alternating masks b over the D features:

    z = b x + (1 - b) (x exp(s(b x [, c])) + t(b x [, c])),   log-det = sum (1 - b) s,

optionally interleaved with ActNorm and a learned invertible linear map (Glow's 1x1 conv on a
vector, PLU-parameterised), over a base that may be a learned Gaussian mixture. With
`cond_dim` > 0 every coupling also sees an attribute vector c (B, cond_dim), giving p(x | c):
the conditional coupling over any latent space (e.g. attribute-conditioned edits of a GAN's
latents, StyleFlow; Abdal et al. 2021), passed as `log_prob(x, cond=c)` / `sample(n, cond=c)`.

`density_grid` evaluates the learned density on a grid (its Riemann sum is the test that it
integrates to 1) and `save_density_png` draws the heat-map beside a scatter of the data.

    >>> import perceptzoo
    >>> model = perceptzoo.build("realnvp2d", num_layers=4, hidden=32, base="mixture")
    >>> model.sample(5).shape
    torch.Size([5, 2])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.flows.bases import make_base
from perceptzoo.flows.dequantization import make_dequantization
from perceptzoo.flows.layers import (
    ActNorm,
    FlowSequence,
    InvConv1x1,
    Logit,
    MaskedCoupling,
    alternating_mask,
)
from perceptzoo.flows.model import FlowModel


@dataclass
class RealNVP2DConfig:
    data_shape: tuple[int, ...] = (2,)
    """(D,); filled from the dataset"""
    num_levels: int | None = None
    """None for continuous data; discrete vectors are dequantized and logit-transformed"""
    num_layers: int = 8
    """coupling layers (masks alternate)"""
    hidden: int = 64
    """units of each coupling MLP (two hidden layers)"""
    coupling: str = "affine"
    """affine (RealNVP) | additive (NICE)"""
    actnorm: bool = True
    """ActNorm before every coupling"""
    invertible_linear: bool = False
    """a PLU invertible linear map before every coupling (Glow's 1x1 conv on vectors)"""
    base: str = "normal"
    """normal | diagonal | mixture"""
    num_components: int = 8
    """components of the mixture base"""
    cond_dim: int = 0
    """size of an attribute vector each coupling is conditioned on (0: unconditional)"""

    @classmethod
    def tiny(cls) -> RealNVP2DConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(num_layers=2, hidden=16)


@register("realnvp2d", RealNVP2DConfig, default_dataset="toy2d:moons",
          family="flows", runner="trainer")
class RealNVP2D(FlowModel):
    def __init__(self, cfg: RealNVP2DConfig):
        if len(cfg.data_shape) != 1:
            raise UserError(f"realnvp2d models vectors (D,), got {cfg.data_shape}; use realnvp "
                            "or glow for images")
        if cfg.coupling not in ("affine", "additive"):
            raise UserError(f"coupling must be affine or additive, got {cfg.coupling!r}")
        (dim,) = cfg.data_shape
        if dim < 2:
            raise UserError("a coupling flow needs at least 2 dimensions")
        layers = []
        for i in range(cfg.num_layers):
            if cfg.actnorm:
                layers.append(ActNorm(dim))
            if cfg.invertible_linear:
                layers.append(InvConv1x1(dim, lu=True, seed=i))
            layers.append(MaskedCoupling(alternating_mask(dim, i % 2), dim, cfg.hidden,
                                         cfg.coupling == "affine", cond_channels=cfg.cond_dim))
        discrete = cfg.num_levels is not None
        super().__init__(
            FlowSequence(layers), make_base(cfg.base, (dim,), cfg.num_components),
            data_shape=cfg.data_shape, num_levels=cfg.num_levels,
            preprocess=Logit(0.0) if discrete else None,
            dequantization=make_dequantization("uniform", cfg.data_shape, cfg.num_levels)
            if discrete else None,
        )
        self.cfg = cfg

    def loss(self, batch):
        if self.cfg.cond_dim:
            raise UserError("a conditional realnvp2d trains on (x, c) pairs through "
                            "log_prob(x, cond=c); the Trainer has no attribute vectors")
        return super().loss(batch)


# -- densities on a grid, heat-maps ---------------------------------------------------------
@torch.no_grad()
def density_grid(model, lim: float = 4.0, resolution: int = 400, cond=None,
                 batch: int = 20000) -> tuple[torch.Tensor, float]:
    """log p on the cell centres of a resolution^2 grid over [-lim, lim]^2.

    Returns (log_p (resolution, resolution), row i = y from top to bottom; cell area)."""
    edges = torch.linspace(-lim, lim, resolution + 1, dtype=torch.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    yy, xx = torch.meshgrid(centres.flip(0), centres, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], 1)
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    out = torch.cat([
        model.log_prob(points[i : i + batch].to(device, dtype),
                       cond=None if cond is None else cond.expand(len(points[i:i + batch]), -1))
        .double().cpu()
        for i in range(0, len(points), batch)
    ])
    return out.view(resolution, resolution), float((2 * lim / resolution) ** 2)


def _heat(log_p: torch.Tensor) -> Image.Image:
    p = log_p.exp().numpy()
    p = p / max(p.max(), 1e-300)
    # a white -> blue -> black colour ramp
    r = np.clip(1 - 1.6 * p, 0, 1)
    g = np.clip(1 - 1.3 * p, 0, 1)
    b = np.clip(1 - 0.5 * p, 0, 1)
    rgb = (np.stack([r, g, b], -1) * 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def save_density_png(panels: list[tuple[str, torch.Tensor]], points: torch.Tensor | None,
                     path: str | Path, lim: float = 4.0) -> None:
    """One PNG: a scatter of `points` (the data) and one heat-map per (title, log_p grid)."""
    size = panels[0][1].shape[0] if panels else 200
    images = []
    if points is not None:
        img = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(img)
        xy = ((points.float().cpu().numpy() + lim) / (2 * lim) * size).clip(0, size - 1)
        for x, y in xy:
            draw.point((float(x), float(size - 1 - y)), fill=(30, 60, 160))
        images.append(("data", img))
    images += [(title, _heat(lp)) for title, lp in panels]
    canvas = Image.new("RGB", (len(images) * (size + 4), size + 16), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (title, img) in enumerate(images):
        canvas.paste(img, (i * (size + 4), 16))
        draw.text((i * (size + 4) + 4, 2), title, fill=(0, 0, 0))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, format="PNG")


def true_log_prob_grid(name: str, lim: float = 4.0, resolution: int = 400):
    """The exact toy density on the same grid as `density_grid` (None without a closed form)."""
    from perceptzoo.data import toy2d

    if not toy2d.has_log_prob(name):
        return None
    edges = torch.linspace(-lim, lim, resolution + 1, dtype=torch.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    yy, xx = torch.meshgrid(centres.flip(0), centres, indexing="ij")
    lp = toy2d.log_prob(name, torch.stack([xx.flatten(), yy.flatten()], 1))
    return lp.view(resolution, resolution)


__all__ = ["RealNVP2D", "RealNVP2DConfig", "density_grid", "save_density_png",
           "true_log_prob_grid"]
