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
+ lambda_KL L_KL with lambda = 10, lambda_latent = 0.5, lambda_KL = 0.01 and least-squares GAN
losses, as in the authors' code. The latent term updates G only: its gradient flows *through*
a frozen E into G, and E is never moved by it (training both on it lets them agree on a code
hidden from the image). E is trained by the cVAE terms alone. Each batch is split in half, one
half per cycle; as in the authors' code both cycles translate the same sources A (the cLR
half's real digits only feed D_2).

What makes E(G(A, z)) read z at all (an earlier model did not: error / chance 1.00), each from
the authors' code or forced by 28x28 digits:

- z enters every layer: broadcast and concatenated to the input of every U-Net encoder layer
  and of the bottleneck (the authors' default generator, "add_to_all"; `where_add="input"`
  concatenates it to the source only, the paper's other variant, and through the U-Net's skips
  G learns to ignore it).
- E has no normalisation layer (`e_norm="none"`). An edge map leaves little of a digit open
  (its ink and stroke weight); instance norm in E removes exactly that.
- The discriminators are conditional (`conditional_d`, an option of the authors' code): they
  judge (A, B) pairs, so what the latent term asks of G must still fit A's edges.
  (test_the_old_design_does_not_recover_z: without all three, ratio 1.00 at |z| = 2 and
  lambda_KL = 0.01; at the recipe's |z| = 1 and lambda_KL = 0.1 that design reads z partly,
  ratio 0.73 against 0.49 with all three, seed 0 after 400 steps at lr 2e-3.)

How well z is recovered, measured as mean |mu(E(G(A, z))) - z| for z ~ N(0, I) over the same
with the codes shuffled across 256 held-out sources (ratio to chance; 1 = blind), with E's
codes for real digits (mu per dimension: mean and std across digits), one thread, batches of
16, lr 1e-3 unless said (probes of 1000-3000 steps; tests/translation/test_bicyclegan.py
repeats their protocol):

- The latent term is the paper's and the authors' code's: it updates G only (their `update_G`
  takes a G-only step for it and discards E's gradient; here one step with E frozen for that
  term, test_latent_term_trains_g_through_a_frozen_encoder), the mean of |mu2 - z|.
- Not under-training: with |z| = 2 and lambda_KL = 0.01 (the former recipe) the latent loss in
  training is 0.79 at step 500 and flat at 0.69-0.73 from step 750 to 3000 (seed 0); the ratio
  is 0.74-0.86 over that span (seed 0) and 0.73-0.87 over steps 750-2000 (seed 1).
- The cause: E's code has one live dimension. At step 3000 (seed 0) dimension 1 carries
  nothing (std across digits 0.04, posterior sigma 0.76) while dimension 0 does (std 0.81,
  sigma 0.26): given its edge map a digit has about one degree of freedom left (its stroke),
  the KL closes the other dimension, and E, which the latent term may not move, never learns
  to read what G writes there, so prior draws in it cannot be recovered. The paper's |z| = 8
  would leave more such dimensions (not run). Hence |z| = 1 in the recipe.
- With |z| = 1 and lambda_KL = 0.01, prior draws are recovered (ratio 0.26, 0.28, 0.48 in seeds
  0-2 at step 1000) but in two seeds E's codes for real digits drift far from the prior (mean
  +4.3 and -4.2 at step 250, still +1.5 and -1.4 at step 1000: the KL's pull, 0.01 mu, is too
  weak for a short run) and G draws prior z into outputs no digit has (mean pairwise L1 of two
  z's outputs 0.38-0.43, against 0.03 in the centred seed).
- With |z| = 1 and lambda_KL = 0.1 (the recipe): ratio 0.56, 0.63, 0.49 (seeds 0-2, step
  1000), codes centred (mean 0.18, -0.29, 0.23; std 0.51, 0.42, 0.55), real digits' codes
  recovered (ratio 0.67, 0.77, 0.55), diversity 0.025-0.027. At lr 2e-3 seed 1's code
  collapses (KL 0.02 at step 400) and is not back by step 500; at 1e-3 it was revived by step
  1000 (the latent term makes G write z, then the L1 term makes E read it).
- What is left: E's codes for real digits spread less than the prior (std about 0.5, posterior
  sigma about 0.5), so a draw beyond about +-1 asks for a stroke no real digit has, and
  recovery stays near half of chance.
- The recipe (2000 steps, benchmarks/results/bicyclegan-mnist-edges2digits.json): prior draws
  0.586 against chance 0.982 (ratio 0.60; the former |z| = 2 recipe 0.739 against 0.972, 0.76),
  real digits' codes 0.421 against 0.613 (0.69), codes mean 0.15, std 0.65; diversity 0.019
  (former 0.020), FD 4.75 (floor 2.39; former 4.36), class accuracy 0.937 (former 0.922).
- Tried and dropped: the authors' initialisation (Xavier normal, gain 0.02, every layer): E's
  code collapses (std 0.01-0.03 across digits, ratio 1.00 at step 1000, seed 0); E's last layer
  so initialised (q(z | B) starting at the prior): the drift of codes still comes (mean -4.4 at
  step 250, seed 1). Not probed here: E's width (e_channels 8 throughout), lr 2e-4.
  (Their KL is summed over the batch, ours averaged: the same at their batch of 2, one image
  per cycle.)

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
from perceptzoo.nn.patchgan import PatchGAN, norm_layer
from perceptzoo.nn.unet_pix2pix import UNetPix2Pix
from perceptzoo.translation.common import (
    EdgesToDigits,
    EdgesToDigitsConfig,
    adam,
    check_images,
    discriminator_step,
    finite,
    frozen,
    generator_gan_loss,
    step,
    to_data_space,
)

WHERE_ADD = ("all", "input")


class UNetAddAll(nn.Module):
    """The U-Net of `perceptzoo.nn.unet_pix2pix` (no dropout) with z broadcast to every pixel
    and concatenated to the input of each encoder layer and of the bottleneck."""

    def __init__(self, c_in: int, c_out: int, latent_dim: int, channels: int, num_down: int):
        super().__init__()
        widths = [channels * min(2 ** i, 8) for i in range(num_down)]
        self.down = nn.ModuleList()
        c = c_in
        for i, w in enumerate(widths):
            self.down.append(nn.Sequential(
                nn.Conv2d(c + latent_dim, w, 4, 2, 1),
                nn.Identity() if i == 0 else norm_layer("instance", w), nn.LeakyReLU(0.2, True)))
            c = w
        self.bottleneck = nn.Sequential(nn.Conv2d(c + latent_dim, c, 3, 1, 1),
                                        norm_layer("instance", c), nn.ReLU(True))
        self.up = nn.ModuleList()
        for i in reversed(range(num_down)):  # decoder layer i takes [u_{i+1}, e_i]
            out = c_out if i == 0 else widths[i - 1]
            block: list[nn.Module] = [nn.ConvTranspose2d(2 * widths[i], out, 4, 2, 1)]
            block += [nn.Tanh()] if i == 0 else [norm_layer("instance", out), nn.ReLU(True)]
            self.up.append(nn.Sequential(*block))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        def with_z(h: torch.Tensor) -> torch.Tensor:
            return torch.cat([h, z[:, :, None, None].expand(-1, -1, *h.shape[-2:])], 1)

        skips = []
        h = x
        for layer in self.down:
            h = layer(with_z(h))
            skips.append(h)
        h = self.bottleneck(with_z(h))
        for j, layer in enumerate(self.up):
            h = layer(torch.cat([h, skips[-1 - j]], 1))   # skip from the mirrored encoder layer
        return h


class Encoder(nn.Module):
    """E(B): (B, C, H, W) in [-1, 1] -> (mu, log sigma^2), each (B, latent_dim)."""

    def __init__(self, c: int, channels: int, latent_dim: int, norm: str = "none"):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, channels, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1), norm_layer(norm, 2 * channels),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * channels, 4 * channels, 3, 1, 1), nn.LeakyReLU(0.2, True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(4 * channels, 2 * latent_dim))

    def forward(self, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(b).chunk(2, 1)
        return mu, logvar


class BicycleGAN(EdgesToDigits):
    who = "bicyclegan"

    def __init__(self, cfg: BicycleGANConfig):
        super().__init__(cfg)
        if cfg.latent_dim < 1:
            raise UserError(f"bicyclegan needs latent_dim >= 1, got {cfg.latent_dim}")
        if cfg.where_add not in WHERE_ADD:
            raise UserError(f"unknown where_add {cfg.where_add!r}; use one of "
                            f"{', '.join(WHERE_ADD)}")
        c = cfg.data_shape[0]
        if cfg.where_add == "all":
            self.generator = UNetAddAll(c, c, cfg.latent_dim, cfg.channels, cfg.num_down)
        else:
            self.generator = UNetPix2Pix(c + cfg.latent_dim, c, cfg.channels, cfg.num_down,
                                         dropout=0.0, num_dropout=0)
        self.encoder = Encoder(c, cfg.e_channels, cfg.latent_dim, cfg.e_norm)
        d_in = 2 * c if cfg.conditional_d else c
        self.D_vae = PatchGAN(d_in, cfg.d_channels, cfg.d_layers)  # D_1 of the cVAE-GAN cycle
        self.D_lr = PatchGAN(d_in, cfg.d_channels, cfg.d_layers)   # D_2 of the cLR-GAN cycle

    # -- the networks ---------------------------------------------------------------------------
    def generate(self, source: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G(A, z): sources (B, C, H, W) in [-1, 1], codes (B, Q) -> outputs in [-1, 1]."""
        if z.shape != (len(source), self.cfg.latent_dim):
            raise UserError(f"bicyclegan takes one code of size {self.cfg.latent_dim} per source, "
                            f"got z of shape {tuple(z.shape)} for {len(source)} sources")
        if self.cfg.where_add == "all":
            return self.generator(source, z)
        z_map = z[:, :, None, None].expand(-1, -1, *source.shape[-2:])
        return self.generator(torch.cat([source, z_map], 1))

    def encode(self, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """E(B): (mu, log sigma^2) of q(z | B) for outputs in [-1, 1]."""
        return self.encoder(target)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return torch.randn(n, self.cfg.latent_dim, generator=generator, device=device)

    def judged(self, source: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """What a discriminator sees: (A, B) on channels when conditional, else B."""
        return torch.cat([source, image], 1) if self.cfg.conditional_d else image

    @torch.no_grad()
    def posterior_means(self, digits: torch.Tensor) -> torch.Tensor:
        """mu(E(B)) (B, Q) for real digits (B, C, H, W) in grey levels: the codes E gives."""
        check_images(digits, tuple(self.cfg.data_shape), "bicyclegan's digits")
        device = next(self.parameters()).device
        return self.encode(self.pairs(digits.to(device))[1])[0]

    @torch.no_grad()
    def latent_errors(self, edges: torch.Tensor, generator: torch.Generator | None = None,
                      z: torch.Tensor | None = None) -> tuple[float, float]:
        """(mean |mu(E(G(A, z))) - z|, the same against the codes shuffled across the batch),
        one code per edge map (B, C, H, W) in {0, 1}: recovery beside chance. The codes are
        z ~ N(0, I) (the cLR-GAN's, and sampling's), or the given z (B, Q), e.g. the codes E
        gives other real digits (`posterior_means`)."""
        check_images(edges, tuple(self.cfg.data_shape), "bicyclegan's edge maps")
        device = next(self.parameters()).device
        z = self.latent(len(edges), generator) if z is None else z.to(device)
        mu = self.encode(self.generate(edges.to(device).float() * 2 - 1, z))[0]
        perm = torch.randperm(len(z), generator=generator, device=z.device)
        return float((mu - z).abs().mean()), float((mu - z[perm]).abs().mean())

    # -- training -------------------------------------------------------------------------------
    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_e, opt_d = optimizers
        x = batch[0]
        if len(x) < 2:
            raise UserError("bicyclegan splits each batch between its two cycles; use "
                            "batch_size >= 2")
        source, target = self.pairs(x)
        half = len(x) // 2
        a, b_vae, a_real_lr, b_real_lr = source[:half], target[:half], source[half:], target[half:]
        # cVAE-GAN: z ~ E(B) (reparameterised), B^ = G(A, z)
        mu, logvar = self.encode(b_vae)
        z_enc = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        b_hat = self.generate(a, z_enc)
        # cLR-GAN: z ~ N(0, I), B~ = G(A, z) on the same sources
        z_rand = self.latent(half)
        b_tilde = self.generate(a, z_rand)
        loss_d = discriminator_step(opt_d, [
            (self.D_vae, self.judged(a, b_vae), self.judged(a, b_hat)),
            (self.D_lr, self.judged(a_real_lr, b_real_lr), self.judged(a, b_tilde))], "lsgan")
        with frozen(self.D_vae, self.D_lr):
            loss_gan = generator_gan_loss([(self.D_vae, self.judged(a, b_hat)),
                                           (self.D_lr, self.judged(a, b_tilde))], "lsgan")
            loss_l1 = (b_hat - b_vae).abs().mean()
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
            loss_ge = (self.cfg.lambda_gan * loss_gan + self.cfg.lambda_l1 * loss_l1
                       + self.cfg.lambda_kl * kl)
            with frozen(self.encoder):  # || z - mu(G(A, z)) ||_1 reaches G only
                latent_err = (self.encode(b_tilde)[0] - z_rand).abs().mean()
            opt_e.zero_grad(set_to_none=True)
            step(opt_g, loss_ge + self.cfg.lambda_latent * latent_err, self.generator,
                 self.encoder)
            opt_e.step()
        return finite({"loss": loss_ge.detach(), "loss_d": loss_d,
                       "loss_gan": loss_gan.detach(), "l1": loss_l1.detach(), "kl": kl.detach(),
                       "latent_l1": latent_err.detach()}, "bicyclegan")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[G, E, D_1 and D_2]: Adam (0.5, 0.999) at the train lr."""
        return adam(self.cfg, train_cfg, self.generator, self.encoder, [self.D_vae, self.D_lr])

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
        source = self.sources(num_samples, cond, generator)
        out = self.generate(source, self.latent(num_samples, generator))
        return to_data_space(out, self.cfg.num_levels)


@dataclass
class BicycleGANConfig(EdgesToDigitsConfig):
    lambda_l1: float = 10.0
    latent_dim: int = 8
    e_channels: int = 16
    d_channels: int = 16
    where_add: str = "all"
    """where z enters G: all (every encoder layer and the bottleneck) | input"""
    e_norm: str = "none"
    """E's normalisation: none | instance | batch (instance hides the ink E must read)"""
    conditional_d: bool = True
    """the discriminators judge (A, B) pairs (True) or B alone"""
    lambda_gan: float = 1.0
    """weight of the two GAN terms (1 in eq. 9; 0 isolates the other terms in tests)"""
    lambda_latent: float = 0.5
    lambda_kl: float = 0.01

    @classmethod
    def tiny(cls) -> BicycleGANConfig:
        return cls(latent_dim=2, channels=8, e_channels=4, d_channels=8)


register("bicyclegan", BicycleGANConfig, family="translation", runner="trainer",
         default_dataset="mnist", train_defaults={"lr": 2e-4, "batch_size": 32,
                                                  "schedule": "constant", "grad_clip": None}
         )(BicycleGAN)
