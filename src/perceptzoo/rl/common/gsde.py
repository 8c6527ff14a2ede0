"""Generalized state-dependent exploration (gSDE; Raffin, Kober and Stulp 2021, "Smooth
Exploration for Robotic Reinforcement Learning", section 3).

A Gaussian policy adds independent noise at every step, a jittery signal that a motor (or a
pendulum's torque) mostly averages away. gSDE makes the noise a deterministic function of the
state for a while: with z(s) the policy's last hidden features and a noise matrix
theta_eps ~ N(0, sigma^2) (entry-wise, sigma = exp(log_sigma) a learned (features, actions)
matrix), the action is

    a = mu(s) + z(s)^T theta_eps                                              (section 3, eq. 6)

and theta_eps is redrawn only every `sample_freq` steps (and at the start of each rollout). The
same state then gets the same action within a period, and the exploration is as smooth as z.
For a fixed state the draw is Gaussian with per-action variance

    sigma_j(s)^2 = sum_i z_i(s)^2 sigma_ij^2,

which is the distribution whose log-probability PPO's ratio uses. As in the paper's reference
implementation, z enters the variance detached (the features learn from the mean only) and a
small epsilon keeps the variance positive.

    >>> import torch
    >>> from gymnasium import spaces
    >>> box = spaces.Box(-2.0, 2.0, (1,))
    >>> pi = GSDEPolicyNet(spaces.Box(-1.0, 1.0, (3,)), box, hidden=(8,), log_std_init=-1.0)
    >>> noise = pi.sample_noise(4, torch.Generator().manual_seed(0))      # (4, 8, 1)
    >>> s = torch.zeros(4, 3)
    >>> torch.equal(pi.explore(s, noise), pi.explore(s, noise))           # same state, same a
    True
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from perceptzoo.errors import UserError
from perceptzoo.rl.common.networks import PolicyNet

EPSILON = 1e-6


class GSDEPolicyNet(PolicyNet):
    """pi(a|s) = N(mu(s), diag(sigma(s)^2)) with gSDE's state-dependent sigma(s) (Box actions)."""

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space,
                 hidden: tuple[int, ...] = (64, 64), log_std_init: float = 0.0):
        if not isinstance(action_space, spaces.Box):
            raise UserError("gSDE (use_sde=True) needs continuous (Box) actions; this "
                            f"environment's actions are {action_space}: set use_sde=False")
        super().__init__(obs_space, action_space, hidden, log_std_init)
        features = self.head[0].in_features
        dim = int(np.prod(action_space.shape))
        self.log_std = nn.Parameter(torch.full((features, dim), float(log_std_init)))

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """z(s): (B, features), the input of the mean head."""
        return self.encoder(obs)

    def forward(self, obs: torch.Tensor) -> Distribution:
        z = self.features(obs)
        mean = self.head(z)
        variance = z.detach() ** 2 @ self.log_std.exp() ** 2  # (B, dim)
        return Independent(Normal(mean, torch.sqrt(variance + EPSILON)), 1)

    def sample_noise(self, num_envs: int, generator: torch.Generator | None) -> torch.Tensor:
        """theta_eps for each environment: (num_envs, features, dim), entries N(0, sigma^2)."""
        std = self.log_std.detach().exp()
        eps = torch.randn((num_envs, *std.shape), generator=generator, device=std.device,
                          dtype=std.dtype)
        return eps * std

    @torch.no_grad()
    def explore(self, obs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """a = mu(s) + z(s)^T theta_eps, one noise matrix per row of `obs`: (B, dim)."""
        z = self.features(obs)
        return self.head(z) + torch.einsum("bf,bfd->bd", z, noise)
