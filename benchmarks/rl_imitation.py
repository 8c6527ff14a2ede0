"""DeepMimic-style imitation: tracking error of the trained character against the reference clip.

    python benchmarks/rl_imitation.py [steps] [--env mujoco|planar]   # default 250k, MuJoCo

Trains `deepmimic` (actor-critic + GAE, RSI, early termination, strike goal) on the character
simulated by MuJoCo (`perceptzoo/MujocoMimic-v0`, the default) or by the project's numpy
simulator (`--env planar`, `perceptzoo/PlanarMimic-v0`), and scores the deterministic policy
over full episodes without RSI or early termination (120 steps = two cycles of the clip):
once from phase 0 (the headline figure) and over 10 episodes from random phases (seeds
10_000..), for three training seeds (mean and spread), against two controllers that do not
learn -- PD servos aimed at the clip's next pose ("reference_pd", the PD-only baseline) and
mid-range targets ("zero") -- and against the untrained policy. Also records the strike hit
rate over 50 seeded episodes and draws a strip of frames and a GIF of the tracked motion (seed
0) from the simulator's joint and hand positions (grey: reference pose, blue: character, red:
strike target) with PIL, so no OpenGL context is needed.

Writes benchmarks/results/deepmimic-<Env>-v0-seeds.json (the recipe deepmimic-<Env>-v0 is
one seed through `perceptzoo bench`) and benchmarks/figures/rl_deepmimic-<Env>_*
(the planar run's older figures are benchmarks/figures/rl_deepmimic_*).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, write_result  # noqa: E402

import perceptzoo  # noqa: E402
from perceptzoo.core import runner  # noqa: E402
from perceptzoo.rl.common.envs import make_env  # noqa: E402
from perceptzoo.rl.imitation.deepmimic import MUJOCO_ENV, PLANAR_ENV, tracking_error  # noqa: E402
from perceptzoo.viz.curves import plot_curves  # noqa: E402

torch.set_num_threads(1)
FIGURES = Path(__file__).resolve().parent / "figures"
ENVS = {"mujoco": MUJOCO_ENV, "planar": PLANAR_ENV}
EVAL_STEPS, SEEDS, EVAL_SEEDS = 120, (0, 1, 2), range(10_000, 10_010)


def strike_hits(agent, env_id: str, episodes: int = 50) -> float:
    env = make_env(env_id, rsi=True, early_termination=False)
    hits = 0
    for i in range(episodes):
        obs, _ = env.reset(seed=10_000 + i)
        while True:
            obs, _, term, trunc, info = env.step(agent.act(obs, deterministic=True))
            if term or trunc:
                hits += bool(info["hit"])
                break
    return hits / episodes


def random_phase_errors(agent, env_id: str, policy: str) -> dict[str, float]:
    """Joint and hand errors over 10 full episodes from random phases (RSI on, ET off)."""
    joint, hand = [], []
    for seed in EVAL_SEEDS:
        env = make_env(env_id, rsi=True, early_termination=False, episode_steps=EVAL_STEPS)
        obs, _ = env.reset(seed=seed)
        vec = env.unwrapped.vec
        for _ in range(EVAL_STEPS):
            if policy == "agent":
                action = agent.act(obs, deterministic=True)
            else:  # reference_pd
                nxt = vec.clip.q[(vec.frame[0] + 1) % vec.clip.num_frames]
                action = 2 * (nxt - vec.low) / (vec.high - vec.low) - 1
            obs, _, term, trunc, info = env.step(action)
            joint.append(info["pose_error"])
            hand.append(info["hand_error"])
            if term or trunc:
                break
    return {"joint_deg": float(np.degrees(np.mean(joint))), "hand_cm": float(100 * np.mean(hand))}


def frames(agent, env_id: str, steps: int = 60) -> list[np.ndarray]:
    env = make_env(env_id, rsi=False, early_termination=False, episode_steps=steps)
    obs, _ = env.reset(seed=0)
    out = [env.unwrapped.render_frame()]
    for _ in range(steps - 1):
        obs, *_ = env.step(agent.act(obs, deterministic=True))
        out.append(env.unwrapped.render_frame())
    return out


def train(env_id: str, steps: int, seed: int, tag: str):
    """Train one seed (or load its run folder); returns the agent and its training wall time."""
    run = WORK / f"rl_deepmimic-{env_id.split('/')[1]}-seed{seed}"
    if (run / "model.safetensors").exists():
        return runner.load(run), float((run / "train_wall_s.txt").read_text())
    start = time.time()
    agent = perceptzoo.build("deepmimic", env_id=env_id, seed=seed)
    agent.learn(None, steps)
    wall = time.time() - start
    agent.save(run)
    (run / "train_wall_s.txt").write_text(str(wall))
    agent.curve.write(run / "curve")
    if seed == SEEDS[0]:
        x, y = agent.curve.xy()
        plot_curves({"deepmimic": (x, y)}, FIGURES / f"{tag}_returns.png", smooth=50,
                    title=f"{env_id.split('/')[1]} (episode return, RSI + ET), seed {seed}")
    return agent, wall


def score(agent, env_id: str) -> dict[str, float]:
    """The trained policy's tracking errors (deg, cm) and strike hit rate."""
    phase0 = tracking_error(agent, episode_steps=EVAL_STEPS)
    random_phase = random_phase_errors(agent, env_id, "agent")
    return {"mean_joint_error_deg": float(np.degrees(phase0["mean_joint_error_rad"])),
            "mean_hand_error_cm": float(100 * phase0["mean_hand_error_m"]),
            "mean_imitation_reward": phase0["mean_imitation_reward"],
            "random_phase_mean_joint_error_deg": random_phase["joint_deg"],
            "random_phase_mean_hand_error_cm": random_phase["hand_cm"],
            "strike_hit_rate": strike_hits(agent, env_id)}


def main(steps: int, env: str) -> None:
    env_id = ENVS[env]
    short = env_id.split("/")[1]                 # MujocoMimic-v0
    tag = f"rl_deepmimic-{short.split('-')[0]}"  # figure prefix
    per_seed, walls, agents = {}, [], {}
    for seed in SEEDS:
        agents[seed], wall = train(env_id, steps, seed, tag)
        walls.append(wall)
        per_seed[seed] = score(agents[seed], env_id)
    agent = agents[SEEDS[0]]
    baselines = {p: tracking_error(agent, episode_steps=EVAL_STEPS, policy=p)
                 for p in ("reference_pd", "zero")}
    baselines["untrained"] = tracking_error(
        perceptzoo.build("deepmimic", env_id=env_id, seed=SEEDS[0]), episode_steps=EVAL_STEPS)
    pd_random_phase = random_phase_errors(agent, env_id, "reference_pd")
    images = frames(agent, env_id)
    strip = np.concatenate([images[i] for i in range(0, 60, 6)], axis=1)
    Image.fromarray(strip).save(FIGURES / f"{tag}_strip.png")
    gif = [Image.fromarray(f).resize((96, 96)) for f in images[::2]]
    gif[0].save(FIGURES / f"{tag}.gif", save_all=True, append_images=gif[1:], duration=66,
                loop=0)

    def deg(p):
        return float(np.degrees(baselines[p]["mean_joint_error_rad"]))

    def cm(p):
        return float(100 * baselines[p]["mean_hand_error_m"])

    metrics: dict = {}
    for key in per_seed[SEEDS[0]]:  # mean and spread over the training seeds
        values = np.array([per_seed[s][key] for s in SEEDS])
        metrics[key] = float(values.mean())
        metrics[f"{key}_std_over_seeds"] = float(values.std())
    metrics.update({
        "reference_pd_mean_joint_error_deg": deg("reference_pd"),
        "reference_pd_mean_hand_error_cm": cm("reference_pd"),
        "reference_pd_random_phase_mean_joint_error_deg": pd_random_phase["joint_deg"],
        "reference_pd_random_phase_mean_hand_error_cm": pd_random_phase["hand_cm"],
        "untrained_mean_joint_error_deg": deg("untrained"),
        "untrained_mean_hand_error_cm": cm("untrained"),
        "zero_action_mean_joint_error_deg": deg("zero"),
        "per_seed": {str(s): per_seed[s] for s in SEEDS},
        "train_steps": steps, "train_seeds": list(SEEDS), "eval_episode_steps": EVAL_STEPS,
        "eval_seeds": [0, *EVAL_SEEDS],
        "train_wall_time_s_per_seed": [round(w, 1) for w in walls],
    })
    simulator = ("MuJoCo (mujoco bindings, MJCF written by the project; implicitfast at 300 Hz)"
                 if env == "mujoco" else "the project's numpy simulator (MuJoCo not used)")
    print(write_result("deepmimic", short, "seeds", config=dict(vars(agent.cfg)), metrics=metrics,
                       wall_time_s=float(np.mean(walls)),
                       notes=f"planar 3-link arm simulated by {simulator}; errors are means over "
                       "a 120-step episode from phase 0 without RSI or early termination (and "
                       "over 10 episodes from random phases), averaged over the training seeds; "
                       "wall_time_s is the training time of one seed; the baseline to beat is "
                       "the untrained PD servo aimed at the clip's next pose (reference_pd)"),
          metrics)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("steps", nargs="?", type=int, default=250_000)
    parser.add_argument("--env", choices=sorted(ENVS), default="mujoco")
    args = parser.parse_args()
    main(args.steps, args.env)
