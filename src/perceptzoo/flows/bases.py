"""Base distributions p_Z for flows: standard normal, learned diagonal Gaussian, Gaussian mixture.

The latent of a flow need not be Gaussian: a learned mixture base (e.g. Izmailov et al. 2020,
"Semi-supervised learning with normalizing flows"; Papamakarios et al. 2021, section 2.3)
lets a small flow put mass on separated modes without stretching space between them.

Each base has `log_prob(z) -> (B,)` in nats for z of shape (B, *shape), and
`sample(n, temperature=1.0, generator=None) -> (n, *shape)`. The temperature T scales the
standard deviations (Glow, section 5: sampling from N(0, T^2 I) trades diversity for quality);
T = 1 is the model's distribution.

    >>> base = GaussianMixture((2,), num_components=4)
    >>> base.log_prob(base.sample(5)).shape
    torch.Size([5])
"""

from __future__ import annotations

import math

import torch
from torch import nn

_LOG_2PI = math.log(2 * math.pi)


def _randn(shape, generator, device, dtype) -> torch.Tensor:
    gen_device = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=gen_device, dtype=dtype).to(device)


class StandardNormal(nn.Module):
    """N(0, I) over (*shape)."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("_ref", torch.zeros(()))  # carries device and dtype

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z = z.reshape(z.shape[0], -1)
        return -0.5 * (z.pow(2) + _LOG_2PI).sum(1)

    def sample(self, n: int, temperature: float = 1.0, generator=None) -> torch.Tensor:
        eps = _randn((n, *self.shape), generator, self._ref.device, self._ref.dtype)
        return temperature * eps


class DiagonalGaussian(nn.Module):
    """N(mu, diag(sigma^2)) with learned mu and log sigma."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.loc = nn.Parameter(torch.zeros(self.shape))
        self.log_scale = nn.Parameter(torch.zeros(self.shape))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        u = (z - self.loc) * torch.exp(-self.log_scale)
        ll = -0.5 * (u.pow(2) + _LOG_2PI) - self.log_scale
        return ll.reshape(z.shape[0], -1).sum(1)

    def sample(self, n: int, temperature: float = 1.0, generator=None) -> torch.Tensor:
        eps = _randn((n, *self.shape), generator, self.loc.device, self.loc.dtype)
        return self.loc + temperature * torch.exp(self.log_scale) * eps


class GaussianMixture(nn.Module):
    """sum_k pi_k N(z; mu_k, diag(sigma_k^2)) with learned weights, means and scales.

    Means start spread on a seeded normal draw (scale `init_spread`) so the components can pick
    different modes. Over images it acts on the flattened latent."""

    def __init__(self, shape: tuple[int, ...], num_components: int = 8,
                 init_spread: float = 1.0, seed: int = 0):
        super().__init__()
        self.shape = tuple(shape)
        dim = math.prod(self.shape)
        g = torch.Generator().manual_seed(seed)
        self.logits = nn.Parameter(torch.zeros(num_components))
        self.loc = nn.Parameter(init_spread * torch.randn(num_components, dim, generator=g))
        self.log_scale = nn.Parameter(torch.full((num_components, dim), -0.5))

    def component_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """(B, K): log pi_k + log N(z; mu_k, sigma_k)."""
        z = z.reshape(z.shape[0], 1, -1)
        u = (z - self.loc) * torch.exp(-self.log_scale)
        ll = (-0.5 * (u.pow(2) + _LOG_2PI) - self.log_scale).sum(-1)
        return ll + torch.log_softmax(self.logits, 0)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self.component_log_prob(z), 1)

    def sample(self, n: int, temperature: float = 1.0, generator=None) -> torch.Tensor:
        probs = torch.softmax(self.logits.detach(), 0)
        gen_device = generator.device if generator is not None else probs.device
        k = torch.multinomial(probs.to(gen_device), n, replacement=True, generator=generator)
        k = k.to(self.loc.device)
        eps = _randn((n, self.loc.shape[1]), generator, self.loc.device, self.loc.dtype)
        z = self.loc[k] + temperature * torch.exp(self.log_scale[k]) * eps
        return z.view(n, *self.shape)


def make_base(kind: str, shape: tuple[int, ...], num_components: int = 8) -> nn.Module:
    """'normal' | 'diagonal' | 'mixture' -> a base over `shape`."""
    from perceptzoo.errors import UserError

    if kind == "normal":
        return StandardNormal(shape)
    if kind == "diagonal":
        return DiagonalGaussian(shape)
    if kind == "mixture":
        return GaussianMixture(shape, num_components)
    raise UserError(f"unknown base distribution {kind!r}; use normal, diagonal or mixture")
