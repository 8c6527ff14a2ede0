"""The variational autoencoder (Kingma & Welling, ICLR 2014) and its importance-weighted bound
(Burda, Grosse & Salakhutdinov, ICLR 2016). Shared: beta_vae.py and conditional_vae.py build on
the `VAE` class of this file (DESIGN.md: a module that says it is shared).

A latent z ~ p(z) = N(0, I) is decoded by p_theta(x | z); a Gaussian encoder
q_phi(z | x) = N(mu_phi(x), diag sigma_phi(x)^2) makes the evidence lower bound (eq. 3)

    log p(x) >= ELBO(x) = E_q[log p_theta(x | z)] - KL(q_phi(z | x) || p(z)),

whose KL term is analytic for two Gaussians (appendix B),
KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2), and whose expectation is estimated
with the reparameterisation z = mu + sigma * eps, eps ~ N(0, I) (section 2.4), so gradients flow
through the sample. The importance-weighted bound with k samples z_i ~ q(z | x) (Burda eq. 8)

    L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i | x),      L_1 = ELBO <= L_k <= L_{k+1} -> log p(x),

computed with log-mean-exp for stability, is `log_prob(x, k=...)` (the NLL estimate the paper
reports with k = 5000), and with `objective="iwae"` also the training objective.

Decoders (`decoder`): "bernoulli" for binary images (one logit per pixel); "logistic" and
"gaussian" for L-level images: a discretized logistic or Gaussian per pixel, whose L bins over
[-1, 1] take the CDF differences and whose end bins take the tails, so the L probabilities sum
to one and log p(x) is a proper discrete log-likelihood in nats (Salimans et al. 2017, eq. 2,
with one component); on continuous data (`num_levels=None`) "gaussian" is a Gaussian density.

    >>> import perceptzoo
    >>> vae = perceptzoo.build("vae", data_shape=(1, 4, 4), num_levels=2, latent_dim=2)
    >>> x = vae.sample(3)
    >>> sorted(vae.elbo(x)), vae.log_prob(x, k=10).shape
    (['elbo', 'kl', 'reconstruction'], torch.Size([3]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, Normal, constraints

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp

DECODERS = ("auto", "bernoulli", "logistic", "gaussian")
OBJECTIVES = ("elbo", "iwae")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}
#: most (samples x examples x dims) log-likelihood terms one chunk of `log_prob` holds
_CHUNK_ELEMENTS = 2**24


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) in nats, summed over the last dim (Kingma & Welling,
    appendix B): (..., J) -> (...)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def log_mean_exp(a: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log (1/k) sum_i exp(a_i) along `dim` without overflow."""
    return torch.logsumexp(a, dim) - math.log(a.shape[dim])


def check_num_samples(k: int, what: str = "log_prob") -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UserError(f"{what} needs k >= 1 importance samples (an integer), got {k!r}; "
                        "k=1 is the ELBO, the IWAE figures use k=5000")
    return k


class DiscretizedContinuous(Distribution):
    """A logistic or Gaussian per dimension, discretized to the levels 0..L-1 (Salimans et al.
    2017, eq. 2, one component): level l is the bin [c_l - 1/(L-1), c_l + 1/(L-1)] around
    c_l = 2 l / (L-1) - 1, and the end bins extend to -inf and +inf. Event: the last dim."""

    arg_constraints = {"loc": constraints.real, "log_scale": constraints.real}

    def __init__(self, loc: torch.Tensor, log_scale: torch.Tensor, num_levels: int,
                 kind: str = "logistic"):
        self.loc, self.log_scale = loc, log_scale.clamp(min=-7.0)
        self.num_levels, self.kind = num_levels, kind
        super().__init__(loc.shape[:-1], loc.shape[-1:], validate_args=False)

    def _log_cdf(self, t: torch.Tensor) -> torch.Tensor:  # log F(t), log(1 - F(t)) for tails
        return F.logsigmoid(t) if self.kind == "logistic" else torch.special.log_ndtr(t)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        half = 1.0 / (self.num_levels - 1)
        c = value.to(self.loc.dtype) * (2 * half) - 1.0  # bin centres in [-1, 1]
        inv_s = torch.exp(-self.log_scale)
        upper, lower = (c + half - self.loc) * inv_s, (c - half - self.loc) * inv_s
        if self.kind == "logistic":
            mass = torch.sigmoid(upper) - torch.sigmoid(lower)
        else:
            mass = torch.special.ndtr(upper) - torch.special.ndtr(lower)
        # a bin far in a tail has a mass below float precision: there use density x width
        t_mid = (c - self.loc) * inv_s
        if self.kind == "logistic":
            log_density = t_mid - self.log_scale - 2 * F.softplus(t_mid)
        else:
            log_density = -0.5 * t_mid**2 - self.log_scale - 0.5 * math.log(2 * math.pi)
        middle = torch.where(mass > 1e-5, torch.log(mass.clamp(min=1e-12)),
                             log_density + math.log(2 * half))
        first = self._log_cdf(upper)  # level 0: (-inf, c_0 + half]
        last = self._log_cdf(-lower)  # level L-1: [c_{L-1} - half, inf)
        level = value.to(torch.long)
        out = torch.where(level == 0, first, torch.where(level == self.num_levels - 1, last,
                                                           middle))
        return out.sum(-1)

    def sample(self, sample_shape=(), generator: torch.Generator | None = None):
        shape = torch.Size(sample_shape) + self.loc.shape
        u = torch.rand(shape, generator=generator, device=self.loc.device)
        u = u.clamp(1e-6, 1 - 1e-6)
        if self.kind == "logistic":
            y = self.loc + torch.exp(self.log_scale) * (torch.log(u) - torch.log1p(-u))
        else:
            y = self.loc + torch.exp(self.log_scale) * torch.special.ndtri(u)
        return ((y + 1) / 2 * (self.num_levels - 1)).round().clamp(0, self.num_levels - 1)

    @property
    def mean(self) -> torch.Tensor:  # the level of the location (the median), in level units
        return ((self.loc + 1) / 2 * (self.num_levels - 1)).round().clamp(0, self.num_levels - 1)


@dataclass
class VAEConfig:
    data_shape: tuple[int, ...] = (1, 8, 8)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = 17
    """values per dimension (2: binary); None for continuous data; filled from the dataset"""
    latent_dim: int = 50
    """J, the size of z (Burda et al.: 50 for one stochastic layer)"""
    hidden_sizes: tuple[int, ...] = (200, 200)
    """hidden layers of the encoder and the decoder (Burda et al.: two of 200 tanh units)"""
    activation: str = "tanh"
    """tanh | relu | elu"""
    decoder: str = "auto"
    """auto (bernoulli for 2 levels, logistic for more, gaussian for continuous data) |
    bernoulli | logistic | gaussian"""
    objective: str = "elbo"
    """elbo (VAE) | iwae (the k-sample bound of Burda et al. as the training objective)"""
    num_train_samples: int = 1
    """k samples of z per example in training (the IWAE's k; averaged ELBO for elbo)"""
    num_eval_samples: int = 100
    """default k of log_prob (validation, `perceptzoo eval`); the paper's figures use 5000"""

    @classmethod
    def tiny(cls) -> VAEConfig:
        return cls(latent_dim=4, hidden_sizes=(16,), num_eval_samples=4)


@register("vae", VAEConfig, default_dataset="binarized_mnist", family="vae", runner="trainer",
          train_defaults={"lr": 1e-3, "batch_size": 100})
class VAE(nn.Module):
    """Encoder q(z|x), decoder p(x|z), the ELBO, the IWAE bound; `cond` is passed to both
    networks by subclasses that condition (`cond_features`, `_with_cond`), ignored here."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.decoder not in DECODERS:
            raise UserError(f"unknown decoder {cfg.decoder!r}; use one of {', '.join(DECODERS)}")
        if cfg.objective not in OBJECTIVES:
            raise UserError(f"unknown objective {cfg.objective!r}; use elbo or iwae")
        if cfg.activation not in ACTIVATIONS:
            raise UserError(f"unknown activation {cfg.activation!r}; use tanh, relu or elu")
        check_num_samples(cfg.num_train_samples, "num_train_samples")
        check_num_samples(cfg.num_eval_samples, "num_eval_samples")
        self.decoder_kind = cfg.decoder
        if cfg.decoder == "auto":
            self.decoder_kind = ("gaussian" if cfg.num_levels is None else
                                 "bernoulli" if cfg.num_levels == 2 else "logistic")
        if self.decoder_kind == "logistic" and cfg.num_levels is None:
            raise UserError("a discretized logistic decoder needs discrete data; on continuous "
                            "data use --set decoder=gaussian")
        D = self.num_dims = math.prod(cfg.data_shape)
        J, act = cfg.latent_dim, ACTIVATIONS[cfg.activation]
        per_dim = 1 if self.decoder_kind == "bernoulli" else 2
        c = self.cond_features(cfg)
        self.encoder = mlp([D + c, *cfg.hidden_sizes, 2 * J], act)
        self.decoder = mlp([J + c, *cfg.hidden_sizes, per_dim * D], act)

    def cond_features(self, cfg: VAEConfig) -> int:
        """Inputs the encoder and decoder take beside x and z (a one-hot label in the CVAE)."""
        return 0

    # -- data ----------------------------------------------------------------------------
    def check_data(self, info) -> None:
        """Refuse data this decoder cannot model (e.g. 256 grey levels for a Bernoulli)."""
        if self.decoder_kind == "bernoulli" and info.num_levels != 2:
            raise UserError(
                f"the Bernoulli decoder models binary data, but {info.name} has "
                f"{info.num_levels} levels; train on binarized_mnist, or pass "
                "--set decoder=logistic (or gaussian) for grey-level images")
        if tuple(info.data_shape) != tuple(self.cfg.data_shape):
            raise UserError(f"model is built for data of shape {self.cfg.data_shape}, "
                            f"{info.name} has {info.data_shape}")
        if info.num_levels is None and self.decoder_kind != "gaussian":
            raise UserError(f"{info.name} is continuous; use --set decoder=gaussian")

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """Start the Bernoulli decoder's output bias at the logit of the first batch's pixel
        means, so training begins from the independent-pixel model instead of ~500 nats."""
        if self.decoder_kind != "bernoulli":
            return
        p = self.inputs(batch[0]).mean(0).clamp(1e-3, 1 - 1e-3)
        self.decoder[-1].bias.copy_(torch.log(p) - torch.log1p(-p))

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, *data_shape) in data units -> (B, D) floats (levels scaled to [0, 1])."""
        x = x.reshape(x.shape[0], -1).to(self.encoder[0].weight.dtype)
        return x if self.cfg.num_levels is None else x / (self.cfg.num_levels - 1)

    def targets(self, x: torch.Tensor) -> torch.Tensor:
        """x as the decoder's distribution scores it: (B, D) levels (or floats)."""
        return x.reshape(x.shape[0], -1).to(self.encoder[0].weight.dtype)

    def _with_cond(self, h: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return h  # subclasses that condition concatenate cond features here

    # -- the two networks as distributions -----------------------------------------------
    def encode(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> Independent:
        """q(z | x): a diagonal Gaussian over (B, J)."""
        mu, logvar = self.encoder(self._with_cond(self.inputs(x), cond)).chunk(2, -1)
        return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> Distribution:
        """p(x | z) over the flattened data (..., D); z (..., J)."""
        out = self.decoder(self._with_cond(z, cond))
        if self.decoder_kind == "bernoulli":
            return Independent(Bernoulli(logits=out), 1)
        loc, log_scale = out.chunk(2, -1)
        if self.cfg.num_levels is None:
            return Independent(Normal(loc, torch.exp(log_scale.clamp(min=-7.0))), 1)
        return DiscretizedContinuous(torch.tanh(loc) * 1.05, log_scale, self.cfg.num_levels,
                                     self.decoder_kind)

    def prior(self, shape: tuple[int, ...]) -> Independent:
        w = self.encoder[0].weight
        zeros = torch.zeros(*shape, self.cfg.latent_dim, device=w.device, dtype=w.dtype)
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    # -- bounds ----------------------------------------------------------------------------
    def elbo(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Per-example terms (B,) in nats: `reconstruction` E_q log p(x|z) (one reparameterised
        sample), the analytic `kl` KL(q(z|x) || p(z)), and `elbo` = reconstruction - kl."""
        q = self.encode(x, cond)
        z = q.rsample()  # z = mu + sigma * eps
        reconstruction = self.decode(z, cond).log_prob(self.targets(x))
        kl = gaussian_kl(q.base_dist.loc, 2 * torch.log(q.base_dist.scale))
        return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}

    def log_weights(self, x: torch.Tensor, k: int, *,
                    cond: torch.Tensor | None = None) -> torch.Tensor:
        """log w_i = log p(x, z_i) - log q(z_i | x) for k reparameterised z_i ~ q: (k, B)."""
        q = self.encode(x, cond)
        z = q.rsample((k,))  # (k, B, J)
        cond_k = None if cond is None else cond.expand(k, *cond.shape)
        return self.log_likelihood(x, z, cond_k) + self.prior(z.shape[:-1]).log_prob(z) \
            - q.log_prob(z)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor,
                       cond: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | z) for latents z (k, B, J) of the B examples x: (k, B).

        For a Bernoulli decoder, log p(x|z) = sum_d x_d l_d - softplus(l_d) with logits
        l = W h + b, and sum_d x_d l_d = h . (W^T x) + b . x: one (B, H) product per batch instead
        of a k x B x D product (IWAE-5000 over the test split is 3x faster for it)."""
        t = self.targets(x)
        if self.decoder_kind != "bernoulli":
            return self.decode(z, cond).log_prob(t.expand(z.shape[0], -1, -1))
        last = self.decoder[-1]
        h = self.decoder[:-1](self._with_cond(z, cond))  # (k, B, H)
        xl = torch.einsum("kbh,bh->kb", h, t @ last.weight) + t @ last.bias
        return xl - F.softplus(last(h)).sum(-1)

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 k: int | None = None) -> torch.Tensor:
        """The importance-weighted estimate L_k of log p(x) in nats, (B,) (Burda et al. eq. 8;
        k=1 is a one-sample ELBO). Samples are drawn in chunks that fit in memory and merged
        with logsumexp, so k=5000 over a batch needs no more memory than a few hundred."""
        k = check_num_samples(self.cfg.num_eval_samples if k is None else k)
        chunk = max(1, min(k, _CHUNK_ELEMENTS // max(1, x.shape[0] * self.num_dims)))
        parts = []
        for start in range(0, k, chunk):
            parts.append(torch.logsumexp(self.log_weights(x, min(chunk, k - start), cond=cond),
                                         0))
        return torch.logsumexp(torch.stack(parts), 0) - math.log(k)

    # -- training --------------------------------------------------------------------------
    def loss(self, batch) -> LossOutput:
        x, y = batch
        cond = self.cond_of(y)
        k = self.cfg.num_train_samples
        if self.cfg.objective == "iwae":
            bound = log_mean_exp(self.log_weights(x, k, cond=cond), 0)
            loss = -bound.mean()
            return LossOutput(loss, {"iwae_nats": -loss.item()})
        terms = self.elbo(x.repeat(k, *[1] * (x.dim() - 1)),
                          cond=None if cond is None else cond.repeat(k, *[1] * (cond.dim() - 1)))
        loss = -terms["elbo"].mean()
        return LossOutput(loss, {"elbo_nats": -loss.item(),
                                 "kl_nats": terms["kl"].mean().item(),
                                 "reconstruction_nats": terms["reconstruction"].mean().item()})

    def cond_of(self, y: torch.Tensor | None) -> torch.Tensor | None:
        """What `cond` a batch's labels give (none: the VAE is unconditional)."""
        return None

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """Mean negative ELBO and KL over x, in nats (what `perceptzoo eval` adds to the NLL)."""
        totals = {"negative_elbo_nats": 0.0, "kl_nats": 0.0}
        for start in range(0, len(x), 500):
            terms = self.elbo(x[start : start + 500])
            totals["negative_elbo_nats"] -= terms["elbo"].sum().item()
            totals["kl_nats"] += terms["kl"].sum().item()
        return {key: v / len(x) for key, v in totals.items()}

    # -- generation and the latent space ---------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, mean: bool = False) -> torch.Tensor:
        """x ~ p(x | z), z ~ N(0, I): (num_samples, *data_shape); `mean`: the decoder's mean
        (probabilities for a Bernoulli) instead of a draw."""
        w = self.encoder[0].weight
        z = torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=w.device,
                        dtype=w.dtype)
        return self.decode_to_data(z, cond=cond, generator=generator, mean=mean)

    @torch.no_grad()
    def decode_to_data(self, z: torch.Tensor, *, cond: torch.Tensor | None = None,
                       generator: torch.Generator | None = None,
                       mean: bool = True) -> torch.Tensor:
        """Data-space images of latents z (N, J): the decoder's mean, or a draw."""
        p = self.decode(z, cond)
        if mean:
            x = p.mean
        elif isinstance(p, DiscretizedContinuous):
            x = p.sample(generator=generator)
        elif self.decoder_kind == "bernoulli":
            probs = p.base_dist.probs
            x = (torch.rand(probs.shape, generator=generator, device=probs.device) < probs)
        else:
            base = p.base_dist
            x = base.loc + base.scale * torch.randn(base.loc.shape, generator=generator,
                                                    device=base.loc.device)
        return x.to(self.encoder[0].weight.dtype).reshape(len(z), *self.cfg.data_shape)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean at the encoder's mean."""
        return self.decode_to_data(self.encode(x, cond).base_dist.loc, cond=cond)

    @torch.no_grad()
    def interpolate(self, x_a: torch.Tensor, x_b: torch.Tensor, num_steps: int = 8) -> torch.Tensor:
        """Decoded images along the straight line between the posterior means of two images:
        (num_steps, *data_shape)."""
        za = self.encode(x_a[None]).base_dist.loc[0]
        zb = self.encode(x_b[None]).base_dist.loc[0]
        t = torch.linspace(0, 1, num_steps, device=za.device)[:, None]
        return self.decode_to_data((1 - t) * za + t * zb)

    @torch.no_grad()
    def latent_map(self, grid_size: int = 15, extent: float = 2.5) -> torch.Tensor:
        """For a 2-latent model: the decoder's mean over a grid_size^2 grid of z in
        [-extent, extent]^2, rows from high z_2 to low: (grid_size^2, *data_shape)."""
        if self.cfg.latent_dim != 2:
            raise UserError(f"the latent map needs latent_dim=2, this model has "
                            f"{self.cfg.latent_dim}; train with --set latent_dim=2")
        v = torch.linspace(-extent, extent, grid_size, device=self.encoder[0].weight.device)
        z2, z1 = torch.meshgrid(v.flip(0), v, indexing="ij")
        return self.decode_to_data(torch.stack([z1.flatten(), z2.flatten()], -1))
