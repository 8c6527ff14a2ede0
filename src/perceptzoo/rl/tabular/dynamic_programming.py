"""Dynamic programming: value iteration and policy iteration on a known MDP (vectorised numpy).

Value iteration (Bellman 1957; Sutton & Barto 2018, sec. 4.4) iterates the optimality operator

    v_{k+1}(s) = max_a [R(s,a) + gamma sum_s' P(s'|s,a) v_k(s')]

and stops when ||v_{k+1} - v_k||_inf < tol (1 - gamma) / (2 gamma), which guarantees that the
greedy policy's value is within `tol` of v* (Williams & Baird 1993); for gamma = 1 it stops at
a residual below `tol`.

Policy iteration (Howard 1960; S&B sec. 4.3) alternates exact evaluation, v_pi = (I - gamma
P_pi)^-1 r_pi, and greedy improvement pi'(s) = argmax_a q_pi(s, a), keeping the current action
on ties; it stops when the policy is stable. Each improvement is strict until then and there
are finitely many deterministic policies, so it terminates (usually in a handful of steps).

`finite_horizon_values` is backward induction for a fixed horizon H (gamma = 1): the best
expected return within H steps, e.g. FrozenLake's best success rate within its time limit.

    >>> import gymnasium as gym
    >>> from perceptzoo.rl.tabular.mdp import MDP
    >>> mdp = MDP.from_env(gym.make("FrozenLake-v1"), gamma=0.99)
    >>> vi, pi = value_iteration(mdp), policy_iteration(mdp)
    >>> bool((vi.policy == pi.policy).all()), pi.iterations < 10
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from perceptzoo.core.registry import register
from perceptzoo.rl.common.agent import Agent
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.tabular.mdp import MDP, greedy


@dataclass
class PlanResult:
    values: np.ndarray
    """(S,) v* (or v_pi of the final policy)"""
    q_values: np.ndarray
    """(S, A)"""
    policy: np.ndarray
    """(S,) greedy deterministic policy"""
    iterations: int
    residuals: list[float] = field(default_factory=list)
    """value iteration: ||v_{k+1} - v_k||; policy iteration: number of states changed"""


def value_iteration(mdp: MDP, *, tol: float = 1e-8, max_iterations: int = 100_000,
                    v0: np.ndarray | None = None) -> PlanResult:
    v = np.zeros(mdp.num_states) if v0 is None else np.asarray(v0, float).copy()
    threshold = tol * (1 - mdp.gamma) / (2 * mdp.gamma) if mdp.gamma < 1 else tol
    residuals = []
    k = 0
    while k < max_iterations:
        k += 1
        v_new = mdp.bellman_optimality(v)  # (S,)
        residuals.append(float(np.abs(v_new - v).max()))
        v = v_new
        if residuals[-1] < threshold:
            break
    q = mdp.q_from_v(v)
    return PlanResult(v, q, greedy(q), k, residuals)


def policy_iteration(mdp: MDP, *, max_iterations: int = 10_000,
                     policy0: np.ndarray | None = None) -> PlanResult:
    pi = (np.zeros(mdp.num_states, int) if policy0 is None
          else np.asarray(policy0, int).copy())
    changes = []
    k = 0
    while k < max_iterations:
        k += 1
        v = mdp.evaluate_policy(pi)            # exact: a linear solve
        q = mdp.q_from_v(v)                     # (S, A)
        best = q.max(1, keepdims=True)
        # keep the current action if it is (numerically) among the best: no cycling on ties
        keep = q[np.arange(mdp.num_states), pi] >= best[:, 0] - 1e-10 * (1 + np.abs(best[:, 0]))
        new_pi = np.where(keep, pi, q.argmax(1))
        changes.append(int((new_pi != pi).sum()))
        pi = new_pi
        if changes[-1] == 0:
            break
    v = mdp.evaluate_policy(pi)
    return PlanResult(v, mdp.q_from_v(v), pi, k, [float(c) for c in changes])


def finite_horizon_values(mdp: MDP, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Backward induction with gamma = 1: (v_H (S,), policies (H, S), policies[t] at step t)."""
    v = np.zeros(mdp.num_states)
    policies = np.zeros((horizon, mdp.num_states), int)
    for t in range(horizon - 1, -1, -1):
        q = mdp.R + mdp.P @ v  # (S, A): steps-to-go = horizon - t
        policies[t] = q.argmax(1)
        v = q.max(1)
    return v, policies


@dataclass
class PlannerConfig:
    env_id: str = "FrozenLake-v1"
    """a toy-text Gymnasium id (its transition table is the model); the run's dataset"""
    gamma: float = 0.99
    tol: float = 1e-8
    """value iteration: the greedy policy is within tol of optimal"""
    max_iterations: int = 100_000


class _Planner(Agent):
    """Plans on the MDP of `cfg.env_id`; acts greedily with the resulting policy."""

    def __init__(self, cfg: PlannerConfig):
        self.cfg = cfg
        env = make_env(cfg.env_id)
        self.mdp = MDP.from_env(env, cfg.gamma)
        env.close()
        self.result: PlanResult | None = None
        self.policy = np.zeros(self.mdp.num_states, int)
        self.values = np.zeros(self.mdp.num_states)
        self.q_values = np.zeros((self.mdp.num_states, self.mdp.num_actions))

    def plan(self) -> PlanResult:
        raise NotImplementedError

    def act(self, obs: Any, *, deterministic: bool = True) -> int:
        return int(self.policy[int(obs)])

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> _Planner:
        """Plan (no environment steps are taken; `total_steps` is ignored)."""
        self.result = self.plan()
        self.policy, self.values, self.q_values = (self.result.policy, self.result.values,
                                                   self.result.q_values)
        if callback is not None:
            callback({"iterations": self.result.iterations})
        return self

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"policy": torch.from_numpy(self.policy.astype(np.int64)),
                "values": torch.from_numpy(self.values),
                "q_values": torch.from_numpy(self.q_values)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.policy = tensors["policy"].numpy()
        self.values = tensors["values"].numpy()
        self.q_values = tensors["q_values"].numpy()


@register("value_iteration", PlannerConfig, default_dataset="FrozenLake-v1",
          family="rl", runner="agent")
class ValueIteration(_Planner):
    name = "value_iteration"

    def plan(self) -> PlanResult:
        return value_iteration(self.mdp, tol=self.cfg.tol, max_iterations=self.cfg.max_iterations)


@register("policy_iteration", PlannerConfig, default_dataset="FrozenLake-v1",
          family="rl", runner="agent")
class PolicyIteration(_Planner):
    name = "policy_iteration"

    def plan(self) -> PlanResult:
        return policy_iteration(self.mdp, max_iterations=self.cfg.max_iterations)
