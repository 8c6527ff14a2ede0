"""Networks the deep agents share: observation encoders (MLP or conv) and policy heads.

- `encode_obs(obs, space)`: a batch of Gymnasium observations as a float tensor
  (Discrete -> one-hot (B, n); Box -> (B, *shape)).
- `make_encoder(space, hidden)`: an MLP for vectors, a conv net for images (C, H, W) -- the
  "state encoder" of DQN proper (Mnih et al. 2015: 8x8/4, 4x4/2, 3x3/1 convolutions for
  Atari-sized frames; 3x3 stride-1 convolutions for small grids).
- `mlp`: `perceptzoo.nn.mlp.mlp` with orthogonal init (gain sqrt 2, heads `out_gain`).
- `PolicyNet`: pi(a|s) as a `torch.distributions` object: Categorical(logits) for Discrete
  actions, a diagonal Gaussian N(mu(s), sigma^2) with a learned state-independent log sigma for
  Box actions (Williams 1992; the Gaussian policy of REINFORCE and actor-critic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal

from perceptzoo.nn.mlp import mlp


def obs_size(space: spaces.Space) -> int:
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    return int(np.prod(space.shape))


def encode_obs(obs: Any, space: spaces.Space,
               device: torch.device | str | None = None) -> torch.Tensor:
    """(B, ...) observations -> float tensor on `device`; Discrete ids become one-hot (B, n)."""
    if isinstance(space, spaces.Discrete):
        ids = torch.as_tensor(np.asarray(obs), dtype=torch.long).reshape(-1)
        return nn.functional.one_hot(ids - int(space.start), int(space.n)).float().to(device)
    x = torch.as_tensor(np.asarray(obs), dtype=torch.float32).reshape(-1, *space.shape)
    return x.to(device)


class ConvEncoder(nn.Module):
    """Images (B, C, H, W) in [0, 1] -> features (B, out_dim)."""

    def __init__(self, in_shape: tuple[int, ...], out_dim: int = 128):
        super().__init__()
        c, h, w = in_shape
        if min(h, w) >= 36:  # Nature DQN torso for frames
            convs = [nn.Conv2d(c, 32, 8, 4), nn.ReLU(), nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
                     nn.Conv2d(64, 64, 3, 1), nn.ReLU()]
        else:  # small grids: keep the resolution, every cell matters
            convs = [nn.Conv2d(c, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU()]
        self.convs = nn.Sequential(*convs, nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, c, h, w)).shape[1]
        self.head = nn.Sequential(nn.Linear(flat, out_dim), nn.ReLU())
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x))  # (B, out_dim)


def make_encoder(space: spaces.Space, hidden: tuple[int, ...],
                 activation: type[nn.Module] = nn.Tanh) -> tuple[nn.Module, int]:
    """(encoder, feature size): conv for (C, H, W) boxes, an MLP of `hidden` otherwise."""
    if isinstance(space, spaces.Box) and len(space.shape) == 3:
        encoder = ConvEncoder(space.shape, hidden[-1] if hidden else 128)
        return encoder, encoder.out_dim
    if not hidden:
        return nn.Identity(), obs_size(space)
    net = mlp([obs_size(space), *hidden], activation, init="orthogonal")
    return nn.Sequential(net, activation()), hidden[-1]


class PolicyNet(nn.Module):
    """pi(a|s): Categorical for Discrete action spaces, diagonal Gaussian for Box ones."""

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space,
                 hidden: tuple[int, ...] = (64, 64), log_std_init: float = 0.0):
        super().__init__()
        self.action_space = action_space
        self.encoder, features = make_encoder(obs_space, hidden)
        self.discrete = isinstance(action_space, spaces.Discrete)
        if self.discrete:
            self.head = mlp([features, int(action_space.n)], init="orthogonal", out_gain=0.01)
        else:
            dim = int(np.prod(action_space.shape))
            self.head = mlp([features, dim], init="orthogonal", out_gain=0.01)
            self.log_std = nn.Parameter(torch.full((dim,), float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> Distribution:
        out = self.head(self.encoder(obs))  # (B, num_actions) logits or (B, dim) means
        if self.discrete:
            return Categorical(logits=out)
        return Independent(Normal(out, self.log_std.exp().expand_as(out)), 1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, deterministic: bool = False,
            generator: torch.Generator | None = None) -> np.ndarray:
        """Environment actions for encoded observations: the mode if deterministic, else a draw."""
        dist = self(obs)
        if deterministic:
            action = dist.probs.argmax(-1) if self.discrete else dist.mean
        else:
            action = sample_action(dist, generator)
        return self.to_env(action)

    def to_env(self, action: torch.Tensor) -> np.ndarray:
        """Actions as the environment takes them (Gaussian samples clipped to the box)."""
        a = action.detach().cpu().numpy()
        if self.discrete:
            return a.astype(np.int64)
        return np.clip(a, self.action_space.low, self.action_space.high).astype(np.float32)


@torch.no_grad()
def sample_action(dist: Distribution, generator: torch.Generator | None) -> torch.Tensor:
    """A draw from pi(.|s) with the agent's own `generator` (not torch's global RNG):
    Categorical -> (B,) action ids, diagonal Gaussian -> (B, dim) = mean + sigma * noise."""
    if isinstance(dist, Categorical):
        return torch.multinomial(dist.probs, 1, generator=generator)[:, 0]
    mean, std = dist.mean, dist.stddev
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + std * noise


class ValueNet(nn.Module):
    """V(s; w): (B, *obs) -> (B,); REINFORCE's baseline b(s) and actor-critic's critic."""

    def __init__(self, obs_space: Any, hidden: tuple[int, ...]):
        super().__init__()
        self.encoder, features = make_encoder(obs_space, hidden)
        self.head = mlp([features, 1], init="orthogonal")

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(obs))[:, 0]
