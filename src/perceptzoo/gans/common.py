"""What every GAN in this family shares: data <-> model space, the MLP and convolutional
networks, and the base class with `sample`. The adversarial losses, the gradient penalty, the
frozen-network update, the generator EMA and the finiteness check are defined once for every
family in `perceptzoo.nn.gan_losses` and re-exported here:

    discriminator: softplus(-l(x)) + softplus(l(G(z))); minimax generator -softplus(l(G(z)));
    non-saturating generator softplus(-l(G(z))) (Goodfellow et al. 2014, eq. 1 and sec. 3)

Wasserstein (Arjovsky et al. 2017, eq. 3) with a critic f: the critic minimises
E f(G(z)) - E f(x), the generator minimises -E f(G(z)). The gradient penalty of WGAN-GP
(Gulrajani et al. 2017, eq. 3) is lambda E_xhat (||grad f(xhat)||_2 - 1)^2 on interpolates
xhat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per example.

Every update is a plain optimiser step on one network with the other frozen (its parameters'
`requires_grad` off for the other's step), so a discriminator step changes no generator
parameter and vice versa (tests/gans/test_gan.py). Under `torchrun` each rank averages its
gradients over ranks (`average_gradients`) before stepping: the Trainer wraps only `loss`
models in DistributedDataParallel, so the GANs synchronise themselves.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.nn.gan_losses import (  # noqa: F401  (the family's shared helpers, re-exported)
    average_gradients,
    check_generator_loss,
    discriminator_loss,
    ema_decay_with_rampup,
    finite,
    frozen,
    generator_loss,
    gradient_penalty,
    r1_penalty,
    step,
    update_ema,
    value_function,
)
from perceptzoo.nn.mlp import mlp


# -- data space <-> model space ------------------------------------------------------------------
def to_model_space(x: torch.Tensor, num_levels: int | None) -> torch.Tensor:
    """Integer levels 0..L-1 -> floats in [-1, 1]; continuous data (2D toys) unchanged."""
    if num_levels is None:
        return x.float()
    return x.float() / (num_levels - 1) * 2 - 1


def to_data_space(x: torch.Tensor, num_levels: int | None) -> torch.Tensor:
    """[-1, 1] -> integer levels 0..L-1 (as floats); continuous data unchanged."""
    if num_levels is None:
        return x
    return ((x + 1) / 2 * (num_levels - 1)).round().clamp(0, num_levels - 1)


# -- helpers of the update ------------------------------------------------------------------------
def critic_batches(x: torch.Tensor, k: int) -> list[torch.Tensor]:
    """The Trainer's batch split into k minibatches, one per discriminator step (Goodfellow
    et al.'s Algorithm 1 draws a fresh minibatch for each of the k steps); a batch smaller
    than k is reused whole."""
    if k < 1:
        raise UserError(f"the number of discriminator steps per generator step must be >= 1, "
                        f"got {k}; use 1 (alternating updates) or more")
    return list(x.tensor_split(k)) if len(x) >= k else [x] * k


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise UserError(f"{name} must be positive, got {value}")


# -- networks ----------------------------------------------------------------------------------
def mlp_generator(latent_dim: int, hidden: tuple[int, ...], data_shape: tuple[int, ...],
                  images: bool) -> nn.Module:
    """z (B, Q) -> x (B, *data_shape); tanh output for images in [-1, 1], linear for points."""
    net = mlp([latent_dim, *hidden, math.prod(data_shape)],
              activation=nn.ReLU, out_activation=nn.Tanh if images else None)
    return nn.Sequential(net, nn.Unflatten(1, tuple(data_shape)))


def mlp_discriminator(data_shape: tuple[int, ...], hidden: tuple[int, ...],
                      input_scale: float = 1.0) -> nn.Module:
    """x (B, *data_shape) -> logit (B,), LeakyReLU(0.2) hidden layers; `input_scale`
    multiplies the input first (Metz et al. scale the 2D toys by 1/4)."""
    net = mlp([math.prod(data_shape), *hidden, 1], activation=lambda: nn.LeakyReLU(0.2))
    return nn.Sequential(Scale(input_scale), nn.Flatten(1), net, nn.Flatten(0))


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def check_image_shape(data_shape: tuple[int, ...], who: str) -> tuple[int, int, int]:
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] % 4:
        raise UserError(f"{who} needs square images with a side divisible by 4 (8x8 digits, "
                        f"28x28 MNIST), got shape {tuple(data_shape)}")
    return tuple(data_shape)  # type: ignore[return-value]


def conv_generator(latent_dim: int, channels: int, data_shape: tuple[int, ...],
                   batch_norm: bool = True) -> nn.Module:
    """DCGAN generator: z (B, Q) -> (B, C, H, W) in [-1, 1] for H = W = 4s.

    A fractionally strided convolution projects z to s x s x 2ch (the DCGAN 'project and
    reshape' as a convolution, so no fully connected hidden layer), two more double the side
    (s -> 2s -> 4s); batch norm and ReLU between, tanh at the output (Radford et al. 2016, sec. 3).
    """
    c, h, _ = check_image_shape(data_shape, "a convolutional generator")
    s = h // 4
    norm = nn.BatchNorm2d if batch_norm else (lambda n: nn.Identity())
    return nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, 2 * channels, s, 1, 0, bias=False),  # (B, 2ch, s, s)
        norm(2 * channels), nn.ReLU(True),
        nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),    # (B, ch, 2s, 2s)
        norm(channels), nn.ReLU(True),
        nn.ConvTranspose2d(channels, c, 4, 2, 1, bias=False),               # (B, C, 4s, 4s)
        nn.Tanh(),
    )


def conv_discriminator(data_shape: tuple[int, ...], channels: int, norm: str = "batch"
                       ) -> nn.Module:
    """DCGAN discriminator: (B, C, 4s, 4s) -> logit (B,). Strided convolutions halve the side
    twice, LeakyReLU(0.2), batch norm on all but the input layer; the last convolution covers
    the s x s map (no fully connected layer). norm: batch | layer | none (a WGAN-GP critic must
    not use batch norm: the penalty is per example, Gulrajani et al. sec. 4)."""
    c, h, _ = check_image_shape(data_shape, "a convolutional discriminator")
    s = h // 4
    if norm == "batch":
        second: nn.Module = nn.BatchNorm2d(2 * channels)
    elif norm == "layer":
        second = nn.GroupNorm(1, 2 * channels)
    elif norm == "none":
        second = nn.Identity()
    else:
        raise UserError(f"unknown discriminator norm {norm!r}; use batch, layer or none")
    return nn.Sequential(
        nn.Conv2d(c, channels, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # (B, ch, 2s, 2s)
        nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=False), second,          # (B, 2ch, s, s)
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(2 * channels, 1, s, 1, 0, bias=False),                        # (B, 1, 1, 1)
        nn.Flatten(0),
    )


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. (2016) sec. 4: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# -- the base every GAN here builds on -----------------------------------------------------------
class GANBase(nn.Module):
    """A generator `self.generator` (z -> model space) and a discriminator or critic
    `self.discriminator` (model space -> logit or score). Subclasses write `train_step`.

    Config fields used here: data_shape, num_levels, latent_dim, lr, beta1, beta2.
    """

    cfg: object

    def latent(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), (num_samples, latent_dim) on the model's device."""
        device = next(self.generator.parameters()).device
        return torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=device)

    def model_space(self, x: torch.Tensor) -> torch.Tensor:
        return to_model_space(x, self.cfg.num_levels)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G(z) in model space."""
        return self.generator(z)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """(num_samples, *data_shape) in data space: grey levels 0..L-1 as floats for images,
        points for 2D toys."""
        if cond is not None:
            raise UserError(f"{type(self).__name__} is unconditional; sample without cond")
        return to_data_space(self.generate(self.latent(num_samples, generator)),
                             self.cfg.num_levels)

    def check_data(self, info) -> None:
        if tuple(info.data_shape) != tuple(self.cfg.data_shape):
            raise UserError(f"this {type(self).__name__} was built for data of shape "
                            f"{tuple(self.cfg.data_shape)}, not {info.name} "
                            f"{tuple(info.data_shape)}; train it on that dataset")
        if info.num_levels != self.cfg.num_levels:
            raise UserError(f"this {type(self).__name__} was built for {self.cfg.num_levels} "
                            f"levels, {info.name} has {info.num_levels}")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[opt_g, opt_d]: Adam with the paper's betas; the D learning rate is train lr times
        the config's `d_lr_scale` when it has one."""
        betas = (self.cfg.beta1, self.cfg.beta2)
        d_lr = train_cfg.lr * getattr(self.cfg, "d_lr_scale", 1.0)
        return [torch.optim.Adam(self.generator.parameters(), lr=train_cfg.lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(), lr=d_lr, betas=betas)]

    @property
    def images(self) -> bool:
        return len(self.cfg.data_shape) == 3


# -- shared by the progressive and style-based generators -----------------------------------------
class MinibatchStd(nn.Module):
    """Karras et al. (2018) sec. 3: append the standard deviation of each feature over the
    minibatch (groups of `group_size`), averaged to one value per group, as an extra channel,
    so D can see a batch's variety. (B, C, H, W) -> (B, C + 1, H, W)."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = min(self.group_size, b)
        while b % g:  # a group size that divides the batch
            g -= 1
        y = x.reshape(g, b // g, c, h, w)
        std = (y.var(0, unbiased=False) + 1e-8).sqrt()          # (B/g, C, H, W)
        std = std.mean(dim=(1, 2, 3))                            # (B/g,)
        std = std.repeat(g).reshape(b, 1, 1, 1).expand(b, 1, h, w)
        return torch.cat([x, std], 1)
