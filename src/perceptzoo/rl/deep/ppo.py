"""PPO: proximal policy optimisation with the clipped surrogate (Schulman et al. 2017).

Each iteration rolls out `n_steps` steps in `num_envs` environments (`gymnasium.vector`,
same-step autoreset so a time-limited episode's true last state still bootstraps), estimates
advantages by GAE(lambda) (Schulman et al. 2016, eq. 16),

    delta_t = r_t + gamma V(s_{t+1}) (1 - terminated_t) - V(s_t),
    A_t     = sum_l (gamma lambda)^l delta_{t+l}          (the sum stops where an episode ends)

and then takes `num_epochs` passes of minibatch Adam steps (minibatches of `batch_size`) on

    L(theta) = -E[min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t)]            (paper eq. 7)
               + c_v E[(V(s_t) - R_t)^2] - c_e E[H(pi(.|s_t))]                  (eq. 9)
    rho_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t),  R_t = A_t + V_old(s_t)

The min makes the objective a pessimistic bound: when the ratio has moved past 1 + eps with
A > 0 (or below 1 - eps with A < 0) the clipped term is taken and its gradient is zero, so one
batch cannot push the policy far. `clip_value` also clips the value update around V_old (the
PPO2 baselines option): (V - R)^2 becomes max((V - R)^2, (V_old + clip(V - V_old, -eps, eps)
- R)^2). Policies: categorical for discrete actions, a diagonal Gaussian with a
state-independent learned log-std for continuous ones (`common.networks.PolicyNet`); actor and
critic are separate MLPs with orthogonal init. `normalize_obs` / `normalize_reward` keep running
statistics like SB3's VecNormalize (observations standardised; rewards divided by the std of the
discounted return); they are part of what the agent saves. `use_sde` swaps the Gaussian's
independent per-step noise for generalized state-dependent exploration (`common.gsde`, Raffin
et al. 2021: a noise matrix redrawn every `sde_sample_freq` steps acting on the policy's
features), the setting rl-baselines3-zoo tunes PPO on Pendulum with.

    >>> import perceptzoo
    >>> agent = perceptzoo.build("ppo", env_id="CartPole-v1")
    >>> agent = agent.learn(None, total_steps=100_000)                  # doctest: +SKIP
    >>> agent.evaluate_episodes(10, seed=10_000)["mean_return"]         # doctest: +SKIP
    500.0
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.core.trainer import resolve_device
from perceptzoo.errors import UserError
from perceptzoo.rl.common.agent import Agent, seeded
from perceptzoo.rl.common.buffers import gae
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.envs import make_env
from perceptzoo.rl.common.gsde import GSDEPolicyNet
from perceptzoo.rl.common.networks import PolicyNet, ValueNet, encode_obs, sample_action


def clipped_surrogate(log_prob: torch.Tensor, old_log_prob: torch.Tensor,
                      advantages: torch.Tensor, clip_eps: float) -> torch.Tensor:
    """-mean_t min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t), rho_t = exp(logp - logp_old).

    All inputs (B,); `old_log_prob` and `advantages` are constants (no gradient flows into them).
    """
    ratio = torch.exp(log_prob - old_log_prob.detach())
    advantages = advantages.detach()
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -torch.min(unclipped, clipped).mean()


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               clip_eps: float | None) -> torch.Tensor:
    """mean (V - R)^2, or with `clip_eps` the pessimistic max with the clipped update."""
    loss = (values - returns) ** 2
    if clip_eps is not None:
        clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
        loss = torch.max(loss, (clipped - returns) ** 2)
    return loss.mean()


class RunningMeanStd:
    """Running mean and variance of a stream of (B, *shape) batches (Chan et al. parallel
    update), as a float64 numpy state that an agent saves with its networks."""

    def __init__(self, shape: tuple[int, ...] = ()):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 1e-4

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float64)
        b_mean, b_var, b_count = x.mean(0), x.var(0), x.shape[0]
        delta, total = b_mean - self.mean, self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var, self.count = m2 / total, total


@dataclass
class PPOConfig:
    env_id: str = "CartPole-v1"
    env_kwargs: dict = field(default_factory=dict)
    pixels: bool = False
    hidden: tuple[int, ...] = (64, 64)
    """actor and critic MLP widths (tanh)"""
    lr: float = 1e-3
    anneal_lr: bool = True
    """decay the learning rate linearly to 0 over the training steps"""
    gamma: float = 0.98
    gae_lambda: float = 0.8
    """0: one-step TD advantage; 1: the Monte Carlo return minus V(s)"""
    num_envs: int = 8
    n_steps: int = 32
    """rollout length per environment; a rollout holds num_envs * n_steps transitions"""
    num_epochs: int = 20
    """passes over each rollout"""
    batch_size: int = 256
    """minibatch size of the Adam steps"""
    clip_eps: float = 0.2
    """epsilon of the clipped ratio"""
    clip_value: bool = False
    """also clip the value update to +-clip_eps around the rollout's V_old"""
    vf_coef: float = 0.5
    ent_coef: float = 0.0
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    """standardise A within each minibatch"""
    normalize_obs: bool = False
    """standardise observations with running statistics (clipped to +-10)"""
    normalize_reward: bool = False
    """divide rewards by the running std of the discounted return (clipped to +-10)"""
    log_std_init: float = 0.0
    """Gaussian policies: initial log sigma (with use_sde: of every entry of gSDE's sigma)"""
    use_sde: bool = False
    """generalized state-dependent exploration (Box actions only): a = mu(s) + z(s)^T theta"""
    sde_sample_freq: int = -1
    """redraw gSDE's noise matrix every this many steps; -1: once per rollout"""
    target_kl: float | None = None
    """stop an iteration's epochs early once the approximate KL exceeds this"""
    total_steps: int = 100_000
    seed: int = 0
    """initialises the networks (without touching torch's global RNG), draws the actions and
    minibatches (the agent's own torch.Generator) and seeds the environments (seed + i)"""
    device: str = "auto"
    """auto (a GPU if one is visible) | cpu | cuda"""


@register("ppo", PPOConfig, default_dataset="CartPole-v1", family="rl", runner="agent")
class PPO(Agent):
    name = "ppo"

    def __init__(self, cfg: PPOConfig):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        env = self.make_env()
        self.obs_space, self.action_space = env.observation_space, env.action_space
        env.close()
        if cfg.sde_sample_freq == 0 or cfg.sde_sample_freq < -1:
            raise UserError(f"sde_sample_freq must be a positive number of steps or -1 (once "
                            f"per rollout), got {cfg.sde_sample_freq}")
        policy = GSDEPolicyNet if cfg.use_sde else PolicyNet
        with seeded(cfg.seed):
            self.actor = policy(self.obs_space, self.action_space, cfg.hidden,
                                cfg.log_std_init).to(self.device)
            self.critic = ValueNet(self.obs_space, cfg.hidden).to(self.device)
        self.generator = torch.Generator(self.device).manual_seed(cfg.seed)
        self.params = [*self.actor.parameters(), *self.critic.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=cfg.lr, eps=1e-5)
        shape = tuple(encode_obs(self.obs_space.sample(), self.obs_space).shape[1:])
        self.obs_rms, self.ret_rms = RunningMeanStd(shape), RunningMeanStd()
        self.curve = Curve()
        self.num_steps = 0

    # -- acting ----------------------------------------------------------------------------
    def encode(self, obs: Any, *, update: bool = False) -> torch.Tensor:
        """Observations as the networks see them: encoded, standardised if normalize_obs."""
        x = encode_obs(obs, self.obs_space)  # (B, *obs), CPU
        if self.cfg.normalize_obs:
            if update:
                self.obs_rms.update(x.numpy())
            mean, std = self.obs_rms.mean, np.sqrt(self.obs_rms.var + 1e-8)
            x = torch.as_tensor(np.clip((x.numpy() - mean) / std, -10, 10), dtype=torch.float32)
        return x.to(self.device)

    def act(self, obs: Any, *, deterministic: bool = False) -> Any:
        x = self.encode(obs)
        return self.actor.act(x, deterministic=deterministic, generator=self.generator)[0]

    def make_vector_env(self, env_fn: Any = None) -> SyncVectorEnv:
        """`num_envs` copies of cfg.env_id (or of `env_fn()`), autoreset on the same step."""
        cfg = self.cfg
        fn = env_fn or (lambda: make_env(cfg.env_id, pixels=cfg.pixels, **cfg.env_kwargs))
        return SyncVectorEnv([fn for _ in range(cfg.num_envs)],
                             autoreset_mode=AutoresetMode.SAME_STEP)

    # -- the loop --------------------------------------------------------------------------
    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> PPO:
        """`env`: None (make `num_envs` of cfg.env_id) or a function that makes one env."""
        cfg = self.cfg
        venv = self.make_vector_env(env)
        total_steps = total_steps or cfg.total_steps
        n, T = cfg.num_envs, cfg.n_steps
        iterations = max(1, math.ceil(total_steps / (n * T)))
        start = time.time()
        obs, _ = venv.reset(seed=cfg.seed)
        x = self.encode(obs, update=True)  # (N, *obs)
        ep_return, ep_length = np.zeros(n), np.zeros(n, int)
        discounted = np.zeros(n)  # running discounted return, for normalize_reward
        stop = False
        for it in range(iterations):
            if stop:
                break
            # 1. roll out T steps in every environment with the current policy
            xs, actions, rewards, next_xs, terminated, ends = [], [], [], [], [], []
            for t in range(T):
                if cfg.use_sde and (t == 0 or cfg.sde_sample_freq > 0
                                    and t % cfg.sde_sample_freq == 0):
                    noise = self.actor.sample_noise(n, self.generator)  # (N, features, dim)
                with torch.no_grad():
                    action = (self.actor.explore(x, noise) if cfg.use_sde  # (N,) or (N, dim)
                              else sample_action(self.actor(x), self.generator))
                obs, reward, term, trunc, info = venv.step(self.actor.to_env(action))
                end = term | trunc
                true_next = np.array(obs, copy=True)  # s_{t+1}: the final state at an end
                for i in np.flatnonzero(end):
                    true_next[i] = info["final_obs"][i]
                next_xs.append(self.encode(true_next))
                x_next = self.encode(obs, update=True)
                ep_return += reward
                ep_length += 1
                if cfg.normalize_reward:
                    discounted = discounted * cfg.gamma + reward
                    self.ret_rms.update(discounted[:, None])
                    reward = np.clip(reward / np.sqrt(self.ret_rms.var[0] + 1e-8), -10, 10)
                    discounted[end] = 0.0
                xs.append(x)
                actions.append(action)
                rewards.append(torch.as_tensor(reward, dtype=torch.float32, device=self.device))
                terminated.append(torch.as_tensor(term, dtype=torch.float32, device=self.device))
                ends.append(torch.as_tensor(end, dtype=torch.float32, device=self.device))
                self.num_steps += n
                for i in np.flatnonzero(end):
                    self.curve.add(step=self.num_steps, episode_return=ep_return[i],
                                   episode_length=ep_length[i],
                                   time_s=round(time.time() - start, 3))
                    if callback is not None and callback({"step": self.num_steps,
                                                          "episode_return": ep_return[i]}):
                        stop = True
                    ep_return[i], ep_length[i] = 0.0, 0
                x = x_next
            # 2. GAE(lambda) advantages and value targets from the rollout's V_old
            flat_x, flat_next = torch.cat(xs), torch.cat(next_xs)  # (T*N, *obs)
            flat_actions = torch.cat(actions)
            with torch.no_grad():
                old_log_prob = self.actor(flat_x).log_prob(flat_actions)  # (T*N,)
                values = self.critic(flat_x)
                next_values = self.critic(flat_next).view(T, n)
            advantages = gae(torch.stack(rewards), values.view(T, n), next_values,
                             torch.stack(terminated), torch.stack(ends), cfg.gamma,
                             cfg.gae_lambda).reshape(-1)
            returns = advantages + values
            # 3. num_epochs passes of minibatch steps on the clipped objective
            if cfg.anneal_lr:
                self.optimizer.param_groups[0]["lr"] = cfg.lr * (1.0 - it / iterations)
            self.update(flat_x, flat_actions, old_log_prob, advantages, returns, values)
        venv.close()
        return self

    def update(self, x: torch.Tensor, actions: torch.Tensor, old_log_prob: torch.Tensor,
               advantages: torch.Tensor, returns: torch.Tensor,
               old_values: torch.Tensor) -> dict[str, float]:
        """Minibatch epochs over one rollout (all (B, ...) tensors, B = num_envs * n_steps)."""
        cfg = self.cfg
        size = len(x)
        batch = min(cfg.batch_size, size)
        stats: dict[str, float] = {}
        for _ in range(cfg.num_epochs):
            order = torch.randperm(size, generator=self.generator, device=self.device)
            for lo in range(0, size - batch + 1, batch):
                idx = order[lo:lo + batch]
                dist = self.actor(x[idx])
                log_prob = dist.log_prob(actions[idx])
                adv = advantages[idx]
                if cfg.normalize_advantages and len(adv) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = clipped_surrogate(log_prob, old_log_prob[idx], adv, cfg.clip_eps)
                v_loss = value_loss(self.critic(x[idx]), old_values[idx], returns[idx],
                                    cfg.clip_eps if cfg.clip_value else None)
                entropy = dist.entropy().mean()
                loss = policy_loss + cfg.vf_coef * v_loss - cfg.ent_coef * entropy
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = log_prob - old_log_prob[idx]
                    approx_kl = float(((log_ratio.exp() - 1) - log_ratio).mean())
                stats = {"policy_loss": policy_loss.item(), "value_loss": v_loss.item(),
                         "entropy": entropy.item(), "approx_kl": approx_kl}
            if cfg.target_kl is not None and stats.get("approx_kl", 0.0) > cfg.target_kl:
                break
        return stats

    # -- what it learned -------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"actor.{k}": v for k, v in self.actor.state_dict().items()},
                **{f"critic.{k}": v for k, v in self.critic.state_dict().items()},
                "obs_rms.mean": torch.from_numpy(self.obs_rms.mean),
                "obs_rms.var": torch.from_numpy(self.obs_rms.var),
                "obs_rms.count": torch.tensor(float(self.obs_rms.count), dtype=torch.float64),
                "ret_rms.var": torch.from_numpy(self.ret_rms.var)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for prefix, module in (("actor.", self.actor), ("critic.", self.critic)):
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                                    if k.startswith(prefix)})
        self.obs_rms.mean = tensors["obs_rms.mean"].numpy().copy()
        self.obs_rms.var = tensors["obs_rms.var"].numpy().copy()
        self.obs_rms.count = float(tensors["obs_rms.count"])
        self.ret_rms.var = tensors["ret_rms.var"].numpy().copy()
