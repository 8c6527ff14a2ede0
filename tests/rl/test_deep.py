"""Deep agents: DQN's target, the policy-gradient estimator, the critic, tiny environments."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal

import perceptzoo
from perceptzoo.core import runner
from perceptzoo.rl.common.agent import evaluate_agent
from perceptzoo.rl.common.buffers import gae
from perceptzoo.rl.common.envs import MDPEnv
from perceptzoo.rl.common.networks import ConvEncoder
from perceptzoo.rl.deep.reinforce import policy_gradient_loss
from perceptzoo.rl.tabular.mdp import MDP

CHAIN_OPTIMUM = 1.0 - 4 * 0.01  # five steps right: four -0.01 and the +1


def _batch(agent, n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.nn.functional.one_hot(torch.randint(0, 6, (n,), generator=g), 6).float()
    nxt = torch.nn.functional.one_hot(torch.randint(0, 6, (n,), generator=g), 6).float()
    return {"obs": obs, "next_obs": nxt, "actions": torch.randint(0, 2, (n,), generator=g),
            "rewards": torch.randn(n, generator=g),
            "terminated": (torch.rand(n, generator=g) < 0.2).float()}


@pytest.mark.parametrize("huber", [False, True])
def test_dqn_loss_backpropagates_only_through_q_of_s_a(huber):
    agent = perceptzoo.build("dqn", env_id="perceptzoo/Chain-v0", hidden=(16,), huber=huber)
    agent.target_net = agent.q_net  # same parameters: a target with a gradient would show up
    batch = _batch(agent)
    y = agent.td_target(batch)
    assert not y.requires_grad
    params = list(agent.q_net.parameters())
    loss = agent.loss(batch)
    grads = torch.autograd.grad(loss, params)
    # reference: d loss / d Q(s,a) pushed back through Q(s,a) alone, the target a constant
    q = agent.q_net(batch["obs"]).gather(1, batch["actions"][:, None])[:, 0]
    err = (q - y).detach()
    dl_dq = (err.clamp(-1, 1) if huber else 2 * err) / len(err)
    ref = torch.autograd.grad(q, params, grad_outputs=dl_dq)
    for g, r in zip(grads, ref):
        torch.testing.assert_close(g, r)
    assert all(g.abs().sum() > 0 for g in grads)  # reaches every parameter


def test_dqn_target_uses_the_frozen_network_and_terminal_mask():
    agent = perceptzoo.build("dqn", env_id="perceptzoo/Chain-v0", hidden=(16,), gamma=0.5)
    batch = _batch(agent)
    with torch.no_grad():
        for p in agent.q_net.parameters():
            p.add_(1.0)  # online moved on; target not yet synced
        expected = batch["rewards"] + 0.5 * (1 - batch["terminated"]) * agent.target_net(
            batch["next_obs"]).max(1).values
    torch.testing.assert_close(agent.td_target(batch), expected)


def test_dqn_solves_the_chain_within_seconds():
    agent = perceptzoo.build("dqn", env_id="perceptzoo/Chain-v0", hidden=(32,), lr=1e-2,
                             learning_starts=200, train_freq=4, gradient_steps=1,
                             target_update_interval=50, epsilon_decay_steps=1000, seed=0)
    agent.learn(None, 3000)
    assert evaluate_agent(agent, num_episodes=3)["mean_return"] >= CHAIN_OPTIMUM - 1e-6


def test_dqn_with_conv_encoder_solves_pixel_frozenlake():
    agent = perceptzoo.build("dqn", env_id="FrozenLake-v1", env_kwargs={"is_slippery": False},
                             pixels=True, hidden=(64,), lr=3e-3, learning_starts=200,
                             train_freq=4, gradient_steps=1, target_update_interval=100,
                             epsilon_decay_steps=3000, gamma=0.9, seed=0)
    assert isinstance(agent.q_net.encoder, ConvEncoder)
    obs, _ = agent.make_env().reset(seed=0)
    assert obs.shape == (3, 4, 4)
    agent.learn(None, 6000)
    assert evaluate_agent(agent, num_episodes=3)["mean_return"] == 1.0


def test_reinforce_estimator_matches_the_analytic_gradient_on_a_bandit():
    torch.manual_seed(0)
    means = torch.tensor([0.2, 0.8])
    logits = torch.tensor([0.3, -0.2], requires_grad=True)
    pi = torch.softmax(logits.detach(), 0)
    analytic = pi * (means - (pi * means).sum())  # dJ/dtheta_a = pi_a (mu_a - J)
    n, baseline = 40_000, 0.5
    actions = Categorical(logits=logits.detach()).sample((n,))
    rewards = torch.bernoulli(means[actions])
    loss = policy_gradient_loss(Categorical(logits=logits.expand(n, 2)), actions,
                                rewards - baseline)
    (estimate,) = torch.autograd.grad(-loss, logits)
    per_sample = (torch.nn.functional.one_hot(actions, 2) - pi) * (rewards - baseline)[:, None]
    se = per_sample.std(0) / np.sqrt(n)
    assert torch.all((estimate - analytic).abs() < 4 * se)
    assert torch.all(analytic.abs() > 8 * se)  # the test can tell a wrong sign or scale


def test_gaussian_policy_gradient_matches_the_analytic_gradient():
    # J(mu, log_sigma) = E_{a ~ N(mu, sigma^2)}[-(a - 1)^2] = -(mu - 1)^2 - sigma^2
    torch.manual_seed(0)
    mu = torch.tensor(0.2, requires_grad=True)
    log_sigma = torch.tensor(-0.3, requires_grad=True)
    n = 100_000
    dist = Normal(mu.expand(n), log_sigma.exp().expand(n))
    actions = dist.sample()
    rewards = -(actions - 1) ** 2
    loss = policy_gradient_loss(dist, actions, rewards - rewards.mean())
    g_mu, g_ls = torch.autograd.grad(-loss, [mu, log_sigma])
    sigma2 = log_sigma.exp().item() ** 2
    assert g_mu.item() == pytest.approx(-2 * (0.2 - 1), rel=0.05)
    assert g_ls.item() == pytest.approx(-2 * sigma2, rel=0.05)


def test_reinforce_learns_the_better_arm():
    agent = perceptzoo.build("reinforce", env_id="perceptzoo/Bandit-v0", hidden=(8,), lr=0.05,
                             steps_per_update=50, seed=0)
    agent.learn(None, 3000)
    with torch.no_grad():
        probs = agent.policy(torch.ones(1, 1)).probs[0]
    assert probs[1] > 0.9


@pytest.mark.parametrize("name", ["reinforce", "actor_critic"])
def test_policy_agents_solve_the_chain(name):
    extra = {"steps_per_update": 200} if name == "reinforce" else {"num_envs": 4}
    agent = perceptzoo.build(name, env_id="perceptzoo/Chain-v0", hidden=(32,), seed=0, **extra)
    agent.learn(None, 6000)
    assert evaluate_agent(agent, num_episodes=3)["mean_return"] >= CHAIN_OPTIMUM - 1e-6


@pytest.mark.parametrize("name", ["reinforce", "actor_critic"])
def test_gaussian_policies_solve_reach1d(name):
    extra = ({"steps_per_update": 400, "lr": 1e-2} if name == "reinforce"
             else {"num_envs": 8, "actor_lr": 3e-3, "critic_lr": 3e-3, "gamma": 0.9})
    agent = perceptzoo.build(name, env_id="perceptzoo/Reach1D-v0", hidden=(32,),
                             log_std_init=-0.5, seed=0, **extra)
    before = evaluate_agent(agent, num_episodes=20, deterministic=False)["mean_return"]
    agent.learn(None, 20_000)
    after = evaluate_agent(agent, num_episodes=20)["mean_return"]
    assert after > -1.5 and after > before + 2


def test_gae_lambda_zero_is_the_td_error_and_one_the_n_step_advantage():
    g = torch.Generator().manual_seed(0)
    T, N, gamma = 6, 3, 0.9
    r, values = torch.randn(T, N, generator=g), torch.randn(T + 1, N, generator=g)
    v, v_next = values[:-1], values[1:]  # V(s_t) and V(s_{t+1}) along the rollout
    term = torch.zeros(T, N)
    term[2, 1] = 1.0
    td = r + gamma * v_next * (1 - term) - v
    torch.testing.assert_close(gae(r, v, v_next, term, term, gamma, 0.0), td)
    adv = gae(r, v, v_next, term, term, gamma, 1.0)
    # env 0, t = 0: sum_k gamma^k r_k + gamma^T V(s_T) - V(s_0)
    ret = sum(gamma**k * r[k, 0] for k in range(T)) + gamma**T * v_next[-1, 0]
    torch.testing.assert_close(adv[0, 0], ret - v[0, 0])
    # env 1 stops at its terminal step 2
    ret1 = r[0, 1] + gamma * r[1, 1] + gamma**2 * r[2, 1]
    torch.testing.assert_close(adv[0, 1], ret1 - v[0, 1])


def test_critic_converges_to_v_pi_on_a_small_mdp():
    mdp = MDP.random(6, 2, gamma=0.9, seed=0)  # 6 states, 2 actions: the Chain's spaces

    def make():
        return gym.wrappers.TimeLimit(MDPEnv(mdp, one_hot=True), 40)

    agent = perceptzoo.build("actor_critic", env_id="perceptzoo/Chain-v0", hidden=(32,),
                             gamma=0.9, gae_lambda=0.0, actor_lr=0.0, critic_lr=3e-3,
                             num_envs=8, n_steps=5, max_grad_norm=10.0, anneal_lr=True, seed=0)
    agent.learn(make, 40_000)
    eye = torch.eye(6)
    with torch.no_grad():
        pi = agent.actor(eye).probs.numpy()  # the (fixed) policy
        values = agent.critic(eye).numpy()
    v_pi = mdp.evaluate_policy(pi)
    assert np.abs(values - v_pi).max() < 0.1 * np.abs(v_pi).max()


DEEP = ["dqn", "reinforce", "actor_critic", "ppo"]


@pytest.mark.parametrize("name", DEEP)
def test_deep_agents_save_and_load_through_the_run_folder(tmp_path, name):
    agent = perceptzoo.build(name, env_id="CartPole-v1", hidden=(16,), seed=3)
    agent.save(tmp_path / name)
    assert (tmp_path / name / "model.safetensors").exists()
    again = runner.load(tmp_path / name)
    assert again.cfg == dataclasses.replace(agent.cfg, device="cpu")  # loaded on the CPU
    obs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    for o in obs:
        assert again.act(o, deterministic=True) == agent.act(o, deterministic=True)
    for (k, a), (_, b) in zip(agent.state_tensors().items(), again.state_tensors().items()):
        torch.testing.assert_close(a, b, msg=k)


@pytest.mark.parametrize("name", DEEP)
def test_constructors_leave_the_global_rng_alone_and_seed_their_networks(name):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = perceptzoo.build(name, env_id="CartPole-v1", hidden=(16,), seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # not reseeded, not even advanced
    b = perceptzoo.build(name, env_id="CartPole-v1", hidden=(16,), seed=5)
    c = perceptzoo.build(name, env_id="CartPole-v1", hidden=(16,), seed=6)
    ta, tb, tc = a.state_tensors(), b.state_tensors(), c.state_tensors()
    assert all(torch.equal(ta[k], tb[k]) for k in ta)
    assert any(not torch.equal(ta[k], tc[k]) for k in ta if ta[k].is_floating_point())


@pytest.mark.parametrize("name", ["reinforce", "actor_critic", "ppo"])
def test_learning_is_a_function_of_the_seed_not_of_the_global_rng(name):
    def run(global_seed):
        torch.manual_seed(global_seed)
        agent = perceptzoo.build(name, env_id="perceptzoo/Chain-v0", hidden=(8,), seed=1)
        agent.learn(None, 400)
        return agent.state_tensors()

    first, second = run(0), run(99)
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("name", DEEP)
def test_deep_agents_take_a_device(name):
    agent = perceptzoo.build(name, env_id="CartPole-v1", hidden=(8,), device="cpu")
    assert agent.cfg.device == "cpu"
    assert all(v.device.type == "cpu" for v in agent.state_tensors().values())
    assert perceptzoo.build(name, env_id="CartPole-v1").cfg.device == "auto"
    if not torch.cuda.is_available():
        with pytest.raises(perceptzoo.UserError, match="no GPU"):
            perceptzoo.build(name, env_id="CartPole-v1", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("name", DEEP)
def test_deep_agents_learn_and_load_on_the_gpu(tmp_path, name):
    agent = perceptzoo.build(name, env_id="CartPole-v1", hidden=(16,), device="cuda")
    assert all(p.is_cuda for k, p in agent.state_tensors().items() if "rms" not in k)
    agent.learn(None, 600)
    agent.save(tmp_path / name)
    again = runner.load(tmp_path / name, device="cuda")
    assert again.evaluate_episodes(2, seed=0)["num_episodes"] == 2


def test_networks_use_the_orthogonal_rl_init():
    from gymnasium import spaces

    from perceptzoo.rl.common.networks import PolicyNet, ValueNet

    obs, act = spaces.Box(-1, 1, (5,)), spaces.Discrete(3)
    policy, value = PolicyNet(obs, act, (16, 16)), ValueNet(obs, (16,))
    hidden = [m for m in policy.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert len(hidden) == 2
    w0, w1 = hidden[0].weight.detach(), hidden[1].weight.detach()  # (16, 5), (16, 16)
    torch.testing.assert_close(w0.T @ w0, 2 * torch.eye(5), atol=1e-5, rtol=0)  # gain sqrt 2
    torch.testing.assert_close(w1 @ w1.T, torch.eye(16), atol=1e-5, rtol=0)  # the encoder's
    # last layer has mlp's out_gain 1, as the RL networks always had
    head = policy.head[0].weight.detach()  # (3, 16): gain 0.01, near-uniform initial policy
    torch.testing.assert_close(head @ head.T, 1e-4 * torch.eye(3), atol=1e-8, rtol=0)
    v = value.head[0].weight.detach()  # (1, 16): gain 1
    torch.testing.assert_close((v @ v.T)[0, 0], torch.tensor(1.0))
    assert all((m.bias == 0).all() for m in [*hidden, policy.head[0], value.head[0]])
