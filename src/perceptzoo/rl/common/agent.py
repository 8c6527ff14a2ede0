"""What every agent shares: the runner's agent contract (`perceptzoo.core.contracts.Agent`).

An agent keeps its config dataclass in `self.cfg`, its registry name in the class attribute
`name`, and lists what it learned in `state_tensors()` (network weights, Q tables, policies).
The one run path, `perceptzoo.core.runner`, builds it from its config, calls `learn`, saves
`state_tensors()` into the run folder, and then calls the methods below:

- `training_summary(run_path)`: the training curve as curve.csv, curve.json and curve.png in
  the run folder; returns the figures added to the end-of-training metrics record;
- `evaluate_episodes(num_episodes, seed)`: mean and std of the return over episodes seeded
  seed, seed + 1, ... (the runner's split seeds: a run is never scored on its training seeds);
- `write_rollouts(out, *, num_episodes, seed)`: a picture of an episode (rendered frames, the
  path on a grid world, or the observation traces) and a JSON of every episode's return.

    from perceptzoo.core import runner
    run = runner.train("q_learning", dataset="Taxi-v4", train_config={"steps": 50_000})
    runner.evaluate(run, split="test", num_episodes=100)   # {"mean_return": ..., ...}
    agent = runner.load(run)

An agent trained by hand (`learn` with a callback) is written with `agent.save(path)` into the
same run folder format, which `runner.load` / `runner.evaluate` read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from perceptzoo.core.runs import CONFIG
from perceptzoo.io import write_json
from perceptzoo.rl.common.curves import Curve
from perceptzoo.rl.common.envs import make_env
from perceptzoo.viz.curves import plot_curves
from perceptzoo.viz.rollouts import frame_strip, grid_path, observation_traces

#: Episodes `write_rollouts` plays at most (each is one JSON row; the picture shows the first).
MAX_ROLLOUT_EPISODES = 16


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block (network initialisation) from torch's CPU RNG seeded with `seed`, then
    restore the global RNG: constructors never reseed it for the caller."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class Agent:
    """The act / learn / state-tensors contract plus evaluation, rollouts and summaries."""

    name: str = ""
    cfg: Any
    curve: Curve | None = None

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

    def evaluate_episodes(self, num_episodes: int, seed: int) -> dict[str, float]:
        """Greedy play over `num_episodes` episodes seeded seed, seed + 1, ...

        Returns mean_return, std_return, mean_length, num_episodes; FrozenLake adds
        success_rate, a planner adds start_state_value (its v* at the first episode's start).
        """
        stats = evaluate_agent(self, num_episodes=max(1, int(num_episodes)), seed=seed)
        returns = np.asarray(stats.pop("returns"))
        if self.cfg.env_id.startswith("FrozenLake"):
            stats["success_rate"] = float((returns > 0).mean())
        values = getattr(self, "values", None)
        if isinstance(values, np.ndarray) and len(values):
            env = self.make_env(seed)
            start, _ = env.reset(seed=seed)
            env.close()
            stats["start_state_value"] = float(values[int(start)])
        return stats

    def write_rollouts(self, out: str | Path, *, num_episodes: int = 1, seed: int = 0) -> str:
        """Play up to 16 greedy episodes seeded seed, seed + 1, ...; draw the first into `out`
        (a PNG) and write every episode's return and length to `out` with suffix .json."""
        env = self.make_env(seed)
        out = Path(out)
        base = env.unwrapped
        render = getattr(base, "render_frame", None)
        episodes, first = [], []
        for i in range(max(1, min(int(num_episodes), MAX_ROLLOUT_EPISODES))):
            states: list[Any] = []

            def record(e: Any, states: list = states) -> None:
                states.append(e.unwrapped.render_frame() if render else _observation(e))

            episode = rollout(self, env, seed=seed + i, render=record)
            episodes.append({"seed": seed + i, "return": episode["return"],
                             "length": episode["length"]})
            if i == 0:
                first = states
        env.close()
        if render:
            frame_strip(first, out)
        elif _grid_desc(base) is not None:
            grid_path(_grid_desc(base), first, out)
        else:
            observation_traces(np.asarray(first), out, title=f"{self.cfg.env_id}, seed {seed}")
        summary = out.with_suffix(".json")
        write_json(summary, {"env_id": self.cfg.env_id, "episodes": episodes})
        mean = np.mean([e["return"] for e in episodes])
        return f"wrote {out} and {summary} ({len(episodes)} episodes, mean return {mean:.2f})"

    def training_summary(self, run_path: str | Path) -> dict[str, Any]:
        """Write the training curve (curve.csv, curve.json, curve.png) into `run_path`; return
        the figures of the end-of-training record (episodes, mean return of the last 100,
        planner iterations)."""
        record: dict[str, Any] = {}
        result = getattr(self, "result", None)
        if result is not None and hasattr(result, "iterations"):
            record["iterations"] = int(result.iterations)
        curve = self.curve
        if curve is not None and curve.rows:
            run_path = Path(run_path)
            curve.write(run_path / "curve")
            x, y = curve.xy()
            plot_curves({self.name: (x, y)}, run_path / "curve.png", title=self.cfg.env_id,
                        smooth=max(1, len(y) // 50))
            record["episodes"] = len(y)
            record["last_100_episodes_mean_return"] = float(y[-100:].mean())
        return record

    def save(self, path: str | Path) -> Path:
        """Write this agent into a run folder (the runner's format: config.json,
        model.safetensors, a train record): for agents trained by hand, e.g. with a callback.
        `perceptzoo.core.runner.load(path)` rebuilds it; `runner.evaluate(path)` scores it."""
        from perceptzoo.core import registry, runner
        from perceptzoo.core.runs import RunDir
        from perceptzoo.core.trainer import TrainConfig

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        run = RunDir(path)
        spec = registry.get_spec(self.name)
        steps = int(self.curve.rows[-1]["step"]) if self.curve is not None and self.curve.rows \
            else 0
        train = TrainConfig(steps=max(1, steps or getattr(self.cfg, "total_steps", 1)),
                            seed=int(getattr(self.cfg, "seed", 0)),
                            device=str(getattr(self.cfg, "device", "auto")), progress=False)
        if (path / CONFIG).exists():
            (path / "metrics.jsonl").unlink(missing_ok=True)  # a new save replaces the old one
        run.write_config(runner.run_config(spec, self.cfg.env_id, None, self.cfg, train))
        run.save_tensors(self.state_tensors())
        run.append_metrics({"step": steps, "kind": "train", **self.training_summary(path)})
        return path


def _observation(env: Any) -> np.ndarray:
    base = env.unwrapped
    for attr in ("s", "state"):
        if hasattr(base, attr):
            return np.asarray(getattr(base, attr), float).copy()
    return np.zeros(1)


def _grid_desc(base: Any) -> np.ndarray | None:
    """The letters S/F/H/G of a grid world (FrozenLake's desc, CliffWalking's cliff)."""
    if hasattr(base, "desc"):
        return np.asarray(base.desc).astype(str)
    if hasattr(base, "_cliff"):
        desc = np.where(np.asarray(base._cliff), "H", "F").astype(str)
        desc[-1, -1], desc[-1, 0] = "G", "S"
        return desc
    return None


def rollout(agent: Any, env: Any, *, seed: int, deterministic: bool = True,
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


def evaluate_agent(agent: Any, env_id: str | None = None, *, num_episodes: int = 10,
                   seed: int = 0, deterministic: bool = True) -> dict[str, Any]:
    """Run `num_episodes` episodes seeded seed, seed+1, ...; mean and std of the return and
    the list of returns. `agent`: anything with `act(obs, *, deterministic)` (and `make_env`
    unless `env_id` is given), e.g. a wrapper over another library's policy."""
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
