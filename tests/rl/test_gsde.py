"""gSDE (Raffin et al. 2021): noise that is a function of the state within a sample period, with
the state-dependent Gaussian PPO's ratio needs."""

from __future__ import annotations

import pytest
import torch
from gymnasium import spaces

import perceptzoo
from perceptzoo.core import runner
from perceptzoo.errors import UserError
from perceptzoo.rl.common.gsde import EPSILON, GSDEPolicyNet

OBS, ACT = spaces.Box(-1.0, 1.0, (3,)), spaces.Box(-2.0, 2.0, (2,))


def _policy(log_std_init: float = -0.5) -> GSDEPolicyNet:
    torch.manual_seed(0)
    return GSDEPolicyNet(OBS, ACT, hidden=(16,), log_std_init=log_std_init)


def test_within_a_period_the_same_state_gets_the_same_action_and_new_noise_changes_it():
    pi, g = _policy(), torch.Generator().manual_seed(1)
    s = torch.randn(5, 3)
    noise = pi.sample_noise(5, g)
    a1, a2 = pi.explore(s, noise), pi.explore(s, noise)
    assert torch.equal(a1, a2)
    assert not torch.allclose(pi.explore(s, pi.sample_noise(5, g)), a1)
    # the exploration is a smooth (linear in z) function of the state: nearby states, nearby
    # actions, unlike independent per-step noise
    near = pi.explore(s + 1e-4, noise)
    assert (near - a1).abs().max() < 1e-2


def test_the_draws_follow_the_distribution_whose_log_prob_ppo_uses():
    pi, g = _policy(), torch.Generator().manual_seed(2)
    s = torch.randn(1, 3).expand(20_000, 3)
    actions = pi.explore(s, pi.sample_noise(20_000, g))  # fresh noise per draw
    dist = pi(s[:1])
    torch.testing.assert_close(actions.mean(0), dist.mean[0], atol=0.02, rtol=0)
    torch.testing.assert_close(actions.var(0), dist.variance[0], rtol=0.05, atol=1e-5)
    # sigma_j(s)^2 = sum_i z_i(s)^2 sigma_ij^2 (+ epsilon), and the log-density of a Normal
    z = pi.features(s[:1])
    var = z**2 @ pi.log_std.exp() ** 2 + EPSILON
    a = actions[:3]
    by_hand = (-0.5 * (a - dist.mean) ** 2 / var - 0.5 * torch.log(2 * torch.pi * var)).sum(-1)
    torch.testing.assert_close(pi(s[:3]).log_prob(a), by_hand, rtol=1e-5, atol=1e-5)


def test_the_features_learn_from_the_mean_only():
    pi = _policy()
    pi(torch.randn(4, 3)).stddev.sum().backward()
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in pi.encoder.parameters())
    assert pi.log_std.grad.abs().max() > 0


def test_discrete_actions_and_a_zero_period_are_refused():
    with pytest.raises(UserError, match="Box"):
        GSDEPolicyNet(OBS, spaces.Discrete(3))
    with pytest.raises(UserError, match="sde_sample_freq"):
        perceptzoo.build("ppo", env_id="Pendulum-v1", use_sde=True, sde_sample_freq=0)


def test_ppo_with_gsde_learns_saves_and_reloads(tmp_path):
    run = runner.train("ppo", dataset="Pendulum-v1", out=tmp_path / "run",
                       model_overrides={"use_sde": True, "sde_sample_freq": 4, "num_envs": 2,
                                        "n_steps": 32, "batch_size": 32, "num_epochs": 2},
                       train_config={"steps": 128, "seed": 0, "device": "cpu"})
    agent = runner.load(run)
    assert isinstance(agent.actor, GSDEPolicyNet) and agent.actor.log_std.shape == (64, 1)
    stats = runner.evaluate(run, split="test", num_episodes=1, device="cpu")
    assert stats["mean_return"] < 0  # Pendulum's returns are costs
