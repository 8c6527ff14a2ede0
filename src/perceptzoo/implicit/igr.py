"""IGR: Implicit Geometric Regularization for learning shapes (Gropp et al., ICML 2020).

Fit a signed distance function f_theta to a raw point cloud {x_i} (with normals {n_i} when
given) by asking f to vanish on the points and to have unit gradient everywhere (eq. 2):

    l(theta) = mean_i |f(x_i)| + tau * mean_i ||grad f(x_i) - n_i||
               + lambda * E_{x ~ D} (||grad f(x)|| - 1)^2

The last, eikonal, term is the implicit regulariser: among the zero sets through the points,
gradient descent from the geometric (sphere) initialisation finds a smooth, plausible one, and
f away from the points approximates a signed distance. D mixes a Gaussian around each point
with sigma = the distance to its k-th nearest neighbour (k = 50 in the paper) and a uniform
distribution over the bounding box (sec. 4: 1/8 of the samples). Paper settings: 8 layers of
512 Softplus(beta=100) units with a skip at layer 4, geometric init, lambda = 0.1, tau = 1.
`lambda_eikonal=0` is the ablation the paper's figure 1 argues against; `use_normals=False`
fits an unoriented cloud.

Trained through the runner (`perceptzoo train igr --dataset mesh:bunny-watertight`): the
Trainer's `batch_size` is the number of cloud points per step (off-surface samples add
`global_fraction` more), its `lr` Adam's rate, halved at 50 % and 75 % of the steps.

    >>> from perceptzoo.data.shapes import get_shape
    >>> model = IGR(IGRConfig(hidden=64, layers=4, skip_layers=()))
    >>> data = model.make_dataset([get_shape("sphere")])
    >>> out = model.loss(model.batch(data, torch.Generator().manual_seed(0), 512))
    >>> sorted(out.metrics)
    ['eikonal', 'loss', 'normal', 'surface']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data import shapes as shape_data
from perceptzoo.data.shapes import Shape
from perceptzoo.implicit.common import ImplicitField
from perceptzoo.implicit.decoders import DecoderConfig, ImplicitMLP, gradient


@dataclass
class IGRConfig:
    hidden: int = 256
    layers: int = 6
    skip_layers: tuple[int, ...] = (3,)
    fourier_levels: int = 0
    lambda_eikonal: float = 0.1
    """weight of E(||grad f|| - 1)^2 (the paper's lambda; 0: the no-eikonal ablation)"""
    tau_normal: float = 1.0
    """weight of ||grad f(x_i) - n_i|| (the paper's tau)"""
    use_normals: bool = True
    knn: int = 50
    """sigma of the local Gaussian around x_i: distance to its k-th nearest neighbour"""
    global_fraction: float = 0.125
    """fraction of off-surface samples drawn uniformly in the box"""
    num_surface_points: int = 50_000
    """points sampled on a shape to make the point cloud (ignored for a scan's vertices)"""
    scan_vertices: bool = False
    """fit the mesh file's vertices (a raw scan) rather than points sampled on its faces"""
    full_eval: bool = False
    """evaluate with the benchmark protocol (implicit.common.FULL) instead of the quick one"""

    @classmethod
    def tiny(cls) -> IGRConfig:
        return cls(hidden=32, layers=3, skip_layers=(), num_surface_points=500, knn=8)


@register("igr", IGRConfig, default_dataset="mesh:bunny-watertight", family="implicit",
          runner="field", train_defaults={"lr": 5e-3, "steps": 1000, "batch_size": 4096,
                                          "schedule": "step", "grad_clip": None,
                                          "checkpoint_every": 100, "log_every": 20})
class IGR(ImplicitField):
    """An SDF network fitted to one point cloud with the IGR loss."""

    level = 0.0
    inside = "below"
    single_shape = True

    def __init__(self, cfg: IGRConfig):
        super().__init__()
        self.cfg = cfg
        self.decoder = ImplicitMLP(DecoderConfig(
            hidden=cfg.hidden, layers=cfg.layers, skip_layers=cfg.skip_layers,
            fourier_levels=cfg.fourier_levels, activation="softplus", geometric_init=True,
            init_radius=0.5))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """SDF at points (..., 3) -> (...)."""
        shape = points.shape[:-1]
        return self.decoder(points.reshape(1, -1, 3)).reshape(shape)

    # -- data -----------------------------------------------------------------------------
    def shapes(self, dataset: str, split: str, data_dir) -> list[Shape]:
        """One shape; a mesh need not be watertight (IGR needs no inside: raw scans such as
        stanford-bunny and teapot are welcome)."""
        if dataset.startswith("mesh:"):
            return [Shape(dataset, shape_data.load_mesh(dataset[5:], data_dir,
                                                        watertight=False))]
        return super().shapes(dataset, split, data_dir)

    def point_cloud(self, shape: Shape, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The cloud to fit: `num_surface_points` sampled on the shape, or a scan's vertices."""
        if self.cfg.scan_vertices:
            mesh = shape.mesh
            return (torch.as_tensor(np.asarray(mesh.vertices), dtype=torch.float32),
                    torch.as_tensor(np.asarray(mesh.vertex_normals), dtype=torch.float32))
        return shape_data.surface_points(shape, self.cfg.num_surface_points, seed=seed)

    def make_dataset(self, shapes: list[Shape], seed: int = 0) -> dict:
        """The cloud of the one shape (N, 3), its normals (N, 3) (None with
        use_normals=False) and per-point local sigmas (N,)."""
        points, normals = self.point_cloud(shapes[0], seed)
        return self.cloud_dataset(points, normals if self.cfg.use_normals else None)

    def cloud_dataset(self, points: torch.Tensor, normals: torch.Tensor | None) -> dict:
        """A point cloud (N, 3) with normals (N, 3) or None, and its k-NN sigmas (N,)."""
        from scipy.spatial import cKDTree  # here: scipy.spatial costs 0.6 s at `import perceptzoo`

        cloud = points.detach().cpu().numpy()
        k = min(self.cfg.knn, len(cloud) - 1)
        dist, _ = cKDTree(cloud).query(cloud, k=k + 1, workers=1)
        sigmas = torch.as_tensor(np.asarray(dist)[:, -1], dtype=torch.float32)
        return {"points": points.float(), "normals": None if normals is None else normals.float(),
                "sigmas": sigmas}

    def batch(self, data: dict, generator: torch.Generator, batch_size: int) -> tuple:
        """`batch_size` cloud points (normals or None) and the off-surface samples D around
        them: a Gaussian at each point's sigma, plus `global_fraction` uniform in the box."""
        n = min(batch_size, len(data["points"]))
        idx = torch.randperm(len(data["points"]), generator=generator)[:n]
        pts, sig = data["points"][idx], data["sigmas"][idx]
        nrm = None if data["normals"] is None else data["normals"][idx]
        local = pts + sig[:, None] * torch.randn(n, 3, generator=generator)  # (n, 3)
        n_glob = max(1, int(n * self.cfg.global_fraction))
        glob = torch.rand(n_glob, 3, generator=generator) * 2.2 - 1.1  # (n_glob, 3)
        return pts, nrm, torch.cat([local, glob])

    # -- objective (eq. 2) ----------------------------------------------------------------
    def loss(self, batch: tuple) -> LossOutput:
        pts, nrm, off = batch
        pts = pts.clone().requires_grad_(True)
        off = off.clone().requires_grad_(True)
        f_on = self(pts)  # (n,)
        surface = f_on.abs().mean()
        total = surface
        metrics = {"surface": float(surface.detach())}
        if self.cfg.use_normals and nrm is not None and self.cfg.tau_normal > 0:
            g_on = gradient(f_on, pts)  # (n, 3)
            normal = (g_on - nrm).norm(dim=-1).mean()
            total = total + self.cfg.tau_normal * normal
            metrics["normal"] = float(normal.detach())
        else:
            metrics["normal"] = 0.0
        if self.cfg.lambda_eikonal > 0:
            g_off = gradient(self(off), off)  # (m, 3)
            eikonal = ((g_off.norm(dim=-1) - 1) ** 2).mean()
            total = total + self.cfg.lambda_eikonal * eikonal
        else:  # still report how far from a distance function the field is
            g_off = gradient(self(off), off, create_graph=False)
            eikonal = ((g_off.norm(dim=-1) - 1) ** 2).mean()
        metrics["eikonal"] = float(eikonal.detach())
        metrics["loss"] = float(total.detach())
        return LossOutput(total, metrics)

    def field(self, points: torch.Tensor) -> torch.Tensor:
        """The value whose zero set is the surface (SDF, negative inside), points (N, 3)."""
        return self(points)
