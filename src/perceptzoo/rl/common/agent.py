"""What every agent shares: `save` / `load` (safetensors + JSON, no pickle) and evaluation.

An agent keeps its config dataclass in `self.cfg`, its registry name in the class attribute
`name`, and lists what it learned in `state_tensors()` (network weights, Q tables, policies).
`save(path)` writes `path/config.json` (the format of a perceptzoo run folder) and
`path/model.safetensors`; `Agent.load(path)` rebuilds it from them.

    agent = perceptzoo.build("q_learning", env_id="Taxi-v4").learn(None, 50_000)
    agent.save("runs/q")
    again = load_agent("runs/q")
    evaluate_agent(again, num_episodes=100, seed=0)  # {"mean_return": ..., "std_return": ...}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from perceptzoo.core.config import from_dict, to_dict
from perceptzoo.errors import UserError
from perceptzoo.core.runs import CONFIG, WEIGHTS, RunDir
from perceptzoo.io import atomic_write, write_json
from perceptzoo.rl.common.envs import make_env


class Agent:
    """The act / learn / save / load contract (DESIGN.md, RL agents), one level deep."""

    name: str = ""
    cfg: Any

    # -- to override -----------------------------------------------------------------------
    def act(self, obs: Any, *, deterministic: bool = False) -> Any:
        raise NotImplementedError

    def learn(self, env: Any = None, total_steps: int = 0, *,
              callback: Callable[[dict], Any] | None = None) -> Agent:
        """Train for `total_steps` environment steps (0: the config's `total_steps`).

        `env`: None makes `cfg.env_id`; `callback(info)` is called after every episode with
        {"step", "episode_return"} and stops training by returning True.
        """
        raise NotImplementedError

    def state_tensors(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def make_env(self, seed: int | None = None) -> Any:
        return make_env(self.cfg.env_id, seed=seed, pixels=getattr(self.cfg, "pixels", False),
                        **getattr(self.cfg, "env_kwargs", {}))

    def save(self, path: str | Path, extra_config: dict | None = None) -> Path:
        """Write config.json and model.safetensors into the folder `path`."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = {"model": self.name, "family": "rl", "dataset": self.cfg.env_id,
                  "model_config": to_dict(self.cfg), **(extra_config or {})}
        write_json(path / CONFIG, config)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_tensors().items()}
        atomic_write(path / WEIGHTS, lambda tmp: save_file(tensors, tmp))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Agent:
        config = RunDir(path).read_config()
        try:
            cfg = from_dict(cls.config_class(), config.get("model_config", {}))
        except UserError as err:
            raise UserError(f"{path}/config.json does not fit agent {cls.name}: {err}") from None
        agent = cls(cfg)
        file = Path(path) / WEIGHTS
        if not file.exists():
            raise UserError(f"{path} has no {WEIGHTS}: the run did not finish; train it again")
        try:
            agent.load_state_tensors(load_file(str(file)))
        except Exception as err:
            raise UserError(f"{file} is corrupt or does not match config.json ({err}); "
                            "retrain the run") from None
        return agent

    @classmethod
    def config_class(cls) -> type:
        from perceptzoo.core.registry import get_spec

        return get_spec(cls.name).config_class


def load_agent(path: str | Path) -> Agent:
    """Any agent from its folder, by the registry name in its config.json."""
    from perceptzoo.core.registry import get_spec

    spec = get_spec(RunDir(path).read_config()["model"])
    return spec.model_class.load(path)


def rollout(agent: Agent, env: Any, *, seed: int, deterministic: bool = True,
            max_steps: int | None = None, render: Callable[[Any], Any] | None = None) -> dict:
    """One episode: its return, length, and (if `render`) one frame per step."""
    obs, _ = env.reset(seed=seed)
    total, steps, frames = 0.0, 0, []
    while True:
        if render is not None:
            frames.append(render(env))
        action = agent.act(obs, deterministic=deterministic)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        steps += 1
        if terminated or truncated or (max_steps is not None and steps >= max_steps):
            break
    if render is not None:
        frames.append(render(env))
    return {"return": total, "length": steps, "frames": frames}


def evaluate_agent(agent: Agent, env_id: str | None = None, *, num_episodes: int = 10,
                   seed: int = 0, deterministic: bool = True) -> dict[str, Any]:
    """Run `num_episodes` episodes seeded seed, seed+1, ...; mean ± std of the return."""
    env = make_env(env_id, seed=seed) if env_id else agent.make_env(seed)
    returns, lengths = [], []
    for i in range(num_episodes):
        episode = rollout(agent, env, seed=seed + i, deterministic=deterministic)
        returns.append(episode["return"])
        lengths.append(episode["length"])
    env.close()
    returns_arr = np.asarray(returns)
    return {"mean_return": float(returns_arr.mean()), "std_return": float(returns_arr.std()),
            "mean_length": float(np.mean(lengths)), "num_episodes": num_episodes,
            "returns": returns}


def config_dict(agent: Agent) -> dict:
    return dataclasses.asdict(agent.cfg)
