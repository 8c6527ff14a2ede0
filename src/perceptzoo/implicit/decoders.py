"""MLP decoders of implicit fields: f(x, z) for points x in R^3 and an optional shape code z.

    forward(points (B, N, 3), latent (B, D) | None) -> values (B, N)

Pieces, each from the paper that introduced it:

- Fourier (positional) features gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)]_{k<K} (NeRF,
  Mildenhall et al. 2020, eq. 4): lets an MLP fit finer detail. Off by default.
- Latent re-injection (DeepSDF, Park et al. 2019, sec. 6 and supplement): [gamma(x), z] is the
  input and is concatenated again to the activations of a middle layer (`skip_layers`), scaled
  by 1/sqrt(2) as IGR's code does.
- Geometric initialisation (SAL, Atzmon & Lipman 2020, sec. 4; used by IGR, Gropp et al.
  2020): hidden weights ~ N(0, 2/out), biases 0, last layer weights ~ N(sqrt(pi/in), 1e-6)
  and bias -r, so that at initialisation f(x) ~ ||x|| - r: the SDF of a sphere of radius r.
  That holds in expectation for wide ReLU layers; Softplus offsets and finite width move it
  (at 6 x 256: f(0) = -0.25, not -0.5, and |f - (||x|| - r)| up to 0.41 in the box), so the
  last layer is then refitted by ridge regression towards those weights on points of the box
  (`_fit_sphere`). Stated and tested (tests/implicit/test_igr.py) for IGR's default 6 x 256:
  |f(x) - (||x|| - r)| < 0.03 at ||x|| >= 0.25 and < 0.01 on average over [-1, 1]^3; at the
  origin, the kink of ||x|| that no smooth Softplus network has, f(0) = -0.35 (within 0.16).
  With Softplus(beta=100) activations (IGR's choice), the field is smooth enough for the
  eikonal term's second derivatives. With Fourier features, the sin/cos inputs start with
  zero weights (as NeuS does) so the sphere survives.
  `inside_positive=True` flips the sign (an occupancy-logit field, larger inside).
- Weight normalisation (Salimans & Kingma 2016), which DeepSDF and IGR use. Optional.

    >>> dec = ImplicitMLP(DecoderConfig(hidden=64, layers=4, geometric_init=True))
    >>> x = torch.randn(2, 10, 3)
    >>> dec(x).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DecoderConfig:
    hidden: int = 256
    layers: int = 8
    """linear layers in total, the output layer included"""
    latent_dim: int = 0
    skip_layers: tuple[int, ...] = (4,)
    """layers whose input is re-concatenated with [gamma(x), z] (DeepSDF's latent re-injection)"""
    fourier_levels: int = 0
    """K frequencies 2^0..2^(K-1) of positional encoding (0: raw coordinates)"""
    activation: str = "softplus"
    """softplus (beta=100, IGR/SAL) or relu (DeepSDF, ONet)"""
    geometric_init: bool = True
    init_radius: float = 0.5
    inside_positive: bool = False
    """flip the geometric init's sign: an occupancy-style field, larger inside"""
    weight_norm: bool = False
    dropout: float = 0.0
    out_dim: int = 1
    """outputs per point: 1 gives values (B, N); more gives (B, N, out_dim), e.g. colour"""


def fourier_features(x: torch.Tensor, levels: int) -> torch.Tensor:
    """[x, sin(2^k pi x), cos(2^k pi x)] for k < levels: (..., 3) -> (..., 3 + 6 levels)."""
    if levels == 0:
        return x
    freqs = (2.0 ** torch.arange(levels, dtype=x.dtype, device=x.device)) * math.pi  # (K,)
    xf = x[..., None, :] * freqs[:, None]  # (..., K, 3)
    return torch.cat([x, xf.sin().flatten(-2), xf.cos().flatten(-2)], -1)


class ImplicitMLP(nn.Module):
    """f(x, z): the MLP of DeepSDF / IGR / ONet-style decoders (see module docstring)."""

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        self.point_dim = 3 + 6 * cfg.fourier_levels
        self.in_dim = self.point_dim + cfg.latent_dim
        skips = {s for s in cfg.skip_layers if 0 < s < cfg.layers}
        self.skips = skips
        dims_in, dims_out = [], []
        for i in range(cfg.layers):
            d_in = self.in_dim if i == 0 else cfg.hidden
            if i in skips:  # [h, gamma(x), z] re-enters here
                d_in = cfg.hidden + self.in_dim
            dims_in.append(d_in)
            dims_out.append(cfg.out_dim if i == cfg.layers - 1 else cfg.hidden)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims_in, dims_out))
        self.act = nn.Softplus(beta=100) if cfg.activation == "softplus" else nn.ReLU()
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        if cfg.geometric_init:
            if cfg.out_dim != 1:
                raise ValueError("geometric init makes one SDF output; set out_dim=1")
            self._geometric_init()
            self._fit_sphere()
        if cfg.weight_norm:
            self.linears = nn.ModuleList(
                nn.utils.parametrizations.weight_norm(lin) for lin in self.linears)

    @torch.no_grad()
    def _geometric_init(self) -> None:
        cfg, last = self.cfg, len(self.linears) - 1
        for i, lin in enumerate(self.linears):
            out_dim, in_dim = lin.weight.shape
            if i == last:
                nn.init.normal_(lin.weight, mean=math.sqrt(math.pi / in_dim), std=1e-6)
                nn.init.constant_(lin.bias, -cfg.init_radius)
                if cfg.inside_positive:
                    lin.weight.neg_()
                    lin.bias.neg_()
                continue
            nn.init.normal_(lin.weight, 0.0, math.sqrt(2.0) / math.sqrt(out_dim))
            nn.init.zeros_(lin.bias)
            # Fourier features start switched off, so the network starts as the sphere SDF
            # (the latent keeps its random weights: codes are small at initialisation, and a
            # zero weight would stop any gradient from reaching them)
            if (i == 0 or i in self.skips) and cfg.fourier_levels:
                offset = 0 if i == 0 else in_dim - self.in_dim  # where [gamma(x), z] starts
                lin.weight[:, offset + 3:offset + self.point_dim] = 0.0

    @torch.no_grad()
    def _fit_sphere(self, num_points: int = 4096, ridge: float = 1e-4) -> None:
        """Make the sphere exact: refit the last layer by ridge regression towards SAL's
        weights so that f(x) = ||x|| - r (or r - ||x||) on points of the box [-1.2, 1.2]^3.

        SAL's last-layer weights sqrt(pi / in) give E f(x) = ||x|| - r for ReLU units of
        infinite width. Softplus(beta) adds up to log(2) / beta per unit, and those offsets
        sum over wide layers: at 256 units and 6 layers f(0) came out -0.24, not -0.5 (issue
        21). Least squares on the penultimate features h(x) (latent 0) removes the offset
        and most of the finite-width noise; `ridge` (relative to the features' scale) keeps
        the weights near SAL's, so training starts from the same kind of network.
        The generator is local: building a model never touches the global RNG here.
        """
        g = torch.Generator().manual_seed(1234)
        box = (torch.rand(num_points, 3, generator=g, dtype=torch.float64) * 2.4 - 1.2)
        shell = torch.nn.functional.normalize(torch.randn(num_points, 3, generator=g,
                                                          dtype=torch.float64), dim=-1)
        shell = shell * (self.cfg.init_radius + 0.05 * torch.randn(num_points, 1, generator=g,
                                                                   dtype=torch.float64))
        points = torch.cat([box, shell]).float()  # half uniform, half near the surface
        points = points[points.norm(dim=-1) > 0.2]
        latent = torch.zeros(1, self.cfg.latent_dim) if self.cfg.latent_dim else None
        was_training = self.training
        self.eval()  # no dropout while measuring the features
        h = self.features(points[None], latent)[0].double()  # (M, hidden)
        self.train(was_training)
        target = points.double().norm(dim=-1) - self.cfg.init_radius  # (M,)
        last = self.linears[-1]
        w0 = last.weight.double()[0]  # (hidden,): SAL's weights
        if self.cfg.inside_positive:
            target = -target
        # min ||[h 1] [w; b] - y||^2 + lam ||w - w0||^2 (the bias is not penalised)
        a = torch.cat([h, torch.ones(len(h), 1, dtype=h.dtype)], 1)  # (M, hidden + 1)
        lam = ridge * (h * h).sum() / h.shape[1]
        reg = torch.eye(a.shape[1], dtype=h.dtype) * lam
        reg[-1, -1] = 0.0
        prior = torch.cat([w0, w0.new_zeros(1)])
        sol = torch.linalg.solve(a.T @ a + reg, a.T @ target + reg @ prior)
        last.weight.copy_(sol[:-1][None].to(last.weight.dtype))
        last.bias.fill_(float(sol[-1]))

    def features(self, points: torch.Tensor, latent: torch.Tensor | None = None
                 ) -> torch.Tensor:
        """The activations entering the output layer: (B, N, hidden)."""
        x = fourier_features(points, self.cfg.fourier_levels)  # (B, N, P)
        if self.cfg.latent_dim:
            if latent is None:
                raise ValueError("this decoder needs a latent code (B, latent_dim)")
            z = latent[:, None, :].expand(*points.shape[:-1], latent.shape[-1])  # (B, N, D)
            x = torch.cat([x, z], -1)  # (B, N, in_dim)
        inp, h = x, x
        for i, lin in enumerate(self.linears[:-1]):
            if i in self.skips:
                h = torch.cat([h, inp], -1) / math.sqrt(2)  # (B, N, hidden + in_dim)
            h = self.dropout(self.act(lin(h)))
        if len(self.linears) - 1 in self.skips:
            h = torch.cat([h, inp], -1) / math.sqrt(2)
        return h

    def forward(self, points: torch.Tensor, latent: torch.Tensor | None = None) -> torch.Tensor:
        """points (B, N, 3), latent (B, D) or None -> values (B, N) (or (B, N, out_dim))."""
        h = self.linears[-1](self.features(points, latent))
        return h.squeeze(-1) if self.cfg.out_dim == 1 else h  # (B, N) or (B, N, out_dim)


def gradient(values: torch.Tensor, points: torch.Tensor, create_graph: bool = True
             ) -> torch.Tensor:
    """d values / d points, same shape as points; keeps the graph for second derivatives."""
    (g,) = torch.autograd.grad(values, points, torch.ones_like(values), create_graph=create_graph)
    return g
