"""StyleFlow (Abdal, Zhu, Mitra & Wonka, ACM TOG 2021): attribute-conditioned edits of a GAN's
latents through a conditional normalizing flow.

A flow f(. ; a) maps a style-based generator's intermediate latent w to z ~ N(0, I) given the
image's attributes a (class, stroke thickness, slant on digits), trained by maximum likelihood
on pairs (w, a(G(w))):

    log p(w | a) = log N(f(w; a); 0, I) + log |det df/dw|.

An edit (sec. 4, "attribute-conditioned sequential editing") inverts w with its measured
attributes and samples forward with the new ones:

    z = f(w; a_old),    w' = f^{-1}(z; a_new),

so z keeps what the attributes do not describe (identity, style) while w' moves to where the
new attributes live. The paper uses a continuous normalizing flow; this file uses conditional
affine coupling layers (RealNVP's, `flows.layers.ChannelCoupling` with `cond_channels`, and a
reversal between couplings so the halves alternate), which give an exact inverse and
log-determinant as well.

StyleFlow is not a registered model: it is fitted on a trained generator's (w, a) pairs by the
study `benchmarks/gan_styleflow.py`; `measure_attributes` computes a on grey digit images.

    >>> import torch
    >>> from perceptzoo.flows.styleflow import StyleFlow
    >>> flow = StyleFlow(w_dim=8, num_attributes=3, hidden=16, num_layers=4)
    >>> w, a = torch.randn(5, 8), torch.randn(5, 3)
    >>> z, logdet = flow(w, a)
    >>> bool(torch.allclose(flow.inverse(z, a)[0], w, atol=1e-5))
    True
"""

from __future__ import annotations

import math

import torch
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.flows.layers import ChannelCoupling, FlowSequence


class Reverse(nn.Module):
    """Reverse the order of the coordinates (a permutation: log-det 0), so that consecutive
    couplings transform different halves (RealNVP's alternation, Glow's fixed permutation)."""

    def forward(self, x: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        return x.flip(1), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, cond=None) -> tuple[torch.Tensor, torch.Tensor]:
        return z.flip(1), z.new_zeros(z.shape[0])


class StyleFlow(nn.Module):
    """Conditional coupling flow w <-> z given attributes a (B, num_attributes)."""

    def __init__(self, w_dim: int, num_attributes: int, hidden: int = 128, num_layers: int = 8):
        super().__init__()
        if w_dim < 2 or num_attributes < 1 or num_layers < 1:
            raise UserError("StyleFlow needs w_dim >= 2, num_attributes >= 1, num_layers >= 1")
        self.w_dim, self.num_attributes = w_dim, num_attributes
        layers: list[nn.Module] = []
        for _ in range(num_layers):  # each coupling transforms one half; Reverse swaps them
            layers += [ChannelCoupling(w_dim, hidden, cond_channels=num_attributes,
                                       image=False), Reverse()]
        self.flow = FlowSequence(layers)
        # w is standardised first (an affine map fitted by `fit_normalisation`)
        self.register_buffer("w_mean", torch.zeros(w_dim))
        self.register_buffer("w_std", torch.ones(w_dim))

    def fit_normalisation(self, w: torch.Tensor) -> None:
        self.w_mean.copy_(w.mean(0))
        self.w_std.copy_(w.std(0).clamp_min(1e-6))

    def _check(self, w: torch.Tensor, cond: torch.Tensor | None) -> None:
        if w.dim() != 2 or w.shape[1] != self.w_dim:
            raise UserError(f"StyleFlow takes latents (B, {self.w_dim}), got {tuple(w.shape)}")
        if cond is None or cond.shape != (w.shape[0], self.num_attributes):
            raise UserError(f"StyleFlow needs attributes cond of shape (B, "
                            f"{self.num_attributes}), got "
                            f"{None if cond is None else tuple(cond.shape)}")

    def forward(self, w: torch.Tensor, cond: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, log |det dz/dw|), both from w (B, w_dim) given cond (B, num_attributes)."""
        self._check(w, cond)
        z, logdet = self.flow((w - self.w_mean) / self.w_std, cond)
        return z, logdet - self.w_std.log().sum()

    def inverse(self, z: torch.Tensor, cond: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """(w, log |det dw/dz|)."""
        self._check(z, cond)
        u, logdet = self.flow.inverse(z, cond)
        return u * self.w_std + self.w_mean, logdet + self.w_std.log().sum()

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor:
        """log p(w | a) in nats, (B,)."""
        z, logdet = self(x, cond)
        return -0.5 * (z.pow(2).sum(1) + self.w_dim * math.log(2 * math.pi)) + logdet

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """w ~ p(w | a): (num_samples, w_dim)."""
        z = torch.randn(num_samples, self.w_dim, generator=generator, device=self.w_mean.device)
        return self.inverse(z, cond)[0]

    @torch.no_grad()
    def edit(self, w: torch.Tensor, old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """w' = f^{-1}(f(w; old); new): the same z under new attributes."""
        return self.inverse(self(w, old)[0], new)[0]


def measure_attributes(images: torch.Tensor, num_levels: int) -> dict[str, torch.Tensor]:
    """Stroke thickness and slant of grey digit images (B, 1, H, W) in levels, each (B,).

    thickness: ink mass / number of pixels (intensities in [0, 1]), a proxy for stroke width;
    slant: the shear of the ink's second moments, sum (x - x_c)(y - y_c) I / sum (y - y_c)^2 I
    with y pointing up (positive for digits leaning right).
    """
    if images.dim() != 4 or images.shape[1] != 1:
        raise UserError(f"attributes are measured on grey images (B, 1, H, W), got "
                        f"{tuple(images.shape)}")
    ink = images.float() / (num_levels - 1)
    b, _, h, w = ink.shape
    ys = torch.arange(h, dtype=ink.dtype, device=ink.device).flip(0)[:, None].expand(h, w)
    xs = torch.arange(w, dtype=ink.dtype, device=ink.device)[None, :].expand(h, w)
    mass = ink.sum(dim=(1, 2, 3)).clamp_min(1e-6)
    xc = (ink[:, 0] * xs).sum(dim=(1, 2)) / mass
    yc = (ink[:, 0] * ys).sum(dim=(1, 2)) / mass
    dx, dy = xs[None] - xc[:, None, None], ys[None] - yc[:, None, None]
    slant = (ink[:, 0] * dx * dy).sum(dim=(1, 2)) / (ink[:, 0] * dy * dy).sum(
        dim=(1, 2)).clamp_min(1e-6)
    return {"thickness": mass / (h * w), "slant": slant}
