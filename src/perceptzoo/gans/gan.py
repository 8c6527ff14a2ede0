"""GAN: Generative Adversarial Nets (Goodfellow et al., NeurIPS 2014).

A generator G: R^Q -> R^D maps noise z ~ N(0, I) to data space; a discriminator
D: R^D -> [0, 1] (here a logit l, D = sigmoid(l)) tells data from samples. They play

    min_G max_D V(G, D) = E_{x ~ p_d} log D(x) + E_{z ~ p_z} log(1 - D(G(z))).     (eq. 1)

For a fixed G the best discriminator is D*(x) = p_d(x) / (p_d(x) + p_m(x)) (Proposition 1),
and at p_m = p_d, V(G, D*) = -log 4, the global minimum (Theorem 1); both are tested in
tests/gans/test_gan.py. Algorithm 1: k discriminator steps (each on a fresh minibatch: the
Trainer's batch split in k) then one generator step on `loss`:

    minimax:        G minimises E log(1 - D(G(z)))   (eq. 1 as written; saturates early on)
    non_saturating: G maximises E log D(G(z))        (sec. 3, what the paper trains with)

Both networks are MLPs (`hidden_g`, `hidden_d`); images are generated through tanh in [-1, 1]
and mapped back to grey levels by `sample`.

    >>> import perceptzoo
    >>> gan = perceptzoo.build("gan", dataset="toy2d:8gaussians")
    >>> gan.sample(3).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.gans.common import (
    GANBase,
    check_generator_loss,
    critic_batches,
    discriminator_loss,
    finite,
    frozen,
    generator_loss,
    mlp_discriminator,
    mlp_generator,
    step,
)


@dataclass
class GANConfig:
    data_shape: tuple[int, ...] = (2,)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = None
    """grey levels of image data (None for points); filled from the dataset"""
    latent_dim: int = 64
    """Q, the dimension of z ~ N(0, I)"""
    hidden_g: tuple[int, ...] = (128, 128)
    hidden_d: tuple[int, ...] = (128, 128)
    generator_loss: str = "non_saturating"
    """minimax | non_saturating (Goodfellow et al. sec. 3)"""
    k: int = 1
    """discriminator steps per generator step (Algorithm 1)"""
    input_scale: float = 1.0
    """the discriminator multiplies its input by this first (Metz et al. use 1/4 on 2D toys)"""
    beta1: float = 0.5
    beta2: float = 0.999
    d_lr_scale: float = 1.0
    """the discriminator's learning rate is train.lr times this"""

    @classmethod
    def tiny(cls) -> GANConfig:
        return cls(latent_dim=8, hidden_g=(16,), hidden_d=(16,))


def check_config(cfg) -> None:
    if cfg.k < 1:
        raise UserError(f"k (discriminator steps per generator step) must be >= 1, got {cfg.k}")
    if cfg.latent_dim < 1:
        raise UserError(f"latent_dim must be >= 1, got {cfg.latent_dim}")
    check_generator_loss(cfg.generator_loss)  # no tensor op: builds are timed on meta


@register("gan", GANConfig, family="gans", runner="trainer", default_dataset="toy2d:8gaussians",
          train_defaults={"lr": 2e-4, "batch_size": 128, "schedule": "constant",
                          "grad_clip": None})
class GAN(GANBase):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        images = len(cfg.data_shape) == 3
        self.generator = mlp_generator(cfg.latent_dim, tuple(cfg.hidden_g), tuple(cfg.data_shape),
                                       images)
        self.discriminator = mlp_discriminator(tuple(cfg.data_shape), tuple(cfg.hidden_d),
                                               cfg.input_scale)

    def discriminator_step(self, x_real: torch.Tensor, opt_d: torch.optim.Optimizer
                           ) -> dict[str, float]:
        """One ascent step of V in D: G(z) is drawn without a graph, so G is untouched."""
        with torch.no_grad():
            fake = self.generator(self.latent(len(x_real)))
        real_logits, fake_logits = self.discriminator(x_real), self.discriminator(fake)
        loss = discriminator_loss(real_logits, fake_logits)
        step(opt_d, loss, self.discriminator)
        return {"loss_d": loss.detach(),
                "d_real": torch.sigmoid(real_logits).mean().detach(),
                "d_fake": torch.sigmoid(fake_logits).mean().detach()}

    def generator_step(self, batch_size: int, opt_g: torch.optim.Optimizer) -> dict[str, float]:
        """One descent step of the generator loss, with D frozen (no D parameter moves)."""
        with frozen(self.discriminator):
            loss = generator_loss(self.discriminator(self.generator(self.latent(batch_size))),
                                  self.cfg.generator_loss)
            step(opt_g, loss, self.generator)
        return {"loss_g": loss.detach()}

    def train_step(self, batch, optimizers) -> dict[str, float]:
        """Algorithm 1: k discriminator steps, then one generator step."""
        opt_g, opt_d = optimizers
        x = self.model_space(batch[0])
        for chunk in critic_batches(x, self.cfg.k):
            metrics = self.discriminator_step(chunk, opt_d)
        metrics.update(self.generator_step(len(x), opt_g))
        metrics["loss"] = metrics["loss_d"]
        return finite(metrics, "GAN")
