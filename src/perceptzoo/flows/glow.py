"""Glow: generative flow with invertible 1x1 convolutions (Kingma & Dhariwal, NeurIPS 2018).

One step of flow (section 3, table 1), each with its log-det:

    ActNorm          z = s * (x + b)                       H W sum log|s|
    1x1 conv         z_ij = W x_ij                          H W log|det W|   (PLU: H W sum log|s|)
    affine coupling  (log s, t) = NN(x_a); z_b = s * x_b + t   sum log|s|

Multi-scale architecture (figure 2b): L levels, each a squeeze then K steps; after every
level but the last, half the channels are factored out with a learned prior
N(mu(h), sigma(h)) given the kept half h (a zero-initialised conv). The last conv of every
coupling network is zero-initialised, so each step starts as the identity (section 3.3).
ActNorm is initialised on the first batch (`initialize`, called by the Trainer).
Pre-processing: y = (x + u)/L - 1/2 (uniform or variational dequantization), so bits/dim are
the dequantized figure. Sampling at temperature T draws z ~ N(0, T^2 I) (section 5).

    >>> import perceptzoo
    >>> model = perceptzoo.build("glow", hidden=16, num_steps=2)   # digits 8x8, 17 levels
    >>> model.sample(2, temperature=0.7).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.flows.bases import make_base
from perceptzoo.flows.dequantization import make_dequantization
from perceptzoo.flows.layers import Logit, Shift, glow_levels
from perceptzoo.flows.model import FlowModel


@dataclass
class GlowConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """(C, H, W); filled from the dataset"""
    num_levels: int | None = 17
    """grey levels of the data (dequantized); filled from the dataset"""
    num_scales: int = 2
    """levels L; H and W must be divisible by 2^L"""
    num_steps: int = 4
    """steps of flow K per level"""
    hidden: int = 64
    """channels of the coupling networks"""
    lu: bool = True
    """PLU-decomposed 1x1 convolution (False: plain W with slogdet)"""
    coupling: str = "affine"
    """affine | additive"""
    scale_map: str = "tanh"
    """coupling scale: tanh (log s = w tanh(raw), learned w) | sigmoid (Glow's sigmoid(raw + 2))"""
    learned_prior: bool = True
    """learned prior for factored-out latents (False: they are N(0, I))"""
    logit_alpha: float | None = None
    """None: Glow's centring y - 1/2; a float: RealNVP's logit pre-processing"""
    dequantization: str = "uniform"
    """uniform | variational (Flow++)"""
    base: str = "normal"
    """normal | diagonal | mixture"""
    seed: int = 0
    """seed of the random rotations that initialise the 1x1 convolutions"""

    @classmethod
    def tiny(cls) -> GlowConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(num_steps=1, hidden=8)


@register("glow", GlowConfig, default_dataset="digits", family="flows", runner="trainer")
class Glow(FlowModel):
    def __init__(self, cfg: GlowConfig):
        if len(cfg.data_shape) != 3:
            raise UserError(f"glow models images (C, H, W); for vectors use realnvp2d "
                            f"(invertible_linear=true), got data_shape {cfg.data_shape}")
        transform, _ = glow_levels(cfg)
        num_dims = cfg.data_shape[0] * cfg.data_shape[1] * cfg.data_shape[2]
        discrete = cfg.num_levels is not None
        preprocess = Logit(cfg.logit_alpha) if cfg.logit_alpha is not None else Shift()
        super().__init__(
            transform, make_base(cfg.base, (num_dims,)), data_shape=cfg.data_shape,
            num_levels=cfg.num_levels, preprocess=preprocess if discrete else None,
            dequantization=make_dequantization(cfg.dequantization, cfg.data_shape,
                                               cfg.num_levels) if discrete else None,
        )
        self.cfg = cfg
