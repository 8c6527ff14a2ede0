"""Generative Stochastic Network (Bengio, Thibodeau-Laufer, Alain & Yosinski, "Deep Generative
Stochastic Networks Trainable by Backprop", ICML 2014), in the denoising-autoencoder form of
Bengio, Yao, Alain & Vincent, "Generalized Denoising Auto-Encoders as Generative Models",
NeurIPS 2013.

A known corruption process C(x~ | x) and a learned reconstruction distribution P_theta(x | x~)
define a Markov chain that alternates them:

    x~_t ~ C(x~ | x_t),        x_{t+1} ~ P_theta(x | x~_t).

Training maximises log P_theta(x | x~) of clean data given its corruption (a denoising
autoencoder whose output is a distribution, not a point). If P_theta is a consistent estimator
of the true P(x | x~), the chain's stationary distribution is the data distribution (Bengio et
al. 2013, theorem 1), so long runs of the chain sample the model. Walkback (section 3.4 of the
2013 paper): with `walkback = k > 1`, a training example also starts a short chain x -> x~_1 ->
x*_1 ~ P -> x~_2 -> ..., and every reconstruction P(x | x~_j) is trained to return the original
x, which removes spurious modes far from the data that the plain chain would visit.

Data and distributions. Continuous data (2-D toys): Gaussian corruption x~ = x + sigma eps and
a reconstruction that is a mixture of `num_components` diagonal Gaussians predicted by an MLP
(a mixture, because P(x | x~) is multimodal once the noise lets the chain cross between
modes). Discrete images (values 0..L-1, scaled to [0, 1]): salt-and-pepper corruption (each
pixel, with probability `noise_level`, set to 0 or 1 at random) and a factorised Bernoulli
reconstruction whose cross-entropy against the grey level is the training loss; the chain's
state is binary.

`sample(n)` runs n independent chains for `sample_steps` steps from broad noise (N(0, I) for
continuous data, fair coins for images) and returns their last state; for images it returns
the last reconstruction's means (grey levels), as the papers show. A GSN has no tractable
likelihood, so it has no `log_prob`: it is scored by sample metrics (MMD, Frechet distance).

    >>> import perceptzoo
    >>> gsn = perceptzoo.build("gsn", data_shape=(2,), hidden_sizes=(32, 32))
    >>> gsn.sample(5).shape
    torch.Size([5, 2])
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


@dataclass
class GSNConfig:
    data_shape: tuple[int, ...] = (2,)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = None
    """None for continuous data (Gaussian model), else the grey levels (Bernoulli model)"""
    hidden_sizes: tuple[int, ...] = (256, 256, 256)
    noise_level: float = 0.3
    """Gaussian corruption std (continuous data) or salt-and-pepper probability (images)"""
    walkback: int = 1
    """reconstructions per training example: 1 is a plain denoising autoencoder"""
    sample_steps: int = 200
    """chain steps in `sample`"""
    num_components: int = 4
    """Gaussians in the reconstruction mixture (continuous data): P(x | x~) is multimodal when
    the corruption is large enough for the chain to mix between modes"""
    min_log_std: float = -5.0

    @classmethod
    def tiny(cls) -> GSNConfig:
        return cls(hidden_sizes=(16,), sample_steps=3)


@register("gsn", GSNConfig, family="energy", runner="trainer",
          default_dataset="toy2d:8gaussians",
          train_defaults={"lr": 1e-3, "batch_size": 256})
class GSN(nn.Module):
    def __init__(self, cfg: GSNConfig):
        super().__init__()
        if not 0 < cfg.noise_level:
            raise UserError(f"noise_level must be positive, not {cfg.noise_level}: the chain "
                            "needs a corruption to move")
        if cfg.walkback < 1 or cfg.sample_steps < 0:
            raise UserError("walkback must be at least 1 and sample_steps at least 0")
        self.cfg = cfg
        self.discrete = cfg.num_levels is not None
        if self.discrete and cfg.noise_level >= 1:
            raise UserError("salt-and-pepper noise_level is a probability in (0, 1)")
        self.num_dims = math.prod(cfg.data_shape)
        if cfg.num_components < 1:
            raise UserError("num_components must be at least 1")
        K = cfg.num_components
        out = self.num_dims if self.discrete else K * (1 + 2 * self.num_dims)
        self.net = mlp([self.num_dims, *cfg.hidden_sizes, out])

    # -- the two halves of the chain ------------------------------------------------------------
    def _to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Data -> the chain's space: flat, images in [0, 1]."""
        x = x.reshape(x.shape[0], -1).to(self.net[0].weight.dtype)
        return x / (self.cfg.num_levels - 1) if self.discrete else x

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None
                ) -> torch.Tensor:
        """x~ ~ C(x~ | x): Gaussian noise, or salt-and-pepper for images."""
        gdev = generator.device if generator is not None else x.device
        if not self.discrete:
            eps = torch.randn(x.shape, generator=generator, device=gdev, dtype=x.dtype)
            return x + self.cfg.noise_level * eps.to(x.device)
        u = torch.rand((2, *x.shape), generator=generator, device=gdev, dtype=x.dtype)
        u = u.to(x.device)
        return torch.where(u[0] < self.cfg.noise_level, (u[1] < 0.5).to(x.dtype), x)

    def reconstruction(self, x_tilde: torch.Tensor) -> torch.distributions.Distribution:
        """P_theta(x | x~), factorised over dimensions."""
        out = self.net(x_tilde)
        if self.discrete:
            return torch.distributions.Bernoulli(logits=out)
        K, D = self.cfg.num_components, self.num_dims
        logits, mean, log_std = out.split([K, K * D, K * D], dim=1)
        std = log_std.clamp_min(self.cfg.min_log_std).exp().view(-1, K, D)
        components = torch.distributions.Independent(
            torch.distributions.Normal(mean.view(-1, K, D), std), 1)
        return torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(logits=logits), components)

    def _nll(self, p: torch.distributions.Distribution, x: torch.Tensor) -> torch.Tensor:
        """-log P(x | x~) per example (cross-entropy against grey levels for images)."""
        if self.discrete:
            return F.binary_cross_entropy_with_logits(p.logits, x, reduction="none").sum(1)
        return -p.log_prob(x)

    def _draw(self, p: torch.distributions.Distribution, generator) -> torch.Tensor:
        if self.discrete:
            gdev = generator.device if generator is not None else p.probs.device
            u = torch.rand(p.probs.shape, generator=generator, device=gdev,
                           dtype=p.probs.dtype).to(p.probs.device)
            return (u < p.probs).to(p.probs.dtype)
        probs = p.mixture_distribution.probs  # (B, K)
        normal = p.component_distribution.base_dist  # loc, scale (B, K, D)
        gdev = generator.device if generator is not None else probs.device
        u = torch.rand(probs.shape[0], 1, generator=generator, device=gdev,
                       dtype=probs.dtype).to(probs.device)
        k = (probs.cumsum(1) < u).sum(1).clamp_max(probs.shape[1] - 1)  # inverse CDF
        rows = torch.arange(len(k), device=k.device)
        loc, scale = normal.loc[rows, k], normal.scale[rows, k]  # (B, D)
        eps = torch.randn(loc.shape, generator=generator, device=gdev, dtype=loc.dtype)
        return loc + scale * eps.to(loc.device)

    # -- training ---------------------------------------------------------------------------------
    def loss(self, batch) -> LossOutput:
        """Mean over the walkback reconstructions of -log P(x | x~_j), per example (nats)."""
        x = self._to_unit(batch[0])
        state, total, first = x, 0.0, None
        for _ in range(self.cfg.walkback):
            p = self.reconstruction(self.corrupt(state))
            nll = self._nll(p, x).mean()
            first = nll if first is None else first
            total = total + nll
            state = self._draw(p, None).detach()  # walk back from a sample of the model
        loss = total / self.cfg.walkback
        return LossOutput(loss, {"reconstruction_nll": first.item()})

    def check_data(self, info) -> None:
        if (info.num_levels is None) != (self.cfg.num_levels is None):
            kind = "discrete" if self.discrete else "continuous"
            raise UserError(f"this GSN was built for {kind} data; {info.name} is not")

    # -- sampling ---------------------------------------------------------------------------------
    @torch.no_grad()
    def chain(self, x0: torch.Tensor, num_steps: int,
              generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """States x_0, x_1, ..., x_num_steps of the corrupt/denoise chain from x0 (flat, in the
        chain's space), each a (B, D) tensor."""
        states = [x0]
        for _ in range(num_steps):
            p = self.reconstruction(self.corrupt(states[-1], generator))
            states.append(self._draw(p, generator))
        return states

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None, generator: torch.Generator | None = None,
               num_steps: int | None = None) -> torch.Tensor:
        """(num_samples, *data_shape): last states of independent chains (image means for
        discrete data, in grey levels)."""
        if cond is not None:
            raise UserError("the GSN is unconditional; sample without cond")
        steps = self.cfg.sample_steps if num_steps is None else num_steps
        w = self.net[0].weight
        gdev = generator.device if generator is not None else w.device
        shape = (num_samples, self.num_dims)
        if self.discrete:
            x = (torch.rand(shape, generator=generator, device=gdev) < 0.5).to(w)
        else:
            x = torch.randn(shape, generator=generator, device=gdev).to(w)
        x = self.chain(x, steps, generator)[-1]
        if self.discrete:  # the mean of the last reconstruction, as grey levels
            x = self.reconstruction(self.corrupt(x, generator)).probs
            x = (x * (self.cfg.num_levels - 1)).round()
        return x.reshape(num_samples, *self.cfg.data_shape)
