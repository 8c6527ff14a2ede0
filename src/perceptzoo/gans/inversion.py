"""GAN inversion: find the latent whose image matches a given one, then reuse it.

Optimisation-based inversion (Zhu et al. 2016, "Generative Visual Manipulation on the Natural
Image Manifold", eq. 1; Abdal et al. 2019, "Image2StyleGAN", sec. 4 for the W space):

    z* = argmin_z || m * (G(z) - x) ||^2 + lambda_z ||z||^2 / Q

with m a mask of the known pixels (all ones for reconstruction), Adam on z from several
starts (the best kept), optionally started from a trained encoder's guess E(x) (the hybrid
of Zhu et al. sec. 3.2). For a StyleGAN-style model the search can run in W (`space="w"`,
one w for every layer, noise off), where the map to images is better conditioned.

Uses:
- reconstruction: G(z*) and its PSNR (in dB, over model-space values in [-1, 1]: range 2);
- inpainting: invert with m = the known region, fill the rest from G(z*);
- segmentation (the seed's use): a generator of (image, mask) pairs, here the image and its
  stroke mask (pixels above half intensity) as two channels; invert the image channel alone
  and read the mask channel of G(z*) as the segmentation; `iou` scores it;
- the encoder E: x -> z, trained on G's own pairs (z, G(z)) with
  ||E(G(z)) - z||^2 + ||G(E(G(z))) - G(z)||^2 (Zhu et al. sec. 3.2).

A test inverts images that G made itself and recovers them above a stated PSNR
(tests/gans/test_inversion.py).

    >>> import torch, perceptzoo
    >>> from perceptzoo.gans.inversion import Inverter
    >>> g = perceptzoo.build("gan", dataset="digits", latent_dim=4, hidden_g=(32,))
    >>> x = g.sample(2)
    >>> Inverter(g).invert(x, steps=20)["psnr_db"].shape
    torch.Size([2])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.gans.common import to_data_space, to_model_space
from perceptzoo.metrics.geometry import mask_iou


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Per-example peak signal-to-noise ratio in dB, (B,)."""
    mse = (a - b).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(data_range ** 2 / mse.clamp_min(1e-12))


iou = mask_iou  # per-example IoU of boolean masks, (B,) (1 where both are empty)


def with_stroke_mask(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """(B, 1, H, W) grey levels -> (B, 2, H, W): the image and its stroke mask (levels at or
    above half intensity: the top level where inked, 0 elsewhere), both in levels."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise UserError(f"stroke masks are made for (B, 1, H, W) grey images, got "
                        f"{tuple(x.shape)}")
    mask = (x >= (num_levels - 1) / 2).to(x.dtype) * (num_levels - 1)
    return torch.cat([x, mask], 1)


class Inverter:
    """Inverts a trained GAN of this family (`gan`, `dcgan`, `wgan_gp`, `stylegan`, ...).

    space: "z" (the Gaussian latent) or "w" (StyleGAN's intermediate latent).
    """

    def __init__(self, model: nn.Module, space: str = "z"):
        if space not in ("z", "w"):
            raise UserError(f"space must be z or w, got {space!r}")
        if space == "w" and not hasattr(model, "generator_ema") or (
                space == "w" and not hasattr(model.generator_ema, "synthesize")):
            raise UserError("inverting in W needs a StyleGAN model; use space='z'")
        self.model, self.space = model.eval(), space
        self.cfg = model.cfg
        for p in model.parameters():
            p.requires_grad_(False)

    @property
    def latent_dim(self) -> int:
        return self.cfg.w_dim if self.space == "w" else self.cfg.latent_dim

    def image(self, latent: torch.Tensor) -> torch.Tensor:
        """G(latent) in model space."""
        if self.space == "w":
            net = self.model.generator_ema
            return net.synthesize(latent[:, None].expand(-1, net.num_ws, -1), "none")
        if hasattr(self.model, "generator_ema") and hasattr(self.model.generator_ema, "map"):
            return self.model.generate(latent, truncation_psi=1.0, noise="none")
        return self.model.generate(latent)

    def start(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        z = self.model.latent(n, generator)
        if self.space == "w":
            return self.model.generator_ema.map(z)
        return z

    def check(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        shape = tuple(self.cfg.data_shape)
        if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != shape:
            raise UserError(f"this generator makes images of shape {shape}; got a batch of "
                            f"shape {tuple(x.shape)} (pass (B, {', '.join(map(str, shape))}))")
        if mask is not None:
            try:
                torch.broadcast_shapes(mask.shape, x.shape)
            except RuntimeError:
                raise UserError(f"mask of shape {tuple(mask.shape)} does not broadcast to the "
                                f"images' {tuple(x.shape)}") from None

    def invert(self, x: torch.Tensor, *, mask: torch.Tensor | None = None, steps: int = 300,
               lr: float = 0.05, restarts: int = 1, latent_weight: float = 1e-3,
               init: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Invert data-space images x (B, *data_shape).

        Returns latent (B, Q), reconstruction (data space), psnr_db (B,) on the masked pixels
        (all pixels without a mask). init: a starting latent (an encoder's guess).
        """
        self.check(x, mask)
        target = to_model_space(x, self.cfg.num_levels)
        m = torch.ones_like(target) if mask is None else mask.to(target).expand_as(target)
        best_loss = torch.full((len(x),), math.inf, device=target.device)
        best = None
        for r in range(restarts):
            latent = (init.clone() if init is not None and r == 0
                      else self.start(len(x), generator)).requires_grad_(True)
            opt = torch.optim.Adam([latent], lr=lr)
            for _ in range(steps):
                err = (m * (self.image(latent) - target)).pow(2).flatten(1).sum(1) / \
                    m.flatten(1).sum(1).clamp_min(1)
                loss = err + latent_weight * latent.pow(2).mean(1)
                opt.zero_grad()
                loss.sum().backward()
                opt.step()
            with torch.no_grad():
                err = (m * (self.image(latent) - target)).pow(2).flatten(1).sum(1) / \
                    m.flatten(1).sum(1).clamp_min(1)
                better = err < best_loss
                best_loss = torch.where(better, err, best_loss)
                best = latent.detach() if best is None else torch.where(
                    better[:, None], latent.detach(), best)
        with torch.no_grad():
            recon = self.image(best)
            score = 10 * torch.log10(4.0 / best_loss.clamp_min(1e-12))
        return {"latent": best, "reconstruction": to_data_space(recon, self.cfg.num_levels),
                "psnr_db": score}

    def inpaint(self, x: torch.Tensor, known: torch.Tensor, **kwargs) -> dict[str, torch.Tensor]:
        """Fill the pixels where `known` is 0 from G(z*) fitted to the known ones."""
        out = self.invert(x, mask=known, **kwargs)
        known = known.to(x.dtype).expand_as(x)
        out["inpainted"] = known * x + (1 - known) * out["reconstruction"]
        return out

    def segment(self, x: torch.Tensor, **kwargs) -> dict[str, torch.Tensor]:
        """For a generator of (image, stroke mask) pairs: invert grey images x (B, 1, H, W)
        on the image channel and return G(z*)'s mask channel thresholded at half."""
        c = self.cfg.data_shape[0]
        if c != 2:
            raise UserError(f"segmentation needs a generator of (image, mask) pairs (2 "
                            f"channels); this one makes {c}")
        if x.dim() != 4 or x.shape[1] != 1:
            raise UserError(f"segment takes grey images (B, 1, H, W), got {tuple(x.shape)}")
        full = torch.cat([x, torch.zeros_like(x)], 1)
        known = torch.zeros(1, 2, 1, 1, device=x.device)
        known[:, 0] = 1
        out = self.invert(full, mask=known, **kwargs)
        out["mask"] = out["reconstruction"][:, 1:] >= (self.cfg.num_levels - 1) / 2
        return out


class LatentEncoder(nn.Module):
    """E: x (model space) -> z; an MLP over the flattened image."""

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(1), nn.Linear(math.prod(data_shape), hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_encoder(inverter: Inverter, *, steps: int = 1000, batch_size: int = 64,
                  lr: float = 1e-3, hidden: int = 256,
                  generator: torch.Generator | None = None) -> LatentEncoder:
    """Fit E on G's own pairs: ||E(G(z)) - z||^2 + ||G(E(G(z))) - G(z)||^2 (z space only)."""
    if inverter.space != "z":
        raise UserError("the encoder is trained for the z space; use Inverter(model, 'z')")
    encoder = LatentEncoder(tuple(inverter.cfg.data_shape), inverter.latent_dim, hidden)
    device = next(inverter.model.parameters()).device
    encoder.to(device)
    opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    for _ in range(steps):
        z = inverter.start(batch_size, generator)
        with torch.no_grad():
            x = inverter.image(z)
        z_hat = encoder(x)
        loss = (z_hat - z).pow(2).mean() + (inverter.image(z_hat) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return encoder.eval()


def encode(encoder: LatentEncoder, inverter: Inverter, x: torch.Tensor) -> torch.Tensor:
    """E(x) for data-space images x: a starting latent for `Inverter.invert(init=...)`."""
    inverter.check(x)
    with torch.no_grad():
        return encoder(to_model_space(x, inverter.cfg.num_levels))
