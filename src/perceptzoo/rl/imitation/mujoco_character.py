"""The imitation character simulated by MuJoCo (Todorov et al. 2012), from the project's MJCF.

`character_mjcf(spec)` turns a `CharacterSpec` (the same one the numpy simulator in
`character.py` uses) into an MJCF model: a chain of bodies hanging off the world at
`spec.base`, one hinge per link, each link's mass a point at its far end (an `<inertial>` with
negligible rotational inertia, so the mass distribution is the numpy model's), joint damping,
gravity, and one MuJoCo `<position>` actuator per joint -- the PD servo of DeepMimic,

    tau = clip(kp (ctrl - q) - kv q', -torque_limit, torque_limit),

with ctrl the PD target. A site `hand` sits at the tip of the last link; `subtree_com` of the
first link is the character's centre of mass.

Coordinates: the character moves in MuJoCo's x-z plane (z up). The hinges turn about -y, so a
positive angle rotates +x towards +z, which is the numpy model's convention with its (x, y)
read as MuJoCo's (x, z). With the same spec, `site_xpos[hand]` is the project's forward
kinematics `joint_positions(spec, q)[-1]` (tests check it to 1e-6), so the reference clip made
by `make_reference_clip` is expressed in the simulator's coordinates.

The links do not collide (contype = conaffinity = 0): as in the numpy model, touching the
ground is detected from the hand's height and ends the episode (early termination), it is not
simulated as a contact. Integration: MuJoCo's `implicitfast` integrator at `sim_hz`.
"""

from __future__ import annotations

import mujoco
import numpy as np

from perceptzoo.rl.imitation.character import CharacterSpec


def character_mjcf(spec: CharacterSpec, *, sim_hz: int = 300) -> str:
    """The MJCF (XML text) of the articulated character described by `spec`."""
    n = len(spec.lengths)
    body = ""
    for j in reversed(range(n)):  # build the chain from the hand inwards
        length = spec.lengths[j]
        pos = f"{spec.base[0]} 0 {spec.base[1]}" if j == 0 else f"{spec.lengths[j - 1]} 0 0"
        tip = f'<site name="hand" pos="{length} 0 0" size="0.02"/>' if j == n - 1 else ""
        body = f"""
    <body name="link{j}" pos="{pos}">
      <joint name="q{j}" type="hinge" axis="0 -1 0" damping="{spec.damping}"/>
      <inertial pos="{length} 0 0" mass="{spec.masses[j]}" diaginertia="1e-8 1e-8 1e-8"/>
      <geom type="capsule" fromto="0 0 0 {length} 0 0" size="{0.04 - 0.008 * j}"
            contype="0" conaffinity="0" rgba="0.12 0.47 0.71 1"/>
      {tip}{body}
    </body>"""
    actuators = "\n".join(
        f'    <position name="servo{j}" joint="q{j}" kp="{spec.kp[j]}" kv="{spec.kd[j]}" '
        f'ctrlrange="{spec.joint_low[j]} {spec.joint_high[j]}" '
        f'forcerange="{-spec.torque_limits[j]} {spec.torque_limits[j]}"/>'
        for j in range(n))
    return f"""<mujoco model="perceptzoo-character">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{1.0 / sim_hz}" gravity="0 0 -9.81" integrator="implicitfast"/>
  <worldbody>
    <light pos="0 -2 3" dir="0 1 -1"/>
    <geom name="ground" type="plane" size="2 1 0.1" contype="0" conaffinity="0"
          rgba="0.47 0.35 0.24 1"/>{body}
  </worldbody>
  <actuator>
{actuators}
  </actuator>
</mujoco>
"""


class MujocoCharacter:
    """`num_envs` copies of the character (one MjModel, one MjData each) stepped together.

    The state is the arrays (q, q') the environment keeps: `advance` writes them into the
    MjData, holds the PD targets for `duration` seconds of MuJoCo steps and reads them back, so
    it is a drop-in for the numpy `simulate`.
    """

    def __init__(self, spec: CharacterSpec, num_envs: int = 1, *, sim_hz: int = 300):
        self.spec = spec
        self.sim_hz = sim_hz
        self.model = mujoco.MjModel.from_xml_string(character_mjcf(spec, sim_hz=sim_hz))
        self.datas = [mujoco.MjData(self.model) for _ in range(num_envs)]
        self.scratch = mujoco.MjData(self.model)  # for kinematics queries
        self.hand_site = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, "hand")
        self.root = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, "link0")

    def advance(self, q: np.ndarray, qd: np.ndarray, target: np.ndarray,
                duration: float) -> tuple[np.ndarray, np.ndarray]:
        """(q, q') (N, n) after `duration` s under the servos aiming at `target` (N, n)."""
        nstep = max(1, round(duration * self.sim_hz))
        q_out, qd_out = np.empty_like(q), np.empty_like(qd)
        for i, data in enumerate(self.datas):
            data.qpos[:], data.qvel[:], data.ctrl[:] = q[i], qd[i], target[i]
            mujoco.mj_step(self.model, data, nstep)
            q_out[i], qd_out[i] = data.qpos, data.qvel
        return q_out, qd_out

    def kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hand site and centre of mass in the plane, (..., 2) each, for joint angles (..., n)."""
        q = np.asarray(q, float)
        flat = q.reshape(-1, q.shape[-1])
        hand, com = np.empty((len(flat), 2)), np.empty((len(flat), 2))
        for i, row in enumerate(flat):
            self.scratch.qpos[:] = row
            mujoco.mj_kinematics(self.model, self.scratch)
            mujoco.mj_comPos(self.model, self.scratch)
            hand[i] = self.scratch.site_xpos[self.hand_site][[0, 2]]
            com[i] = self.scratch.subtree_com[self.root][[0, 2]]
        return hand.reshape(*q.shape[:-1], 2), com.reshape(*q.shape[:-1], 2)

    def points(self, q: np.ndarray) -> np.ndarray:
        """Shoulder, every joint and the hand in the plane, (n + 1, 2), for one pose (n,)."""
        self.scratch.qpos[:] = q
        mujoco.mj_kinematics(self.model, self.scratch)
        joints = self.scratch.xpos[self.root:self.root + len(q)][:, [0, 2]]
        return np.concatenate([joints, self.scratch.site_xpos[self.hand_site][None, [0, 2]]])
