"""DQN: deep Q-learning with experience replay and a target network (Mnih et al., Nature 2015).

A network Q(s, a; theta) is regressed onto the one-step Q-learning target computed with a
periodically copied target network theta^-, on minibatches drawn uniformly from a replay
buffer of past transitions (Algorithm 1 of the paper):

    y = r + gamma (1 - terminated) max_a' Q(s', a'; theta^-)          (no gradient flows into y)
    L(theta) = E_{(s,a,r,s') ~ D} [ l(y - Q(s, a; theta)) ]

with l the squared error or the Huber loss (the paper's error clipping to [-1, 1]). Only
Q(s, a; theta) is differentiated: `td_target` runs under `torch.no_grad`. The behaviour is
epsilon-greedy with epsilon annealed linearly. Image observations (C, H, W) go through a conv
state encoder (`common.networks.ConvEncoder`), vectors through an MLP; `double=True` picks
a' with the online network (van Hasselt et al. 2016).

    >>> import perceptzoo
    >>> agent = perceptzoo.build("dqn", env_id="CartPole-v1")
    >>> agent = agent.learn(None, total_steps=50_000)                   # doctest: +SKIP
    >>> agent.evaluate_episodes(10, seed=10_000)                        # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.core.trainer import resolve_device
from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp
from perceptzoo.rl.common.agent import Agent, seeded
from perceptzoo.rl.common.buffers import ReplayBuffer
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.networks import encode_obs, make_encoder
from perceptzoo.rl.common.schedules import linear_schedule


class QNetwork(nn.Module):
    """s -> Q(s, .) for every action; (B, *obs) -> (B, num_actions)."""

    def __init__(self, obs_space: spaces.Space, num_actions: int, hidden: tuple[int, ...]):
        super().__init__()
        self.encoder, features = make_encoder(obs_space, hidden, activation=nn.ReLU)
        self.head = mlp([features, num_actions], init="orthogonal")

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(obs))


@dataclass
class DQNConfig:
    env_id: str = "CartPole-v1"
    env_kwargs: dict = field(default_factory=dict)
    """extra gymnasium.make arguments (e.g. {"is_slippery": false})"""
    pixels: bool = False
    """observe a grid world as an image through the conv state encoder"""
    hidden: tuple[int, ...] = (256, 256)
    """MLP widths (for images: the conv encoder's feature size is hidden[-1])"""
    lr: float = 2.3e-3
    gamma: float = 0.99
    buffer_size: int = 100_000
    batch_size: int = 64
    learning_starts: int = 1_000
    train_freq: int = 256
    """environment steps between training phases"""
    gradient_steps: int = 128
    """gradient steps per training phase"""
    target_update_interval: int = 128
    """gradient steps between copies theta -> theta^-"""
    epsilon_start: float = 1.0
    epsilon_final: float = 0.04
    epsilon_decay_steps: int = 8_000
    huber: bool = True
    """Huber loss (the paper's error clipping) instead of the squared error"""
    double: bool = False
    max_grad_norm: float = 10.0
    total_steps: int = 50_000
    seed: int = 0
    """initialises the network (without touching torch's global RNG), the replay sampling,
    the exploration and the first episode's environment seed"""
    device: str = "auto"
    """auto (a GPU if one is visible) | cpu | cuda"""


@register("dqn", DQNConfig, default_dataset="CartPole-v1", family="rl", runner="agent")
class DQN(Agent):
    name = "dqn"

    def __init__(self, cfg: DQNConfig):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        env = self.make_env()
        if not isinstance(env.action_space, spaces.Discrete):
            raise UserError(f"DQN needs discrete actions; {cfg.env_id} has {env.action_space} "
                            "(use reinforce or actor_critic for continuous actions)")
        self.obs_space, self.num_actions = env.observation_space, int(env.action_space.n)
        env.close()
        with seeded(cfg.seed):
            self.q_net = QNetwork(self.obs_space, self.num_actions, cfg.hidden).to(self.device)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        self.params = list(self.q_net.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=cfg.lr, foreach=True)
        self.rng = np.random.default_rng(cfg.seed)
        self.epsilon = cfg.epsilon_start
        self.curve = Curve()
        self.num_updates = 0

    def encode(self, obs: Any) -> torch.Tensor:
        return encode_obs(obs, self.obs_space, self.device)  # (B, *features)

    def act(self, obs: Any, *, deterministic: bool = False) -> int:
        if not deterministic and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.num_actions))
        with torch.no_grad():
            return int(self.q_net(self.encode(obs)).argmax(1)[0])

    # -- the objective ---------------------------------------------------------------------
    @torch.no_grad()
    def td_target(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """y = r + gamma (1 - terminated) max_a' Q_target(s', a'); (B,), no gradient."""
        next_q = self.target_net(batch["next_obs"])  # (B, A)
        if self.cfg.double:
            best = self.q_net(batch["next_obs"]).argmax(1, keepdim=True)
            next_value = next_q.gather(1, best)[:, 0]
        else:
            next_value = next_q.max(1).values
        return batch["rewards"] + self.cfg.gamma * (1.0 - batch["terminated"]) * next_value

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        q = self.q_net(batch["obs"]).gather(1, batch["actions"].long()[:, None])[:, 0]  # (B,)
        y = self.td_target(batch)
        return F.smooth_l1_loss(q, y) if self.cfg.huber else F.mse_loss(q, y)

    def update(self, batch: dict[str, torch.Tensor]) -> float:
        loss = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, self.cfg.max_grad_norm, foreach=True)
        self.optimizer.step()
        self.num_updates += 1
        if self.num_updates % self.cfg.target_update_interval == 0:
            self.target_net.load_state_dict(self.q_net.state_dict())
        return loss.item()

    # -- the loop --------------------------------------------------------------------------
    def learn(self, env: Any = None, total_steps: int = 0, *, callback=None) -> DQN:
        cfg = self.cfg
        env = env if env is not None else self.make_env(cfg.seed)
        total_steps = total_steps or cfg.total_steps
        obs_shape = tuple(self.encode(env.observation_space.sample()).shape[1:])
        buffer = ReplayBuffer(cfg.buffer_size, obs_shape, seed=cfg.seed)
        epsilon = linear_schedule(cfg.epsilon_start, cfg.epsilon_final, cfg.epsilon_decay_steps)
        start = time.time()
        obs, _ = env.reset(seed=cfg.seed)
        x = self.encode(obs)[0].cpu().numpy()
        ret, length = 0.0, 0
        for step in range(1, total_steps + 1):
            self.epsilon = epsilon(step)
            if self.rng.random() < self.epsilon:
                action = int(self.rng.integers(self.num_actions))
            else:
                with torch.no_grad():
                    q = self.q_net(torch.from_numpy(x)[None].to(self.device))
                    action = int(q.argmax(1)[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            x_next = self.encode(obs)[0].cpu().numpy()
            buffer.add(x, action, reward, x_next, terminated)  # truncation still bootstraps
            x, ret, length = x_next, ret + float(reward), length + 1
            if terminated or truncated:
                self.curve.add(step=step, episode_return=ret, episode_length=length,
                               epsilon=round(self.epsilon, 4), time_s=round(time.time() - start, 3))
                if callback is not None and callback({"step": step, "episode_return": ret}):
                    break
                obs, _ = env.reset()
                x = self.encode(obs)[0].cpu().numpy()
                ret, length = 0.0, 0
            if step >= cfg.learning_starts and step % cfg.train_freq == 0:
                for _ in range(cfg.gradient_steps):
                    batch = buffer.sample(cfg.batch_size)
                    self.update({k: v.to(self.device) for k, v in batch.items()})
        return self

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {f"q_net.{k}": v for k, v in self.q_net.state_dict().items()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.q_net.load_state_dict({k[len("q_net."):]: v for k, v in tensors.items()})
        self.target_net.load_state_dict(self.q_net.state_dict())
        self.epsilon = self.cfg.epsilon_final
