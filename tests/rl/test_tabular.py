"""Tabular RL: Bellman operators, exact evaluation, DP, Monte Carlo and TD convergence."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.rl.common.envs import MDPEnv, make_env
from perceptzoo.rl.tabular.dynamic_programming import (
    finite_horizon_values,
    policy_iteration,
    value_iteration,
)
from perceptzoo.rl.tabular.mdp import MDP, epsilon_greedy_policy
from perceptzoo.rl.tabular.monte_carlo import mc_prediction
from perceptzoo.rl.tabular.td import q_star, td0_prediction

RANDOM_WALK_V = np.array([0, 1, 2, 3, 4, 5, 0]) / 6.0  # S&B Example 6.2, terminals at 0 and 6


@pytest.mark.parametrize("seed", range(5))
def test_bellman_optimality_operator_is_a_gamma_contraction(seed):
    mdp = MDP.random(12, 3, gamma=0.9, seed=seed)
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(200):
        u, v = rng.normal(size=(2, 12)) * rng.uniform(0.1, 10)
        ratios.append(np.abs(mdp.bellman_optimality(u) - mdp.bellman_optimality(v)).max()
                      / np.abs(u - v).max())
    assert max(ratios) <= mdp.gamma + 1e-12
    assert max(ratios) > 0.3  # a real contraction factor was measured, not a constant map


@pytest.mark.parametrize("seed", range(3))
def test_bellman_expectation_operator_is_a_gamma_contraction(seed):
    mdp = MDP.random(10, 4, gamma=0.8, seed=seed)
    pi = np.random.default_rng(seed).dirichlet(np.ones(4), 10)
    rng = np.random.default_rng(seed + 100)
    for _ in range(100):
        u, v = rng.normal(size=(2, 10))
        lhs = np.abs(mdp.bellman_expectation(u, pi) - mdp.bellman_expectation(v, pi)).max()
        assert lhs <= mdp.gamma * np.abs(u - v).max() + 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_exact_evaluation_solves_the_bellman_equation(seed):
    mdp = MDP.random(15, 3, gamma=0.95, seed=seed, num_terminal=2)
    pi = np.random.default_rng(seed).dirichlet(np.ones(3), 15)
    v = mdp.evaluate_policy(pi)
    P_pi, r_pi = mdp.policy_model(pi)
    np.testing.assert_allclose(v, r_pi + mdp.gamma * P_pi @ v, atol=1e-10)
    assert np.all(v[mdp.terminal] == 0)
    # and it is the limit of iterating T_pi
    u = np.zeros(15)
    for _ in range(2000):
        u = mdp.bellman_expectation(u, pi)
    np.testing.assert_allclose(u, v, atol=1e-8)


def test_mdp_from_frozenlake_table():
    mdp = MDP.from_env(gym.make("FrozenLake-v1"), gamma=0.99)
    assert mdp.P.shape == (16, 4, 16) and mdp.R.shape == (16, 4)
    np.testing.assert_allclose(mdp.P.sum(-1), 1.0)
    holes_and_goal = {5, 7, 11, 12, 15}
    assert set(np.flatnonzero(mdp.terminal)) == holes_and_goal
    assert mdp.R[14, 2] == pytest.approx(1 / 3)  # right from 14 slips into the goal w.p. 1/3
    assert mdp.initial[0] == 1.0


def test_mdp_from_arrays_validates():
    with pytest.raises(UserError):
        MDP(np.ones((2, 1, 2)), np.zeros((2, 1)))  # rows sum to 2
    with pytest.raises(UserError):
        MDP.from_env(gym.make("CartPole-v1"))


@pytest.mark.parametrize("seed", range(5))
def test_value_and_policy_iteration_agree_on_random_mdps(seed):
    mdp = MDP.random(20, 4, gamma=0.9, seed=seed, num_terminal=seed % 3)
    vi, pi = value_iteration(mdp, tol=1e-10), policy_iteration(mdp)
    np.testing.assert_allclose(vi.values, pi.values, atol=1e-8)
    assert (vi.policy == pi.policy).all()
    assert pi.iterations < 20 and pi.residuals[-1] == 0  # terminated with a stable policy
    # v* is the fixed point of T*, and the greedy policy's exact value is v*
    np.testing.assert_allclose(mdp.bellman_optimality(pi.values), pi.values, atol=1e-8)
    np.testing.assert_allclose(mdp.evaluate_policy(vi.policy), vi.values, atol=1e-8)


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
def test_value_and_policy_iteration_agree_on_frozenlake(map_name):
    mdp = MDP.from_env(gym.make("FrozenLake-v1", map_name=map_name), gamma=0.99)
    vi, pi = value_iteration(mdp, tol=1e-10), policy_iteration(mdp)
    np.testing.assert_allclose(vi.values, pi.values, atol=1e-8)
    # both greedy policies are optimal, and identical wherever the best action is unique
    q = vi.q_values
    for policy in (vi.policy, pi.policy):
        np.testing.assert_allclose(q[np.arange(mdp.num_states), policy], q.max(1), atol=1e-8)
    top2 = np.sort(q, 1)[:, -2:]
    unique = (top2[:, 1] - top2[:, 0] > 1e-6) & ~mdp.terminal
    assert unique.sum() > 0.5 * (~mdp.terminal).sum()
    assert (vi.policy[unique] == pi.policy[unique]).all()
    assert vi.values[0] == pytest.approx({"4x4": 0.5420, "8x8": 0.4137}[map_name], abs=2e-3)


def test_finite_horizon_bounds_the_stationary_policy():
    mdp = MDP.from_env(gym.make("FrozenLake-v1"), gamma=1.0)
    best, _ = finite_horizon_values(mdp, 100)
    pi = value_iteration(MDP.from_env(gym.make("FrozenLake-v1"), gamma=0.999)).policy
    stationary = mdp.reach_probability(pi, np.arange(16) == 15, 100)
    assert 0.70 < stationary <= best[0] + 1e-12 < 0.76


def test_random_walk_mdp_has_the_textbook_values():
    mdp = MDP.from_env(make_env("perceptzoo/RandomWalk-v0"), gamma=1.0)
    np.testing.assert_allclose(mdp.evaluate_policy(np.zeros(7, int)), RANDOM_WALK_V, atol=1e-12)


@pytest.mark.parametrize("first_visit", [True, False])
def test_mc_prediction_converges_on_the_random_walk(first_visit):
    env = make_env("perceptzoo/RandomWalk-v0")
    v, counts = mc_prediction(env, np.ones((7, 1)), 3000, gamma=1.0, first_visit=first_visit)
    assert counts[1:6].min() > 500
    np.testing.assert_allclose(v[1:6], RANDOM_WALK_V[1:6], atol=0.04)


def test_first_visit_mc_is_unbiased_across_independent_runs():
    # mean over 40 independent 30-episode estimates: within a few standard errors of v_pi
    env = make_env("perceptzoo/RandomWalk-v0")
    estimates = np.array([mc_prediction(env, np.ones((7, 1)), 30, seed=1000 * k)[0]
                          for k in range(40)])
    for s in (2, 3, 4):  # visited in (nearly) every episode
        se = estimates[:, s].std() / np.sqrt(len(estimates))
        assert abs(estimates[:, s].mean() - RANDOM_WALK_V[s]) < 4 * se + 1e-3


def test_td0_converges_on_the_random_walk():
    env = make_env("perceptzoo/RandomWalk-v0")
    v = td0_prediction(env, np.ones((7, 1)), 3000, gamma=1.0, alpha=1.0, alpha_power=0.7,
                       v0=0.5)
    np.testing.assert_allclose(v[1:6], RANDOM_WALK_V[1:6], atol=0.04)


def test_q_learning_converges_to_q_star_on_a_deterministic_mdp():
    mdp = MDP.random(6, 2, gamma=0.8, seed=3, deterministic=True)
    env = gym.wrappers.TimeLimit(MDPEnv(mdp), 30)
    agent = perceptzoo.build("q_learning", env_id="FrozenLake-v1", gamma=0.8, alpha=0.5,
                             epsilon=1.0, seed=0)  # built for FrozenLake's sizes ...
    agent.q_values = np.zeros((6, 2))                 # ... resized to the MDP's
    agent.counts = np.zeros((6, 2))
    agent.num_states, agent.num_actions = 6, 2
    agent.learn(env, 30_000)
    np.testing.assert_allclose(agent.q_values, q_star(mdp), atol=1e-3)


def test_sarsa_converges_to_q_of_its_epsilon_greedy_policy():
    mdp = MDP.random(5, 2, gamma=0.8, seed=1, deterministic=True)
    env = gym.wrappers.TimeLimit(MDPEnv(mdp), 30)
    eps = 0.2
    agent = perceptzoo.build("sarsa", env_id="FrozenLake-v1", gamma=0.8, alpha=0.5,
                             alpha_power=0.6, epsilon=eps, seed=0)
    agent.q_values, agent.counts = np.zeros((5, 2)), np.zeros((5, 2))
    agent.num_states, agent.num_actions = 5, 2
    agent.learn(env, 60_000)
    q_pi = mdp.evaluate_q(epsilon_greedy_policy(agent.q_values, eps))
    np.testing.assert_allclose(agent.q_values, q_pi, atol=0.06)
    # and that is not q*: SARSA's fixed point pays for its own exploration
    assert np.abs(q_star(mdp) - q_pi).max() > 0.1


def test_q_learning_and_sarsa_on_cliffwalking_take_their_textbook_paths():
    q = perceptzoo.build("q_learning", seed=0).learn(None, 30_000)
    s = perceptzoo.build("sarsa", seed=0).learn(None, 30_000)
    mdp = MDP.from_env(make_env("CliffWalking-v1"), gamma=1.0)

    def greedy_path_return(q_values):  # CliffWalking is deterministic: follow argmax Q
        state, total = 36, 0.0
        for _ in range(100):
            a = int(q_values[state].argmax())
            total += mdp.R[state, a]
            state = int(mdp.P[state, a].argmax())
            if mdp.terminal[state]:
                return total
        return -np.inf

    # Q-learning's greedy policy is optimal (13 steps along the cliff edge: return -13)
    assert greedy_path_return(q.q_values) == -13
    # SARSA's greedy path is the safer, longer one, and reaches the goal
    assert -30 < greedy_path_return(s.q_values) < -13
    # and SARSA earns more online (epsilon-greedy) return
    assert s.curve.returns()[-200:].mean() > q.curve.returns()[-200:].mean()


@pytest.mark.parametrize("name", ["value_iteration", "policy_iteration"])
def test_planners_save_load_and_act(tmp_path, name):
    agent = perceptzoo.build(name, env_id="FrozenLake-v1").learn()
    agent.save(tmp_path / "run")
    from perceptzoo.core import runner

    again = runner.load(tmp_path / "run")
    assert (again.policy == agent.policy).all()
    assert all(again.act(s) == agent.act(s) for s in range(16))
