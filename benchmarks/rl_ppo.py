"""PPO on CartPole-v1 and Pendulum-v1, beside stable-baselines3's PPO with the same settings.

    python benchmarks/rl_ppo.py cartpole [SEEDS]     # ours and SB3, 100k steps per seed
    python benchmarks/rl_ppo.py pendulum [SEEDS]     # ours and SB3, PENDULUM_STEPS per seed
    python benchmarks/rl_ppo.py pendulum 0,1 sb3     # only SB3 (or: ours) for seeds 0 and 1
    python benchmarks/rl_ppo.py report               # result JSONs from the finished runs

Ours trains through the one run path (`runner.train("ppo", ...)`, scored by `runner.evaluate`
on the test split: 20 greedy episodes seeded 10_000..10_019); SB3's PPO gets the same
hyper-parameters (separate 64-64 tanh actor and critic, orthogonal init, Adam eps 1e-5, the same
rollout size, minibatch, epochs, gamma, lambda, clip, learning rate and its schedule; on
Pendulum its VecNormalize with the same gamma and clips as our normalisers) and is scored on the
same episodes through `evaluate_agent`. Both run on one torch thread in the same process, one
after the other per seed, so they share the machine's load; time is counted as process CPU time
(the shared 2-core machine's wall time depends on what else runs) and also recorded as wall time.

"Steps to solve" CartPole: the first environment step at which the mean return of the last 20
training episodes (the stochastic policy) reaches 475. Each finished run is stored under
benchmarks/work/rl_ppo/ and skipped when rerun, so the script resumes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, write_result  # noqa: E402

from perceptzoo.core import runner  # noqa: E402
from perceptzoo.rl.common.agent import evaluate_agent  # noqa: E402

torch.set_num_threads(1)
OUT = WORK / "rl_ppo"
SEEDS = [0, 1, 2, 3, 4]
EVAL_EPISODES = 20
EVAL_SEED = runner.SPLIT_SEEDS["test"]
THRESHOLD = 475.0
CARTPOLE_STEPS = 100_000
PENDULUM_STEPS = 100_000
# rl-baselines3-zoo's tuned PPO settings (CartPole-v1; Pendulum-v1 without gSDE), both libraries
CARTPOLE = dict(num_envs=8, n_steps=32, batch_size=256, num_epochs=20, gamma=0.98,
                gae_lambda=0.8, lr=1e-3, anneal_lr=True, clip_eps=0.2, ent_coef=0.0,
                hidden=(64, 64))
PENDULUM = dict(num_envs=4, n_steps=1024, batch_size=64, num_epochs=10, gamma=0.9,
                gae_lambda=0.95, lr=1e-3, anneal_lr=False, clip_eps=0.2, ent_coef=0.0,
                normalize_obs=True, normalize_reward=True, hidden=(64, 64), use_sde=True,
                sde_sample_freq=4)
TASKS = {"CartPole-v1": (CARTPOLE, CARTPOLE_STEPS), "Pendulum-v1": (PENDULUM, PENDULUM_STEPS)}


def steps_to_solve(curve: list[tuple[int, float]], window: int = 20) -> int | None:
    """First step at which the mean of the last `window` episode returns reaches THRESHOLD."""
    returns = [r for _, r in curve]
    for i in range(window - 1, len(curve)):
        if np.mean(returns[i - window + 1:i + 1]) >= THRESHOLD:
            return int(curve[i][0])
    return None


def run_ours(env_id: str, seed: int) -> dict:
    path = OUT / f"ours-{env_id}-{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    cfg, steps = TASKS[env_id]
    run = OUT / f"ppo-{env_id}-{seed}"
    if run.exists():  # an interrupted run: start it again
        import shutil

        shutil.rmtree(run)
    cpu, wall = time.process_time(), time.time()
    runner.train("ppo", dataset=env_id, out=run, model_overrides=dict(cfg),
                 train_config={"steps": steps, "seed": seed, "device": "cpu"})
    cpu, wall = time.process_time() - cpu, time.time() - wall
    stats = runner.evaluate(run, split="test", num_episodes=EVAL_EPISODES, device="cpu")
    rows = json.loads((run / "curve.json").read_text())
    record = {"algo": "ppo", "seed": seed, "steps": steps, "cpu_s": cpu, "wall_s": wall,
              "eval_mean_return": stats["mean_return"], "eval_std_return": stats["std_return"],
              "curve": [[r["step"], r["episode_return"]] for r in rows]}
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return record


def run_sb3(env_id: str, seed: int) -> dict:
    """stable-baselines3's PPO with the same settings; episode returns from its Monitor."""
    path = OUT / f"sb3-{env_id}-{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    cfg, steps = TASKS[env_id]
    venv = make_vec_env(env_id, n_envs=cfg["num_envs"], seed=seed)
    if cfg.get("normalize_obs"):
        venv = VecNormalize(venv, gamma=cfg["gamma"], clip_obs=10.0, clip_reward=10.0)
    lr = cfg["lr"]
    model = PPO("MlpPolicy", venv, learning_rate=(lambda f: lr * f) if cfg["anneal_lr"] else lr,
                n_steps=cfg["n_steps"], batch_size=cfg["batch_size"],
                n_epochs=cfg["num_epochs"], gamma=cfg["gamma"], gae_lambda=cfg["gae_lambda"],
                clip_range=cfg["clip_eps"], ent_coef=cfg["ent_coef"], vf_coef=0.5,
                max_grad_norm=0.5, policy_kwargs={"net_arch": {"pi": list(cfg["hidden"]),
                                                               "vf": list(cfg["hidden"])}},
                use_sde=cfg.get("use_sde", False), sde_sample_freq=cfg.get("sde_sample_freq", -1),
                seed=seed, device="cpu", verbose=0)
    curve: list[list[float]] = []

    class Episodes(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    curve.append([int(self.num_timesteps), float(info["episode"]["r"])])
            return True

    cpu, wall = time.process_time(), time.time()
    model.learn(steps, callback=Episodes())
    cpu, wall = time.process_time() - cpu, time.time() - wall

    class Policy:  # the agent interface evaluate_agent needs, over SB3's policy
        def act(self, obs, deterministic=True):
            if isinstance(venv, VecNormalize):
                obs = venv.normalize_obs(obs)
            return model.predict(obs, deterministic=deterministic)[0]

    stats = evaluate_agent(Policy(), env_id, num_episodes=EVAL_EPISODES, seed=EVAL_SEED)
    record = {"algo": "sb3_ppo", "seed": seed, "steps": steps, "cpu_s": cpu, "wall_s": wall,
              "eval_mean_return": stats["mean_return"], "eval_std_return": stats["std_return"],
              "curve": curve}
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return record


def train(env_id: str, seeds: list[int], which: str = "both") -> None:
    fns = {"both": (run_ours, run_sb3), "ours": (run_ours,), "sb3": (run_sb3,)}[which]
    for seed in seeds:  # interleaved: both libraries see the same load
        for fn in fns:
            r = fn(env_id, seed)
            print(f"{env_id} {r['algo']} seed {seed}: eval {r['eval_mean_return']:.1f} "
                  f"cpu {r['cpu_s']:.0f}s wall {r['wall_s']:.0f}s", flush=True)


def _summary(records: list[dict]) -> dict:
    evals = np.array([r["eval_mean_return"] for r in records])
    return {"seeds": [r["seed"] for r in records],
            "eval_mean_return": float(evals.mean()), "eval_std_over_seeds": float(evals.std()),
            "eval_mean_return_per_seed": [round(float(e), 2) for e in evals],
            "env_steps_per_cpu_s": float(np.mean([r["steps"] / r["cpu_s"] for r in records])),
            "cpu_s_per_seed": float(np.mean([r["cpu_s"] for r in records])),
            "wall_s_total": float(sum(r["wall_s"] for r in records))}


def report() -> None:
    for env_id, (cfg, steps) in TASKS.items():
        ours = [json.loads(p.read_text()) for p in sorted(OUT.glob(f"ours-{env_id}-*.json"))]
        sb3 = [json.loads(p.read_text()) for p in sorted(OUT.glob(f"sb3-{env_id}-*.json"))]
        if not ours:
            continue
        metrics = {f"ours_{k}": v for k, v in _summary(ours).items()}
        if sb3:
            metrics.update({f"sb3_{k}": v for k, v in _summary(sb3).items()})
            # on the seeds both finished: time per env step, ours / SB3's (CPU time, one
            # thread each), and the return after the same env steps
            both = {r["seed"] for r in sb3}
            matched = _summary([r for r in ours if r["seed"] in both])
            metrics["time_per_env_step_ratio_ours_over_sb3"] = (
                metrics["sb3_env_steps_per_cpu_s"] / matched["env_steps_per_cpu_s"])
            metrics["ours_eval_mean_return_on_sb3_seeds"] = matched["eval_mean_return"]
        if env_id == "CartPole-v1":
            for name, records in (("ours", ours), ("sb3", sb3)):
                solved = [steps_to_solve(r["curve"]) for r in records]
                metrics[f"{name}_steps_to_solve_per_seed"] = solved
                metrics[f"{name}_seeds_solved_eval_ge_475"] = int(sum(
                    r["eval_mean_return"] >= THRESHOLD for r in records))
            metrics["solved"] = metrics["ours_eval_mean_return"] >= THRESHOLD
        else:
            metrics["target_eval_mean_return"] = -200.0
            metrics["reached_target"] = metrics["ours_eval_mean_return"] >= -200.0
        wall = sum(r["wall_s"] for r in ours + sb3)
        notes = (f"ours: {len(ours)} seeds, SB3's PPO (same settings, interleaved on the same "
                 f"machine, one torch thread): {len(sb3)} seeds ({[r['seed'] for r in sb3]}), "
                 f"{steps} env steps each; scored by {EVAL_EPISODES} greedy test episodes (seeds "
                 f"{EVAL_SEED}..{EVAL_SEED + EVAL_EPISODES - 1}). Times are process CPU seconds: "
                 "the 2-core machine was shared with other jobs (load 10-30), so wall time is "
                 "several times larger and says nothing about either library (wall_time_s sums "
                 "the runs' wall times). Settings: "
                 "rl-baselines3-zoo's tuned PPO hyper-parameters for this environment "
                 "(Pendulum: with gSDE, sde_sample_freq 4, in both libraries, as the zoo "
                 "tunes it; without gSDE the same settings gave ours -440 and SB3 -393 over "
                 "5 seeds at 100k steps, commit db1c9eb).")
        if env_id == "Pendulum-v1" and not metrics["reached_target"]:
            notes += (f" The -200 target is NOT reached at {steps} steps: the per-seed returns "
                      f"are {metrics['ours_eval_mean_return_per_seed']}; only seeds at or above "
                      "-200 count as solved. More steps per seed did not fit the CPU budget of "
                      "this run.")
        if len(sb3) < len(ours):
            notes += (f" SB3 finished {len(sb3)} of {len(ours)} seeds within the budget; the "
                      "ratio and its returns cover those seeds only.")
        write_result("ppo", env_id, None,
                     config={"ppo": cfg, "env_steps_per_seed": steps,
                             "eval_episodes": EVAL_EPISODES},
                     metrics=metrics,
                     published={"eval_mean_return": THRESHOLD if env_id == "CartPole-v1"
                                else -200.0,
                                "source": "thresholds, not published figures: CartPole-v1's "
                                "reward_threshold 475 (Gymnasium) and the issue's Pendulum "
                                "target -200; the peer is SB3's PPO measured in the same run"},
                     wall_time_s=wall, notes=notes)
        print(f"wrote result for {env_id}: " + json.dumps(
            {k: v for k, v in metrics.items() if "per_seed" not in k}))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "report"
    seeds = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else SEEDS
    which = sys.argv[3] if len(sys.argv) > 3 else "both"
    if what == "cartpole":
        train("CartPole-v1", seeds, which)
    elif what == "pendulum":
        train("Pendulum-v1", seeds, which)
    elif what == "report":
        report()
    else:
        raise SystemExit(__doc__)
