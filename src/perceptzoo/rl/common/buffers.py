"""Experience storage and return computations shared by the deep agents.

- `ReplayBuffer`: a circular buffer of transitions (s, a, r, s', terminated) sampled uniformly
  (Lin 1992; Mnih et al. 2015). Truncated episodes store terminated=False so that the target
  still bootstraps from s' (time limits are not part of the MDP).
- `discounted_returns`: G_t = r_t + gamma G_{t+1} within one episode (REINFORCE).
- `gae`: generalised advantage estimation (Schulman et al. 2016, eq. 16),
  A_t = sum_l (gamma lambda)^l delta_{t+l},  delta_t = r_t + gamma V(s_{t+1}) (1 - d_t) - V(s_t);
  lambda = 0 is the one-step TD advantage, lambda = 1 the n-step Monte Carlo advantage.
"""

from __future__ import annotations

import numpy as np
import torch


class ReplayBuffer:
    def __init__(self, capacity: int, obs_shape: tuple[int, ...],
                 action_shape: tuple[int, ...] = (), action_dtype: type = np.int64,
                 seed: int = 0):
        self.capacity = capacity
        self.obs = np.zeros((capacity, *obs_shape), np.float32)
        self.next_obs = np.zeros((capacity, *obs_shape), np.float32)
        self.actions = np.zeros((capacity, *action_shape), action_dtype)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.size = 0
        self.pos = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward: float, next_obs, terminated: bool) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, float(terminated)
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> dict[str, torch.Tensor]:
        idx = self.rng.integers(0, self.size, batch_size)
        return {"obs": torch.from_numpy(self.obs[idx]),           # (B, *obs_shape)
                "actions": torch.from_numpy(self.actions[idx]),   # (B,)
                "rewards": torch.from_numpy(self.rewards[idx]),   # (B,)
                "next_obs": torch.from_numpy(self.next_obs[idx]),
                "terminated": torch.from_numpy(self.terminated[idx])}


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = sum_k gamma^k r_{t+k} for one episode's rewards (T,)."""
    returns = np.zeros(len(rewards), np.float64)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def gae(rewards: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
        terminated: torch.Tensor, episode_end: torch.Tensor, gamma: float,
        lam: float) -> torch.Tensor:
    """Advantages (T, N) for a rollout of T steps in N environments.

    rewards, values V(s_t), next_values V(s_{t+1}) (the true next state, also at a time limit),
    terminated (no bootstrap), episode_end (terminated or truncated: the sum stops there).
    """
    delta = rewards + gamma * next_values * (1.0 - terminated) - values  # (T, N)
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = delta[t] + gamma * lam * (1.0 - episode_end[t]) * running
        advantages[t] = running
    return advantages
