"""beta-VAE (Higgins et al., ICLR 2017) and its capacity-annealed form (Burgess et al. 2018).

The VAE of `perceptzoo.vae.vae` (a shared module) with the KL term weighted by beta (Higgins et
al. eq. 4):

    L(x) = E_q[log p(x | z)] - beta * KL(q(z | x) || p(z)),

beta = 1 is the VAE's ELBO exactly; beta > 1 presses q(z|x) towards the factorised prior and,
on data with independent generative factors, tends to align latents with factors (measured by
`perceptzoo.metrics.disentanglement`: MIG and the beta-VAE metric) at a cost in reconstruction.
With `capacity_max` set, the objective is Burgess et al.'s (eq. 8)

    L(x) = E_q[log p(x | z)] - gamma * | KL(q(z | x) || p(z)) - C |,

with the capacity C raised linearly from 0 to `capacity_max` nats over `capacity_steps`
training steps (the model counts its own steps in a buffer, so a resumed run continues the
schedule). `log_prob` is the VAE's importance-weighted bound; it does not depend on beta.

    >>> import perceptzoo
    >>> model = perceptzoo.build("beta_vae", data_shape=(1, 8, 8), num_levels=2, beta=4.0)
    >>> x = (torch.rand(5, 1, 8, 8) < 0.3).float()
    >>> model.loss((x, None)).metrics["beta"]
    4.0
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.vae.vae import VAE, VAEConfig


@dataclass
class BetaVAEConfig(VAEConfig):
    latent_dim: int = 10
    """dSprites models in Higgins et al. use 10 latents"""
    hidden_sizes: tuple[int, ...] = (512, 256)
    activation: str = "relu"
    beta: float = 4.0
    """weight of the KL term (>= 0; 1 is the VAE)"""
    capacity_max: float | None = None
    """Burgess et al.: target KL C raised to this many nats (None: plain beta-VAE)"""
    capacity_steps: int = 10_000
    """steps over which C rises from 0 to capacity_max"""
    gamma: float = 1000.0
    """Burgess et al.'s weight on |KL - C|"""

    @classmethod
    def tiny(cls) -> BetaVAEConfig:
        return cls(latent_dim=4, hidden_sizes=(16,), num_eval_samples=4)


@register("beta_vae", BetaVAEConfig, default_dataset="sprites", family="vae", runner="trainer",
          train_defaults={"lr": 5e-4, "batch_size": 64})
class BetaVAE(VAE):
    def __init__(self, cfg: BetaVAEConfig):
        if cfg.beta < 0:
            raise UserError(f"beta must be >= 0 (1 is the plain VAE, > 1 disentangles), got "
                            f"{cfg.beta}; pass --set beta=4")
        if cfg.capacity_max is not None and (cfg.capacity_max < 0 or cfg.capacity_steps < 1
                                             or cfg.gamma < 0):
            raise UserError("capacity annealing needs capacity_max >= 0, capacity_steps >= 1 "
                            "and gamma >= 0")
        if cfg.objective != "elbo":
            raise UserError("beta_vae weights the ELBO's KL term; use objective=elbo (the IWAE "
                            "objective is the vae model's)")
        super().__init__(cfg)
        self.register_buffer("num_steps", torch.zeros((), dtype=torch.long))

    def capacity(self) -> float:
        """C at the current training step (Burgess et al., linear schedule)."""
        cfg = self.cfg
        return cfg.capacity_max * min(1.0, self.num_steps.item() / cfg.capacity_steps)

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        terms = self.elbo(x)
        reconstruction, kl = terms["reconstruction"].mean(), terms["kl"].mean()
        metrics = {"reconstruction_nats": reconstruction.item(), "kl_nats": kl.item(),
                   "elbo_nats": (reconstruction - kl).item(), "beta": float(self.cfg.beta)}
        if self.cfg.capacity_max is None:
            # per example, then the mean: with beta = 1 the VAE's loss to the last bit
            loss = -(terms["reconstruction"] - self.cfg.beta * terms["kl"]).mean()
        else:
            c = self.capacity()
            loss = -(reconstruction - self.cfg.gamma * (kl - c).abs())
            metrics["capacity_nats"] = c
        if self.training:
            self.num_steps += 1
        return LossOutput(loss, metrics)
