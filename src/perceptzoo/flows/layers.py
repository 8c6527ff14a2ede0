"""Invertible layers with tractable log-determinants: the building blocks of every flow here.

The layer contract (DESIGN.md): a layer maps data towards the latent with

    forward(x, cond=None) -> (z, logdet)     logdet = log |det dz/dx|, shape (B,)
    inverse(z, cond=None) -> (x, logdet)     logdet = log |det dx/dz| = -(forward's logdet)

so a flow f = f_K o ... o f_1 over a base density p_Z gives the change of variables

    log p_X(x) = log p_Z(f(x)) + sum_k log |det J_{f_k}(x_{k-1})|.

Layers (papers in each docstring): `FlowSequence` (composition), `ActNorm` (Glow),
`InvConv1x1` (Glow: plain with slogdet, or PLU-decomposed), `Squeeze` (RealNVP), `MaskedCoupling`
(RealNVP checkerboard / alternating masks, affine or additive, optionally conditional),
`ChannelCoupling` (channel-split coupling of RealNVP and Glow), `SplitPrior` (Glow's learned
prior of a factored-out half as an affine layer), `Logit` (RealNVP's pre-processing) and
`MultiScale` (L levels with factored-out latents). Every layer takes (B, C, H, W) images or
(B, D) vectors, and `cond` (a tensor or None) where it can be conditioned.

    >>> import torch
    >>> layer = ChannelCoupling(4, hidden=16)
    >>> x = torch.randn(2, 4, 4, 4)
    >>> z, ld = layer(x)
    >>> x2, ld_inv = layer.inverse(z)
    >>> bool(torch.allclose(x, x2, atol=1e-5)), bool(torch.allclose(ld, -ld_inv))
    (True, True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp


def _sum_per_example(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).sum(1)


def _spatial(x: torch.Tensor) -> int:
    """H*W of an image batch, 1 for vectors: how often a per-channel factor repeats."""
    return math.prod(x.shape[2:]) if x.dim() > 2 else 1


def _param_shape(x: torch.Tensor) -> tuple[int, ...]:
    """(1, C, 1, 1) for images, (1, C) for vectors: per-channel parameters broadcast."""
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def with_cond(h: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """Concatenate a condition to a network input along channels.

    h: (B, C, H, W) or (B, D). cond: None, (B, K) (an attribute vector, broadcast over space
    for images) or (B, K, H, W) (a feature map at h's resolution)."""
    if cond is None:
        return h
    if h.dim() == 4 and cond.dim() == 2:
        cond = cond[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
    return torch.cat([h, cond.to(h.dtype)], 1)


class ZeroConv2d(nn.Conv2d):
    """3x3 conv initialised to zero with a learned output scale exp(3 s) (Glow, section 3.3):
    every coupling starts as the identity, which makes deep flows trainable."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)
        self.logs = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * torch.exp(3 * self.logs)


def conv_net(in_channels: int, out_channels: int, hidden: int) -> nn.Module:
    """Glow's coupling network NN(): 3x3 conv, ReLU, 1x1 conv, ReLU, zero-initialised 3x3 conv."""
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, 3, padding=1), nn.ReLU(),
        nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
        ZeroConv2d(hidden, out_channels),
    )


def _net(in_ch: int, out_ch: int, hidden: int, image: bool) -> nn.Module:
    """The coupling network: Glow's conv net on images, else an MLP with two hidden layers;
    both end in a zero layer, so every coupling starts as the identity."""
    if image:
        return conv_net(in_ch, out_ch, hidden)
    return mlp([in_ch, hidden, hidden, out_ch], zero_last=True)


def _soft_clamp(log_scale: torch.Tensor, bound: float = 3.0) -> torch.Tensor:
    """log s = bound tanh(raw / bound): the scale stays in (e^-3, e^3), gradients stay smooth."""
    return bound * torch.tanh(log_scale / bound)


# -- composition ------------------------------------------------------------------------------
class FlowSequence(nn.Module):
    """f = f_K o ... o f_1; log-dets add. `cond` goes to every layer."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x, cond)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = z.new_zeros(z.shape[0])
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z, cond)
            logdet = logdet + ld
        return z, logdet


# -- Glow: ActNorm, invertible 1x1 convolution ----------------------------------------------
class ActNorm(nn.Module):
    """Per-channel affine z = (x + b) * exp(log_s) (Kingma & Dhariwal 2018, section 3.1).

    Data-dependent initialisation: with `init_pending` set (FlowModel.initialize does this),
    the next forward sets b = -mean and log_s = -log std per channel of its input, so the output
    on that batch has mean 0 and unit variance per channel. log-det = H W sum_c log_s_c."""

    def __init__(self, num_channels: int):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(num_channels))
        self.log_scale = nn.Parameter(torch.zeros(num_channels))
        self.init_pending = False

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        dims = [0] + list(range(2, x.dim()))
        self.loc.copy_(-x.mean(dims))
        self.log_scale.copy_(-torch.log(x.std(dims, unbiased=False) + 1e-6))
        self.init_pending = False

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.init_pending:
            self.initialize(x)
        shape = _param_shape(x)
        z = (x + self.loc.view(shape)) * torch.exp(self.log_scale.view(shape))
        logdet = _spatial(x) * self.log_scale.sum()
        return z, logdet.expand(x.shape[0])

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        shape = _param_shape(z)
        x = z * torch.exp(-self.log_scale.view(shape)) - self.loc.view(shape)
        return x, (-_spatial(z) * self.log_scale.sum()).expand(z.shape[0])


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution z_ij = W x_ij (Glow, section 3.2); for vectors, z = W x.

    plain: log-det = H W log|det W| by `slogdet`, O(C^3). lu=True: W = P L (U + diag(s)) with P a
    fixed permutation, L unit lower-triangular, U strictly upper-triangular, so
    log-det = H W sum log|s| in O(C). Both start from a random rotation."""

    def __init__(self, num_channels: int, lu: bool = True, seed: int | None = None):
        super().__init__()
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        w = torch.linalg.qr(torch.randn(num_channels, num_channels, generator=g))[0]
        self.lu = lu
        if not lu:
            self.weight = nn.Parameter(w)
            return
        p, lower, upper = torch.linalg.lu(w)
        s = torch.diagonal(upper)
        self.register_buffer("perm", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones_like(w), -1))
        self.register_buffer("eye", torch.eye(num_channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(s.abs()))

    def weight_and_logdet(self) -> tuple[torch.Tensor, torch.Tensor]:
        """W (C, C) and log|det W|."""
        if not self.lu:
            return self.weight, torch.linalg.slogdet(self.weight)[1]
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.perm @ lower @ upper, self.log_s.sum()

    @staticmethod
    def _matmul(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return x @ w.T
        return F.conv2d(x, w[:, :, None, None])

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        w, logdet = self.weight_and_logdet()
        return self._matmul(w, x), (_spatial(x) * logdet).expand(x.shape[0])

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        w, logdet = self.weight_and_logdet()
        return self._matmul(torch.linalg.inv(w), z), (-_spatial(z) * logdet).expand(z.shape[0])


# -- RealNVP: squeeze, couplings, logit ----------------------------------------------------
class Squeeze(nn.Module):
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2x2 block becomes 4 channels (Dinh et al. 2017,
    section 3.6). A permutation of coordinates: log-det 0."""

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return x.reshape(b, 4 * c, h // 2, w // 2), x.new_zeros(b)

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = z.shape
        z = z.view(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
        return z.reshape(b, c // 4, 2 * h, 2 * w), z.new_zeros(b)


def checkerboard_mask(height: int, width: int, parity: int = 0) -> torch.Tensor:
    """(1, H, W) with 1 where (i + j + parity) is even: the pixels a coupling keeps."""
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((i + j + parity) % 2 == 0).float()[None]


def alternating_mask(num_features: int, parity: int = 0) -> torch.Tensor:
    """(D,) with the first half (parity 0) or second half (parity 1) of the features kept."""
    mask = (torch.arange(num_features) < num_features // 2).float()
    return mask if parity == 0 else 1 - mask


class MaskedCoupling(nn.Module):
    """Coupling with a binary mask b (Dinh et al. 2017, eqs. 8-9):

        affine:    z = b x + (1 - b) (x exp(s(b x)) + t(b x)),  log-det = sum (1 - b) s(b x)
        additive:  z = b x + (1 - b) (x + t(b x)),               log-det = 0  (NICE)

    `mask` is a checkerboard (1, H, W) for images or an alternating (D,) mask for vectors.
    Conditional coupling: with `cond_channels` > 0 the networks also see `cond` (an attribute
    vector (B, K) or a feature map (B, K, H, W)), so the same layer models p(x | cond) over any
    space, e.g. the latents of another flow (C-Flow) or a GAN (StyleFlow)."""

    def __init__(self, mask: torch.Tensor, channels: int, hidden: int, affine: bool = True,
                 cond_channels: int = 0):
        super().__init__()
        self.register_buffer("mask", mask)
        self.affine = affine
        image = mask.dim() == 3
        out = (2 if affine else 1) * channels
        self.net = _net(channels + cond_channels, out, hidden, image)
        # RealNVP's log s = scale * tanh(raw) with a learned per-channel scale (section 4.1)
        if affine:
            self.scale = nn.Parameter(torch.ones(channels, *([1] * (mask.dim() - 1))))

    def _shift_log_scale(self, x: torch.Tensor, cond) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(with_cond(x * self.mask, cond))
        if not self.affine:
            return h, torch.zeros_like(h)
        shift, raw = h.chunk(2, 1)
        return shift, self.scale * torch.tanh(raw)

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._shift_log_scale(x, cond)
        free = 1 - self.mask
        z = self.mask * x + free * (x * torch.exp(log_scale) + shift)
        return z, _sum_per_example(free * log_scale)

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._shift_log_scale(z, cond)  # b z = b x: the kept half is known
        free = 1 - self.mask
        x = self.mask * z + free * (z - shift) * torch.exp(-log_scale)
        return x, -_sum_per_example(free * log_scale)


class ChannelCoupling(nn.Module):
    """Channel-split coupling (RealNVP's channel mask; Glow's affine coupling, section 3.3):
    x = (x_a, x_b) split along channels, (raw, t) = NN(x_a [, cond]), z_b = s x_b + t (affine)
    or x_b + t (additive), z_a = x_a; `flip` swaps the roles. The scale: log s = w tanh(raw) with
    a learned per-channel w (RealNVP, the default; it can expand and contract, which MNIST's
    near-constant background needs early in training), or s = sigmoid(raw + 2) (Glow's code)."""

    def __init__(self, channels: int, hidden: int, affine: bool = True, cond_channels: int = 0,
                 flip: bool = False, image: bool = True, scale_map: str = "tanh"):
        super().__init__()
        if scale_map not in ("tanh", "sigmoid"):
            raise UserError(f"scale_map must be tanh or sigmoid, got {scale_map!r}")
        self.split = channels // 2
        self.flip, self.affine, self.scale_map = flip, affine, scale_map
        # (kept, transformed) sizes: the first `split` channels condition the rest, or the
        # reverse when flipped, so that alternating layers transform both halves
        n_in, n_out = (channels - self.split, self.split) if flip else (self.split,
                                                                       channels - self.split)
        self.net = _net(n_in + cond_channels, (2 if affine else 1) * n_out, hidden, image)
        if affine and scale_map == "tanh":
            self.scale = nn.Parameter(torch.ones(n_out, *([1, 1] if image else [])))

    def _halves(self, x):
        """(a, b): the half that conditions and the half that is transformed."""
        first, second = x.split((self.split, x.shape[1] - self.split), 1)
        return (second, first) if self.flip else (first, second)

    def _join(self, a, b):
        return torch.cat([b, a] if self.flip else [a, b], 1)

    def _params(self, a, cond):
        h = self.net(with_cond(a, cond))
        if not self.affine:
            return h, torch.zeros_like(h)
        shift, raw = h.chunk(2, 1)
        if self.scale_map == "sigmoid":  # Glow's code: s = sigmoid(raw + 2), log s < 0
            return shift, F.logsigmoid(raw + 2.0)
        return shift, self.scale * torch.tanh(raw)  # RealNVP's learned-scale tanh

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._halves(x)
        shift, log_scale = self._params(a, cond)
        b = b * torch.exp(log_scale) + shift
        return self._join(a, b), _sum_per_example(log_scale)

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._halves(z)
        shift, log_scale = self._params(a, cond)
        b = (b - shift) * torch.exp(-log_scale)
        return self._join(a, b), -_sum_per_example(log_scale)


class SplitPrior(nn.Module):
    """Glow's factored-out half with a learned prior N(mu(h), exp(log_sigma(h))^2) given the kept
    half h (section 3.3, "split"): written as the affine layer z_out = (x_out - mu) exp(-log_sigma)
    so that z_out ~ N(0, I) and the whole multi-scale flow stays one bijection.
    log-det = -sum log_sigma. Input (B, C, H, W); the first `keep` channels stay in the flow."""

    def __init__(self, channels: int, keep: int, cond_channels: int = 0):
        super().__init__()
        self.keep = keep
        self.net = ZeroConv2d(keep + cond_channels, 2 * (channels - keep))

    def _params(self, h, cond):
        mu, raw = self.net(with_cond(h, cond)).chunk(2, 1)
        return mu, _soft_clamp(raw, 8.0)  # sigma in (e^-8, e^8): room for sharp latents

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        h, out = x[:, : self.keep], x[:, self.keep :]
        mu, log_sigma = self._params(h, cond)
        return torch.cat([h, (out - mu) * torch.exp(-log_sigma)], 1), -_sum_per_example(log_sigma)

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        h, out = z[:, : self.keep], z[:, self.keep :]
        mu, log_sigma = self._params(h, cond)
        return torch.cat([h, out * torch.exp(log_sigma) + mu], 1), _sum_per_example(log_sigma)


class Logit(nn.Module):
    """RealNVP's pre-processing (section 4.1): y in (0,1) -> z = logit(a + (1 - 2a) y), so the
    flow works on R^D. log-det = sum [log(1 - 2a) - log p - log(1 - p)], p = a + (1 - 2a) y."""

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        self.alpha = alpha

    def forward(self, y: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.alpha + (1 - 2 * self.alpha) * y
        z = torch.log(p) - torch.log1p(-p)
        ld = math.log(1 - 2 * self.alpha) - torch.log(p) - torch.log1p(-p)
        return z, _sum_per_example(ld)

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        p = torch.sigmoid(z)
        y = (p - self.alpha) / (1 - 2 * self.alpha)
        ld = -math.log(1 - 2 * self.alpha) + F.logsigmoid(z) + F.logsigmoid(-z)
        return y, _sum_per_example(ld)


class Shift(nn.Module):
    """y -> y - 1/2: centres [0, 1] data (Glow's pre-processing); log-det 0."""

    def forward(self, y, cond=None):
        return y - 0.5, y.new_zeros(y.shape[0])

    def inverse(self, z, cond=None):
        return z + 0.5, z.new_zeros(z.shape[0])


# -- multi-scale architecture ----------------------------------------------------------------
class MultiScale(nn.Module):
    """L levels with factored-out latents (Dinh et al. 2017, section 3.6; Glow, figure 2b).

    Level l applies `levels[l]` (a FlowSequence, which may begin with a Squeeze) to the current
    h, then (except at the last level) `splits[l]` transforms the second half of the channels
    into a latent that leaves the flow; the first `keep` channels go on. The output z
    concatenates every factored-out latent and the last h, flattened: (B, C*H*W).

    `cond` is None, one tensor for every level, or a list with one entry per level (feature
    maps at each level's resolution: SRFlow's encoder, C-Flow's other flow). `level_shapes[l]`
    is the per-example shape of h after level l's steps (before its split)."""

    def __init__(self, levels: list[nn.Module], splits: list[nn.Module],
                 level_shapes: list[tuple[int, int, int]]):
        super().__init__()
        if len(splits) != len(levels) - 1:
            raise ValueError("need one split per level except the last")
        self.levels = nn.ModuleList(levels)
        self.splits = nn.ModuleList(splits)
        self.level_shapes = [tuple(s) for s in level_shapes]

    @staticmethod
    def _level_cond(cond, level: int):
        return cond[level] if isinstance(cond, (list, tuple)) else cond

    def forward_levels(self, x: torch.Tensor, cond=None):
        """(z (B, D), logdet (B,), [h after each level's steps]) — the last list is what C-Flow
        conditions the other flow on."""
        logdet = x.new_zeros(x.shape[0])
        latents, hs = [], []
        h = x
        for i, level in enumerate(self.levels):
            c = self._level_cond(cond, i)
            h, ld = level(h, c)
            logdet = logdet + ld
            hs.append(h)
            if i < len(self.splits):
                h, ld = self.splits[i](h, c)
                logdet = logdet + ld
                keep = self.splits[i].keep
                latents.append(h[:, keep:].flatten(1))
                h = h[:, :keep]
        latents.append(h.flatten(1))
        return torch.cat(latents, 1), logdet, hs

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        z, logdet, _ = self.forward_levels(x, cond)
        return z, logdet

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        b = z.shape[0]
        # cut z into the factored-out pieces (in order) and the final h
        pieces, start = [], 0
        for i, split in enumerate(self.splits):
            c, hh, ww = self.level_shapes[i]
            n = (c - split.keep) * hh * ww
            pieces.append(z[:, start : start + n].view(b, c - split.keep, hh, ww))
            start += n
        h = z[:, start:].view(b, *self.level_shapes[-1])
        logdet = z.new_zeros(b)
        for i in reversed(range(len(self.levels))):
            c = self._level_cond(cond, i)
            if i < len(self.splits):
                h, ld = self.splits[i].inverse(torch.cat([h, pieces[i]], 1), c)
                logdet = logdet + ld
            h, ld = self.levels[i].inverse(h, c)
            logdet = logdet + ld
        return h, logdet


class IdentitySplit(nn.Module):
    """Factored-out half with a fixed N(0, I) prior (RealNVP): the identity map, log-det 0."""

    def __init__(self, keep: int):
        super().__init__()
        self.keep = keep

    def forward(self, x, cond=None):
        return x, x.new_zeros(x.shape[0])

    def inverse(self, z, cond=None):
        return z, z.new_zeros(z.shape[0])


# -- the Glow stack, shared by glow, srflow and cflow ----------------------------------------
def glow_step(channels: int, cfg, cond_channels: int = 0, index: int = 0) -> list[nn.Module]:
    """One step of flow: ActNorm, invertible 1x1 conv, coupling (conditional if cond_channels)."""
    return [
        ActNorm(channels),
        InvConv1x1(channels, lu=cfg.lu, seed=cfg.seed * 1009 + index),
        ChannelCoupling(channels, cfg.hidden, affine=cfg.coupling == "affine",
                        cond_channels=cond_channels, scale_map=getattr(cfg, "scale_map", "tanh")),
    ]


def glow_levels(cfg, cond_channels: int | list[int] = 0, extra_layers=None):
    """The multi-scale Glow transform for cfg.data_shape: (MultiScale, level shapes).

    `extra_layers(level, channels)` may add layers in front of each step's coupling (SRFlow's
    affine injector); `cond_channels` (one number, or one per level) makes the couplings and
    split priors conditional (SRFlow, C-Flow)."""
    c, h, w = cfg.data_shape
    if h % 2**cfg.num_scales or w % 2**cfg.num_scales:
        raise UserError(f"{h}x{w} images cannot be squeezed {cfg.num_scales} times; "
                        "lower num_scales")
    if cfg.coupling not in ("affine", "additive"):
        raise UserError(f"coupling must be affine or additive, got {cfg.coupling!r}")
    levels, splits, shapes = [], [], []
    index = 0
    for level in range(cfg.num_scales):
        c, h, w = 4 * c, h // 2, w // 2
        cc = cond_channels[level] if isinstance(cond_channels, (list, tuple)) else cond_channels
        layers: list[nn.Module] = [Squeeze()]
        for _ in range(cfg.num_steps):
            step = glow_step(c, cfg, cc, index)
            if extra_layers is not None:
                step = step[:2] + extra_layers(level, c) + step[2:]
            layers += step
            index += 1
        levels.append(FlowSequence(layers))
        shapes.append((c, h, w))
        if level < cfg.num_scales - 1:
            keep = c // 2
            splits.append(SplitPrior(c, keep, cc) if cfg.learned_prior
                          else IdentitySplit(keep))
            c = keep
    return MultiScale(levels, splits, shapes), shapes
