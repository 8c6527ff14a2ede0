"""BicycleGAN: toward multimodal image-to-image translation (Zhu, Zhang, Pathak, Darrell,
Efros, Wang & Shechtman, NeurIPS 2017).

A generator G(A, z) maps a source A (an edge map) and a latent code z to an output B; an encoder
E(B) maps an output back to a distribution over z. Two cycles keep z meaningful:

- cVAE-GAN (B -> z -> B): z ~ E(B) = N(mu(B), sigma(B)) by reparameterisation, B^ = G(A, z);
  G must reconstruct B (L1) and fool D_1, and E(B) is pulled to N(0, I) by a KL term:
      L_GAN^VAE = E log D_1(B) + E log(1 - D_1(G(A, z)))                              (eq. 4)
      L_1^VAE = E || B - G(A, z) ||_1                                                  (eq. 5)
      L_KL = E D_KL(E(B) || N(0, I))                                                   (eq. 6)
- cLR-GAN (z -> B -> z): z ~ N(0, I), B~ = G(A, z) must fool D_2, and E must recover z:
      L_1^latent = E || z - mu(G(A, z)) ||_1                                           (eq. 8)

Full objective (eq. 9): L_GAN^VAE + lambda L_1^VAE + L_GAN + lambda_latent L_1^latent
+ lambda_KL L_KL, lambda = 10, lambda_latent = 0.5, lambda_KL = 0.01, least-squares GAN losses;
the latent term updates G only (its gradient into E is dropped, as in the authors' code, so E
is not pushed to ignore its input). Each batch is split in half, one half per cycle (sec. 3.4).
G is the Pix2Pix U-Net (`perceptzoo.nn.unet_pix2pix`, no dropout) with z broadcast to every
pixel and concatenated to the input ("add_to_input"); E is a strided conv net; D_1 and D_2 are
PatchGANs on B.

Data as Pix2Pix: `mnist` digits B and their edge maps A (`perceptzoo.data.paired`).
`sample(n, cond=edges)` draws one z ~ N(0, I) per edge map (from `generator`).

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("bicyclegan", dataset="mnist", channels=8, d_channels=8)
    >>> model.sample(2, cond=torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import PatchGAN, gan_loss, norm_layer
from perceptzoo.nn.unet_pix2pix import UNetPix2Pix
from perceptzoo.translation.common import (
    check_count,
    check_grey_images,
    check_images,
    edges_in_model_space,
    finite,
    frozen,
    held_out,
    step,
    to_data_space,
    to_model_space,
)


class Encoder(nn.Module):
    """E(B): (B, C, H, W) in [-1, 1] -> (mu, log sigma^2), each (B, latent_dim)."""

    def __init__(self, c: int, channels: int, latent_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, channels, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1), norm_layer("instance", 2 * channels),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * channels, 4 * channels, 3, 1, 1), nn.LeakyReLU(0.2, True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(4 * channels, 2 * latent_dim))

    def forward(self, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(b).chunk(2, 1)
        return mu, logvar


class BicycleGAN(nn.Module):
    def __init__(self, cfg: BicycleGANConfig):
        super().__init__()
        if cfg.num_levels is None or cfg.latent_dim < 1:
            raise UserError("bicyclegan needs grey-level images and latent_dim >= 1")
        self.cfg = cfg
        c = cfg.data_shape[0]
        self.generator = UNetPix2Pix(c + cfg.latent_dim, c, cfg.channels, cfg.num_down,
                                     dropout=0.0, num_dropout=0)
        self.encoder = Encoder(c, cfg.e_channels, cfg.latent_dim)
        self.D_vae = PatchGAN(c, cfg.d_channels, cfg.d_layers)  # D_1 of the cVAE-GAN cycle
        self.D_lr = PatchGAN(c, cfg.d_channels, cfg.d_layers)   # D_2 of the cLR-GAN cycle

    # -- the networks ---------------------------------------------------------------------------
    def generate(self, source: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G(A, z): sources (B, C, H, W) in [-1, 1], codes (B, Q) -> outputs in [-1, 1]."""
        if z.shape != (len(source), self.cfg.latent_dim):
            raise UserError(f"bicyclegan takes one code of size {self.cfg.latent_dim} per source, "
                            f"got z of shape {tuple(z.shape)} for {len(source)} sources")
        z_map = z[:, :, None, None].expand(-1, -1, *source.shape[-2:])
        return self.generator(torch.cat([source, z_map], 1))

    def encode(self, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """E(B): (mu, log sigma^2) of q(z | B) for outputs in [-1, 1]."""
        return self.encoder(target)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return torch.randn(n, self.cfg.latent_dim, generator=generator, device=device)

    # -- training -------------------------------------------------------------------------------
    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_e, opt_d = optimizers
        x = batch[0]
        if len(x) < 2:
            raise UserError("bicyclegan splits each batch between its two cycles; use "
                            "batch_size >= 2")
        target = to_model_space(x, self.cfg.num_levels)
        source = edges_in_model_space(x, self.cfg.num_levels)
        half = len(x) // 2
        a_vae, b_vae, a_lr, b_lr = source[:half], target[:half], source[half:], target[half:]
        # cVAE-GAN: z ~ E(B) (reparameterised), B^ = G(A, z)
        mu, logvar = self.encode(b_vae)
        z_enc = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        b_hat = self.generate(a_vae, z_enc)
        # cLR-GAN: z ~ N(0, I), B~ = G(A, z)
        z_rand = self.latent(len(a_lr))
        b_tilde = self.generate(a_lr, z_rand)
        # discriminators (least squares), halved
        loss_d = 0.5 * (gan_loss(self.D_vae(b_vae), True, "lsgan")
                        + gan_loss(self.D_vae(b_hat.detach()), False, "lsgan")
                        + gan_loss(self.D_lr(b_lr), True, "lsgan")
                        + gan_loss(self.D_lr(b_tilde.detach()), False, "lsgan"))
        step(opt_d, loss_d, self.D_vae, self.D_lr)
        # G and E: eq. 9 without the latent term
        with frozen(self.D_vae, self.D_lr):
            loss_gan = (gan_loss(self.D_vae(b_hat), True, "lsgan")
                        + gan_loss(self.D_lr(b_tilde), True, "lsgan"))
            loss_l1 = (b_hat - b_vae).abs().mean()
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
            loss_ge = (self.cfg.lambda_gan * loss_gan + self.cfg.lambda_l1 * loss_l1
                       + self.cfg.lambda_kl * kl)
            # latent regression, G only: || z - mu(G(A, z)) ||_1 with E frozen
            with frozen(self.encoder):
                latent_err = (self.encode(b_tilde)[0] - z_rand).abs().mean()
            opt_e.zero_grad(set_to_none=True)
            step(opt_g, loss_ge + self.cfg.lambda_latent * latent_err, self.generator,
                 self.encoder)
            opt_e.step()
        return finite({"loss": loss_ge.detach(), "loss_d": loss_d.detach(),
                       "loss_gan": loss_gan.detach(), "l1": loss_l1.detach(), "kl": kl.detach(),
                       "latent_l1": latent_err.detach()}, "bicyclegan")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[G, E, D_1 and D_2]: Adam (0.5, 0.999) at the train lr."""
        betas = (self.cfg.beta1, self.cfg.beta2)
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.encoder.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(list(self.D_vae.parameters()) + list(self.D_lr.parameters()),
                                 lr=train_cfg.lr, betas=betas)]

    def check_data(self, info) -> None:
        check_grey_images(info, "bicyclegan", tuple(self.cfg.data_shape))

    # -- sampling -------------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, edges: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G(A, z) in grey levels for edge maps (B, C, H, W) in {0, 1} and codes z (B, Q)."""
        check_images(edges, tuple(self.cfg.data_shape), "bicyclegan's edge maps")
        device = next(self.parameters()).device
        out = self.generate(edges.to(device).float() * 2 - 1, z.to(device))
        return to_data_space(out, self.cfg.num_levels)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """One translation per edge map `cond` (B, C, H, W) in {0, 1} (or per held-out test
        digit's edge map when cond is None), each with its own z ~ N(0, I)."""
        if cond is None:
            x = held_out(self.cfg.source_dataset, num_samples, generator)
            cond = edges_in_model_space(x, self.cfg.num_levels).add(1).div(2)
        else:
            check_images(cond, tuple(self.cfg.data_shape), "bicyclegan's cond (edge maps)")
            check_count(num_samples, cond)
        return self.translate(cond, self.latent(num_samples, generator))


@dataclass
class BicycleGANConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    num_levels: int | None = 256
    latent_dim: int = 8
    channels: int = 32
    num_down: int = 2
    e_channels: int = 16
    d_channels: int = 32
    d_layers: int = 2
    lambda_gan: float = 1.0
    """weight of the two GAN terms (1 in eq. 9; 0 isolates the other terms in tests)"""
    lambda_l1: float = 10.0
    lambda_latent: float = 0.5
    lambda_kl: float = 0.01
    beta1: float = 0.5
    beta2: float = 0.999
    source_dataset: str = "mnist"
    """whose test digits' edge maps `sample` translates when it is given no cond"""

    @classmethod
    def tiny(cls) -> BicycleGANConfig:
        return cls(latent_dim=2, channels=8, e_channels=4, d_channels=8)


register("bicyclegan", BicycleGANConfig, family="translation", runner="trainer",
         default_dataset="mnist", train_defaults={"lr": 2e-4, "batch_size": 32,
                                                  "schedule": "constant", "grad_clip": None}
         )(BicycleGAN)
