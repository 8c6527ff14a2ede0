"""Finite Markov decision processes as arrays, Bellman operators, exact policy evaluation.

An MDP is (S, A, P, R, gamma): P[s, a, s'] = Pr(s' | s, a), R[s, a] = E[r | s, a] (Sutton &
Barto 2018, ch. 3). Terminal states are absorbing with zero reward, so their value is 0.
A policy is either deterministic, an int array pi[s], or stochastic, pi[s, a] = Pr(a | s).

Bellman expectation operator (S&B eq. 4.5) and optimality operator (eq. 4.10):

    (T_pi v)(s) = sum_a pi(a|s) [R(s,a) + gamma sum_s' P(s'|s,a) v(s')] = r_pi + gamma P_pi v
    (T* v)(s)   = max_a [R(s,a) + gamma sum_s' P(s'|s,a) v(s')]

Both are gamma-contractions in the max norm, so each has one fixed point: v_pi and v*.
v_pi is computed exactly by solving the linear system (I - gamma P_pi) v = r_pi over the
non-terminal states (v = 0 on terminal ones), which also works for gamma = 1 with a proper
policy.

    >>> import gymnasium as gym
    >>> mdp = MDP.from_env(gym.make("FrozenLake-v1"), gamma=0.99)
    >>> mdp.P.shape, mdp.R.shape
    ((16, 4, 16), (16, 4))
    >>> v = mdp.evaluate_policy(np.zeros(16, dtype=int))   # always go left
    >>> bool(np.allclose(v, mdp.bellman_expectation(v, np.zeros(16, dtype=int))))
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perceptzoo.errors import UserError


@dataclass
class MDP:
    P: np.ndarray
    """(S, A, S) transition probabilities P[s, a, s']"""
    R: np.ndarray
    """(S, A) expected immediate rewards"""
    gamma: float = 0.99
    terminal: np.ndarray = field(default=None)  # type: ignore[assignment]
    """(S,) bool; terminal states are absorbing with zero reward"""
    initial: np.ndarray | None = None
    """(S,) start-state distribution, if known"""

    def __post_init__(self):
        self.P = np.asarray(self.P, np.float64)
        self.R = np.asarray(self.R, np.float64)
        s, a = self.R.shape
        if self.P.shape != (s, a, s):
            raise UserError(f"P must have shape (S, A, S) = {(s, a, s)} to match R {self.R.shape};"
                            f" got {self.P.shape}")
        if not np.allclose(self.P.sum(-1), 1.0, atol=1e-8):
            raise UserError("each row P[s, a, :] must sum to 1")
        if not 0.0 <= self.gamma <= 1.0:
            raise UserError(f"gamma must be in [0, 1], got {self.gamma}")
        self.terminal = (np.zeros(s, bool) if self.terminal is None
                         else np.asarray(self.terminal, bool))
        # terminal states: absorbing, zero reward
        self.P[self.terminal] = 0.0
        for t in self.terminal.nonzero()[0]:
            self.P[t, :, t] = 1.0
        self.R[self.terminal] = 0.0

    @property
    def num_states(self) -> int:
        return self.R.shape[0]

    @property
    def num_actions(self) -> int:
        return self.R.shape[1]

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Any, gamma: float = 0.99) -> MDP:
        """From a Gymnasium toy-text env: `env.unwrapped.P[s][a] = [(p, s', r, done), ...]`.

        A transition with done=True leads into a terminal state.
        """
        base = env.unwrapped
        table = getattr(base, "P", None)
        if not isinstance(table, dict):
            raise UserError(f"{getattr(env.spec, 'id', env)} has no transition table "
                            "env.unwrapped.P; tabular planning needs a toy-text environment "
                            "(FrozenLake-v1, CliffWalking-v1, Taxi-v4)")
        s, a = base.observation_space.n, base.action_space.n
        P, R = np.zeros((s, a, s)), np.zeros((s, a))
        terminal = np.zeros(s, bool)
        for state, actions in table.items():
            for action, transitions in actions.items():
                for prob, next_state, reward, done in transitions:
                    P[state, action, next_state] += prob
                    R[state, action] += prob * reward
                    if done:
                        terminal[next_state] = True
        initial = getattr(base, "initial_state_distrib", None)
        return cls(P, R, gamma, terminal, None if initial is None else np.asarray(initial))

    @classmethod
    def random(cls, num_states: int, num_actions: int, gamma: float = 0.9, *, seed: int = 0,
               deterministic: bool = False, num_terminal: int = 0) -> MDP:
        """A random MDP: Dirichlet rows (or one next state each), rewards N(0, 1)."""
        rng = np.random.default_rng(seed)
        if deterministic:
            P = np.zeros((num_states, num_actions, num_states))
            nxt = rng.integers(0, num_states, (num_states, num_actions))
            P[np.arange(num_states)[:, None], np.arange(num_actions)[None], nxt] = 1.0
        else:
            P = rng.dirichlet(np.ones(num_states), (num_states, num_actions))
        terminal = np.zeros(num_states, bool)
        terminal[num_states - num_terminal:] = True
        return cls(P, rng.normal(size=(num_states, num_actions)), gamma, terminal)

    # -- policies --------------------------------------------------------------------------
    def as_stochastic(self, pi: np.ndarray) -> np.ndarray:
        """A deterministic policy (S,) as probabilities (S, A); a stochastic one unchanged."""
        pi = np.asarray(pi)
        if pi.ndim == 1:
            out = np.zeros((self.num_states, self.num_actions))
            out[np.arange(self.num_states), pi.astype(int)] = 1.0
            return out
        return pi.astype(np.float64)

    def policy_model(self, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P_pi (S, S), r_pi (S,)) of a policy."""
        probs = self.as_stochastic(pi)
        return np.einsum("sa,sat->st", probs, self.P), (probs * self.R).sum(1)

    # -- Bellman operators -----------------------------------------------------------------
    def q_from_v(self, v: np.ndarray) -> np.ndarray:
        """q(s, a) = R(s, a) + gamma sum_s' P(s'|s, a) v(s'); (S, A)."""
        return self.R + self.gamma * self.P @ v

    def bellman_expectation(self, v: np.ndarray, pi: np.ndarray) -> np.ndarray:
        """T_pi v = r_pi + gamma P_pi v; (S,)."""
        P_pi, r_pi = self.policy_model(pi)
        return r_pi + self.gamma * P_pi @ v

    def bellman_optimality(self, v: np.ndarray) -> np.ndarray:
        """T* v = max_a [R + gamma P v]; (S,)."""
        return self.q_from_v(v).max(1)

    def bellman_optimality_q(self, q: np.ndarray) -> np.ndarray:
        """(T* q)(s, a) = R(s, a) + gamma sum_s' P(s'|s, a) max_a' q(s', a'); (S, A)."""
        return self.q_from_v(q.max(1))

    # -- exact evaluation ------------------------------------------------------------------
    def evaluate_policy(self, pi: np.ndarray) -> np.ndarray:
        """v_pi by solving (I - gamma P_pi) v = r_pi on the non-terminal states; (S,)."""
        P_pi, r_pi = self.policy_model(pi)
        live = ~self.terminal
        n = int(live.sum())
        A = np.eye(n) - self.gamma * P_pi[np.ix_(live, live)]
        v = np.zeros(self.num_states)
        try:
            v[live] = np.linalg.solve(A, r_pi[live])
        except np.linalg.LinAlgError:
            raise UserError("I - gamma P_pi is singular: with gamma = 1 the policy must reach a "
                            "terminal state from every state; use gamma < 1") from None
        return v

    def evaluate_q(self, pi: np.ndarray) -> np.ndarray:
        """q_pi(s, a) = R + gamma P v_pi; (S, A)."""
        return self.q_from_v(self.evaluate_policy(pi))

    def reach_probability(self, pi: np.ndarray, targets: np.ndarray, horizon: int,
                          initial: np.ndarray | None = None) -> float:
        """Pr(a state in `targets` is reached within `horizon` steps) under pi, exactly."""
        P_pi, _ = self.policy_model(pi)
        targets = np.asarray(targets, bool)
        P_stop = P_pi.copy()
        P_stop[targets] = 0.0
        for t in targets.nonzero()[0]:
            P_stop[t, t] = 1.0  # targets absorb, so mass there stays counted
        dist = self.initial if initial is None else np.asarray(initial, float)
        if dist is None:
            raise UserError("no start distribution: pass initial=")
        for _ in range(horizon):
            dist = dist @ P_stop
        return float(dist[targets].sum())


def greedy(q: np.ndarray) -> np.ndarray:
    """argmax_a q(s, a) per state, ties to the lowest action; (S,) ints."""
    return np.asarray(q).argmax(1)


def epsilon_greedy_policy(q: np.ndarray, epsilon: float) -> np.ndarray:
    """pi(a|s) = 1 - eps + eps/A for the greedy action, eps/A for the others; (S, A)."""
    s, a = q.shape
    pi = np.full((s, a), epsilon / a)
    pi[np.arange(s), greedy(q)] += 1.0 - epsilon
    return pi
