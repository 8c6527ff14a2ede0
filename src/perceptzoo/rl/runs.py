"""RL run folders for the CLI: train, evaluate, sample, load (see `core.registry.family_runs`).

    perceptzoo train dqn --dataset CartPole-v1 --steps 50000   # dataset = Gymnasium env id
    perceptzoo eval runs/dqn-CartPole-v1 --num-samples 20      # 20 seeded episodes
    perceptzoo sample runs/dqn-CartPole-v1 --out rollout.png   # trajectory plot + returns

A run folder holds config.json (agent name, config, env id), model.safetensors (networks or
tables, never a pickle), metrics.jsonl, and the training curve as curve.csv, curve.json and
curve.png. Evaluation episodes are seeded: the test split uses seeds 10_000, 10_001, ...;
train and valid use 0.. and 5_000.., so a run is never scored on the seeds it trained on.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from perceptzoo.core.registry import get_spec, make_config
from perceptzoo.core.runs import RunDir
from perceptzoo.rl.common.agent import Agent, evaluate_agent, load_agent, rollout
from perceptzoo.rl.common.curves import plot_curves

SPLIT_SEEDS = {"train": 0, "valid": 5_000, "test": 10_000}
#: Episodes an evaluation runs at most for agents with networks (tables are cheap).
MAX_DEEP_EPISODES = 100


def train(name: str, *, dataset: str | None, out: str | Path | None, steps: int | None,
          seed: int | None, overrides: dict, data_dir: str | None = None) -> Path:
    spec = get_spec(name)
    env_id = dataset or spec.default_dataset
    values: dict[str, Any] = {"env_id": env_id, **overrides}
    fields = {f.name for f in dataclasses.fields(spec.config_class)}
    if seed is not None and "seed" in fields:
        values["seed"] = seed
    cfg = make_config(name, None, **values)
    agent = spec.model_class(cfg)
    out = Path(out or Path("runs") / f"{name}-{env_id.replace('/', '_')}")
    start = time.time()
    agent.learn(None, steps or 0)
    wall = time.time() - start
    agent.save(out, extra_config={"train_steps": steps, "seed": seed})
    run = RunDir(out)
    record: dict[str, Any] = {"step": int(steps or getattr(cfg, "total_steps", 0)),
                              "train_wall_time_s": round(wall, 2)}
    result = getattr(agent, "result", None)
    if result is not None:
        record["iterations"] = result.iterations
    curve = getattr(agent, "curve", None)
    if curve is not None and curve.rows:
        curve.write(out / "curve")
        x, y = curve.xy()
        plot_curves({name: (x, y)}, out / "curve.png", title=env_id,
                    smooth=max(1, len(y) // 50))
        record["last_100_episodes_mean_return"] = float(y[-100:].mean())
    run.append_metrics(record)
    return out


def evaluate(run_dir: str | Path, *, split: str = "test", num_samples: int = 100) -> dict:
    agent = load_agent(run_dir)
    episodes = max(1, num_samples or 10)
    if hasattr(agent, "state_tensors") and not _is_tabular(agent):
        episodes = min(episodes, MAX_DEEP_EPISODES)
    stats = evaluate_agent(agent, num_episodes=episodes, seed=SPLIT_SEEDS.get(split, 10_000))
    returns = np.asarray(stats.pop("returns"))
    if agent.cfg.env_id.startswith("FrozenLake"):
        stats["success_rate"] = float((returns > 0).mean())
    values = getattr(agent, "values", None)
    if values is not None and _is_tabular(agent):
        stats["start_state_value"] = float(values[0]) if len(values) else float("nan")
    RunDir(run_dir).append_metrics({"step": -1, "split": split, **stats})
    return stats


def sample(run_dir: str | Path, *, num_samples: int = 1, out: str | Path = "rollout.png",
           seed: int = 0) -> str:
    """Roll out episodes: a PNG (grid path, character strip, or observation traces) + JSON."""
    agent = load_agent(run_dir)
    env = agent.make_env(seed)
    out = Path(out)
    episodes, frames = [], []
    render = getattr(env.unwrapped, "render_frame", None)
    for i in range(min(num_samples, 16)):
        states: list[Any] = []

        def record(e, states=states):
            states.append(e.unwrapped.render_frame() if render else _observation(e))
            return None

        episode = rollout(agent, env, seed=seed + i, render=record)
        episodes.append({"seed": seed + i, "return": episode["return"],
                         "length": episode["length"]})
        if i == 0:
            frames = states
    env.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    if render:
        _frame_strip(frames, out)
    elif hasattr(env.unwrapped, "desc") or hasattr(env.unwrapped, "_cliff"):
        _grid_path(env.unwrapped, frames, out)
    else:
        traces = np.asarray([np.ravel(f) for f in frames], float)  # (T, obs_dim)
        series = {f"obs[{d}]": (np.arange(len(traces)), traces[:, d])
                  for d in range(min(traces.shape[1], 8))}
        plot_curves(series, out, title=f"{agent.cfg.env_id}, seed {seed}", xlabel="time step",
                    ylabel="observation")
    summary = out.with_suffix(".json")
    summary.write_text(json.dumps({"env_id": agent.cfg.env_id, "episodes": episodes}, indent=1))
    mean = np.mean([e["return"] for e in episodes])
    return f"wrote {out} and {summary} ({len(episodes)} episodes, mean return {mean:.2f})"


def load(run_dir: str | Path) -> Agent:
    return load_agent(run_dir)


def _is_tabular(agent: Agent) -> bool:
    return type(agent).__module__.startswith("perceptzoo.rl.tabular")


def _observation(env: Any) -> Any:
    base = env.unwrapped
    for attr in ("s", "state"):
        if hasattr(base, attr):
            return np.asarray(getattr(base, attr), float).copy()
    return np.zeros(1)


def _grid_path(base: Any, states: list, out: Path, cell: int = 24) -> None:
    """Draw a grid world and the visited cells (numbered by first visit)."""
    if hasattr(base, "desc"):
        desc = np.asarray(base.desc).astype(str)
    else:
        desc = np.where(np.asarray(base._cliff), "H", "F").astype(str)
        desc[-1, -1], desc[-1, 0] = "G", "S"
    h, w = desc.shape
    image = Image.new("RGB", (w * cell, h * cell), "white")
    draw = ImageDraw.Draw(image)
    colours = {"H": (60, 60, 60), "G": (80, 180, 80), "S": (120, 160, 220), "F": (235, 240, 250)}
    for r in range(h):
        for c in range(w):
            draw.rectangle([c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1],
                           fill=colours.get(desc[r, c], "white"), outline=(200, 200, 200))
    points = [((int(s) % w + 0.5) * cell, (int(s) // w + 0.5) * cell)
              for s in np.ravel(states).astype(int)]
    if len(points) > 1:
        draw.line(points, fill=(214, 39, 40), width=3)
    image.save(out)


def _frame_strip(frames: list, out: Path, max_frames: int = 12) -> None:
    idx = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    chosen = [frames[i] for i in idx]
    h, w = chosen[0].shape[:2]
    strip = np.full((h, w * len(chosen), 3), 255, np.uint8)
    for k, f in enumerate(chosen):
        strip[:, k * w:(k + 1) * w] = f
    Image.fromarray(strip).save(out)
