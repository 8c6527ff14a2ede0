"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto 2018, sec. 13.4).

The policy gradient theorem gives an unbiased estimate of grad J(theta) from whole episodes,

    grad J = E_pi [ sum_t grad log pi(a_t | s_t; theta) (G_t - b(s_t)) ],
    G_t = sum_{k >= t} gamma^(k-t) r_{k+1},

for any baseline b that does not depend on a_t; a learned b(s) = V(s; w), fitted to G_t by
least squares, lowers the variance. Discrete actions use a categorical policy (softmax of
logits); continuous actions a Gaussian pi(a|s) = N(mu(s), sigma^2) whose mean and log sigma are
learned (`common.networks.PolicyNet`). `policy_gradient_loss` is the surrogate whose gradient
is the estimator above; the tests check it against the analytic gradient on a bandit.

    >>> import perceptzoo
    >>> agent = perceptzoo.build("reinforce", env_id="CartPole-v1")
    >>> agent = agent.learn(None, total_steps=200_000)                   # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution

from perceptzoo.core.registry import register
from perceptzoo.core.trainer import resolve_device
from perceptzoo.rl.common.agent import Agent, seeded
from perceptzoo.rl.common.buffers import discounted_returns
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.networks import PolicyNet, ValueNet, encode_obs, sample_action


def policy_gradient_loss(dist: Distribution, actions: torch.Tensor,
                         advantages: torch.Tensor) -> torch.Tensor:
    """-mean_t log pi(a_t|s_t) A_t; its gradient is the (negated) REINFORCE estimator."""
    return -(dist.log_prob(actions) * advantages.detach()).mean()


@dataclass
class ReinforceConfig:
    env_id: str = "CartPole-v1"
    env_kwargs: dict = field(default_factory=dict)
    pixels: bool = False
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 3e-3
    baseline_lr: float = 1e-2
    gamma: float = 0.99
    steps_per_update: int = 2_000
    """environment steps per policy update (whole episodes; the last one may run over)"""
    baseline: bool = True
    """subtract the learned b(s); off: plain REINFORCE"""
    normalize_advantages: bool = True
    baseline_epochs: int = 5
    """passes of least-squares fitting of b(s) per update"""
    entropy_coef: float = 0.0
    log_std_init: float = 0.0
    """Gaussian policies: initial log sigma"""
    max_grad_norm: float = 1.0
    total_steps: int = 200_000
    seed: int = 0
    """initialises the networks (without touching torch's global RNG), draws the actions (the
    agent's own torch.Generator) and seeds the first episode"""
    device: str = "auto"
    """auto (a GPU if one is visible) | cpu | cuda"""


@register("reinforce", ReinforceConfig, default_dataset="CartPole-v1", family="rl", runner="agent")
class Reinforce(Agent):
    name = "reinforce"

    def __init__(self, cfg: ReinforceConfig):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        env = self.make_env()
        self.obs_space, self.action_space = env.observation_space, env.action_space
        env.close()
        with seeded(cfg.seed):
            self.policy = PolicyNet(self.obs_space, self.action_space, cfg.hidden,
                                 cfg.log_std_init).to(self.device)
            self.baseline = ValueNet(self.obs_space, cfg.hidden).to(self.device)
        self.generator = torch.Generator(self.device).manual_seed(cfg.seed)  # actions
        self.policy_opt = torch.optim.Adam(self.policy.parameters(), lr=cfg.lr)
        self.baseline_opt = torch.optim.Adam(self.baseline.parameters(), lr=cfg.baseline_lr)
        self.curve = Curve()

    def act(self, obs: Any, *, deterministic: bool = False) -> Any:
        x = encode_obs(obs, self.obs_space, self.device)
        return self.policy.act(x, deterministic=deterministic, generator=self.generator)[0]

    def update(self, obs: torch.Tensor, actions: torch.Tensor, returns: torch.Tensor) -> dict:
        """One policy-gradient step and a least-squares fit of the baseline."""
        if self.cfg.baseline:
            with torch.no_grad():
                advantages = returns - self.baseline(obs)  # G_t - b(s_t)
        else:
            advantages = returns.clone()
        if self.cfg.normalize_advantages and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        dist = self.policy(obs)
        loss = policy_gradient_loss(dist, actions, advantages)
        loss = loss - self.cfg.entropy_coef * dist.entropy().mean()
        self.policy_opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.policy.parameters(), self.cfg.max_grad_norm)
        self.policy_opt.step()
        baseline_loss = torch.zeros(())
        if self.cfg.baseline:
            for _ in range(self.cfg.baseline_epochs):
                baseline_loss = F.mse_loss(self.baseline(obs), returns)
                self.baseline_opt.zero_grad(set_to_none=True)
                baseline_loss.backward()
                self.baseline_opt.step()
        return {"policy_loss": loss.item(), "baseline_loss": baseline_loss.item()}

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> Reinforce:
        cfg = self.cfg
        env = env if env is not None else self.make_env(cfg.seed)
        total_steps = total_steps or cfg.total_steps
        step, first, start, stop = 0, True, time.time(), False
        while step < total_steps and not stop:
            batch_obs, batch_actions, batch_returns = [], [], []
            collected = 0
            while collected < cfg.steps_per_update and not stop:  # whole episodes
                obs, _ = env.reset(seed=cfg.seed if first else None)
                first = False
                rewards = []
                while True:
                    x = encode_obs(obs, self.obs_space, self.device)  # (1, *obs)
                    with torch.no_grad():
                        action = sample_action(self.policy(x), self.generator)
                    obs, reward, terminated, truncated, _ = env.step(self.policy.to_env(action)[0])
                    batch_obs.append(x)
                    batch_actions.append(action)
                    rewards.append(float(reward))
                    if terminated or truncated:
                        break
                collected += len(rewards)
                step += len(rewards)
                batch_returns.append(discounted_returns(np.asarray(rewards), cfg.gamma))
                self.curve.add(step=step, episode_return=sum(rewards), episode_length=len(rewards),
                               time_s=round(time.time() - start, 3))
                if callback is not None and callback({"step": step,
                                                      "episode_return": sum(rewards)}):
                    stop = True
            returns = torch.as_tensor(np.concatenate(batch_returns), dtype=torch.float32,
                                      device=self.device)
            self.update(torch.cat(batch_obs), torch.cat(batch_actions), returns)
        return self

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"policy.{k}": v for k, v in self.policy.state_dict().items()},
                **{f"baseline.{k}": v for k, v in self.baseline.state_dict().items()}}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for prefix, module in (("policy.", self.policy), ("baseline.", self.baseline)):
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                                    if k.startswith(prefix)})
