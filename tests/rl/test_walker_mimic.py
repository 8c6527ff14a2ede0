"""DeepMimic on Walker2d-v5: the shipped clip, the imitation reward on and off the reference,
reference-state initialisation, early termination, the speed goal, and the PPO agent's logs.

Everything here needs MuJoCo (skipped when `import mujoco` fails).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("mujoco")

import perceptzoo  # noqa: E402
from perceptzoo.core import runner  # noqa: E402
from perceptzoo.rl.common.envs import make_env  # noqa: E402
from perceptzoo.rl.imitation.deepmimic import (  # noqa: E402
    WALKER_ENV,
    BaselinePolicy,
    evaluate_tracking,
    imitation_reward,
)
from perceptzoo.rl.imitation.walker import (  # noqa: E402
    CLIP_PATH,
    JOINTS,
    WalkerBody,
    WalkerMimicVecEnv,
    build_walker_clip,
    load_walker_clip,
)


@pytest.fixture(scope="module")
def body():
    return WalkerBody()


def test_shipped_clip_is_what_the_builder_makes():
    built = build_walker_clip()
    with np.load(CLIP_PATH) as shipped:
        assert set(shipped.files) == set(built)
        for key in ("qpos", "qvel"):
            np.testing.assert_array_equal(shipped[key], built[key].astype(np.float32))
        assert int(shipped["fps"]) == 125 and float(shipped["speed"]) == 0.75
    assert CLIP_PATH.stat().st_size < 20_000  # a small file


def test_clip_respects_walker2d_limits_and_is_consistent(body):
    clip = load_walker_clip(body)
    assert np.isfinite(clip.qpos).all() and np.isfinite(clip.qvel).all()
    assert clip.num_frames == 80 and clip.stride == pytest.approx(0.48)
    # every joint angle inside Walker2d-v5's own joint ranges
    joints = clip.qpos[:, 3:]
    assert (joints >= body.low - 1e-9).all() and (joints <= body.high + 1e-9).all()
    # the torso inside the healthy range (no frame of the clip is a fall)
    (z_lo, z_hi), (a_lo, a_hi) = body.healthy_z_range, body.healthy_angle_range
    assert ((clip.qpos[:, 1] > z_lo) & (clip.qpos[:, 1] < z_hi)).all()
    assert ((clip.qpos[:, 2] > a_lo) & (clip.qpos[:, 2] < a_hi)).all()
    # the feet touch the floor and never go through it; each is on the ground part of the cycle
    bottoms = body.foot_bottoms(clip.qpos)
    assert bottoms.min() > -1e-5
    on_ground = bottoms < 1e-4
    assert 0.4 < on_ground.mean() < 0.7 and on_ground.any(1).all()  # always one foot down
    # the hip moves forward at the stated speed; velocities are the positions' derivative
    assert (np.diff(clip.qpos[:, 0]) > 0).all()
    np.testing.assert_allclose(clip.qvel[:, 0].mean(), 0.75, rtol=1e-6)
    after = np.roll(clip.qpos, -1, 0)
    after[-1, 0] += clip.stride
    forward = (after - clip.qpos) * clip.fps
    np.testing.assert_allclose(clip.qvel, (forward + np.roll(forward, 1, 0)) / 2, atol=1e-4)


def test_planted_feet_do_not_slide(body):
    clip = load_walker_clip(body)
    down = body.foot_bottoms(clip.qpos) < 1e-4
    world_x = clip.feet[:, [0, 2]] + clip.qpos[:, :1]
    for k in range(2):
        frames = np.flatnonzero(down[:, k])
        runs = np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1)
        for run in runs:
            if len(run) > 3:
                assert np.ptp(world_x[run, k]) < 0.01  # < 1 cm over a stance


def _put_on_reference(env: WalkerMimicVecEnv) -> None:
    """Set every walker exactly to the clip's state at its frame and cycle."""
    qpos, qvel = env.reference()
    for i, d in enumerate(env.datas):
        d.qpos[:], d.qvel[:] = qpos[i], qvel[i]
        env._read(i)


def test_imitation_reward_is_one_on_the_reference_and_falls_with_the_error():
    env = WalkerMimicVecEnv(64, rsi=True)
    env.reset(seed=0)
    env.cycle[:] = np.arange(64) % 3  # later cycles too: the reference moves on
    _put_on_reference(env)
    ref_qpos, ref_qvel = env.reference()
    ref_com = env.clip.com_at(env.frame, env.cycle)

    def reward(qpos, qvel):
        for i, d in enumerate(env.datas):
            d.qpos[:], d.qvel[:] = qpos[i], qvel[i]
            env._read(i)
        return imitation_reward(env.qpos[:, 2:], env.qvel[:, 2:], ref_qpos[:, 2:],
                                ref_qvel[:, 2:], hand=env.feet, com=env.com,
                                hand_ref=env.clip.feet[env.frame], com_ref=ref_com)

    on = reward(ref_qpos, ref_qvel)
    np.testing.assert_allclose(on["imitation"], 1.0, atol=1e-9)
    rng = np.random.default_rng(0)
    means = []
    for scale in (0.02, 0.1, 0.3):
        qpos = ref_qpos.copy()
        qpos[:, 2:] += scale * rng.normal(size=(64, 7))
        qvel = ref_qvel + 5 * scale * rng.normal(size=ref_qvel.shape)
        terms = reward(qpos, qvel)
        assert np.all(terms["imitation"] < 1.0)
        assert np.all(terms["end_effector"] < 1.0) and np.all(terms["com"] < 1.0)
        means.append(terms["imitation"].mean())
    assert means[0] > means[1] > means[2]
    # the centre of mass term is world-anchored: the same pose a stride behind scores lower
    qpos = ref_qpos.copy()
    qpos[:, 0] -= 0.3
    assert np.all(reward(qpos, ref_qvel)["com"] < 0.5)


def test_reference_state_initialisation_draws_states_from_the_clip():
    env = WalkerMimicVecEnv(48, rsi=True)
    env.reset(seed=1)
    np.testing.assert_array_equal(env.qpos, env.clip.qpos[env.frame])
    np.testing.assert_array_equal(env.qvel, env.clip.qvel[env.frame])
    np.testing.assert_allclose(env.feet, env.clip.feet[env.frame], atol=1e-9)
    assert len(set(env.frame.tolist())) > 25  # many phases of the 80 frames
    fixed = WalkerMimicVecEnv(4, rsi=False)
    fixed.reset(seed=1)
    assert (fixed.frame == 0).all()
    np.testing.assert_array_equal(fixed.qpos, np.broadcast_to(fixed.clip.qpos[0], (4, 9)))
    # the phase in the observation is the clip's
    obs = env._obs()
    phase = 2 * np.pi * env.frame / env.clip.num_frames
    np.testing.assert_allclose(obs[:, 17:19], np.stack([np.sin(phase), np.cos(phase)], -1),
                               atol=1e-6)


def test_early_termination_fires_on_a_fall_and_can_be_turned_off():
    env = WalkerMimicVecEnv(2, rsi=False)
    env.reset(seed=0)
    assert not env.fallen().any()
    d = env.datas[0]
    d.qpos[1] = 0.5  # torso down at 0.5 m
    env._read(0)
    assert env.fallen().tolist() == [True, False]
    d.qpos[1], d.qpos[2] = env.clip.qpos[0, 1], 1.2  # upright height, pitched past 1 rad
    env._read(0)
    assert env.fallen()[0]
    # a collapse (every PD target at the bottom of its range) ends the episode early ...
    limp = -np.ones(6)
    env = make_env(WALKER_ENV, rsi=False, residual=False)
    env.reset(seed=0)
    for t in range(200):  # noqa: B007
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert terminated and t < 100
    # ... and without early termination it runs to the time limit
    env = make_env(WALKER_ENV, rsi=False, residual=False, early_termination=False,
                   episode_steps=30)
    env.reset(seed=0)
    for t in range(200):  # noqa: B007
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert truncated and not terminated and t == 29


def test_reward_combines_imitation_and_the_speed_goal_and_the_log_records_episodes():
    env = WalkerMimicVecEnv(4, rsi=True, episode_steps=5, target_speed=1.0)
    env.reset(seed=2)
    for _ in range(5):
        _, reward, terminated, truncated, info = env.step(np.zeros((4, 6)))
        np.testing.assert_allclose(info["goal_reward"], np.exp(-2.5 * (1.0 - info["speed"]) ** 2))
        np.testing.assert_allclose(reward, 0.7 * info["imitation_reward"]
                                   + 0.3 * info["goal_reward"], rtol=1e-5)
    assert len(env.episode_log) == 4 and all(e["length"] == 5 for e in env.episode_log)
    assert {f"joint_error_{n}" for n in JOINTS} <= set(env.episode_log[0])
    assert env.episode_log[0]["step"] == 20 and (env.steps == 0).all()  # autoreset


def test_residual_zero_action_aims_the_servos_at_the_clip():
    env = WalkerMimicVecEnv(3, rsi=True)
    env.reset(seed=3)
    nxt = env.clip.qpos[(env.frame + 2) % 80, 3:]
    np.testing.assert_allclose(env.pd_targets(np.zeros((3, 6))), nxt)
    absolute = WalkerMimicVecEnv(1, residual=False)
    np.testing.assert_allclose(absolute.pd_targets(-np.ones((1, 6)))[0], absolute.low)
    # the servos keep Walker2d's torque limit of 100 N m
    assert env.body.torque_limit == 100.0
    np.testing.assert_allclose(env.model.actuator_forcerange, [[-100, 100]] * 6)


def test_evaluate_tracking_reports_joints_length_and_success():
    stats = evaluate_tracking(BaselinePolicy("zero", (6,)), WALKER_ENV, {"episode_steps": 20},
                              num_episodes=2)
    assert {f"joint_error_deg_{n}" for n in JOINTS} <= set(stats)
    assert 0 < stats["mean_length"] <= 20 and 0.0 <= stats["success_rate"] <= 1.0
    assert stats["target_speed"] == 0.75


def test_deepmimic_ppo_trains_on_the_walker_and_writes_its_tracking(tmp_path):
    run = runner.train("deepmimic_ppo", out=tmp_path / "run",
                       train_config={"steps": 64, "seed": 0, "device": "cpu"},
                       model_overrides={"hidden": [16], "num_envs": 2, "n_steps": 16,
                                        "batch_size": 16, "num_epochs": 1, "eval_every": 32,
                                        "eval_episodes": 1,
                                        "env_kwargs": {"episode_steps": 8}})
    tracking = json.loads((run / "tracking.json").read_text())
    assert tracking["joint_names"] == list(JOINTS)
    assert len(tracking["training_episodes"]) >= 4 and len(tracking["evaluations"]) >= 2
    metrics = runner.evaluate(run, num_episodes=2)
    assert "success_rate" in metrics and "joint_error_deg_knee" in metrics
    agent = perceptzoo.load(run)
    assert agent.cfg.env_id == WALKER_ENV


def test_render_frame_draws_the_walker_beside_the_reference():
    env = make_env(WALKER_ENV, rsi=False)
    env.reset(seed=0)
    env.step(np.zeros(6))
    frame = env.unwrapped.render_frame()
    assert frame.shape == (200, 200, 3) and frame.dtype == np.uint8
    assert (frame == [31, 119, 180]).all(-1).sum() > 100      # the walker, blue
    assert (frame == [190, 190, 190]).all(-1).sum() > 20      # the clip, grey behind it
