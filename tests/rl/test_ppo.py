"""PPO: the clipped surrogate, GAE(lambda), value clipping, normalisers, learning on tiny tasks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import perceptzoo
from perceptzoo.core import runner
from perceptzoo.rl.common.buffers import discounted_returns, gae
from perceptzoo.rl.deep.ppo import RunningMeanStd, clipped_surrogate, value_loss

EPS = 0.2


def _ratio_case(ratio: float, advantage: float):
    """log pi_theta (a leaf) with the given ratio to a fixed log pi_old; one sample."""
    old = torch.tensor([-1.3])
    new = (old + np.log(ratio)).clone().requires_grad_(True)
    return new, old, torch.tensor([advantage])


@pytest.mark.parametrize("ratio", [1 - EPS + 1e-3, 0.9, 1.0, 1.1, 1 + EPS - 1e-3])
@pytest.mark.parametrize("advantage", [-2.0, 0.7])
def test_clipped_objective_equals_the_unclipped_one_inside_the_interval(ratio, advantage):
    new, old, adv = _ratio_case(ratio, advantage)
    loss = clipped_surrogate(new, old, adv, EPS)
    unclipped = -(torch.exp(new - old) * adv).mean()
    torch.testing.assert_close(loss, unclipped)
    (g,) = torch.autograd.grad(loss, new)
    (g_ref,) = torch.autograd.grad(unclipped, new)
    torch.testing.assert_close(g, g_ref)
    assert g.abs().item() > 0.1


@pytest.mark.parametrize("ratio,advantage", [(1.5, 1.0), (1 + EPS + 1e-3, 3.0),
                                             (0.5, -1.0), (1 - EPS - 1e-3, -3.0)])
def test_clipped_objective_has_zero_gradient_past_the_clip_in_the_clipped_direction(ratio,
                                                                                   advantage):
    # A > 0 and rho > 1 + eps, or A < 0 and rho < 1 - eps: the bound is the clipped constant
    new, old, adv = _ratio_case(ratio, advantage)
    loss = clipped_surrogate(new, old, adv, EPS)
    bound = 1 + EPS if advantage > 0 else 1 - EPS
    torch.testing.assert_close(loss, torch.tensor(-bound * advantage))
    (g,) = torch.autograd.grad(loss, new)
    assert g.item() == 0.0


@pytest.mark.parametrize("ratio,advantage", [(0.5, 1.0), (1.5, -1.0)])
def test_clipped_objective_keeps_the_gradient_that_undoes_a_bad_move(ratio, advantage):
    # the other side of the interval: min picks the unclipped term, whose gradient pulls back
    new, old, adv = _ratio_case(ratio, advantage)
    (g,) = torch.autograd.grad(clipped_surrogate(new, old, adv, EPS), new)
    torch.testing.assert_close(g, torch.tensor([-ratio * advantage]))


def _rollout(T=7, N=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = torch.randn(T, N, generator=g)
    v_all = torch.randn(T + 1, N, generator=g)
    end = torch.zeros(T, N)
    term = torch.zeros(T, N)
    term[2, 0] = end[2, 0] = 1.0   # env 0 terminates at t = 2 (no bootstrap)
    end[4, 1] = 1.0                # env 1 is truncated at t = 4 (bootstraps from V(final))
    v_final = torch.randn(N, generator=g)
    next_v = v_all[1:].clone()
    next_v[4, 1] = v_final[1]       # V of the true last state, not of the reset state
    return r, v_all[:-1], next_v, term, end


def test_gae_lambda_one_is_the_discounted_return_minus_the_value():
    gamma = 0.9
    r, v, next_v, term, end = _rollout()
    adv = gae(r, v, next_v, term, end, gamma, 1.0)
    T, N = r.shape
    for n in range(N):
        t0 = 0
        for t in range(T):
            if end[t, n] or t == T - 1:  # one segment: an episode piece ending at t
                seg = r[t0:t + 1, n].numpy()
                boot = 0.0 if term[t, n] else float(next_v[t, n])
                g = discounted_returns(np.append(seg, boot), gamma)[:-1]
                torch.testing.assert_close(adv[t0:t + 1, n],
                                           torch.as_tensor(g, dtype=torch.float32) - v[t0:t + 1, n])
                t0 = t + 1


def test_gae_lambda_zero_is_the_td_error():
    gamma = 0.9
    r, v, next_v, term, end = _rollout(seed=1)
    td = r + gamma * next_v * (1 - term) - v
    torch.testing.assert_close(gae(r, v, next_v, term, end, gamma, 0.0), td)


def test_value_clipping():
    old = torch.tensor([0.0, 0.0, 0.0])
    ret = torch.tensor([1.0, 1.0, -1.0])
    v = torch.tensor([0.1, 0.5, 0.5], requires_grad=True)  # inside; past the clip; away
    loss = value_loss(v, old, ret, EPS)
    unclipped = ((v - ret) ** 2).detach()
    expected = torch.stack([unclipped[0], (EPS - 1.0) ** 2 * torch.tensor(1.0), unclipped[2]])
    torch.testing.assert_close(loss, expected.mean())
    (g,) = torch.autograd.grad(loss, v)
    assert g[0] != 0 and g[1] == 0 and g[2] != 0  # moved past the clip towards R: no push on
    torch.testing.assert_close(value_loss(v, old, ret, None), unclipped.mean())


def test_running_mean_std_matches_numpy_over_batches():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(500, 4))
    rms = RunningMeanStd((4,))
    for chunk in np.array_split(x, 7):
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, x.mean(0), atol=1e-5)
    np.testing.assert_allclose(rms.var, x.var(0), rtol=1e-4)


def test_ppo_uses_the_declared_policies():
    cart = perceptzoo.build("ppo", env_id="CartPole-v1", hidden=(8,))
    pend = perceptzoo.build("ppo", env_id="Pendulum-v1", hidden=(8,), log_std_init=-0.5)
    x = torch.zeros(3, 3)
    assert isinstance(cart.actor(torch.zeros(3, 4)), torch.distributions.Categorical)
    dist = pend.actor(x)
    torch.testing.assert_close(dist.stddev, torch.full((3, 1), float(np.exp(-0.5))))
    # state-independent log-std: one parameter per action dimension
    assert pend.actor.log_std.shape == (1,)


def test_ppo_solves_the_chain():
    agent = perceptzoo.build("ppo", env_id="perceptzoo/Chain-v0", hidden=(32,), num_envs=4,
                             n_steps=32, batch_size=64, num_epochs=4, seed=0)
    agent.learn(None, 4000)
    assert agent.evaluate_episodes(3, seed=0)["mean_return"] >= 1.0 - 4 * 0.01 - 1e-6


def test_ppo_gaussian_policy_solves_reach1d_with_normalisers(tmp_path):
    agent = perceptzoo.build("ppo", env_id="perceptzoo/Reach1D-v0", hidden=(32,), num_envs=8,
                             n_steps=32, batch_size=64, num_epochs=5, gamma=0.9, lr=3e-3,
                             normalize_obs=True, normalize_reward=True, log_std_init=-0.5,
                             clip_value=True, seed=0)
    before = agent.evaluate_episodes(20, seed=0)["mean_return"]
    agent.learn(None, 12_000)
    after = agent.evaluate_episodes(20, seed=0)["mean_return"]
    assert after > -1.5 and after > before + 2
    agent.save(tmp_path / "ppo")  # the normalisers are part of what is saved
    again = runner.load(tmp_path / "ppo")
    np.testing.assert_allclose(again.obs_rms.mean, agent.obs_rms.mean)
    assert again.evaluate_episodes(20, seed=0)["mean_return"] == after


@pytest.mark.slow
def test_ppo_solves_cartpole():
    agent = perceptzoo.build("ppo", env_id="CartPole-v1", seed=0)
    agent.learn(None, 100_000)
    assert agent.evaluate_episodes(10, seed=10_000)["mean_return"] >= 475
