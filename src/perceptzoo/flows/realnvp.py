"""RealNVP: real-valued non-volume preserving flows for images (Dinh et al., ICLR 2017).

Affine coupling layers (eqs. 7-9): with a binary mask b,

    z = b x + (1 - b) (x exp(s(b x)) + t(b x)),    log |det dz/dx| = sum_j (1 - b_j) s(b x)_j,

exact to invert and with a triangular Jacobian. Multi-scale architecture (section 3.6): each
scale applies 3 checkerboard couplings (alternating parity), a squeeze, 3 channel couplings
(alternating halves), then factors out half the channels as latents; the last scale applies
4 checkerboard couplings. Pre-processing (section 4.1): uniform dequantization
y = (x + u)/L, then the logit of alpha + (1 - 2 alpha) y, both with their log-dets in the
likelihood (so bits/dim are the dequantized figure). `coupling="additive"` gives NICE's
volume-preserving additive coupling (Dinh et al. 2015) in the same architecture.

Differences from the paper, on purpose: the coupling networks are Glow's small
conv-ReLU-conv-ReLU-zero-conv (not deep ResNets), and ActNorm after each coupling replaces batch
normalisation (the same per-channel affine, but a fixed bijection at evaluation).

    >>> import perceptzoo
    >>> model = perceptzoo.build("realnvp", hidden=16)         # digits 8x8, 17 levels
    >>> model.sample(2).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.flows.bases import make_base
from perceptzoo.flows.dequantization import make_dequantization
from perceptzoo.flows.layers import (
    ActNorm,
    ChannelCoupling,
    FlowSequence,
    IdentitySplit,
    Logit,
    MaskedCoupling,
    MultiScale,
    Shift,
    SplitPrior,
    Squeeze,
    checkerboard_mask,
)
from perceptzoo.flows.model import FlowModel


@dataclass
class RealNVPConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """(C, H, W); filled from the dataset"""
    num_levels: int | None = 17
    """grey levels of the data (dequantized); filled from the dataset"""
    num_scales: int = 2
    """scales L; H and W must be divisible by 2^(L-1)"""
    hidden: int = 64
    """channels of the coupling networks"""
    coupling: str = "affine"
    """affine (RealNVP) | additive (NICE)"""
    actnorm: bool = True
    """ActNorm after every coupling (in place of the paper's batch normalisation)"""
    logit_alpha: float | None = 0.05
    """logit pre-processing with this alpha (None: centre to [-1/2, 1/2] instead)"""
    dequantization: str = "uniform"
    """uniform | variational (Flow++)"""
    base: str = "normal"
    """normal | diagonal | mixture"""
    learned_prior: bool = False
    """model factored-out latents with a learned prior given the kept half (Glow's split)"""

    @classmethod
    def tiny(cls) -> RealNVPConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(hidden=8)


def _steps(kind: str, shape, cfg: RealNVPConfig, count: int) -> list[nn.Module]:
    c, h, w = shape
    affine = cfg.coupling == "affine"
    layers: list[nn.Module] = []
    for i in range(count):
        if kind == "checkerboard":
            layers.append(MaskedCoupling(checkerboard_mask(h, w, i % 2), c, cfg.hidden, affine))
        else:
            layers.append(ChannelCoupling(c, cfg.hidden, affine, flip=bool(i % 2)))
        if cfg.actnorm:
            layers.append(ActNorm(c))
    return layers


@register("realnvp", RealNVPConfig, default_dataset="digits", family="flows", runner="trainer")
class RealNVP(FlowModel):
    def __init__(self, cfg: RealNVPConfig):
        if cfg.coupling not in ("affine", "additive"):
            raise UserError(f"coupling must be affine or additive, got {cfg.coupling!r}")
        if len(cfg.data_shape) != 3:
            raise UserError(f"realnvp models images (C, H, W); for vectors use realnvp2d, "
                            f"got data_shape {cfg.data_shape}")
        c, h, w = cfg.data_shape
        if h % 2 ** (cfg.num_scales - 1) or w % 2 ** (cfg.num_scales - 1):
            raise UserError(f"{h}x{w} images cannot be squeezed {cfg.num_scales - 1} times; "
                            "lower num_scales")
        levels, splits, shapes = [], [], []
        for scale in range(cfg.num_scales):
            if scale == cfg.num_scales - 1:  # last scale: 4 checkerboard couplings
                levels.append(FlowSequence(_steps("checkerboard", (c, h, w), cfg, 4)))
                shapes.append((c, h, w))
                break
            layers = _steps("checkerboard", (c, h, w), cfg, 3)
            c, h, w = 4 * c, h // 2, w // 2
            layers += [Squeeze(), *_steps("channel", (c, h, w), cfg, 3)]
            levels.append(FlowSequence(layers))
            shapes.append((c, h, w))
            keep = c // 2
            splits.append(SplitPrior(c, keep) if cfg.learned_prior else IdentitySplit(keep))
            c = keep
        num_dims = cfg.data_shape[0] * cfg.data_shape[1] * cfg.data_shape[2]
        preprocess = Logit(cfg.logit_alpha) if cfg.logit_alpha is not None else Shift()
        dequant = (make_dequantization(cfg.dequantization, cfg.data_shape, cfg.num_levels)
                   if cfg.num_levels is not None else None)
        super().__init__(MultiScale(levels, splits, shapes), make_base(cfg.base, (num_dims,)),
                         data_shape=cfg.data_shape, num_levels=cfg.num_levels,
                         preprocess=preprocess if cfg.num_levels is not None else None,
                         dequantization=dequant)
        self.cfg = cfg
