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

`fit_latent` does that and never touches the decoder's weights. The decoder re-injects
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

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data.shapes import Shape, sample_sdf
from perceptzoo.errors import UserError
from perceptzoo.implicit.common import EvalSettings, Field, ImplicitField
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
    def clamped_l1(self, pred: torch.Tensor, sdf: torch.Tensor) -> torch.Tensor:
        d = self.cfg.clamp
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
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """The code (D,) that best explains SDF samples points (M, 3), sdf (M,); theta frozen."""
        device = self.latents.weight.device
        points, sdf = points.to(device), sdf.to(device)
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
                cols = torch.randint(len(sdf), (min(points_per_step, len(sdf)),), generator=g)
                pred = self(points[cols][None], z)  # (1, n)
                loss = self.clamped_l1(pred, sdf[cols][None]) + self.cfg.latent_reg * z.pow(2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p, flag in zip(self.parameters(), flags):
                p.requires_grad_(flag)
            self.train(was_training)
        return z.detach()[0]

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
