"""Advantage actor-critic (A2C; Mnih et al. 2016, synchronous version; Sutton & Barto sec. 13.5).

A critic V(s; w) learns v_pi by TD; the actor follows the policy gradient with the critic's
TD error as the advantage estimate:

    delta_t = r_{t+1} + gamma V(s_{t+1}) (1 - terminated) - V(s_t)        (TD advantage)
    actor:  theta <- theta + alpha grad log pi(a_t|s_t) A_t
    critic: minimise (V(s_t) - (A_t + V(s_t)))^2      (the target is held fixed)

`gae_lambda` generalises the advantage (Schulman et al. 2016): A_t = sum_l (gamma lambda)^l
delta_{t+l} within a rollout of `n_steps`; lambda = 0 is the one-step TD advantage above,
lambda = 1 the n-step return minus V(s_t). Rollouts run in `num_envs` Gymnasium environments
in lock-step (`gymnasium.vector.SyncVectorEnv`, same-step autoreset so a time-limited episode's
true last state still bootstraps). Discrete actions: categorical policy; continuous: Gaussian.

    >>> import perceptzoo
    >>> agent = perceptzoo.build("actor_critic", env_id="CartPole-v1")
    >>> agent = agent.learn(None, total_steps=200_000)                   # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.core.trainer import resolve_device
from perceptzoo.rl.common.agent import Agent, seeded
from perceptzoo.rl.common.buffers import gae
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.common.networks import PolicyNet, ValueNet, encode_obs, sample_action


@dataclass
class ActorCriticConfig:
    env_id: str = "CartPole-v1"
    env_kwargs: dict = field(default_factory=dict)
    pixels: bool = False
    hidden: tuple[int, ...] = (64, 64)
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    """0: one-step TD advantage r + gamma V(s') - V(s); 1: n-step return - V(s)"""
    n_steps: int = 5
    """rollout length per environment between updates"""
    num_envs: int = 8
    entropy_coef: float = 0.0
    normalize_advantages: bool = True
    reward_scale: float = 1.0
    """rewards are multiplied by this for learning (curves report the raw return)"""
    log_std_init: float = 0.0
    anneal_lr: bool = False
    """decay both learning rates linearly to 0 over the training steps"""
    max_grad_norm: float = 0.5
    total_steps: int = 200_000
    seed: int = 0
    """initialises the networks (without touching torch's global RNG), draws the actions (the
    agent's own torch.Generator) and seeds the first episode"""
    device: str = "auto"
    """auto (a GPU if one is visible) | cpu | cuda"""


@register("actor_critic", ActorCriticConfig, default_dataset="CartPole-v1",
          family="rl", runner="agent")
class ActorCritic(Agent):
    name = "actor_critic"

    def __init__(self, cfg: ActorCriticConfig):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        env = self.make_env()
        self.obs_space, self.action_space = env.observation_space, env.action_space
        env.close()
        with seeded(cfg.seed):
            self.actor = PolicyNet(self.obs_space, self.action_space, cfg.hidden,
                                 cfg.log_std_init).to(self.device)
            self.critic = ValueNet(self.obs_space, cfg.hidden).to(self.device)
        self.generator = torch.Generator(self.device).manual_seed(cfg.seed)  # actions
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr)
        self.curve = Curve()

    def act(self, obs: Any, *, deterministic: bool = False) -> Any:
        x = encode_obs(obs, self.obs_space, self.device)
        return self.actor.act(x, deterministic=deterministic, generator=self.generator)[0]

    def make_vector_env(self, env_fn: Any = None) -> SyncVectorEnv:
        cfg = self.cfg
        fn = env_fn or (lambda: make_env(cfg.env_id, pixels=cfg.pixels, **cfg.env_kwargs))
        return SyncVectorEnv([fn for _ in range(cfg.num_envs)],
                             autoreset_mode=AutoresetMode.SAME_STEP)

    def update(self, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
               value_targets: torch.Tensor) -> dict:
        """obs (T*N, *obs), actions (T*N, ...), advantages and targets (T*N,)."""
        critic_loss = F.mse_loss(self.critic(obs), value_targets)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        nn.utils.clip_grad_norm_(self.critic.parameters(), self.cfg.max_grad_norm)
        self.critic_opt.step()
        if self.cfg.normalize_advantages and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        dist = self.actor(obs)
        actor_loss = -(dist.log_prob(actions) * advantages).mean()
        actor_loss = actor_loss - self.cfg.entropy_coef * dist.entropy().mean()
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        nn.utils.clip_grad_norm_(self.actor.parameters(), self.cfg.max_grad_norm)
        self.actor_opt.step()
        return {"actor_loss": actor_loss.item(), "critic_loss": critic_loss.item()}

    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> ActorCritic:
        """`env`: None (make `num_envs` of cfg.env_id) or a function that makes one env."""
        cfg = self.cfg
        venv = self.make_vector_env(env)
        total_steps = total_steps or cfg.total_steps
        n, start = cfg.num_envs, time.time()
        obs, _ = venv.reset(seed=cfg.seed)
        x = encode_obs(obs, self.obs_space, self.device)  # (N, *obs)
        ep_return, ep_length = np.zeros(n), np.zeros(n, int)
        step, stop = 0, False
        while step < total_steps and not stop:
            # 1. roll out n_steps in every environment
            xs, actions, rewards, next_xs, terminated, ends = [], [], [], [], [], []
            for _ in range(cfg.n_steps):
                with torch.no_grad():
                    action = sample_action(self.actor(x), self.generator)  # (N,) or (N, dim)
                obs, reward, term, trunc, info = venv.step(self.actor.to_env(action))
                x_next = encode_obs(obs, self.obs_space, self.device)
                true_next = x_next.clone()  # s_{t+1}: the final state where an episode ended
                for i in np.flatnonzero(term | trunc):
                    true_next[i] = encode_obs(info["final_obs"][i], self.obs_space, self.device)[0]
                xs.append(x)
                actions.append(action)
                rewards.append(torch.as_tensor(reward * cfg.reward_scale, dtype=torch.float32,
                                               device=self.device))
                next_xs.append(true_next)
                terminated.append(torch.as_tensor(term, dtype=torch.float32, device=self.device))
                ends.append(torch.as_tensor(term | trunc, dtype=torch.float32, device=self.device))
                step += n
                ep_return += reward
                ep_length += 1
                for i in np.flatnonzero(term | trunc):
                    self.curve.add(step=step, episode_return=ep_return[i],
                                   episode_length=ep_length[i],
                                   time_s=round(time.time() - start, 3))
                    if callback is not None and callback({"step": step,
                                                          "episode_return": ep_return[i]}):
                        stop = True
                    ep_return[i], ep_length[i] = 0.0, 0
                x = x_next
            # 2. advantages from the critic: TD errors, summed with (gamma lambda)^l
            T = cfg.n_steps
            flat_x, flat_next = torch.cat(xs), torch.cat(next_xs)  # (T*N, *obs)
            with torch.no_grad():
                values = self.critic(flat_x).view(T, n)
                next_values = self.critic(flat_next).view(T, n)
            advantages = gae(torch.stack(rewards), values, next_values, torch.stack(terminated),
                             torch.stack(ends), cfg.gamma, cfg.gae_lambda)  # (T, N)
            value_targets = (advantages + values).reshape(-1)
            # 3. one actor and one critic step
            if cfg.anneal_lr:
                frac = max(0.0, 1.0 - step / total_steps)
                self.actor_opt.param_groups[0]["lr"] = cfg.actor_lr * frac
                self.critic_opt.param_groups[0]["lr"] = cfg.critic_lr * frac
            self.update(flat_x, torch.cat(actions), advantages.reshape(-1), value_targets)
        venv.close()
        return self

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"actor.{k}": v for k, v in self.actor.state_dict().items()},
                **{f"critic.{k}": v for k, v in self.critic.state_dict().items()}}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for prefix, module in (("actor.", self.actor), ("critic.", self.critic)):
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                                    if k.startswith(prefix)})
