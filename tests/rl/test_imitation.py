"""Motion imitation: physics of the character (numpy and MuJoCo), reward maximal on the reference,
RSI, ET, MuJoCo kinematics = the clip's forward kinematics, learning improves tracking.

Tests that need MuJoCo skip themselves when `import mujoco` fails (pytest.importorskip).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import perceptzoo
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.imitation.character import (
    CharacterSpec,
    center_of_mass,
    energy,
    forward_dynamics,
    joint_positions,
    make_reference_clip,
    simulate,
)
from perceptzoo.rl.imitation.deepmimic import (
    MUJOCO_ENV,
    PLANAR_ENV,
    MujocoMimicVecEnv,
    PlanarMimicVecEnv,
    imitation_reward,
    tracking_error,
)

#: The vector env of each simulator; MuJoCo's skips where `import mujoco` fails.
VEC_ENVS = [pytest.param(PlanarMimicVecEnv, id="numpy"),
            pytest.param(MujocoMimicVecEnv, id="mujoco")]
ENV_IDS = [pytest.param(PLANAR_ENV, id="numpy"), pytest.param(MUJOCO_ENV, id="mujoco")]


def _need(physics: str) -> None:
    if physics == "mujoco" or physics == MUJOCO_ENV:
        pytest.importorskip("mujoco")


def test_single_link_is_a_pendulum():
    spec = CharacterSpec(lengths=(0.7,), masses=(2.0,), damping=0.0)
    for q in (-1.0, 0.4, 2.0):
        qdd = forward_dynamics(spec, np.array([q]), np.array([1.5]), np.zeros(1))
        assert qdd[0] == pytest.approx(-9.81 / 0.7 * np.cos(q))


def test_unactuated_chain_conserves_energy():
    spec = CharacterSpec(damping=0.0)
    q, qd = np.array([0.3, 0.5, -0.4]), np.array([0.5, -1.0, 2.0])
    e0 = energy(spec, q, qd)
    q1, qd1 = simulate(spec, q, qd, None, 0.5, sim_hz=4000)
    assert abs(energy(spec, q1, qd1) - e0) < 0.01 * abs(e0)
    assert np.abs(q1 - q).max() > 0.1  # it did move


def test_batched_dynamics_equal_one_at_a_time():
    spec = CharacterSpec()
    rng = np.random.default_rng(0)
    q, qd, tau = rng.normal(size=(3, 5, 3))
    batched = forward_dynamics(spec, q, qd, tau)
    for i in range(5):
        np.testing.assert_allclose(batched[i], forward_dynamics(spec, q[i], qd[i], tau[i]))


def test_imitation_reward_is_maximal_on_the_reference():
    spec = CharacterSpec()
    clip = make_reference_clip(spec)
    on_ref = imitation_reward(clip.q, clip.qd, clip.q, clip.qd, spec)
    np.testing.assert_allclose(on_ref["imitation"], 1.0)
    rng = np.random.default_rng(0)
    for scale in (1e-3, 0.05, 0.5):
        q = clip.q + scale * rng.normal(size=clip.q.shape)
        qd = clip.qd + scale * rng.normal(size=clip.qd.shape)
        off = imitation_reward(q, qd, clip.q, clip.qd, spec)
        assert np.all(off["imitation"] < 1.0)
        for term in ("pose", "velocity", "end_effector", "com"):
            assert np.all(off[term] <= 1.0)
    # and it decreases with the size of the deviation
    small = imitation_reward(clip.q + 0.05, clip.qd, clip.q, clip.qd, spec)["imitation"]
    large = imitation_reward(clip.q + 0.3, clip.qd, clip.q, clip.qd, spec)["imitation"]
    assert np.all(large < small)


@pytest.mark.parametrize("vec_class", VEC_ENVS)
def test_reference_state_initialisation_starts_on_the_clip(vec_class):
    _need(vec_class.physics)
    env = vec_class(64, rsi=True)
    env.reset(seed=0)
    np.testing.assert_allclose(env.q, env.clip.q[env.frame])
    np.testing.assert_allclose(env.qd, env.clip.qd[env.frame])
    np.testing.assert_allclose(env.hand, env.clip.hand[env.frame], atol=1e-9)  # the simulator's
    assert len(set(env.frame.tolist())) > 20  # many phases
    fixed = vec_class(8, rsi=False)
    fixed.reset(seed=0)
    assert (fixed.frame == 0).all()
    np.testing.assert_allclose(fixed.q, np.broadcast_to(fixed.clip.q[0], fixed.q.shape))


@pytest.mark.parametrize("vec_class", VEC_ENVS)
def test_imitation_reward_in_the_env_is_one_on_the_reference_and_less_off_it(vec_class):
    """Put the simulated character exactly on the clip's next frame: r^I = 1 with the
    simulator's own hand and centre of mass; any deviation lowers it."""
    _need(vec_class.physics)
    env = vec_class(4, rsi=True)
    env.reset(seed=1)
    frame = (env.frame + 1) % env.clip.num_frames
    q, qd = env.clip.q[frame], env.clip.qd[frame]
    hand, com = env.character.kinematics(q)
    terms = imitation_reward(q, qd, q, qd, env.spec_, hand=hand, com=com,
                             hand_ref=env.clip.hand[frame], com_ref=env.clip.com[frame])
    np.testing.assert_allclose(terms["imitation"], 1.0, atol=1e-12)
    moved = q + np.array([0.0, 0.0, 0.05])
    hand, com = env.character.kinematics(moved)
    off = imitation_reward(moved, qd, q, qd, env.spec_, hand=hand, com=com,
                           hand_ref=env.clip.hand[frame], com_ref=env.clip.com[frame])
    assert np.all(off["imitation"] < 1.0) and np.all(off["end_effector"] < 1.0)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_early_termination_ends_a_collapse_and_can_be_turned_off(env_id):
    _need(env_id)
    limp = np.full(3, -1.0)  # PD targets at the bottom of every joint range: the arm falls
    env = make_env(env_id, rsi=False)
    env.reset(seed=0)
    for t in range(90):  # noqa: B007  (t is read after the loop)
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert terminated and t < 30
    env = make_env(env_id, rsi=False, early_termination=False, episode_steps=40)
    env.reset(seed=0)
    for t in range(90):  # noqa: B007  (t is read after the loop)
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert truncated and not terminated and t == 39


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_tracking_the_clip_does_not_terminate(env_id):
    """The PD servo aimed at the clip keeps within the early-termination limits all episode."""
    _need(env_id)
    env = make_env(env_id, rsi=True, episode_steps=60)
    env.reset(seed=3)
    vec = env.unwrapped.vec
    for _ in range(60):
        nxt = vec.clip.q[(vec.frame[0] + 1) % vec.clip.num_frames]
        _, _, terminated, truncated, _ = env.step(2 * (nxt - vec.low) / (vec.high - vec.low) - 1)
        assert not terminated
    assert truncated


def test_strike_goal_reward_is_one_after_a_hit_and_decays_with_the_miss_distance():
    from perceptzoo.rl.imitation.character import joint_positions

    env = PlanarMimicVecEnv(2, rsi=False)
    env.reset(seed=0)
    hand = joint_positions(env.spec_, env.q)[:, -1]
    env.goal[0] = hand[0]                                  # on the hand: a hit
    env.goal[1] = hand[1] + np.array([0.0, 2.0])           # 2 m away: a miss
    env.min_goal_distance[:] = np.linalg.norm(hand - env.goal, axis=-1)
    _, reward, _, _, info = env.step(np.zeros((2, 3)))
    assert info["hit"][0] and info["goal_reward"][0] == 1.0
    assert not info["hit"][1]
    d = env.min_goal_distance[1]
    assert info["goal_reward"][1] == pytest.approx(np.exp(-4 * d**2)) and d > 1.5
    np.testing.assert_allclose(reward, 0.7 * info["imitation_reward"] + 0.3 * info["goal_reward"],
                               rtol=1e-6)


@pytest.mark.parametrize("env_id", [
    pytest.param(MUJOCO_ENV, id="mujoco"),
    pytest.param(PLANAR_ENV, id="numpy", marks=pytest.mark.slow)])
def test_deepmimic_learns_to_track_better_than_its_initial_policy(env_id):
    _need(env_id)
    agent = perceptzoo.build("deepmimic", env_id=env_id, num_envs=16, seed=0)
    before = tracking_error(agent, episode_steps=60)
    agent.learn(None, 25_000)
    after = tracking_error(agent, episode_steps=60)
    assert after["mean_joint_error_rad"] < 0.5 * before["mean_joint_error_rad"]
    assert after["mean_hand_error_m"] < 0.7 * before["mean_hand_error_m"]
    assert after["mean_imitation_reward"] > before["mean_imitation_reward"] + 0.2


# -- MuJoCo -----------------------------------------------------------------------------------

def test_mujoco_sites_are_the_forward_kinematics_of_the_clip():
    pytest.importorskip("mujoco")
    from perceptzoo.rl.imitation.mujoco_character import MujocoCharacter

    spec = CharacterSpec()
    character = MujocoCharacter(spec)
    clip = make_reference_clip(spec)
    q = np.concatenate([clip.q, np.random.default_rng(0).uniform(-np.pi, np.pi, (50, 3))])
    hand, com = character.kinematics(q)
    np.testing.assert_allclose(hand, joint_positions(spec, q)[:, -1], atol=1e-6)
    np.testing.assert_allclose(com, center_of_mass(spec, q), atol=1e-6)
    np.testing.assert_allclose(hand[: clip.num_frames], clip.hand, atol=1e-6)
    np.testing.assert_allclose(com[: clip.num_frames], clip.com, atol=1e-6)
    for pose in q[::10]:  # every joint, not just the hand (what the strip is drawn from)
        np.testing.assert_allclose(character.points(pose), joint_positions(spec, pose),
                                   atol=1e-6)
    assert character.model.nu == 3 and character.model.opt.gravity[2] == pytest.approx(-9.81)
    np.testing.assert_allclose(character.model.actuator_forcerange[:, 1], spec.torque_limits)


@pytest.mark.parametrize("servo", [False, True], ids=["free_fall", "pd_servo"])
def test_mujoco_and_numpy_dynamics_agree_at_a_fine_step(servo):
    """Two independent simulators of one MJCF/spec: at 3 kHz they agree to < 1e-3 over 0.2 s."""
    pytest.importorskip("mujoco")
    from perceptzoo.rl.imitation.mujoco_character import MujocoCharacter

    spec = CharacterSpec()
    clip = make_reference_clip(spec)
    character = MujocoCharacter(spec, 2, sim_hz=3000)
    if not servo:  # switch the servos off: gravity, damping and the chain's inertia alone
        character.model.actuator_gainprm[:] = 0
        character.model.actuator_biasprm[:] = 0
    q0, qd0, target = clip.q[[0, 20]], clip.qd[[0, 20]], clip.q[[6, 26]]
    q_mj, qd_mj = character.advance(q0, qd0, target, 0.2)
    q_np, qd_np = simulate(spec, q0, qd0, target if servo else None, 0.2, sim_hz=3000)
    assert np.abs(q_mj - q0).max() > 0.05  # it moved
    np.testing.assert_allclose(q_mj, q_np, atol=1e-3)
    np.testing.assert_allclose(qd_mj, qd_np, atol=1e-2)


def test_mujoco_torque_limits_hold():
    pytest.importorskip("mujoco")
    import mujoco

    from perceptzoo.rl.imitation.mujoco_character import MujocoCharacter

    spec = CharacterSpec()
    character = MujocoCharacter(spec)
    data = character.datas[0]
    data.qpos[:] = [0.0, 0.0, 0.0]
    data.ctrl[:] = spec.joint_high  # far from the pose: the servos saturate
    mujoco.mj_forward(character.model, data)
    np.testing.assert_allclose(np.abs(data.actuator_force), spec.torque_limits)


def test_deepmimic_defaults_to_mujoco_and_falls_back_to_numpy_without_it():
    pytest.importorskip("mujoco")
    assert perceptzoo.build("deepmimic").cfg.env_id == MUJOCO_ENV
    code = ("import sys; sys.modules['mujoco'] = None\n"  # `import mujoco` fails
            "import perceptzoo, gymnasium\n"
            "from perceptzoo.rl.imitation import deepmimic\n"
            "assert not deepmimic.HAS_MUJOCO\n"
            "agent = perceptzoo.build('deepmimic', num_envs=2)\n"
            "assert agent.cfg.env_id == 'perceptzoo/PlanarMimic-v0'\n"
            "agent.learn(None, 64)\n"
            "try:\n"
            "    gymnasium.make('perceptzoo/MujocoMimic-v0')\n"
            "except gymnasium.error.DependencyNotInstalled as err:\n"
            "    assert 'perceptzoo[mujoco]' in str(err)\n"
            "else:\n"
            "    raise AssertionError('made a MuJoCo env without mujoco')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)  # a fresh import on a loaded machine
    assert done.returncode == 0, done.stderr


def test_mujoco_env_renders_a_strip_frame():
    pytest.importorskip("mujoco")
    env = make_env(MUJOCO_ENV, rsi=False)
    env.reset(seed=0)
    frame = env.unwrapped.render_frame()
    assert frame.shape == (160, 160, 3) and frame.dtype == np.uint8
    assert (frame == [31, 119, 180]).all(-1).sum() > 50  # the character is drawn in blue


def test_the_shared_episode_loop_logs_every_episode_of_the_arm():
    """`ImitationVecEnv` (shared with the walker): per-joint errors and lengths of each episode."""
    env = PlanarMimicVecEnv(3, rsi=True, episode_steps=4)
    env.reset(seed=0)
    errors = np.zeros((3, 3))
    for _ in range(4):
        _, _, _, truncated, info = env.step(np.zeros((3, 3)))
        errors += info["joint_error"]
    assert truncated.all() and len(env.episode_log) == 3 and env.episode_log[0]["step"] == 12
    for i, row in enumerate(env.episode_log):
        assert row["length"] == 4 and not row["fell"]
        np.testing.assert_allclose([row[f"joint_error_{n}"] for n in env.joint_names],
                                   errors[i] / 4)


def test_imitation_reward_without_points_or_spec_says_what_it_needs():
    from perceptzoo.errors import UserError

    q = np.zeros((2, 3))
    with pytest.raises(UserError, match="CharacterSpec"):
        imitation_reward(q, q, q, q)
