"""DeepMimic on a real character: Gymnasium's MuJoCo Walker2d-v5 tracking a walking clip.

Peng, Abbeel, Levine & van de Panne, "DeepMimic: Example-Guided Deep Reinforcement Learning of
Physics-Based Character Skills" (SIGGRAPH 2018), on the planar biped of `Walker2d-v5` (its MJCF,
masses, contacts, RK4 integrator at 2 ms and joint limits, from Gymnasium's own model).

**The reference clip** (`build_walker_clip`, shipped as `clips/walker2d_walk.npz`, checked by a
test to equal what the builder makes): one cycle of a procedural walk at 0.75 m/s, 0.64 s
per stride, sampled at 125 fps (Walker2d-v5's control rate). It is keyframed by inverse
kinematics, not by raw joint sinusoids, so its feet do not slide: each ankle follows a
stance line on the ground (moving back under the hip at the walking speed, foot flat) for
55% of the cycle and a raised swing arc (sine-squared clearance, smooth in time) for the
rest, the right and left feet half a cycle apart; the hip moves forward at constant speed
with a small vertical bob (cos 4 pi phase); the knee and thigh angles are the two-link IK
solution with the knee forward (thigh 0.45 m, shin 0.5 m) and the ankle keeps the foot
flat (clipped to its +-45 deg). Walker2d's hips only extend (thigh range [-150, 0] deg
relative to the torso), so a forward step needs the torso pitched back: the clip leans it
back 0.35 rad (20 deg), inside Walker2d's healthy range |pitch| < 1. Velocities are central
differences over the cyclic clip. It is kinematic, like motion capture: nobody checked that it
is physically trackable -- the zero-action baseline below says how far open-loop PD
tracking gets.

**The environment** `perceptzoo/WalkerMimic-v0` (`WalkerMimicVecEnv`, vectorised; the
shared episode loop is `deepmimic.ImitationVecEnv`):

- *Actions* are PD targets for the six joints (DeepMimic's PD servos): Walker2d's torque
  motors are turned into MuJoCo position servos of the same torque limit (gear 100 x ctrl 1 =
  +-100 N m), tau = clip(kp (target - q) - kd q', -100, 100), kp = (300, 300, 100) and
  kd = kp / 10 for (thigh, knee, ankle). With `residual=True` (default) the target is the
  clip's next pose plus `action_scale` (0.5 rad) times the action in [-1, 1], so the zero
  action is open-loop PD tracking of the clip; `residual=False` maps the action box onto
  the joint ranges, the paper's parametrisation. One control step is `frame_skip` (8)
  simulator steps of 2 ms, i.e. 62.5 Hz, two frames of the clip.
- *Reward* (eqs. 4-8, `deepmimic.imitation_reward`): r = w_I r^I + w_G r^G with w_I = 0.7 and
  w_G = 0.3 (the paper's), r^I = 0.65 r^p + 0.1 r^v + 0.15 r^e + 0.1 r^c over the torso
  pitch and the six joint angles (pose and velocity), the two feet (end effectors; x measured
  from the torso's x, as DeepMimic's released code does, z absolute) and the world centre of
  mass (x, z), against the clip continued cyclically (the reference's root advances one
  stride per cycle). Task goal: a target forward speed v* (default the clip's 0.75 m/s),
  r^G = exp(-2.5 (v* - v)^2) with v the torso's forward speed over the step -- the paper's
  heading reward exp(-2.5 max(0, v* - v)^2) made two-sided.
- *Reference-state initialisation*: an episode starts at a random frame of the clip, in its
  pose and velocity (`rsi=False`: frame 0).
- *Early termination*: the episode ends when the walker falls, i.e. leaves Walker2d-v5's
  healthy range (torso height in (0.8, 2.0) m and pitch in (-1, 1) rad).
- *Observation* (21): Walker2d's own (qpos without x, clipped qvel), the phase (sin, cos),
  the target speed and the centre of mass's x offset from the reference's (clipped to +-1).

Episodes last `episode_steps` (400 = 6.4 s, ten strides); `success` (`evaluate_tracking`)
is an episode that did not fall and whose mean forward speed is within `speed_tolerance`
(0.15 m/s) of the target.

    >>> import perceptzoo
    >>> agent = perceptzoo.build("deepmimic_ppo")    # PPO on WalkerMimic-v0  # doctest: +SKIP
    >>> agent.learn(None, total_steps=1_000_000)                            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from perceptzoo.errors import UserError
from perceptzoo.rl.imitation.character import render_chains
from perceptzoo.rl.imitation.deepmimic import (
    HAS_MUJOCO,
    VECTOR_ENVS,
    WALKER_ENV,
    ImitationVecEnv,
    MimicEnv,
    imitation_reward,
)

CLIP_PATH = Path(__file__).resolve().parent / "clips" / "walker2d_walk.npz"
THIGH, SHIN, FOOT_RADIUS = 0.45, 0.5, 0.06
"""Walker2d-v5's thigh and shin lengths and foot capsule radius (m)"""
#: qpos[2:] of Walker2d: the torso pitch, then (thigh, knee, ankle) right and left.
JOINTS = ("torso", "thigh", "knee", "ankle", "thigh_left", "knee_left", "ankle_left")
ANKLE_LIMIT = np.pi / 4


@dataclass(frozen=True)
class Gait:
    """The procedural walk of the shipped clip (see the module docstring)."""

    speed: float = 0.75
    """forward speed of the hip (m/s)"""
    period_s: float = 0.64
    """one stride: both steps"""
    fps: int = 125
    duty: float = 0.55
    """fraction of the cycle a foot is on the ground"""
    lean: float = -0.35
    """torso pitch (rad; negative leans back)"""
    hip_height: float = 0.87
    """mean height of the hip above the ankle of a foot on the ground (m)"""
    hip_bob: float = 0.02
    touchdown: float = -0.15
    """where a foot lands, relative to the hip (m; negative: behind it)"""
    clearance: float = 0.05
    """peak height of the swinging ankle above its stance height (m)"""


def build_walker_clip(gait: Gait = Gait()) -> dict[str, np.ndarray]:
    """One cycle of the walk as arrays: qpos and qvel (T, 9) of Walker2d, fps, speed, period.

    Deterministic (no randomness), so `load_walker_clip` can check the shipped file is this.
    """
    T = round(gait.period_s * gait.fps)
    if abs(T - gait.period_s * gait.fps) > 1e-9:
        raise UserError(f"period_s * fps must be a whole number of frames, got "
                        f"{gait.period_s} * {gait.fps}")
    phase = np.arange(T) / T
    t = phase * gait.period_s
    pitch = np.full(T, gait.lean)
    hip_z = FOOT_RADIUS + gait.hip_height + gait.hip_bob * np.cos(4 * np.pi * (phase
                                                                              - gait.duty / 2))
    qpos = np.zeros((T, 9))
    # the torso's centre is 0.2 m above the hip along the torso: hip x = speed * t
    qpos[:, 0] = gait.speed * t + 0.2 * np.sin(pitch)
    qpos[:, 1] = hip_z + 0.2 * np.cos(pitch)
    qpos[:, 2] = pitch
    stance = gait.speed * gait.duty * gait.period_s  # how far the hip passes a planted foot
    for side, offset in ((0, 0.0), (1, 0.5)):
        ph = (phase + offset) % 1.0  # 0: this foot touches down
        s = np.clip((ph - gait.duty) / (1 - gait.duty), 0, 1)  # swing progress
        smooth = s - np.sin(2 * np.pi * s) / (2 * np.pi)        # 0 -> 1, zero end speeds
        ankle_x = np.where(ph < gait.duty, gait.touchdown - stance * ph / gait.duty,
                           gait.touchdown - stance + stance * smooth)
        ankle_z = FOOT_RADIUS + np.where(ph < gait.duty, 0.0,
                                         gait.clearance * np.sin(np.pi * s) ** 2)
        dx, dz = ankle_x, ankle_z - hip_z
        reach = np.hypot(dx, dz)
        if reach.max() > THIGH + SHIN:
            raise UserError(f"the gait asks the leg to reach {reach.max():.3f} m, more than "
                            f"its {THIGH + SHIN} m: lower hip_height or shorten the stride")
        knee_inner = np.arccos(np.clip((THIGH**2 + SHIN**2 - reach**2) / (2 * THIGH * SHIN),
                                       -1, 1))
        knee = -(np.pi - knee_inner)  # flexion is negative in Walker2d
        # forward swing of the thigh from straight down; the knee points forward
        thigh_world = np.arctan2(dx, -dz) + np.arccos(
            np.clip((THIGH**2 + reach**2 - SHIN**2) / (2 * THIGH * reach), -1, 1))
        shin_world = thigh_world + knee
        # Walker2d's leg hinges turn about -y and the root about +y: thigh = world - (-pitch)
        qpos[:, 3 + 3 * side] = thigh_world + pitch
        qpos[:, 4 + 3 * side] = knee
        qpos[:, 5 + 3 * side] = np.clip(-shin_world, -ANKLE_LIMIT, ANKLE_LIMIT)  # foot flat
    stride = gait.speed * gait.period_s
    after = np.roll(qpos, -1, 0)
    before = np.roll(qpos, 1, 0)
    after[-1, 0] += stride  # the cycle continues one stride further on
    before[0, 0] -= stride
    qvel = (after - before) * gait.fps / 2
    return {"qpos": qpos, "qvel": qvel, "fps": np.array(gait.fps),
            "speed": np.array(gait.speed), "period_s": np.array(gait.period_s),
            "gait": np.array(str(asdict(gait)))}


def write_walker_clip(path: str | Path = CLIP_PATH, gait: Gait = Gait()) -> Path:
    """Write the clip file (float32 arrays, compressed): how the shipped one was made."""
    clip = build_walker_clip(gait)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: (v.astype(np.float32) if v.dtype == np.float64 and v.ndim else v)
              for k, v in clip.items()}
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


class WalkerBody:
    """Walker2d-v5's MuJoCo model with PD servos, and its kinematics (feet, COM, stick figure).

    Loaded from `gymnasium.make("Walker2d-v5")` (its model, integrator and frame time); the six
    torque motors become position servos of the same torque limit (see the module docstring).
    """

    def __init__(self, kp: tuple[float, float, float] = (300.0, 300.0, 100.0),
                 kd: tuple[float, float, float] | None = None):
        if not HAS_MUJOCO:
            raise gym.error.DependencyNotInstalled(
                "WalkerMimic-v0 needs MuJoCo: pip install 'perceptzoo[mujoco]'")
        import mujoco

        self.mujoco = mujoco
        env = gym.make("Walker2d-v5")
        base = env.unwrapped
        self.model = base.model
        self.healthy_z_range = tuple(base._healthy_z_range)
        self.healthy_angle_range = tuple(base._healthy_angle_range)
        self.timestep = float(self.model.opt.timestep)
        env.close()
        m = self.model
        kp_all = np.tile(np.asarray(kp, float), 2)
        kd_all = kp_all / 10 if kd is None else np.tile(np.asarray(kd, float), 2)
        self.torque_limit = float(m.actuator_gear[0, 0] * m.actuator_ctrlrange[0, 1])
        m.actuator_gaintype[:] = mujoco.mjtGain.mjGAIN_FIXED
        m.actuator_biastype[:] = mujoco.mjtBias.mjBIAS_AFFINE
        m.actuator_gainprm[:, 0] = kp_all
        m.actuator_biasprm[:, :3] = np.stack([np.zeros(6), -kp_all, -kd_all], -1)
        m.actuator_gear[:, 0] = 1.0
        m.actuator_forcelimited[:] = 1
        m.actuator_forcerange[:] = [-self.torque_limit, self.torque_limit]
        self.low, self.high = m.jnt_range[3:, 0].copy(), m.jnt_range[3:, 1].copy()
        m.actuator_ctrlrange[:] = np.stack([self.low, self.high], -1)
        name = lambda kind, n: mujoco.mj_name2id(m, kind, n)  # noqa: E731
        self.feet = [name(mujoco.mjtObj.mjOBJ_GEOM, g) for g in ("foot_geom", "foot_left_geom")]
        self.torso = name(mujoco.mjtObj.mjOBJ_BODY, "torso")
        self.leg_joints = [[name(mujoco.mjtObj.mjOBJ_JOINT, f"{j}{side}_joint")
                            for j in ("thigh", "leg", "foot")] for side in ("", "_left")]
        self.scratch = mujoco.MjData(m)

    def kinematics(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """Feet (4,: x from the torso's x, z, right then left) and centre of mass (2,) of a
        MjData whose positions are computed (mj_kinematics and mj_comPos done)."""
        feet = data.geom_xpos[self.feet][:, [0, 2]].copy()
        feet[:, 0] -= data.qpos[0]
        return feet.reshape(4), data.subtree_com[self.torso][[0, 2]].copy()

    def pose_kinematics(self, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`kinematics` of poses (..., 9): feet (..., 4) and centre of mass (..., 2)."""
        qpos = np.asarray(qpos, float)
        flat = qpos.reshape(-1, 9)
        feet, com = np.empty((len(flat), 4)), np.empty((len(flat), 2))
        for i, row in enumerate(flat):
            self.scratch.qpos[:] = row
            self.mujoco.mj_kinematics(self.model, self.scratch)
            self.mujoco.mj_comPos(self.model, self.scratch)
            feet[i], com[i] = self.kinematics(self.scratch)
        return feet.reshape(*qpos.shape[:-1], 4), com.reshape(*qpos.shape[:-1], 2)

    def foot_bottoms(self, qpos: np.ndarray) -> np.ndarray:
        """The lowest point of each foot capsule (T, 2) for poses (T, 9): < 0 is in the floor."""
        out = np.empty((len(qpos), 2))
        for i, row in enumerate(np.asarray(qpos, float)):
            self.scratch.qpos[:] = row
            self.mujoco.mj_kinematics(self.model, self.scratch)
            for k, g in enumerate(self.feet):
                axis = self.scratch.geom_xmat[g].reshape(3, 3)[:, 2]
                half = self.model.geom_size[g][1]
                out[i, k] = (self.scratch.geom_xpos[g][2] - half * abs(axis[2])
                             - self.model.geom_size[g][0])
        return out

    def chains(self, qpos: np.ndarray) -> list[np.ndarray]:
        """The stick figure of a pose (9,): torso (top, hip) and each leg (hip, knee, ankle,
        toe), as (x, z) polylines."""
        d = self.scratch
        d.qpos[:] = qpos
        self.mujoco.mj_kinematics(self.model, d)
        torso_axis = d.xmat[self.torso].reshape(3, 3)[:, 2]
        top = d.xpos[self.torso] + 0.2 * torso_axis
        out = []
        for side, foot in zip(self.leg_joints, self.feet):
            hip, knee, ankle = (d.xanchor[j] for j in side)
            toe = 2 * d.geom_xpos[foot] - ankle
            out.append(np.stack([hip, knee, ankle, toe])[:, [0, 2]])
        out.insert(0, np.stack([top, d.xanchor[self.leg_joints[0][0]]])[:, [0, 2]])
        return out


@dataclass
class WalkerClip:
    """The reference motion: one cycle, continued cyclically one stride further per cycle."""

    fps: int
    speed: float
    qpos: np.ndarray
    """(T, 9) Walker2d positions (x, z, pitch, thigh, knee, ankle, left thigh, knee, ankle)"""
    qvel: np.ndarray
    """(T, 9)"""
    feet: np.ndarray
    """(T, 4) the feet (x from the torso, z), right then left"""
    com: np.ndarray
    """(T, 2) centre of mass in the first cycle"""

    @property
    def num_frames(self) -> int:
        return len(self.qpos)

    @property
    def stride(self) -> float:
        """How far the clip moves forward per cycle (m)."""
        return self.speed * self.num_frames / self.fps

    def qpos_at(self, frame: np.ndarray, cycle: np.ndarray) -> np.ndarray:
        """(N, 9) reference positions at frame `frame` of cycle `cycle` (N,) each."""
        q = self.qpos[frame].copy()
        q[..., 0] += cycle * self.stride
        return q

    def com_at(self, frame: np.ndarray, cycle: np.ndarray) -> np.ndarray:
        c = self.com[frame].copy()
        c[..., 0] += cycle * self.stride
        return c


def load_walker_clip(body: WalkerBody, path: str | Path = CLIP_PATH) -> WalkerClip:
    """The shipped clip (or another file written by `write_walker_clip`), with its feet and
    centre of mass from the walker's own kinematics."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"no walker clip at {path}; write it with "
                        "perceptzoo.rl.imitation.walker.write_walker_clip()")
    with np.load(path) as f:
        qpos, qvel = f["qpos"].astype(float), f["qvel"].astype(float)
        fps, speed = int(f["fps"]), float(f["speed"])
    feet, com = body.pose_kinematics(qpos)
    return WalkerClip(fps, speed, qpos, qvel, feet, com)


class WalkerMimicVecEnv(ImitationVecEnv):
    """`num_envs` Walker2d-v5 walkers (one MjModel, one MjData each) imitating the clip."""

    joint_names = JOINTS

    def __init__(self, num_envs: int = 1, *, rsi: bool = True, early_termination: bool = True,
                 episode_steps: int = 400, frame_skip: int = 8, residual: bool = True,
                 action_scale: float = 0.5, target_speed: float | None = None,
                 speed_tolerance: float = 0.15, w_imitation: float = 0.7, w_goal: float = 0.3,
                 goal_scale: float = 2.5, kp: tuple[float, float, float] = (300.0, 300.0, 100.0),
                 clip_path: str | None = None):
        import mujoco

        self.mujoco = mujoco
        self.num_envs = num_envs
        self.body = WalkerBody(kp)
        self.model = self.body.model
        self.clip = load_walker_clip(self.body, clip_path or CLIP_PATH)
        frames = frame_skip * self.body.timestep * self.clip.fps
        if abs(frames - round(frames)) > 1e-6 or round(frames) < 1:
            raise UserError(f"frame_skip {frame_skip} x {self.body.timestep} s is not a whole "
                            f"number of the clip's frames at {self.clip.fps} fps")
        self.frames_per_step = round(frames)
        self.frame_skip, self.dt = frame_skip, frame_skip * self.body.timestep
        self.rsi, self.early_termination, self.episode_steps = rsi, early_termination, \
            episode_steps
        self.residual, self.action_scale = residual, action_scale
        self.target_speed = self.clip.speed if target_speed is None else float(target_speed)
        self.speed_tolerance = speed_tolerance
        self.w_imitation, self.w_goal, self.goal_scale = w_imitation, w_goal, goal_scale
        self.low, self.high = self.body.low, self.body.high
        self.datas = [mujoco.MjData(self.model) for _ in range(num_envs)]
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (21,), np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, (6,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.qpos = np.zeros((num_envs, 9))
        self.qvel = np.zeros((num_envs, 9))
        self.feet = np.zeros((num_envs, 4))
        self.com = np.zeros((num_envs, 2))
        self.frame = np.zeros(num_envs, int)
        self.cycle = np.zeros(num_envs, int)
        self.steps = np.zeros(num_envs, int)
        self._init_tracking()

    # -- state -----------------------------------------------------------------------------
    def _read(self, i: int) -> None:
        d = self.datas[i]
        self.mujoco.mj_kinematics(self.model, d)
        self.mujoco.mj_comPos(self.model, d)
        self.qpos[i], self.qvel[i] = d.qpos, d.qvel
        self.feet[i], self.com[i] = self.body.kinematics(d)

    def _reset_envs(self, mask: np.ndarray) -> None:
        """Reference-state initialisation: a random frame of the clip, its pose and velocity."""
        idx = np.flatnonzero(mask)
        frames = (self.rng.integers(0, self.clip.num_frames, len(idx)) if self.rsi
                  else np.zeros(len(idx), int))
        self.frame[idx], self.cycle[idx], self.steps[idx] = frames, 0, 0
        for i, f in zip(idx, frames):
            d = self.datas[i]
            self.mujoco.mj_resetData(self.model, d)
            d.qpos[:], d.qvel[:] = self.clip.qpos[f], self.clip.qvel[f]
            self._read(i)

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """The clip's qpos and qvel (N, 9) at each env's current frame and cycle."""
        return self.clip.qpos_at(self.frame, self.cycle), self.clip.qvel[self.frame]

    def _obs(self) -> np.ndarray:
        phase = 2 * np.pi * self.frame / self.clip.num_frames
        com_gap = self.com[:, 0] - self.clip.com_at(self.frame, self.cycle)[:, 0]
        return np.concatenate([
            self.qpos[:, 1:], np.clip(self.qvel, -10, 10),
            np.stack([np.sin(phase), np.cos(phase)], -1),
            np.full((self.num_envs, 1), self.target_speed), np.clip(com_gap, -1, 1)[:, None],
        ], -1).astype(np.float32)

    def pd_targets(self, a: np.ndarray) -> np.ndarray:
        """The six PD targets of actions a (N, 6) in [-1, 1]."""
        if self.residual:
            nxt = self.clip.qpos[(self.frame + self.frames_per_step) % self.clip.num_frames, 3:]
            target = nxt + self.action_scale * a
        else:
            target = self.low + (a + 1) / 2 * (self.high - self.low)
        return np.clip(target, self.low, self.high)

    # -- one control step ------------------------------------------------------------------
    def _simulate(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        target = self.pd_targets(a)
        x_before = self.qpos[:, 0].copy()
        for i, d in enumerate(self.datas):
            d.ctrl[:] = target[i]
            self.mujoco.mj_step(self.model, d, self.frame_skip)
            self._read(i)
        advanced = self.frame + self.frames_per_step
        self.frame, self.cycle = advanced % self.clip.num_frames, \
            self.cycle + advanced // self.clip.num_frames
        self.steps += 1
        ref_qpos, ref_qvel = self.reference()
        ref_feet = self.clip.feet[self.frame]
        ref_com = self.clip.com_at(self.frame, self.cycle)
        terms = imitation_reward(self.qpos[:, 2:], self.qvel[:, 2:], ref_qpos[:, 2:],
                                 ref_qvel[:, 2:], hand=self.feet, com=self.com,
                                 hand_ref=ref_feet, com_ref=ref_com)
        speed = (self.qpos[:, 0] - x_before) / self.dt
        goal_reward = np.exp(-self.goal_scale * (self.target_speed - speed) ** 2)
        reward = self.w_imitation * terms["imitation"] + self.w_goal * goal_reward
        terminated = self.fallen() & self.early_termination
        joint_error = np.abs(self.qpos[:, 2:] - ref_qpos[:, 2:])
        info = {"imitation_reward": terms["imitation"], "goal_reward": goal_reward,
                "speed": speed, "joint_error": joint_error, "pose_error": joint_error.mean(-1),
                "feet_error": np.linalg.norm((self.feet - ref_feet).reshape(-1, 2, 2),
                                             axis=-1).mean(-1),
                "com_error": np.linalg.norm(self.com - ref_com, axis=-1),
                **{f"r_{k}": terms[k] for k in ("pose", "velocity", "end_effector", "com")}}
        return reward, terminated, info

    def fallen(self) -> np.ndarray:
        """Outside Walker2d-v5's healthy range: torso height or pitch out of bounds (N,)."""
        (z_lo, z_hi), (a_lo, a_hi) = self.body.healthy_z_range, self.body.healthy_angle_range
        z, angle = self.qpos[:, 1], self.qpos[:, 2]
        return ~((z_lo < z) & (z < z_hi) & (a_lo < angle) & (angle < a_hi))

    def render_frame(self, i: int = 0, size: int = 200) -> np.ndarray:
        """The walker (blue) and the clip's pose at the same time (grey), the camera on the
        clip's hip; ground ticks every 0.5 m show the motion."""
        ref_qpos = self.clip.qpos_at(self.frame[i:i + 1], self.cycle[i:i + 1])[0]
        return render_chains(self.body.chains(self.qpos[i]), self.body.chains(ref_qpos),
                             size=size, center=(float(ref_qpos[0]), 0.75), width_m=2.6,
                             ground_ticks=0.5)


class WalkerMimicEnv(MimicEnv):
    """`perceptzoo/WalkerMimic-v0`: one walker (needs `import mujoco`)."""

    vector_class = WalkerMimicVecEnv

    def __init__(self, **kwargs: Any):
        if not HAS_MUJOCO:
            raise gym.error.DependencyNotInstalled(
                "WalkerMimic-v0 needs MuJoCo: pip install 'perceptzoo[mujoco]'")
        super().__init__(**kwargs)


VECTOR_ENVS[WALKER_ENV] = WalkerMimicVecEnv
if WALKER_ENV not in gym.registry:
    gym.register(WALKER_ENV, entry_point=WalkerMimicEnv)


def rollout_frames(policy: Any, *, steps: int = 250, seed: int = 0, rsi: bool = False,
                   env_kwargs: dict | None = None, size: int = 160) -> list[np.ndarray]:
    """Frames of one greedy episode of WalkerMimic-v0 (walker blue, clip grey), from frame 0
    of the clip unless `rsi`; after a fall the last frame is repeated to `steps` + 1 frames."""
    kwargs = {**(env_kwargs or {}), "rsi": rsi, "early_termination": True,
              "episode_steps": steps}
    env = gym.make(WALKER_ENV, **kwargs)
    obs, _ = env.reset(seed=seed)
    vec = env.unwrapped.vec
    frames = [vec.render_frame(0, size)]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(policy.act(obs, deterministic=True))
        frames.append(vec.render_frame(0, size))
        if terminated or truncated:
            break
    env.close()
    return frames + [frames[-1]] * (steps + 1 - len(frames))
