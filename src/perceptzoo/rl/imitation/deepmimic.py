"""DeepMimic-style motion imitation (Peng, Abbeel, Levine & van de Panne, SIGGRAPH 2018).

A simulated character (a shoulder-elbow-wrist arm, driven by PD servos whose targets are the
policy's actions) learns to track a reference motion clip while meeting a task goal. Two
simulators, one environment and one reward:

- `perceptzoo/MujocoMimic-v0`: the character simulated by MuJoCo, from the MJCF written in
  `mujoco_character.py` (hinges, position servos with torque limits, gravity; hand and
  centre of mass read from the simulator's site and subtree COM). The default of the
  `deepmimic` agent whenever `import mujoco` works (`pip install perceptzoo[mujoco]`).
- `perceptzoo/PlanarMimic-v0`: the same character simulated in numpy by `character.py`; the
  fallback default when MuJoCo is not installed.
- `perceptzoo/WalkerMimic-v0` (`walker.py`): the real character, Gymnasium's MuJoCo
  Walker2d-v5 imitating a shipped walking clip, with a target-speed goal. The arm stays the
  quick test case.

The episode loop every imitation env shares (time limit, same-step autoreset, the log of
per-joint tracking error and length of every episode) is `ImitationVecEnv`. Two agents:
`deepmimic` (the project's advantage actor-critic, the arm's default) and `deepmimic_ppo`
(the project's PPO, as in the paper; the walker's), which also logs the tracking over
training and reports it with `evaluate_tracking`.

The reward at step t (paper eqs. 1, 4-8) is

    r_t = w_I r^I_t + w_G r^G_t,
    r^I = 0.65 r^p + 0.1 r^v + 0.15 r^e + 0.1 r^c,
    r^p = exp(-2 sum_j (q^_j - q_j)^2)           pose (joint angles)
    r^v = exp(-0.1 sum_j (q^'_j - q'_j)^2)       velocity
    r^e = exp(-40 ||p^_hand - p_hand||^2)        end effector
    r^c = exp(-10 ||p^_com - p_com||^2)          centre of mass

where ^ marks the reference clip at the current phase; every term is at most 1 and equals 1
exactly on the reference, so r^I is maximal there. The task goal is the paper's *strike*:
a target g near the clip's hand path is drawn per episode and r^G = 1 once the hand has come
within `hit_radius` of g, else exp(-4 min_t ||p_hand - g||^2). The policy sees the state, the
phase of the clip (sin, cos) and the goal relative to the hand.

The paper's two training devices: **reference-state initialisation** (RSI: episodes start at
a random phase of the clip in the reference pose and velocity, so every phase is visited
from the start) and **early termination** (ET: an episode ends when the character "falls" --
here when the hand touches the ground or a joint strays more than `pose_error_limit` rad from
the clip -- so no samples are spent in unrecoverable states). The learner is the project's
advantage actor-critic with GAE (the paper used PPO with GAE(lambda = 0.95), gamma = 0.95).

    >>> import perceptzoo
    >>> agent = perceptzoo.build("deepmimic")   # MujocoMimic-v0 if mujoco imports  # doctest: +SKIP
    >>> agent.learn(None, total_steps=400_000)                          # doctest: +SKIP
    >>> tracking_error(agent, episode_steps=120)                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.io import write_json
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.deep.actor_critic import ActorCritic, ActorCriticConfig
from perceptzoo.rl.deep.ppo import PPO, PPOConfig
from perceptzoo.rl.imitation.character import (
    CharacterSpec,
    PlanarCharacter,
    center_of_mass,
    joint_positions,
    make_reference_clip,
    render_points,
)

try:
    import mujoco  # noqa: F401

    HAS_MUJOCO = True
except ImportError:  # the numpy simulator stands in
    HAS_MUJOCO = False

PLANAR_ENV, MUJOCO_ENV = "perceptzoo/PlanarMimic-v0", "perceptzoo/MujocoMimic-v0"
#: Gymnasium's Walker2d-v5 imitating a walking clip (`walker.py`, which registers it).
WALKER_ENV = "perceptzoo/WalkerMimic-v0"
#: The environment `deepmimic` trains on unless told otherwise.
DEFAULT_ENV = MUJOCO_ENV if HAS_MUJOCO else PLANAR_ENV

IMITATION_WEIGHTS = {"pose": 0.65, "velocity": 0.1, "end_effector": 0.15, "com": 0.1}


def imitation_reward(q: np.ndarray, qd: np.ndarray, q_ref: np.ndarray, qd_ref: np.ndarray,
                     spec: CharacterSpec | None = None, *, hand: np.ndarray | None = None,
                     com: np.ndarray | None = None, hand_ref: np.ndarray | None = None,
                     com_ref: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The tracking terms of Peng et al. (2018) and their weighted sum r^I; (..., n) -> (...).

    r^p = exp(-2 sum_j (q^_j - q_j)^2) (eq. 5), r^v = exp(-0.1 sum_j (q^'_j - q'_j)^2) (eq. 6),
    r^e = exp(-40 sum_e ||p^_e - p_e||^2) (eq. 7), r^c = exp(-10 ||p^_c - p_c||^2) (eq. 8) and
    r^I = 0.65 r^p + 0.1 r^v + 0.15 r^e + 0.1 r^c (eq. 4). A planar character has one
    joint angle per joint, so the paper's quaternion difference q^_j - q_j is an angle
    difference. `hand` (..., 2k) holds the simulator's k end effectors, flattened (the arm's
    hand: k = 1; the walker's two feet: k = 2), so the sum over its last axis is the paper's sum
    over end effectors; `com` (..., 2) the centre of mass. Left out, both are the arm's forward
    kinematics of `q` under `spec` (the same points as MuJoCo's: tests check it), and
    `hand_ref` and `com_ref` default to those of `q_ref`.
    """
    if hand is None or com is None or hand_ref is None or com_ref is None:
        if spec is None:
            raise UserError("imitation_reward needs the end effectors and centre of mass "
                            "(hand=, com=, hand_ref=, com_ref=) or the arm's CharacterSpec "
                            "to compute them by forward kinematics")
    if hand is None or com is None:
        hand, com = joint_positions(spec, q)[..., -1, :], center_of_mass(spec, q)
    if hand_ref is None or com_ref is None:
        hand_ref, com_ref = joint_positions(spec, q_ref)[..., -1, :], center_of_mass(spec, q_ref)
    terms = {
        "pose": np.exp(-2.0 * ((q_ref - q) ** 2).sum(-1)),
        "velocity": np.exp(-0.1 * ((qd_ref - qd) ** 2).sum(-1)),
        "end_effector": np.exp(-40.0 * ((hand_ref - hand) ** 2).sum(-1)),
        "com": np.exp(-10.0 * ((com_ref - com) ** 2).sum(-1)),
    }
    terms["imitation"] = sum(IMITATION_WEIGHTS[k] * terms[k] for k in IMITATION_WEIGHTS)
    return terms


class ImitationVecEnv(VectorEnv):
    """What every imitation environment shares: the episode loop around a simulator.

    A subclass keeps the state of `num_envs` characters and implements `_reset_envs(mask)`
    (reference-state initialisation of the masked envs), `_obs()` and `_simulate(actions)`
    (one control step of every env: the reward, the early-termination flags and an info dict
    with `joint_error`, the (N, J) absolute angle errors against the clip, one column per name
    in `joint_names`, and optionally `speed`). This class adds the time limit, same-step
    autoreset (the true last observation in `final_obs`) and a log of every finished episode
    (`episode_log`: env steps so far, length, whether it fell, its mean error per joint and
    mean speed) -- the tracking curve of a training run.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"]}
    joint_names: tuple[str, ...] = ()
    episode_steps: int
    steps: np.ndarray

    def _init_tracking(self) -> None:
        self.autoreset = True
        self.rng = np.random.default_rng()
        self.episode_log: list[dict[str, Any]] = []
        self.env_steps = 0  # over all envs, as an agent counts them
        self._error_sum = np.zeros((self.num_envs, len(self.joint_names)))
        self._speed_sum = np.zeros(self.num_envs)

    def _restart(self, mask: np.ndarray) -> None:
        """Start new episodes in the masked envs (RSI) and their tracking sums."""
        self._reset_envs(mask)
        self._error_sum[mask], self._speed_sum[mask] = 0.0, 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._restart(np.ones(self.num_envs, bool))
        return self._obs(), {}

    def step(self, actions: np.ndarray):
        reward, terminated, info = self._simulate(
            np.clip(np.asarray(actions, float).reshape(self.num_envs, -1), -1, 1))
        truncated = (self.steps >= self.episode_steps) & ~terminated
        done = terminated | truncated
        self.env_steps += self.num_envs
        self._error_sum += info["joint_error"]
        self._speed_sum += info.get("speed", 0.0)
        for i in np.flatnonzero(done):
            length = int(self.steps[i])
            self.episode_log.append({
                "step": self.env_steps, "length": length, "fell": bool(terminated[i]),
                **{f"joint_error_{name}": float(self._error_sum[i, j] / length)
                   for j, name in enumerate(self.joint_names)},
                **({"mean_speed": float(self._speed_sum[i] / length)} if "speed" in info
                   else {})})
        obs = self._obs()
        if done.any() and self.autoreset:  # same-step autoreset: report the true last observation
            info["final_obs"] = np.array([obs[i] if done[i] else None
                                          for i in range(self.num_envs)], dtype=object)
            info["_final_obs"] = done
            self._restart(done)
            obs = self._obs()
        return obs, reward.astype(np.float32), terminated, truncated, info


class MimicVecEnv(ImitationVecEnv):
    """`num_envs` arms stepped together, same-step autoreset; one class for both simulators.

    `physics`: "mujoco" (`mujoco_character.MujocoCharacter`) or "numpy"
    (`character.PlanarCharacter`). Everything else -- the clip, the reward, RSI, early
    termination, the strike goal, the observation -- is this class, shared by both.
    """

    physics = "numpy"
    joint_names = ("shoulder", "elbow", "wrist")

    def __init__(self, num_envs: int = 1, *, task: str = "strike", rsi: bool = True,
                 early_termination: bool = True, episode_steps: int = 90,
                 w_imitation: float = 0.7, w_goal: float = 0.3, goal_radius: float = 0.15,
                 hit_radius: float = 0.08, pose_error_limit: float = 1.0, sim_hz: int = 300,
                 fps: int = 30):
        self.num_envs = num_envs
        self.spec_ = CharacterSpec()
        self.character = self.make_character(num_envs, sim_hz)
        self.clip = make_reference_clip(self.spec_, fps=fps)
        self.task, self.rsi, self.early_termination = task, rsi, early_termination
        self.episode_steps, self.sim_hz, self.fps = episode_steps, sim_hz, fps
        self.w_imitation, self.w_goal = (w_imitation, w_goal) if task == "strike" else (1.0, 0.0)
        self.goal_radius, self.hit_radius = goal_radius, hit_radius
        self.pose_error_limit = pose_error_limit
        n = len(self.spec_.lengths)
        self.low, self.high = np.asarray(self.spec_.joint_low), np.asarray(self.spec_.joint_high)
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (3 * n + 6,), np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, (n,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.q = np.zeros((num_envs, n))
        self.qd = np.zeros((num_envs, n))
        self.hand = np.zeros((num_envs, 2))  # the simulator's end effector and centre of mass
        self.com = np.zeros((num_envs, 2))
        self.frame = np.zeros(num_envs, int)   # index into the (cyclic) clip
        self.steps = np.zeros(num_envs, int)
        self.goal = np.zeros((num_envs, 2))
        self.min_goal_distance = np.full(num_envs, np.inf)
        self._init_tracking()

    def make_character(self, num_envs: int, sim_hz: int) -> Any:
        if self.physics == "mujoco":
            from perceptzoo.rl.imitation.mujoco_character import MujocoCharacter

            return MujocoCharacter(self.spec_, num_envs, sim_hz=sim_hz)
        return PlanarCharacter(self.spec_, num_envs, sim_hz=sim_hz)

    # -- helpers ---------------------------------------------------------------------------
    def _reset_envs(self, mask: np.ndarray) -> None:
        """Reference-state initialisation: start at a random frame, in its pose and velocity."""
        k = int(mask.sum())
        T = self.clip.num_frames
        frames = self.rng.integers(0, T, k) if self.rsi else np.zeros(k, int)
        self.frame[mask], self.steps[mask] = frames, 0
        self.q[mask], self.qd[mask] = self.clip.q[frames], self.clip.qd[frames]
        self.hand[mask], self.com[mask] = self.character.kinematics(self.q[mask])
        # strike target: near the clip's hand path at a random phase
        g_frames = self.rng.integers(0, T, k)
        angle, radius = self.rng.uniform(0, 2 * np.pi, k), self.goal_radius * np.sqrt(
            self.rng.uniform(0, 1, k))
        self.goal[mask] = self.clip.hand[g_frames] + radius[:, None] * np.stack(
            [np.cos(angle), np.sin(angle)], -1)
        self.min_goal_distance[mask] = np.linalg.norm(self.hand[mask] - self.goal[mask], axis=-1)

    def _obs(self) -> np.ndarray:
        phase = 2 * np.pi * self.frame / self.clip.num_frames
        goal = (self.goal - self.hand) if self.task == "strike" else np.zeros_like(self.hand)
        return np.concatenate([np.cos(self.q), np.sin(self.q), 0.1 * self.qd,
                               np.stack([np.sin(phase), np.cos(phase)], -1), self.hand, goal],
                              -1).astype(np.float32)

    def _simulate(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        target = self.low + (a + 1) / 2 * (self.high - self.low)  # PD targets
        self.q, self.qd = self.character.advance(self.q, self.qd, target, 1.0 / self.fps)
        self.hand, self.com = self.character.kinematics(self.q)
        self.frame = (self.frame + 1) % self.clip.num_frames
        self.steps += 1
        f = self.frame
        ref_q = self.clip.q[f]
        terms = imitation_reward(self.q, self.qd, ref_q, self.clip.qd[f], self.spec_,
                                 hand=self.hand, com=self.com, hand_ref=self.clip.hand[f],
                                 com_ref=self.clip.com[f])
        distance = np.linalg.norm(self.hand - self.goal, axis=-1)
        self.min_goal_distance = np.minimum(self.min_goal_distance, distance)
        hit = self.min_goal_distance < self.hit_radius
        goal_reward = np.where(hit, 1.0, np.exp(-4.0 * self.min_goal_distance ** 2))
        reward = self.w_imitation * terms["imitation"] + self.w_goal * goal_reward
        # early termination: the hand touches the ground or a joint has lost the clip
        pose_error = np.abs(self.q - ref_q)
        fell = (self.hand[:, 1] < 0.0) | (pose_error.max(-1) > self.pose_error_limit)
        terminated = fell & self.early_termination
        info: dict[str, Any] = {
            "imitation_reward": terms["imitation"], "goal_reward": goal_reward, "hit": hit,
            "pose_error": pose_error.mean(-1), "joint_error": pose_error,
            "hand_error": np.linalg.norm(self.hand - self.clip.hand[f], axis=-1)}
        return reward, terminated, info

    def render_frame(self, i: int = 0) -> np.ndarray:
        """The character (its simulator's joint and hand positions), the clip's pose, the goal."""
        return render_points(self.character.points(self.q[i]),
                             self.character.points(self.clip.q[self.frame[i]]),
                             self.goal[i] if self.task == "strike" else None)


class PlanarMimicVecEnv(MimicVecEnv):
    """The character simulated in numpy (`character.py`): the fallback without MuJoCo."""

    physics = "numpy"


class MujocoMimicVecEnv(MimicVecEnv):
    """The character simulated by MuJoCo (`mujoco_character.py`)."""

    physics = "mujoco"


class MimicEnv(gym.Env):
    """One character (a vector env of size 1) as a plain Gymnasium environment."""

    metadata = {"render_modes": ["rgb_array"]}
    vector_class: type[ImitationVecEnv] = MimicVecEnv

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("early_termination", True)
        self.vec = self.vector_class(1, **kwargs)
        self.vec.autoreset = False  # a plain env ends at done; the caller resets it
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space
        self.render_mode = "rgb_array"

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or not hasattr(self, "_seeded"):
            self.vec.rng = np.random.default_rng(seed)
            self._seeded = True
        self.vec._restart(np.ones(1, bool))
        return self.vec._obs()[0], {}

    def step(self, action):
        obs, reward, term, trunc, info = self.vec.step(np.asarray(action)[None])
        info = {k: v[0] for k, v in info.items()}
        return obs[0], float(reward[0]), bool(term[0]), bool(trunc[0]), info

    def render(self) -> np.ndarray:
        return self.vec.render_frame(0)

    def render_frame(self) -> np.ndarray:
        return self.vec.render_frame(0)


class PlanarMimicEnv(MimicEnv):
    """`perceptzoo/PlanarMimic-v0`: the numpy-simulated character."""

    vector_class = PlanarMimicVecEnv


class MujocoMimicEnv(MimicEnv):
    """`perceptzoo/MujocoMimic-v0`: the MuJoCo-simulated character (needs `import mujoco`)."""

    vector_class = MujocoMimicVecEnv

    def __init__(self, **kwargs: Any):
        if not HAS_MUJOCO:
            raise gym.error.DependencyNotInstalled(
                "MujocoMimic-v0 needs MuJoCo: pip install 'perceptzoo[mujoco]' (or use "
                "perceptzoo/PlanarMimic-v0, the same character simulated in numpy)")
        super().__init__(**kwargs)


#: The vector version of each imitation environment, for `DeepMimic.make_vector_env` (and
#: `DeepMimicPPO`'s); `walker.py` adds WALKER_ENV.
VECTOR_ENVS: dict[str, type[ImitationVecEnv]] = {PLANAR_ENV: PlanarMimicVecEnv,
                                             MUJOCO_ENV: MujocoMimicVecEnv}
for _id, _entry in ((PLANAR_ENV, PlanarMimicEnv), (MUJOCO_ENV, MujocoMimicEnv)):
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry)


@dataclass
class DeepMimicConfig(ActorCriticConfig):
    env_id: str = DEFAULT_ENV
    """perceptzoo/MujocoMimic-v0 when mujoco imports, else perceptzoo/PlanarMimic-v0"""
    hidden: tuple[int, ...] = (128, 128)
    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    gamma: float = 0.95
    gae_lambda: float = 0.95
    n_steps: int = 16
    num_envs: int = 16
    log_std_init: float = -1.0
    total_steps: int = 400_000


@register("deepmimic", DeepMimicConfig, default_dataset=DEFAULT_ENV, family="rl", runner="agent")
class DeepMimic(ActorCritic):
    """Actor-critic on the imitation environment, with its batched vector version.

    Trains on MuJoCo (`perceptzoo/MujocoMimic-v0`) by default when `import mujoco` works, and on
    the numpy simulator (`perceptzoo/PlanarMimic-v0`) otherwise.
    """

    name = "deepmimic"

    def make_vector_env(self, env_fn: Any = None) -> VectorEnv:
        return imitation_vector_env(self.cfg, env_fn) or super().make_vector_env(env_fn)


def imitation_vector_env(cfg: Any, env_fn: Any = None) -> VectorEnv | None:
    """`cfg.num_envs` of an imitation env, batched in one vector env (None for other ids, or
    when the caller passes its own `env_fn`)."""
    if env_fn is not None or cfg.env_id not in VECTOR_ENVS:
        return None
    if cfg.env_id == MUJOCO_ENV and not HAS_MUJOCO:
        MujocoMimicEnv()  # raises the install hint
    return VECTOR_ENVS[cfg.env_id](cfg.num_envs, **cfg.env_kwargs)


def tracking_error(agent: Any, *, episode_steps: int = 120, seed: int = 0,
                   policy: str = "agent", env_id: str | None = None) -> dict[str, float]:
    """Mean joint-angle and hand errors against the clip over one episode from phase 0.

    No RSI and no early termination, so every policy is scored on the same full episode, in the
    agent's environment (`env_id` overrides it). `policy`: "agent" (its deterministic action),
    "reference_pd" (PD targets = the clip's next pose, no learning), or "zero" (mid-range
    targets).
    """
    env = make_env(env_id or getattr(agent.cfg, "env_id", DEFAULT_ENV), rsi=False,
                   early_termination=False, episode_steps=episode_steps,
                   **{k: v for k, v in getattr(agent.cfg, "env_kwargs", {}).items()
                      if k not in ("rsi", "early_termination", "episode_steps")})
    obs, _ = env.reset(seed=seed)
    vec = env.unwrapped.vec
    pose, hand, imitation, total = [], [], [], 0.0
    for _ in range(episode_steps):
        if policy == "agent":
            action = agent.act(obs, deterministic=True)
        elif policy == "reference_pd":
            nxt = vec.clip.q[(vec.frame[0] + 1) % vec.clip.num_frames]
            action = 2 * (nxt - vec.low) / (vec.high - vec.low) - 1
        else:
            action = np.zeros(vec.single_action_space.shape)
        obs, reward, term, trunc, info = env.step(action)
        pose.append(info["pose_error"])
        hand.append(info["hand_error"])
        imitation.append(info["imitation_reward"])
        total += reward
        if term or trunc:
            break
    return {"mean_joint_error_rad": float(np.mean(pose)),
            "mean_hand_error_m": float(np.mean(hand)),
            "mean_imitation_reward": float(np.mean(imitation)), "return": float(total)}


class BaselinePolicy:
    """A policy that does not learn, for the tables: "zero" (the zero action: with residual PD
    targets, open-loop PD tracking of the clip; on the arm, mid-range targets) or "random"
    (uniform actions in the box, seeded)."""

    def __init__(self, kind: str, action_shape: tuple[int, ...], seed: int = 0):
        if kind not in ("zero", "random"):
            raise UserError(f"baseline policy must be 'zero' or 'random', got {kind!r}")
        self.kind, self.shape = kind, action_shape
        self.rng = np.random.default_rng(seed)

    def act(self, obs: Any, *, deterministic: bool = True) -> np.ndarray:
        if self.kind == "zero":
            return np.zeros(self.shape, np.float32)
        return self.rng.uniform(-1, 1, self.shape).astype(np.float32)


def evaluate_tracking(policy: Any, env_id: str, env_kwargs: dict | None = None, *,
                      num_episodes: int = 10, seed: int = 10_000, rsi: bool = True,
                      early_termination: bool = True) -> dict[str, Any]:
    """Play `num_episodes` greedy episodes (seeds seed, seed + 1, ...) of an imitation env.

    Returns the return (mean_return, std_return), mean_length, fall_rate, the mean absolute
    angle error against the clip per joint (joint_error_deg_<name>) and over joints
    (mean_joint_error_deg), and, where the env has a target speed, mean_speed and
    success_rate: the fraction of episodes that did not fall and whose mean forward speed is
    within the env's `speed_tolerance` of the target. `policy`: anything with
    `act(obs, *, deterministic)` (an agent, a `BaselinePolicy`).
    """
    kwargs = {**(env_kwargs or {}), "rsi": rsi, "early_termination": early_termination}
    env = make_env(env_id, **kwargs)
    vec = env.unwrapped.vec
    names = vec.joint_names
    returns, lengths, fell, errors, speeds = [], [], [], [], []
    for i in range(max(1, int(num_episodes))):
        obs, _ = env.reset(seed=seed + i)
        total, error, speed, steps = 0.0, np.zeros(len(names)), 0.0, 0
        while True:
            obs, reward, term, trunc, info = env.step(policy.act(obs, deterministic=True))
            total += float(reward)
            error += info["joint_error"]
            speed += float(info.get("speed", 0.0))
            steps += 1
            if term or trunc:
                break
        returns.append(total)
        lengths.append(steps)
        fell.append(bool(term))
        errors.append(error / steps)
        speeds.append(speed / steps)
    env.close()
    errors_deg = np.degrees(np.mean(errors, 0))
    out: dict[str, Any] = {
        "mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)), "num_episodes": len(returns),
        "fall_rate": float(np.mean(fell)), "mean_joint_error_deg": float(errors_deg.mean()),
        **{f"joint_error_deg_{n}": float(e) for n, e in zip(names, errors_deg)}}
    target = getattr(vec, "target_speed", None)
    if target is not None:
        ok = ~np.asarray(fell) & (np.abs(np.asarray(speeds) - target) <= vec.speed_tolerance)
        out.update({"mean_speed": float(np.mean(speeds)), "target_speed": float(target),
                    "success_rate": float(ok.mean())})
    return out


@dataclass
class DeepMimicPPOConfig(PPOConfig):
    env_id: str = WALKER_ENV if HAS_MUJOCO else PLANAR_ENV
    """perceptzoo/WalkerMimic-v0 (Walker2d-v5) when mujoco imports, else the numpy arm"""
    hidden: tuple[int, ...] = (256, 256)
    lr: float = 3e-4
    gamma: float = 0.95
    gae_lambda: float = 0.95
    num_envs: int = 16
    n_steps: int = 128
    num_epochs: int = 5
    batch_size: int = 512
    log_std_init: float = -1.0
    normalize_obs: bool = True
    total_steps: int = 1_000_000
    eval_every: int = 0
    """env steps between greedy evaluations during training, logged to tracking.json (0: only
    at the end)"""
    eval_episodes: int = 4
    """episodes of each of those evaluations (RSI on held-out seeds)"""

    @classmethod
    def tiny(cls) -> DeepMimicPPOConfig:
        return cls(hidden=(16,), num_envs=2, n_steps=8, num_epochs=1, batch_size=16,
                   total_steps=16, eval_episodes=1, env_kwargs={"episode_steps": 10})


@register("deepmimic_ppo", DeepMimicPPOConfig, default_dataset=DeepMimicPPOConfig.env_id,
          family="rl", runner="agent")
class DeepMimicPPO(PPO):
    """DeepMimic trained with PPO, as in the paper (clipped surrogate, GAE(lambda = 0.95),
    gamma = 0.95): the project's `ppo` on a batched imitation environment, by default Walker2d
    imitating a walk (`walker.py`). Besides PPO's curve it logs every training episode's
    tracking (the vector env's `episode_log`) and greedy evaluations every `eval_every` steps
    (`evaluate_tracking`), written to tracking.json in the run folder; `evaluate_episodes`
    reports the tracking figures beside the return."""

    name = "deepmimic_ppo"

    def make_vector_env(self, env_fn: Any = None) -> VectorEnv:
        venv = imitation_vector_env(self.cfg, env_fn) or super().make_vector_env(env_fn)
        self.training_env = venv
        return venv

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> DeepMimicPPO:
        cfg = self.cfg
        self.evaluations: list[dict[str, Any]] = []
        due = [0]

        def on_episode(info: dict) -> Any:
            if cfg.eval_every and info["step"] >= due[0]:
                due[0] = info["step"] + cfg.eval_every
                self._evaluate_now(info["step"])
            return callback(info) if callback is not None else None

        super().learn(env, total_steps, callback=on_episode)
        self._evaluate_now(self.num_steps)
        return self

    def _evaluate_now(self, step: int) -> None:
        stats = evaluate_tracking(self, self.cfg.env_id, self.cfg.env_kwargs,
                                  num_episodes=self.cfg.eval_episodes, seed=20_000)
        self.evaluations.append({"step": int(step), **stats})

    def evaluate_episodes(self, num_episodes: int, seed: int) -> dict[str, float]:
        return evaluate_tracking(self, self.cfg.env_id, self.cfg.env_kwargs,
                                 num_episodes=num_episodes, seed=seed)

    def training_summary(self, run_path: str | Path) -> dict[str, Any]:
        record = super().training_summary(run_path)
        venv = getattr(self, "training_env", None)
        episodes = list(getattr(venv, "episode_log", []))
        evaluations = list(getattr(self, "evaluations", []))
        if episodes or evaluations:
            write_json(Path(run_path) / "tracking.json", {
                "env_id": self.cfg.env_id, "joint_names": list(getattr(venv, "joint_names", ())),
                "training_episodes": episodes, "evaluations": evaluations})
        if episodes:
            last = episodes[-100:]
            record["last_100_episodes_mean_length"] = float(np.mean([e["length"] for e in last]))
            record["last_100_episodes_mean_joint_error_deg"] = float(np.degrees(np.mean(
                [[v for k, v in e.items() if k.startswith("joint_error_")] for e in last])))
        return record
