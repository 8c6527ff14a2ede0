"""DeepMimic-style motion imitation (Peng, Abbeel, Levine & van de Panne, SIGGRAPH 2018).

A simulated character (here the planar articulated arm of `character.py`, driven by PD
servos whose targets are the policy's actions) learns to track a reference motion clip while
meeting a task goal. The reward at step t (paper eqs. 1, 4-8) is

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
    >>> agent = perceptzoo.build("deepmimic")                           # doctest: +SKIP
    >>> agent.learn(None, total_steps=400_000)                          # doctest: +SKIP
    >>> tracking_error(agent, episode_steps=120)                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from perceptzoo.core.registry import register
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.deep.actor_critic import ActorCritic, ActorCriticConfig
from perceptzoo.rl.imitation.character import (
    CharacterSpec,
    center_of_mass,
    joint_positions,
    make_reference_clip,
    render,
    simulate,
)

IMITATION_WEIGHTS = {"pose": 0.65, "velocity": 0.1, "end_effector": 0.15, "com": 0.1}


def imitation_reward(q: np.ndarray, qd: np.ndarray, q_ref: np.ndarray, qd_ref: np.ndarray,
                     spec: CharacterSpec) -> dict[str, np.ndarray]:
    """The tracking terms and their weighted sum r^I; arrays (..., n) -> (...)."""
    hand, hand_ref = joint_positions(spec, q)[..., -1, :], joint_positions(spec, q_ref)[..., -1, :]
    terms = {
        "pose": np.exp(-2.0 * ((q_ref - q) ** 2).sum(-1)),
        "velocity": np.exp(-0.1 * ((qd_ref - qd) ** 2).sum(-1)),
        "end_effector": np.exp(-40.0 * ((hand_ref - hand) ** 2).sum(-1)),
        "com": np.exp(-10.0 * ((center_of_mass(spec, q_ref) - center_of_mass(spec, q)) ** 2
                               ).sum(-1)),
    }
    terms["imitation"] = sum(IMITATION_WEIGHTS[k] * terms[k] for k in IMITATION_WEIGHTS)
    return terms


class PlanarMimicVecEnv(VectorEnv):
    """`num_envs` characters stepped together (one batched physics call), same-step autoreset."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"]}

    def __init__(self, num_envs: int = 1, *, task: str = "strike", rsi: bool = True,
                 early_termination: bool = True, episode_steps: int = 90,
                 w_imitation: float = 0.7, w_goal: float = 0.3, goal_radius: float = 0.15,
                 hit_radius: float = 0.08, pose_error_limit: float = 1.0, sim_hz: int = 300,
                 fps: int = 30):
        self.num_envs = num_envs
        self.spec_ = CharacterSpec()
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
        self.frame = np.zeros(num_envs, int)   # index into the (cyclic) clip
        self.steps = np.zeros(num_envs, int)
        self.goal = np.zeros((num_envs, 2))
        self.min_goal_distance = np.full(num_envs, np.inf)
        self.rng = np.random.default_rng()
        self.autoreset = True

    # -- helpers ---------------------------------------------------------------------------
    def _reset_envs(self, mask: np.ndarray) -> None:
        k = int(mask.sum())
        T = self.clip.num_frames
        frames = self.rng.integers(0, T, k) if self.rsi else np.zeros(k, int)
        self.frame[mask], self.steps[mask] = frames, 0
        self.q[mask], self.qd[mask] = self.clip.q[frames], self.clip.qd[frames]
        # strike target: near the clip's hand path at a random phase
        g_frames = self.rng.integers(0, T, k)
        angle, radius = self.rng.uniform(0, 2 * np.pi, k), self.goal_radius * np.sqrt(
            self.rng.uniform(0, 1, k))
        self.goal[mask] = self.clip.hand[g_frames] + radius[:, None] * np.stack(
            [np.cos(angle), np.sin(angle)], -1)
        hand = joint_positions(self.spec_, self.q[mask])[:, -1]
        self.min_goal_distance[mask] = np.linalg.norm(hand - self.goal[mask], axis=-1)

    def _obs(self) -> np.ndarray:
        hand = joint_positions(self.spec_, self.q)[:, -1]  # (N, 2)
        phase = 2 * np.pi * self.frame / self.clip.num_frames
        goal = (self.goal - hand) if self.task == "strike" else np.zeros_like(hand)
        return np.concatenate([np.cos(self.q), np.sin(self.q), 0.1 * self.qd,
                               np.stack([np.sin(phase), np.cos(phase)], -1), hand, goal],
                              -1).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._reset_envs(np.ones(self.num_envs, bool))
        return self._obs(), {}

    def step(self, actions: np.ndarray):
        a = np.clip(np.asarray(actions, float).reshape(self.num_envs, -1), -1, 1)
        target = self.low + (a + 1) / 2 * (self.high - self.low)  # PD targets
        self.q, self.qd = simulate(self.spec_, self.q, self.qd, target, 1.0 / self.fps,
                                   self.sim_hz)
        self.frame = (self.frame + 1) % self.clip.num_frames
        self.steps += 1
        ref_q, ref_qd = self.clip.q[self.frame], self.clip.qd[self.frame]
        terms = imitation_reward(self.q, self.qd, ref_q, ref_qd, self.spec_)
        hand = joint_positions(self.spec_, self.q)[:, -1]
        distance = np.linalg.norm(hand - self.goal, axis=-1)
        self.min_goal_distance = np.minimum(self.min_goal_distance, distance)
        hit = self.min_goal_distance < self.hit_radius
        goal_reward = np.where(hit, 1.0, np.exp(-4.0 * self.min_goal_distance ** 2))
        reward = self.w_imitation * terms["imitation"] + self.w_goal * goal_reward
        pose_error = np.abs(self.q - ref_q)
        fell = (hand[:, 1] < 0.0) | (pose_error.max(-1) > self.pose_error_limit)
        terminated = fell & self.early_termination
        truncated = (self.steps >= self.episode_steps) & ~terminated
        info: dict[str, Any] = {
            "imitation_reward": terms["imitation"], "goal_reward": goal_reward, "hit": hit,
            "pose_error": pose_error.mean(-1),
            "hand_error": np.linalg.norm(hand - self.clip.hand[self.frame], axis=-1)}
        obs = self._obs()
        done = terminated | truncated
        if done.any() and self.autoreset:  # same-step autoreset: report the true last observation
            info["final_obs"] = np.array([obs[i] if done[i] else None
                                          for i in range(self.num_envs)], dtype=object)
            info["_final_obs"] = done
            self._reset_envs(done)
            obs = self._obs()
        return obs, reward.astype(np.float32), terminated, truncated, info

    def render_frame(self, i: int = 0) -> np.ndarray:
        return render(self.spec_, self.q[i], self.clip.q[self.frame[i]],
                      self.goal[i] if self.task == "strike" else None)


class PlanarMimicEnv(gym.Env):
    """One character (a `PlanarMimicVecEnv` of size 1) as a plain Gymnasium environment."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("early_termination", True)
        self.vec = PlanarMimicVecEnv(1, **kwargs)
        self.vec.autoreset = False  # a plain env ends at done; the caller resets it
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space
        self.render_mode = "rgb_array"

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or not hasattr(self, "_seeded"):
            self.vec.rng = np.random.default_rng(seed)
            self._seeded = True
        self.vec._reset_envs(np.ones(1, bool))
        return self.vec._obs()[0], {}

    def step(self, action):
        obs, reward, term, trunc, info = self.vec.step(np.asarray(action)[None])
        info = {k: v[0] for k, v in info.items()}
        return obs[0], float(reward[0]), bool(term[0]), bool(trunc[0]), info

    def render(self) -> np.ndarray:
        return self.vec.render_frame(0)

    def render_frame(self) -> np.ndarray:
        return self.vec.render_frame(0)


if "perceptzoo/PlanarMimic-v0" not in gym.registry:
    gym.register("perceptzoo/PlanarMimic-v0", entry_point=PlanarMimicEnv)


@dataclass
class DeepMimicConfig(ActorCriticConfig):
    env_id: str = "perceptzoo/PlanarMimic-v0"
    hidden: tuple[int, ...] = (128, 128)
    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    gamma: float = 0.95
    gae_lambda: float = 0.95
    n_steps: int = 16
    num_envs: int = 16
    log_std_init: float = -1.0
    total_steps: int = 400_000


@register("deepmimic", DeepMimicConfig, default_dataset="perceptzoo/PlanarMimic-v0")
class DeepMimic(ActorCritic):
    """Actor-critic on the imitation environment, with its batched vector version."""

    name = "deepmimic"

    def make_vector_env(self, env_fn: Any = None) -> VectorEnv:
        if env_fn is not None:
            return super().make_vector_env(env_fn)
        return PlanarMimicVecEnv(self.cfg.num_envs, **self.cfg.env_kwargs)


def tracking_error(agent: Any, *, episode_steps: int = 120, seed: int = 0,
                   policy: str = "agent") -> dict[str, float]:
    """Mean joint-angle and hand errors against the clip over one episode from phase 0.

    No RSI and no early termination, so every policy is scored on the same full episode.
    `policy`: "agent" (its deterministic action), "reference_pd" (PD targets = the clip's next
    pose, no learning), or "zero" (mid-range targets).
    """
    env = make_env("perceptzoo/PlanarMimic-v0", rsi=False, early_termination=False,
                   episode_steps=episode_steps,
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
