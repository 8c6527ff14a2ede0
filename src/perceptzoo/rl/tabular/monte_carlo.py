"""Monte Carlo prediction and control: values as averages of sampled returns.

Prediction (Sutton & Barto 2018, sec. 5.1): sample episodes with pi; for each visit to s at
time t record the return G_t = r_{t+1} + gamma r_{t+2} + ... ; V(s) is the mean of the recorded
returns. *First-visit* MC averages only the first visit of s in each episode (each episode
gives one i.i.d. unbiased sample of v_pi(s)); *every-visit* MC averages all visits (biased
for a finite number of episodes, consistent).

Control (S&B sec. 5.4, on-policy first-visit MC control): average returns into Q(s, a) and
act epsilon-greedily with respect to Q; the policy improves towards the best epsilon-soft
policy. The incremental mean Q <- Q + (G - Q) / N(s, a) stores no return lists.

    >>> import perceptzoo
    >>> agent = perceptzoo.build("mc_control", env_id="FrozenLake-v1", is_slippery=False)
    >>> agent = agent.learn(None, 20_000)
    >>> agent.act(0) in range(4)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.rl.common.agent import Agent
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.common.schedules import linear_schedule

Policy = np.ndarray | Callable[[int, np.random.Generator], int]


def _sampler(policy: Policy) -> Callable[[int, np.random.Generator], int]:
    if callable(policy):
        return policy
    probs = np.asarray(policy, float)  # (S, A)
    return lambda s, rng: int(rng.choice(probs.shape[1], p=probs[s]))


def generate_episode(env: Any, policy: Policy, *, seed: int | None,
                     rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """[(s_t, a_t, r_{t+1}), ...] until termination or the time limit."""
    act = _sampler(policy)
    s, _ = env.reset(seed=seed)
    episode = []
    while True:
        a = act(int(s), rng)
        s_next, r, terminated, truncated, _ = env.step(a)
        episode.append((int(s), a, float(r)))
        s = s_next
        if terminated or truncated:
            return episode


def mc_prediction(env: Any, policy: Policy, num_episodes: int, *, gamma: float = 1.0,
                  first_visit: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(V (S,), visit counts (S,)) from `num_episodes` episodes of `policy` (S, A) or callable."""
    n = env.observation_space.n
    total, count = np.zeros(n), np.zeros(n)
    rng = np.random.default_rng(seed)
    for i in range(num_episodes):
        episode = generate_episode(env, policy, seed=seed + i if i == 0 else None, rng=rng)
        states = [s for s, _, _ in episode]
        g = 0.0
        for t in range(len(episode) - 1, -1, -1):  # G_t backwards
            s, _, r = episode[t]
            g = r + gamma * g
            if first_visit and s in states[:t]:
                continue
            total[s] += g
            count[s] += 1
    return np.divide(total, count, out=np.zeros(n), where=count > 0), count


@dataclass
class MCControlConfig:
    env_id: str = "FrozenLake-v1"
    gamma: float = 0.99
    epsilon: float = 0.1
    """final exploration rate of the epsilon-greedy policy"""
    epsilon_start: float = 1.0
    epsilon_decay_steps: int = 50_000
    """environment steps over which epsilon goes linearly from epsilon_start to epsilon"""
    first_visit: bool = True
    total_steps: int = 200_000
    seed: int = 0
    is_slippery: bool = True
    """FrozenLake only: the slippery ice (passed to gymnasium.make)"""


def make_tabular_env(cfg: Any, seed: int | None = None) -> Any:
    kwargs = {"is_slippery": cfg.is_slippery} if cfg.env_id.startswith("FrozenLake") else {}
    env = make_env(cfg.env_id, seed=seed, **kwargs)
    if not isinstance(env.observation_space, spaces.Discrete):
        raise UserError(f"tabular agents need discrete states; {cfg.env_id} observes "
                        f"{env.observation_space} (try FrozenLake-v1, CliffWalking-v1, Taxi-v4)")
    return env


class QTableAgent(Agent):
    """A table Q(s, a) with visit counts N(s, a), acting epsilon-greedily in it: the state and
    behaviour shared by MC control, SARSA and Q-learning (they differ in how they learn)."""

    def __init__(self, cfg: Any, epsilon: float):
        self.cfg = cfg
        env = make_tabular_env(cfg)
        self.num_states, self.num_actions = env.observation_space.n, env.action_space.n
        env.close()
        self.q_values = np.zeros((self.num_states, self.num_actions))  # Q(s, a)
        self.counts = np.zeros((self.num_states, self.num_actions))    # N(s, a)
        self.rng = np.random.default_rng(cfg.seed)
        self.epsilon = epsilon
        self.curve = Curve()

    def make_env(self, seed: int | None = None) -> Any:
        return make_tabular_env(self.cfg, seed)

    def act(self, obs: Any, *, deterministic: bool = False) -> int:
        """epsilon-greedy in Q (greedy if deterministic); ties broken at random."""
        if not deterministic and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.num_actions))
        q = self.q_values[int(obs)]
        return int(self.rng.choice(np.flatnonzero(q == q.max())))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"q_values": torch.from_numpy(self.q_values),
                "counts": torch.from_numpy(self.counts)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.q_values, self.counts = tensors["q_values"].numpy(), tensors["counts"].numpy()
        self.epsilon = self.cfg.epsilon


@register("mc_control", MCControlConfig, default_dataset="FrozenLake-v1",
          family="rl", runner="agent")
class MonteCarloControl(QTableAgent):
    name = "mc_control"

    def __init__(self, cfg: MCControlConfig):
        super().__init__(cfg, cfg.epsilon_start)

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> MonteCarloControl:
        env = env if env is not None else self.make_env(self.cfg.seed)
        total_steps = total_steps or self.cfg.total_steps
        schedule = linear_schedule(self.cfg.epsilon_start, self.cfg.epsilon,
                                   self.cfg.epsilon_decay_steps)
        step, first = 0, True
        while step < total_steps:
            self.epsilon = schedule(step)
            episode = generate_episode(env, lambda s, rng: self.act(s), rng=self.rng,
                                       seed=self.cfg.seed if first else None)
            first = False
            step += len(episode)
            pairs = [(s, a) for s, a, _ in episode]
            g = 0.0
            for t in range(len(episode) - 1, -1, -1):
                s, a, r = episode[t]
                g = r + self.cfg.gamma * g
                if self.cfg.first_visit and (s, a) in pairs[:t]:
                    continue
                self.counts[s, a] += 1
                self.q_values[s, a] += (g - self.q_values[s, a]) / self.counts[s, a]
            ret = sum(r for _, _, r in episode)
            self.curve.add(step=step, episode_return=ret, episode_length=len(episode))
            if callback is not None and callback({"step": step, "episode_return": ret}):
                break  # a callback returning True stops training
        return self

