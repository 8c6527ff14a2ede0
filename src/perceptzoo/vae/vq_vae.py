"""VQ-VAE (van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning",
NeurIPS 2017) with an autoregressive prior over its grid of codes.

An encoder maps x to a grid of vectors z_e(x) (B, D, h, w); each vector is replaced by its
nearest entry of a codebook e_1..e_K (eq. 1-2):

    k(i) = argmin_j || z_e(x)_i - e_j ||_2,        z_q(x)_i = e_{k(i)},

and a decoder reconstructs x from z_q. The argmin has no gradient, so the decoder's input
gradient is copied to the encoder (the straight-through estimator: z_q is computed as
z_e + sg[z_q - z_e], so dL/dz_e = dL/dz_q exactly). The loss (eq. 3):

    L = || x - D(z_q) ||^2  +  || sg[z_e] - e ||^2  +  beta || z_e - sg[e] ||^2   (beta = 0.25)

the reconstruction, the codebook loss (moves the codes only) and the commitment loss (moves
the encoder only). With `ema=True` the codebook loss is replaced by exponential moving
averages (appendix A.1): N_j <- g N_j + (1 - g) n_j, m_j <- g m_j + (1 - g) sum_{i: k(i)=j}
z_e,i, e_j = m_j / N_j (counts Laplace-smoothed). Dead codes (unused for `restart_after`
training steps) are restarted at random encoder outputs of the current batch. Each step logs
the batch's code usage (fraction of the K codes used) and perplexity exp(-sum_j p_j log p_j)
of the code frequencies p.

The prior. The paper fits the prior over codes after the autoencoder, as a second stage. Here
one registered model does both under the one Trainer: `train_step` trains the autoencoder for
the first `prior_start` steps, then freezes it and trains the prior on the encoder's codes of
each batch (the step count is a saved buffer, so a resumed run continues in the right stage).
The prior is a model of the autoregressive family built through the public registry
(`prior="transformer"` by default, or `"pixelcnn"`, with `prior_config` overrides) on data of
shape (1, h, w) with K levels: this module uses that family's public API (`loss`, `log_prob`,
`sample`), never a copy of its code. Use `schedule=constant` (the model's default) so the
prior's learning rate is not decayed by the autoencoder's steps.

`sample(n)` draws a code grid from the prior and decodes it. `log_prob(x)` is the prior's
log-probability of the code grid the encoder assigns to x, log p(k(x)), in nats: a measure
of how well the prior models the codes, not the likelihood of the image (the decoder is not a
density here; the paper reports this figure as bits per code / per dimension of the latents).

    >>> import perceptzoo
    >>> vq = perceptzoo.build("vq_vae", data_shape=(1, 8, 8), num_levels=17, codebook_size=16,
    ...                       hidden_channels=16, embed_dim=8)
    >>> vq.sample(2).shape
    torch.Size([2, 1, 8, 8])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core import registry
from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError

PRIORS = ("transformer", "pixelcnn", "gated_pixelcnn")


@dataclass
class VQVAEConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """(C, H, W); filled from the dataset"""
    num_levels: int = 256
    """grey levels of the data; filled from the dataset"""
    hidden_channels: int = 64
    num_downsamples: int = 2
    """stride-2 convolutions: a 28x28 image becomes a 7x7 grid of codes"""
    num_res_blocks: int = 2
    embed_dim: int = 16
    """D: dimension of a code vector"""
    codebook_size: int = 64
    """K: number of codes"""
    beta: float = 0.25
    """weight of the commitment loss"""
    ema: bool = False
    """update the codebook by moving averages (appendix A.1) instead of the codebook loss"""
    ema_decay: float = 0.99
    restart_after: int = 200
    """restart a code unused for this many training steps (0: never)"""
    prior: str = "transformer"
    """the autoregressive model over the code grid: transformer | pixelcnn | gated_pixelcnn"""
    prior_config: dict[str, Any] = field(default_factory=dict)
    """overrides of the prior's config (e.g. {"embed_dim": 64, "num_layers": 4})"""
    prior_start: int = 3000
    """training steps of the autoencoder; the prior trains from this step on"""

    @classmethod
    def tiny(cls) -> VQVAEConfig:
        return cls(hidden_channels=8, embed_dim=4, codebook_size=8, num_res_blocks=1,
                   prior_config={"embed_dim": 8, "num_layers": 1, "num_heads": 2},
                   prior_start=1)


class ResBlock(nn.Module):
    """x + 1x1(ReLU(3x3(ReLU(x)))) (the paper's residual block)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv3 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv1 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv1(F.relu(self.conv3(F.relu(x))))


def _encoder(C: int, h: int, D: int, downs: int, blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(downs):  # each halves H and W
        layers += [nn.Conv2d(C if i == 0 else h, h, 4, stride=2, padding=1), nn.ReLU()]
    layers += [nn.Conv2d(h, h, 3, padding=1), *(ResBlock(h) for _ in range(blocks)), nn.ReLU(),
               nn.Conv2d(h, D, 1)]
    return nn.Sequential(*layers)


def _decoder(C: int, h: int, D: int, ups: int, blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(D, h, 3, padding=1),
                               *(ResBlock(h) for _ in range(blocks))]
    for i in range(ups):  # each doubles H and W
        layers += [nn.ReLU(), nn.ConvTranspose2d(h, C if i == ups - 1 else h, 4, stride=2,
                                                 padding=1)]
    return nn.Sequential(*layers)


@register("vq_vae", VQVAEConfig, family="vae", runner="trainer", default_dataset="mnist",
          train_defaults={"lr": 1e-3, "schedule": "constant", "batch_size": 128,
                          "grad_clip": None})
class VQVAE(nn.Module):
    def __init__(self, cfg: VQVAEConfig):
        super().__init__()
        if cfg.codebook_size < 1:
            raise UserError(f"codebook_size must be at least 1, not {cfg.codebook_size}; "
                            "use e.g. --set codebook_size=64")
        if cfg.embed_dim < 1 or cfg.hidden_channels < 1:
            raise UserError("embed_dim and hidden_channels must be at least 1")
        if len(cfg.data_shape) != 3:
            raise UserError(f"VQ-VAE models images (C, H, W), not shape {cfg.data_shape}")
        C, H, W = cfg.data_shape
        f = 2 ** cfg.num_downsamples
        if H % f or W % f:
            raise UserError(f"{H}x{W} images do not halve {cfg.num_downsamples} times; set "
                            "num_downsamples so that 2^num_downsamples divides H and W")
        if cfg.prior not in PRIORS:
            raise UserError(f"unknown prior {cfg.prior!r}; use one of {', '.join(PRIORS)}")
        self.cfg = cfg
        self.grid = (H // f, W // f)
        K, D = cfg.codebook_size, cfg.embed_dim
        self.encoder = _encoder(C, cfg.hidden_channels, D, cfg.num_downsamples,
                                cfg.num_res_blocks)
        self.decoder = _decoder(C, cfg.hidden_channels, D, cfg.num_downsamples,
                                cfg.num_res_blocks)
        self.codebook = nn.Parameter(torch.randn(K, D) / math.sqrt(D),
                                     requires_grad=not cfg.ema)
        self.register_buffer("ema_count", torch.ones(K))
        self.register_buffer("ema_sum", self.codebook.detach().clone())
        self.register_buffer("unused_steps", torch.zeros(K, dtype=torch.long))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        prior_cfg = {"num_classes": None} if cfg.prior == "gated_pixelcnn" else {}
        prior_cfg.update(cfg.prior_config)
        self.prior = registry.build_from_config(cfg.prior, registry.make_config(
            cfg.prior, None, data_shape=(1, *self.grid), num_levels=K, **prior_cfg))

    def check_data(self, info) -> None:
        if info.num_levels is None or tuple(info.data_shape) != tuple(self.cfg.data_shape):
            raise UserError(f"VQ-VAE here takes images of shape {self.cfg.data_shape} with "
                            f"integer levels; {info.name} has shape {info.data_shape}")

    # -- the autoencoder ----------------------------------------------------------------------
    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        """Levels 0..L-1 -> [0, 1]."""
        return x.to(self.codebook.dtype) / (self.cfg.num_levels - 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) levels -> z_e (B, D, h, w)."""
        return self.encoder(self._scale(x))

    def nearest_codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """z_e (B, D, h, w) -> indices k (B, h, w) of the nearest codebook vectors (eq. 1)."""
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])  # (N, D)
        e = self.codebook
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ e.T + e.pow(2).sum(1)  # (N, K)
        return dist.argmin(1).view(z_e.shape[0], *z_e.shape[2:])

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, h, w) -> z_q (B, D, h, w)."""
        return self.codebook[codes].permute(0, 3, 1, 2)

    def quantize(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                   torch.Tensor]:
        """z_e -> (z_q with the straight-through gradient, codes, codebook loss, commitment
        loss). The codebook loss is zero with `ema` (the moving averages replace it)."""
        codes = self.nearest_codes(z_e.detach())
        z_q = self.lookup(codes)
        codebook_loss = (F.mse_loss(z_q, z_e.detach()) if not self.cfg.ema
                         else z_e.new_zeros(()))
        commitment_loss = self.cfg.beta * F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()  # forward: z_q; backward: identity to z_e
        return z_st, codes, codebook_loss, commitment_loss

    def decode(self, z_q: torch.Tensor) -> torch.Tensor:
        """z_q (B, D, h, w) -> reconstruction in [0, 1] units (B, C, H, W), unclamped."""
        return self.decoder(z_q)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """The code grid of x as the prior sees it: (B, 1, h, w) long."""
        return self.nearest_codes(self.encode(x))[:, None]

    def autoencoder_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float],
                                                         torch.Tensor, torch.Tensor]:
        z_e = self.encode(x)
        z_st, codes, codebook_loss, commitment_loss = self.quantize(z_e)
        target = self._scale(x)
        recon = F.mse_loss(self.decode(z_st), target)
        loss = recon + codebook_loss + commitment_loss
        counts = torch.bincount(codes.flatten(), minlength=self.cfg.codebook_size).float()
        p = counts / counts.sum()
        perplexity = torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())
        metrics = {"recon_mse": recon.item(), "codebook_loss": codebook_loss.item(),
                   "commitment_loss": commitment_loss.item(),
                   "perplexity": perplexity.item(),
                   "code_usage": (counts > 0).float().mean().item()}
        return loss, metrics, z_e, codes

    # -- codebook maintenance -------------------------------------------------------------------
    @torch.no_grad()
    def ema_update(self, z_e: torch.Tensor, codes: torch.Tensor) -> None:
        """Appendix A.1: moving averages of counts and sums of the assigned encoder outputs."""
        K, g = self.cfg.codebook_size, self.cfg.ema_decay
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        onehot = F.one_hot(codes.flatten(), K).to(flat.dtype)  # (N, K)
        self.ema_count.mul_(g).add_(onehot.sum(0), alpha=1 - g)
        self.ema_sum.mul_(g).add_(onehot.T @ flat, alpha=1 - g)
        n = self.ema_count.sum()
        count = (self.ema_count + 1e-5) / (n + K * 1e-5) * n  # Laplace smoothing
        self.codebook.copy_(self.ema_sum / count[:, None])

    @torch.no_grad()
    def restart_dead_codes(self, z_e: torch.Tensor, codes: torch.Tensor) -> int:
        """Codes unused for `restart_after` steps jump to random encoder outputs of the batch."""
        used = torch.bincount(codes.flatten(), minlength=self.cfg.codebook_size) > 0
        self.unused_steps.add_(1).masked_fill_(used, 0)
        if self.cfg.restart_after <= 0:
            return 0
        dead = (self.unused_steps >= self.cfg.restart_after).nonzero().flatten()
        if len(dead) == 0:
            return 0
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        pick = torch.randint(len(flat), (len(dead),), device=flat.device)
        self.codebook[dead] = flat[pick]
        self.ema_sum[dead] = flat[pick]
        self.ema_count[dead] = 1.0
        self.unused_steps[dead] = 0
        return len(dead)

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """Codebook at random encoder outputs of the first batch (no code starts dead)."""
        z_e = self.encode(batch[0])
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        pick = torch.randint(len(flat), (self.cfg.codebook_size,), device=flat.device)
        self.codebook.copy_(flat[pick])
        self.ema_sum.copy_(flat[pick])
        self.ema_count.fill_(1.0)

    # -- training: autoencoder, then prior ------------------------------------------------------
    def autoencoder_parameters(self) -> list[nn.Parameter]:
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        return params + ([] if self.cfg.ema else [self.codebook])

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[autoencoder optimizer, prior optimizer], both AdamW at the run's learning rate."""
        return [torch.optim.AdamW(self.autoencoder_parameters(), lr=train_cfg.lr,
                                  weight_decay=train_cfg.weight_decay),
                torch.optim.AdamW(self.prior.parameters(), lr=train_cfg.lr,
                                  weight_decay=train_cfg.weight_decay)]

    @property
    def training_prior(self) -> bool:
        return int(self.step) >= self.cfg.prior_start

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """Stage 1 (step < prior_start): the autoencoder's loss (eq. 3); stage 2: the prior's
        NLL of the frozen encoder's codes."""
        ae_opt, prior_opt = optimizers
        x = batch[0]
        if not self.training_prior:
            loss, metrics, z_e, codes = self.autoencoder_loss(x)
            ae_opt.zero_grad(set_to_none=True)
            loss.backward()
            ae_opt.step()
            if self.cfg.ema:
                self.ema_update(z_e.detach(), codes)
            metrics["restarted_codes"] = self.restart_dead_codes(z_e.detach(), codes)
            metrics["loss"] = loss.item()
            metrics["stage"] = 1
        else:
            with torch.no_grad():
                codes = self.codes(x)
            out = self.prior.loss((codes, None))
            prior_opt.zero_grad(set_to_none=True)
            out.loss.backward()
            prior_opt.step()
            metrics = {"loss": out.loss.item(),
                       "prior_nll_bits_per_code": out.loss.item() / math.log(2) / codes[0].numel(),
                       "stage": 2}
        self.step += 1
        return metrics

    def loss(self, batch) -> LossOutput:
        """Validation: the autoencoder's loss, with its figures and the prior's bits per code."""
        x = batch[0]
        loss, metrics, _, codes = self.autoencoder_loss(x)
        nll = -self.prior.log_prob(codes[:, None]).mean()
        metrics["prior_nll_bits_per_code"] = nll.item() / math.log(2) / codes[0].numel()
        return LossOutput(loss, metrics)

    # -- the contract ---------------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor, *, cond=None) -> torch.Tensor:
        """log p_prior(k(x)) in nats, (B,): the prior's log-probability of the code grid the
        encoder assigns to x -- not log p(x) of the image (see the module docstring)."""
        if cond is not None:
            raise UserError("this VQ-VAE is unconditional; call log_prob without cond")
        return self.prior.log_prob(self.codes(x))

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """Reconstruction MSE (in [0, 1] units), code perplexity and usage over all of x, and
        the prior's NLL in bits per code."""
        sq, nll, n = 0.0, 0.0, len(x)
        counts = torch.zeros(self.cfg.codebook_size, device=x.device)
        for i in range(0, n, 500):
            xb = x[i : i + 500]
            codes = self.nearest_codes(self.encode(xb))
            recon = self.decode(self.lookup(codes)).clamp(0, 1)
            sq += F.mse_loss(recon, self._scale(xb), reduction="sum").item()
            nll -= self.prior.log_prob(codes[:, None]).sum().item()
            counts += torch.bincount(codes.flatten(), minlength=self.cfg.codebook_size)
        p = counts / counts.sum()
        return {"recon_mse": sq / x[:1].numel() / n,
                "perplexity": float(torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())),
                "code_usage": float((counts > 0).float().mean()),
                "prior_nll_bits_per_code": nll / n / math.log(2) / math.prod(self.grid)}

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None, generator: torch.Generator | None = None
               ) -> torch.Tensor:
        """(num_samples, C, H, W) levels: codes drawn from the prior, decoded and rounded."""
        if cond is not None:
            raise UserError("this VQ-VAE is unconditional; sample without cond")
        codes = self.prior.sample(num_samples, generator=generator).long()[:, 0]  # (n, h, w)
        x = self.decode(self.lookup(codes)).clamp(0, 1)
        return (x * (self.cfg.num_levels - 1)).round()
