"""Motion imitation: physics of the planar character, reward maximal on the reference, RSI, ET."""

from __future__ import annotations

import numpy as np
import pytest

import perceptzoo
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.imitation.character import (
    CharacterSpec,
    energy,
    forward_dynamics,
    make_reference_clip,
    simulate,
)
from perceptzoo.rl.imitation.deepmimic import PlanarMimicVecEnv, imitation_reward, tracking_error


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


def test_reference_state_initialisation_starts_on_the_clip():
    env = PlanarMimicVecEnv(64, rsi=True)
    env.reset(seed=0)
    np.testing.assert_allclose(env.q, env.clip.q[env.frame])
    np.testing.assert_allclose(env.qd, env.clip.qd[env.frame])
    assert len(set(env.frame.tolist())) > 20  # many phases
    fixed = PlanarMimicVecEnv(8, rsi=False)
    fixed.reset(seed=0)
    assert (fixed.frame == 0).all()


def test_early_termination_ends_a_collapse_and_can_be_turned_off():
    limp = np.full(3, -1.0)  # PD targets at the bottom of every joint range: the arm falls
    env = make_env("perceptzoo/PlanarMimic-v0", rsi=False)
    env.reset(seed=0)
    for t in range(90):  # noqa: B007  (t is read after the loop)
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert terminated and t < 30
    env = make_env("perceptzoo/PlanarMimic-v0", rsi=False, early_termination=False,
                   episode_steps=40)
    env.reset(seed=0)
    for t in range(90):  # noqa: B007  (t is read after the loop)
        _, _, terminated, truncated, _ = env.step(limp)
        if terminated or truncated:
            break
    assert truncated and not terminated and t == 39


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


def test_deepmimic_learns_to_track_better_than_its_initial_policy():
    agent = perceptzoo.build("deepmimic", num_envs=16, seed=0)
    before = tracking_error(agent, episode_steps=60)
    agent.learn(None, 25_000)
    after = tracking_error(agent, episode_steps=60)
    assert after["mean_joint_error_rad"] < 0.5 * before["mean_joint_error_rad"]
    assert after["mean_imitation_reward"] > before["mean_imitation_reward"] + 0.2
