"""DeepMimic-style imitation on the planar character: tracking error against the reference clip.

    python benchmarks/rl_imitation.py [steps]       # default 600k steps, a few CPU minutes

Trains `deepmimic` (actor-critic + GAE, RSI, early termination, strike goal) and scores the
deterministic policy over full episodes from phase 0 (no RSI, no early termination, 120 steps =
two cycles of the clip), against two controllers that do not learn: PD servos aimed at the
clip's next pose ("reference_pd") and mid-range targets ("zero"). Also records the strike hit
rate over 50 seeded episodes and writes a strip of frames and a GIF of the tracked motion
(grey: reference pose, blue: character, red: strike target).

Writes benchmarks/results/deepmimic-PlanarMimic-v0.json, benchmarks/figures/rl_deepmimic_*.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, write_result  # noqa: E402

import perceptzoo  # noqa: E402
from perceptzoo.rl.common.agent import load_agent  # noqa: E402
from perceptzoo.rl.common.curves import plot_curves  # noqa: E402
from perceptzoo.rl.common.envs import make_env  # noqa: E402
from perceptzoo.rl.imitation.deepmimic import tracking_error  # noqa: E402

torch.set_num_threads(1)
FIGURES = Path(__file__).resolve().parent / "figures"
RUN = WORK / "rl_deepmimic"


def strike_hits(agent, episodes: int = 50) -> float:
    env = make_env("perceptzoo/PlanarMimic-v0", rsi=True, early_termination=False)
    hits = 0
    for i in range(episodes):
        obs, _ = env.reset(seed=10_000 + i)
        while True:
            obs, _, term, trunc, info = env.step(agent.act(obs, deterministic=True))
            if term or trunc:
                hits += bool(info["hit"])
                break
    return hits / episodes


def frames(agent, steps: int = 60) -> list[np.ndarray]:
    env = make_env("perceptzoo/PlanarMimic-v0", rsi=False, early_termination=False,
                   episode_steps=steps)
    obs, _ = env.reset(seed=0)
    out = [env.unwrapped.render_frame()]
    for _ in range(steps - 1):
        obs, *_ = env.step(agent.act(obs, deterministic=True))
        out.append(env.unwrapped.render_frame())
    return out


def main(steps: int) -> None:
    start = time.time()
    if (RUN / "model.safetensors").exists():
        agent = load_agent(RUN)
        wall = float((RUN / "train_wall_s.txt").read_text())
    else:
        agent = perceptzoo.build("deepmimic", seed=0)
        agent.learn(None, steps)
        wall = time.time() - start
        agent.save(RUN)
        (RUN / "train_wall_s.txt").write_text(str(wall))
        agent.curve.write(RUN / "curve")
        x, y = agent.curve.xy()
        plot_curves({"deepmimic": (x, y)}, FIGURES / "rl_deepmimic_returns.png",
                    smooth=50, title="PlanarMimic (episode return, RSI + ET)")
    scores = {p: tracking_error(agent, episode_steps=120, policy=p)
              for p in ("agent", "reference_pd", "zero")}
    hit_rate = strike_hits(agent)
    images = frames(agent)
    strip = np.concatenate([images[i] for i in range(0, 60, 6)], axis=1)
    Image.fromarray(strip).save(FIGURES / "rl_deepmimic_strip.png")
    gif = [Image.fromarray(f).resize((96, 96)) for f in images[::2]]
    gif[0].save(FIGURES / "rl_deepmimic.gif", save_all=True, append_images=gif[1:], duration=66,
                loop=0)
    metrics = {
        "mean_joint_error_rad": scores["agent"]["mean_joint_error_rad"],
        "mean_joint_error_deg": float(np.degrees(scores["agent"]["mean_joint_error_rad"])),
        "mean_hand_error_m": scores["agent"]["mean_hand_error_m"],
        "mean_imitation_reward": scores["agent"]["mean_imitation_reward"],
        "strike_hit_rate": hit_rate,
        "reference_pd_mean_joint_error_rad": scores["reference_pd"]["mean_joint_error_rad"],
        "reference_pd_mean_hand_error_m": scores["reference_pd"]["mean_hand_error_m"],
        "zero_action_mean_joint_error_rad": scores["zero"]["mean_joint_error_rad"],
        "train_steps": steps, "eval_episode_steps": 120,
    }
    print(write_result("deepmimic", "PlanarMimic-v0", None,
                       config={k: v for k, v in vars(agent.cfg).items()}, metrics=metrics,
                       wall_time_s=wall,
                       notes="planar 3-link character simulated by the project (MuJoCo was not "
                       "used); the figure to compare with is the untrained PD servo on the "
                       "reference pose"), metrics)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 600_000)
