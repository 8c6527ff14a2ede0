"""Temporal-difference learning: TD(0) prediction, SARSA and Q-learning.

TD(0) (Sutton 1988; Sutton & Barto 2018, eq. 6.2) moves V(s) towards the bootstrapped target:

    V(S_t) <- V(S_t) + alpha [R_{t+1} + gamma V(S_{t+1}) - V(S_t)]

SARSA (Rummery & Niranjan 1994; S&B eq. 6.7), on-policy, bootstraps from the action the
epsilon-greedy behaviour actually takes next, so it learns q of that epsilon-greedy policy:

    Q(S,A) <- Q(S,A) + alpha [R + gamma Q(S', A') - Q(S,A)],   A' ~ eps-greedy(Q)(S')

Q-learning (Watkins 1989; S&B eq. 6.8), off-policy, bootstraps from the greedy action, so it
learns q* whatever the (sufficiently exploring) behaviour:

    Q(S,A) <- Q(S,A) + alpha [R + gamma max_a Q(S', a) - Q(S,A)]

Terminal next states bootstrap from 0; time-limit truncations bootstrap as usual. The step
size is alpha / n(s, a)^power for the n-th update of (s, a) (power 0: constant alpha).
On CliffWalking with eps = 0.1 SARSA learns the safe path and Q-learning the optimal edge
path, with SARSA earning more online return (S&B Example 6.6).

    >>> import perceptzoo
    >>> agent = perceptzoo.build("q_learning", env_id="CliffWalking-v1").learn(None, 20_000)
    >>> agent.act(36, deterministic=True)   # from the start: up, away from the cliff
    0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from perceptzoo.core.registry import register
from perceptzoo.rl.common.schedules import linear_schedule, step_size
from perceptzoo.rl.tabular.mdp import MDP
from perceptzoo.rl.tabular.monte_carlo import Policy, QTableAgent, _sampler


def td0_prediction(env: Any, policy: Policy, num_episodes: int, *, gamma: float = 1.0,
                   alpha: float = 0.1, alpha_power: float = 0.0, seed: int = 0,
                   v0: float = 0.0) -> np.ndarray:
    """V (S,) after `num_episodes` episodes of TD(0) under `policy` (S, A) or callable."""
    n = env.observation_space.n
    v = np.full(n, float(v0))
    visits = np.zeros(n)
    lr = step_size(alpha, alpha_power)
    act, rng = _sampler(policy), np.random.default_rng(seed)
    for i in range(num_episodes):
        s, _ = env.reset(seed=seed + i if i == 0 else None)
        s = int(s)
        while True:
            s_next, r, terminated, truncated, _ = env.step(act(s, rng))
            s_next = int(s_next)
            target = r + (0.0 if terminated else gamma * v[s_next])
            visits[s] += 1
            v[s] += lr(int(visits[s])) * (target - v[s])
            s = s_next
            if terminated or truncated:
                break
    return v


@dataclass
class TDControlConfig:
    env_id: str = "CliffWalking-v1"
    gamma: float = 1.0
    alpha: float = 0.5
    """step size (S&B Example 6.6 uses 0.5 on CliffWalking)"""
    alpha_power: float = 0.0
    """step size alpha / n(s, a)^power; 0 keeps alpha constant"""
    epsilon: float = 0.1
    epsilon_start: float | None = None
    """if set, epsilon goes linearly from epsilon_start to epsilon over epsilon_decay_steps"""
    epsilon_decay_steps: int = 0
    total_steps: int = 50_000
    seed: int = 0
    is_slippery: bool = True
    """FrozenLake only: the slippery ice"""


class _TDControl(QTableAgent):
    """One loop for SARSA and Q-learning; they differ only in `bootstrap`."""

    def __init__(self, cfg: TDControlConfig):
        super().__init__(cfg, cfg.epsilon if cfg.epsilon_start is None else cfg.epsilon_start)

    def bootstrap(self, s_next: int, a_next: int) -> float:
        raise NotImplementedError

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> _TDControl:
        env = env if env is not None else self.make_env(self.cfg.seed)
        total_steps = total_steps or self.cfg.total_steps
        eps = linear_schedule(self.epsilon, self.cfg.epsilon, self.cfg.epsilon_decay_steps)
        lr = step_size(self.cfg.alpha, self.cfg.alpha_power)
        gamma = self.cfg.gamma
        step, episode = 0, 0
        while step < total_steps:
            s, _ = env.reset(seed=self.cfg.seed if episode == 0 else None)
            s = int(s)
            self.epsilon = eps(step)
            a = self.act(s)
            ret, length = 0.0, 0
            while True:
                s_next, r, terminated, truncated, _ = env.step(a)
                s_next = int(s_next)
                step += 1
                self.epsilon = eps(step)
                a_next = self.act(s_next)  # SARSA's A'; Q-learning ignores it
                target = r + (0.0 if terminated else gamma * self.bootstrap(s_next, a_next))
                self.counts[s, a] += 1
                self.q_values[s, a] += lr(int(self.counts[s, a])) * (target - self.q_values[s, a])
                ret, length = ret + r, length + 1
                s, a = s_next, a_next
                if terminated or truncated or step >= total_steps:
                    break
            episode += 1
            self.curve.add(step=step, episode_return=ret, episode_length=length)
            if callback is not None and callback({"step": step, "episode_return": ret}):
                break  # a callback returning True stops training
        return self



@register("sarsa", TDControlConfig, default_dataset="CliffWalking-v1", family="rl", runner="agent")
class SARSA(_TDControl):
    name = "sarsa"

    def bootstrap(self, s_next: int, a_next: int) -> float:
        return float(self.q_values[s_next, a_next])  # Q(S', A'), A' from the behaviour


@register("q_learning", TDControlConfig, default_dataset="CliffWalking-v1",
          family="rl", runner="agent")
class QLearning(_TDControl):
    name = "q_learning"

    def bootstrap(self, s_next: int, a_next: int) -> float:
        return float(self.q_values[s_next].max())  # max_a Q(S', a), whatever A' is


def q_star(mdp: MDP) -> np.ndarray:
    """q* by value iteration on the known model, to compare learned Q tables with; (S, A)."""
    q = np.zeros((mdp.num_states, mdp.num_actions))
    for _ in range(100_000):
        q_new = mdp.bellman_optimality_q(q)
        if np.abs(q_new - q).max() < 1e-12:
            return q_new
        q = q_new
    return q
