"""Denoising autoencoders (Vincent et al., ICML 2008; JMLR 2010) and inpainting.

A denoising autoencoder sees a corrupted copy x~ ~ C(x~ | x) and is trained to reconstruct the
clean x (Vincent et al. 2010, eq. 8; Bernoulli cross-entropy on levels scaled to [0, 1]):

    L = E_x E_{x~ ~ C(.|x)} [ -log p(x | g(f(x~))) ].

Corruptions (`corruption`, strength `noise`): "gaussian" adds N(0, noise^2) in [0, 1] units;
"masking" sets a fraction `noise` of the pixels to 0 (the paper's masking noise);
"salt_pepper" sets a fraction `noise` to 0 or 1 at random (section 4.3).

Inpainting (`inpainting_ae`, in the spirit of Pathak et al. 2016's context encoder without the
adversarial term): a random `block_size` x `block_size` square is hidden; the network sees the
masked image and the mask, and is trained on the hidden pixels only. `inpaint(x, mask)` keeps
every known pixel and fills only the masked ones with the prediction (the CLI's
`perceptzoo sample RUN --inpaint` calls it on held-out images).

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("inpainting_ae", block_size=3)
    >>> x = torch.randint(0, 17, (2, 1, 8, 8))
    >>> mask = model.block_mask(2, generator=torch.Generator().manual_seed(0))
    >>> filled = model.inpaint(x, mask)
    >>> bool((filled[~mask] == x[~mask].float()).all())
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp

CORRUPTIONS = ("gaussian", "masking", "salt_pepper")


def corrupt(v: torch.Tensor, kind: str, noise: float,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of v (B, D) in [0, 1] (see the module docstring)."""
    if kind == "gaussian":
        return v + noise * torch.randn(v.shape, generator=generator, device=v.device,
                                       dtype=v.dtype)
    hit = torch.rand(v.shape, generator=generator, device=v.device) < noise
    if kind == "masking":
        return v.masked_fill(hit, 0.0)
    if kind == "salt_pepper":
        salt = (torch.rand(v.shape, generator=generator, device=v.device) < 0.5).to(v.dtype)
        return torch.where(hit, salt, v)
    raise UserError(f"unknown corruption {kind!r}; use one of {', '.join(CORRUPTIONS)}")


@dataclass
class DenoisingAEConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = 17
    """levels of the data (scaled to [0, 1]); filled from the dataset"""
    hidden_sizes: tuple[int, ...] = (256,)
    """hidden layers of the encoder (the decoder mirrors them)"""
    code_size: int = 64
    corruption: str = "gaussian"
    """gaussian | masking | salt_pepper"""
    noise: float = 0.3
    """standard deviation (gaussian, in [0, 1] units) or fraction of pixels hit"""
    block_size: int = 4
    """inpainting: side of the hidden square, in pixels"""

    @classmethod
    def tiny(cls) -> DenoisingAEConfig:
        return cls(hidden_sizes=(16,), code_size=8)


@register("denoising_ae", DenoisingAEConfig, default_dataset="digits", family="autoencoders",
          runner="trainer", train_defaults={"lr": 1e-3, "batch_size": 64})
class DenoisingAE(nn.Module):
    #: extra input channels beside the image (the inpainting model adds its mask)
    mask_input = False

    def __init__(self, cfg: DenoisingAEConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.corruption not in CORRUPTIONS:
            raise UserError(f"unknown corruption {cfg.corruption!r}; use one of "
                            f"{', '.join(CORRUPTIONS)}")
        if cfg.noise < 0 or (cfg.corruption != "gaussian" and cfg.noise > 1):
            raise UserError(f"noise must be >= 0 (and a fraction <= 1 for {cfg.corruption})")
        D = self.num_dims = math.prod(cfg.data_shape)
        inputs = 2 * D if self.mask_input else D
        self.encoder = mlp([inputs, *cfg.hidden_sizes, cfg.code_size], nn.ReLU,
                           out_activation=nn.ReLU)
        self.decoder = mlp([cfg.code_size, *reversed(cfg.hidden_sizes), D], nn.ReLU)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1).to(self.encoder[0].weight.dtype)
        return x if self.cfg.num_levels is None else x / (self.cfg.num_levels - 1)

    def to_data(self, v: torch.Tensor) -> torch.Tensor:
        """[0, 1] values (B, D) -> data units (B, *data_shape)."""
        scale = 1 if self.cfg.num_levels is None else self.cfg.num_levels - 1
        return (v * scale).reshape(v.shape[0], *self.cfg.data_shape)

    def logits(self, v_tilde: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction logits (B, D) from a corrupted input in [0, 1] units."""
        h = v_tilde if mask is None else torch.cat([v_tilde, mask.to(v_tilde.dtype)], 1)
        return self.decoder(self.encoder(h))

    @torch.no_grad()
    def denoise(self, x_tilde: torch.Tensor) -> torch.Tensor:
        """The reconstruction of a (corrupted) input, in data units."""
        return self.to_data(torch.sigmoid(self.logits(self.inputs(x_tilde))))

    @torch.no_grad()
    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A corrupted copy of x in data units (not clamped: Gaussian noise leaves [0, L-1])."""
        return self.to_data(corrupt(self.inputs(x), self.cfg.corruption, self.cfg.noise,
                                    generator))

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        v = self.inputs(x)
        logits = self.logits(corrupt(v, self.cfg.corruption, self.cfg.noise))
        loss = F.binary_cross_entropy_with_logits(logits, v, reduction="none").sum(1).mean()
        return LossOutput(loss, {"reconstruction": loss.item()})


@dataclass
class InpaintingAEConfig(DenoisingAEConfig):
    hidden_sizes: tuple[int, ...] = (512, 256)
    code_size: int = 128

    @classmethod
    def tiny(cls) -> InpaintingAEConfig:
        return cls(hidden_sizes=(16,), code_size=8, block_size=2)


@register("inpainting_ae", InpaintingAEConfig, default_dataset="digits", family="autoencoders",
          runner="trainer", train_defaults={"lr": 1e-3, "batch_size": 64})
class InpaintingAE(DenoisingAE):
    mask_input = True

    def __init__(self, cfg: InpaintingAEConfig):
        h, w = cfg.data_shape[-2:] if len(cfg.data_shape) >= 2 else (1, cfg.data_shape[-1])
        if not 1 <= cfg.block_size <= min(h, w):
            raise UserError(f"block_size {cfg.block_size} does not fit the {h}x{w} images; "
                            f"pass --set block_size=N with 1 <= N <= {min(h, w)}")
        super().__init__(cfg)

    def block_mask(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """num random square masks (num, *data_shape), True where the pixel is hidden."""
        *lead, h, w = self.cfg.data_shape
        s = self.cfg.block_size
        top = torch.randint(0, h - s + 1, (num,), generator=generator)
        left = torch.randint(0, w - s + 1, (num,), generator=generator)
        rows, cols = torch.arange(h), torch.arange(w)
        inside_r = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + s)
        inside_c = (cols[None] >= left[:, None]) & (cols[None] < left[:, None] + s)
        mask = inside_r[:, :, None] & inside_c[:, None, :]  # (num, h, w)
        return mask.reshape(num, *[1] * len(lead), h, w).expand(num, *self.cfg.data_shape) \
            .to(self.encoder[0].weight.device)

    def check_mask(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        shape = tuple(self.cfg.data_shape)
        if tuple(mask.shape[-len(shape):]) != shape:
            if any(m > s for m, s in zip(mask.shape[-2:], shape[-2:])):
                raise UserError(f"the mask {tuple(mask.shape[-2:])} is larger than the "
                                f"{shape[-2]}x{shape[-1]} image; give a boolean mask of the "
                                "image's shape, True where pixels are to be filled in")
            raise UserError(f"the mask must have the image's shape {shape}, not "
                            f"{tuple(mask.shape)}")
        return mask.to(torch.bool).expand(x.shape[0], *shape)

    @torch.no_grad()
    def inpaint(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x with the pixels where `mask` is True replaced by the model's prediction (every
        other pixel is returned unchanged): (B, *data_shape) floats in data units."""
        mask = self.check_mask(x, mask)
        v = self.inputs(x)
        m = mask.reshape(x.shape[0], -1)
        prediction = torch.sigmoid(self.logits(v.masked_fill(m, 0.0), m))
        return self.to_data(torch.where(m, prediction, v))

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        v = self.inputs(x)
        m = self.block_mask(x.shape[0]).reshape(x.shape[0], -1)
        logits = self.logits(v.masked_fill(m, 0.0), m)
        per_pixel = F.binary_cross_entropy_with_logits(logits, v, reduction="none")
        loss = (per_pixel * m).sum(1).mean()  # only the hidden pixels are predicted
        with torch.no_grad():
            mse = ((torch.sigmoid(logits) - v).pow(2) * m).sum() / m.sum()
        return LossOutput(loss, {"masked_bce": loss.item(), "masked_mse": mse.item()})
