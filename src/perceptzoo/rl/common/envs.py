"""Environments: one factory over Gymnasium ids, small test environments, and a pixel wrapper.

    env = make_env("CartPole-v1", seed=0)            # Gymnasium, seeded, with its time limit
    env = make_env("CliffWalking-v1")                 # capped at 500 steps (it has no limit)
    env = make_env("FrozenLake-v1", pixels=True)      # (3, 4, 4) float images of the grid
    env = MDPEnv(mdp)                                 # sample episodes from arrays P, R

The small environments here are registered with Gymnasium under `perceptzoo/...` so that every
id goes through `gymnasium.make` the same way:

- `perceptzoo/RandomWalk-v0`: Sutton & Barto's Example 6.2, five states A..E in a row, start at
  C, step left or right with probability 1/2 each (one action), reward 1 on leaving E to the
  right; v_pi(A..E) = 1/6 .. 5/6. It keeps a toy-text transition table in `unwrapped.P`.
- `perceptzoo/Chain-v0`: a 6-state corridor, two actions (left/right), reward 1 at the right
  end, -0.01 per step; one-hot observations. A tiny control task for the deep agents.
- `perceptzoo/Bandit-v0`: two arms with Bernoulli rewards (0.2, 0.8), one step per episode.
- `perceptzoo/Reach1D-v0`: continuous actions: x' = x + a (a in [-1, 1]), reward -|x'|, eight
  steps; the optimum is a = -x. A tiny task for Gaussian policies.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from perceptzoo.errors import UserError

#: Step limits for environments that have none (CliffWalking's episodes can last forever
#: under an exploring policy).
DEFAULT_STEP_LIMITS = {"CliffWalking-v1": 500}

#: Renamed ids: Gymnasium 1.x raises on the old ones; say which to use.
RENAMED = {"Taxi-v3": "Taxi-v4", "CliffWalking-v0": "CliffWalking-v1"}


def list_env_ids() -> list[str]:
    """The environments the RL family trains on, for `perceptzoo list`: Gymnasium's toy-text
    and classic-control ids, the MuJoCo ids when `mujoco` imports, and perceptzoo's own."""
    kinds = ["toy_text", "classic_control"]
    try:
        import mujoco  # noqa: F401

        kinds.append("mujoco")
    except ImportError:
        pass
    ids = []
    for env_id, spec in gym.registry.items():
        entry = spec.entry_point if isinstance(spec.entry_point, str) else \
            getattr(spec.entry_point, "__module__", "")
        if env_id.startswith("perceptzoo/") or any(f".{k}" in entry for k in kinds):
            if env_id not in RENAMED and not env_id.startswith("phys2d/"):
                ids.append(env_id)
    return sorted(ids)


def make_env(env_id: str, *, seed: int | None = None, max_episode_steps: int | None = None,
             pixels: bool = False, **kwargs: Any) -> gym.Env:
    """A Gymnasium environment by id, its spaces seeded with `seed`; reset it with a seed too."""
    if env_id in RENAMED:
        raise UserError(f"environment {env_id!r} was renamed in Gymnasium 1.x; use "
                        f"{RENAMED[env_id]!r}")
    limit = max_episode_steps or DEFAULT_STEP_LIMITS.get(env_id)
    try:
        env = gym.make(env_id, max_episode_steps=limit, **kwargs)
    except gym.error.Error as err:
        raise UserError(f"cannot make environment {env_id!r} ({err}); pass a Gymnasium id such "
                        "as CartPole-v1, FrozenLake-v1, CliffWalking-v1, Taxi-v4, Pendulum-v1 "
                        "or perceptzoo/Chain-v0") from None
    if pixels:
        env = GridPixels(env)
    if seed is not None:
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


class GridPixels(gym.ObservationWrapper):
    """Observe a grid world (FrozenLake, CliffWalking, Chain) as a (3, H, W) image in [0, 1].

    Channel 0 marks the agent's cell, channel 1 the walls/holes/cliff, channel 2 the goal:
    what a camera above the board would see, so a conv encoder has to find the agent.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        base = env.unwrapped
        if hasattr(base, "desc"):  # FrozenLake
            desc = np.asarray(base.desc).astype(str)
            self.shape = desc.shape
            bad, goal = desc == "H", desc == "G"
        elif hasattr(base, "_cliff"):  # CliffWalking
            self.shape = base.shape
            bad = np.asarray(base._cliff, dtype=bool)
            goal = np.zeros(self.shape, dtype=bool)
            goal[-1, -1] = True
        elif isinstance(base, ChainEnv):
            self.shape = (1, base.num_states)
            bad = np.zeros(self.shape, dtype=bool)
            goal = np.zeros(self.shape, dtype=bool)
            goal[0, -1] = True
        else:
            raise UserError(f"pixels=True needs a grid world (FrozenLake, CliffWalking, Chain); "
                            f"got {env.spec.id if env.spec else env}")
        self.static = np.stack([np.zeros(self.shape), bad, goal]).astype(np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, (3, *self.shape), np.float32)

    def observation(self, observation: int) -> np.ndarray:
        image = self.static.copy()  # (3, H, W)
        image[0].flat[int(observation)] = 1.0
        return image


class RandomWalkEnv(gym.Env):
    """Sutton & Barto Example 6.2: states 0..6 where 0 and 6 are terminal, start in 3."""

    def __init__(self, num_states: int = 5):
        self.num_states = num_states
        n = num_states + 2
        self.observation_space = spaces.Discrete(n)
        self.action_space = spaces.Discrete(1)
        self.P: dict[int, dict[int, list]] = {}
        for s in range(n):
            if s in (0, n - 1):
                self.P[s] = {0: [(1.0, s, 0.0, True)]}
            else:
                left, right = s - 1, s + 1
                self.P[s] = {0: [(0.5, left, 0.0, left == 0),
                                 (0.5, right, 1.0 if right == n - 1 else 0.0, right == n - 1)]}
        self.state = (n - 1) // 2

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = (self.num_states + 1) // 2
        return self.state, {}

    def step(self, action: int):
        transitions = self.P[self.state][int(action)]
        i = self.np_random.choice(len(transitions), p=[t[0] for t in transitions])
        _, self.state, reward, terminated = transitions[i]
        return self.state, reward, terminated, False, {}


class ChainEnv(gym.Env):
    """A corridor of `num_states` cells: start at 0, reward 1 on reaching the last, -0.01/step."""

    def __init__(self, num_states: int = 6):
        self.num_states = num_states
        self.observation_space = spaces.Box(0.0, 1.0, (num_states,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.num_states, np.float32)
        obs[self.position] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.position = 0
        return self._obs(), {}

    def step(self, action: int):
        self.position = int(np.clip(self.position + (1 if int(action) == 1 else -1), 0,
                                    self.num_states - 1))
        done = self.position == self.num_states - 1
        return self._obs(), 1.0 if done else -0.01, done, False, {}


class BanditEnv(gym.Env):
    """A two-armed Bernoulli bandit: one step per episode, a constant observation."""

    def __init__(self, means: tuple[float, ...] = (0.2, 0.8)):
        self.means = np.asarray(means)
        self.observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = spaces.Discrete(len(means))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.ones(1, np.float32), {}

    def step(self, action: int):
        reward = float(self.np_random.random() < self.means[int(action)])
        return np.ones(1, np.float32), reward, True, False, {}


class Reach1DEnv(gym.Env):
    """x' = x + a with a in [-1, 1]; reward -|x'|; x_0 ~ U(-2, 2); eight steps."""

    def __init__(self):
        self.observation_space = spaces.Box(-10.0, 10.0, (1,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.x = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-2, 2))
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x = float(np.clip(self.x + np.clip(np.asarray(action).item(), -1, 1), -10, 10))
        return np.array([self.x], np.float32), -abs(self.x), False, False, {}


class MDPEnv(gym.Env):
    """Sample episodes from an `MDP` (arrays P[s,a,s'], R[s,a]); one-hot observations if asked.

    Episodes end on reaching a terminal state of the MDP (or at the optional step limit).
    """

    def __init__(self, mdp: Any, start_state: int | None = None, one_hot: bool = False):
        self.mdp = mdp
        self.start_state = start_state
        self.one_hot = one_hot
        n = mdp.num_states
        self.observation_space = (spaces.Box(0.0, 1.0, (n,), np.float32) if one_hot
                                  else spaces.Discrete(n))
        self.action_space = spaces.Discrete(mdp.num_actions)
        self.state = 0

    def _obs(self):
        if not self.one_hot:
            return self.state
        obs = np.zeros(self.mdp.num_states, np.float32)
        obs[self.state] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self.start_state is not None:
            self.state = self.start_state
        else:  # uniform over non-terminal states
            choices = np.flatnonzero(~self.mdp.terminal)
            self.state = int(self.np_random.choice(choices))
        return self._obs(), {}

    def step(self, action: int):
        a = int(action)
        reward = float(self.mdp.R[self.state, a])
        self.state = int(self.np_random.choice(self.mdp.num_states, p=self.mdp.P[self.state, a]))
        return self._obs(), reward, bool(self.mdp.terminal[self.state]), False, {}


def _register(env_id: str, entry_point: Any, max_episode_steps: int | None = None) -> None:
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point, max_episode_steps=max_episode_steps)


_register("perceptzoo/RandomWalk-v0", RandomWalkEnv)
_register("perceptzoo/Chain-v0", ChainEnv, max_episode_steps=50)
_register("perceptzoo/Bandit-v0", BanditEnv)
_register("perceptzoo/Reach1D-v0", Reach1DEnv, max_episode_steps=8)
