"""Reinforcement learning: tabular planning and control, deep RL, motion imitation.

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

from perceptzoo.bench.recipe import Published, Recipe

RECIPES: list[Recipe] = [
    # -- quick suite: seconds on a laptop CPU ------------------------------------------------
    Recipe(
        name="q_learning-CliffWalking-v1-quick",
        model="q_learning",
        dataset="CliffWalking-v1",
        task="rl",
        variant="quick",
        model_config={"alpha": 0.5, "epsilon": 0.1, "gamma": 1.0},
        train={"steps": 20000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"mean_return": -13},
            "exact: the shortest path along the cliff is 13 steps of reward -1 (Sutton & "
            "Barto 2018, Example 6.6)",
            comparable="the greedy policy's return on held-out episode seeds; the book's "
            "figure of about -50 is Q-learning's online (epsilon-greedy) return",
        ),
        suites=("quick",),
        minutes=0.5,
        notes="quick suite: tabular Q-learning, 20,000 environment steps",
    ),
    # -- full and gpu suites ------------------------------------------------------------------
    Recipe(
        name="actor_critic-CartPole-v1-seed0",
        model="actor_critic",
        dataset="CartPole-v1",
        task="rl",
        variant="seed0",
        model_config={
            "hidden": [64, 64],
            "num_envs": 8,
            "n_steps": 5,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "actor_lr": 0.001,
            "critic_lr": 0.001,
            "normalize_advantages": True,
            "entropy_coef": 0.0,
        },
        train={"steps": 100000},
        evaluate={"num_episodes": 100},
        published=Published(
            {},
            (
                "stable-baselines3 2.9.2 run in the same script on the same machine, same "
                "hyper-parameters, seeds and solve check"
            ),
        ),
        suites=("full",),
        minutes=11,
        notes=(
            "budget-limited CPU runs; seeds that did not reach 475 within the budget count "
            "as unsolved (null)"
        ),
    ),
    Recipe(
        name="actor_critic-Pendulum-v1-seed0",
        model="actor_critic",
        dataset="Pendulum-v1",
        task="rl",
        variant="seed0",
        model_config={
            "gamma": 0.9,
            "gae_lambda": 0.9,
            "n_steps": 8,
            "num_envs": 8,
            "reward_scale": 0.1,
            "log_std_init": -0.5,
            "actor_lr": 0.001,
            "critic_lr": 0.003,
            "hidden": [64, 64],
        },
        train={"steps": 200000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"mean_return": -200},
            "about -150 to -200 is 'solved' for Pendulum-v1 (rl-baselines3-zoo A2C table)",
        ),
        suites=("full",),
        minutes=15,
        notes=(
            "Not solved at this budget, and not by the reference implementation either: "
            "stable-baselines3's A2C with the same hyper-parameters, seeds and 200k steps "
            "(sb3_a2c_* fields, run by `rl_deep.py sb3-pendulum`) ends lower. "
            "rl-baselines3-zoo's A2C reaches about -160 on Pendulum-v1 with generalized "
            "state-dependent exploration (gSDE), observation normalisation and 1M steps, "
            "none of which is used here."
        ),
    ),
    Recipe(
        name="deepmimic-MujocoMimic-v0",
        model="deepmimic",
        dataset="MujocoMimic-v0",
        task="rl",
        model_config={
            "env_id": "perceptzoo/MujocoMimic-v0",
            "env_kwargs": {},
            "pixels": False,
            "hidden": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.001,
            "gamma": 0.95,
            "gae_lambda": 0.95,
            "n_steps": 16,
            "num_envs": 16,
            "entropy_coef": 0.0,
            "normalize_advantages": True,
            "reward_scale": 1.0,
            "log_std_init": -1.0,
            "anneal_lr": False,
            "max_grad_norm": 0.5,
        },
        train={"steps": 250000},
        evaluate={"num_episodes": 100},
        suites=("full",),
        minutes=2,
        notes=(
            "planar 3-link arm simulated by MuJoCo (mujoco bindings, MJCF written by the "
            "project; implicitfast at 300 Hz); one training seed, scored by the imitation "
            "return of 100 held-out episodes; the tracking errors over 3 seeds beside the "
            "PD-servo, zero-action and untrained baselines are the study "
            "benchmarks/rl_imitation.py (deepmimic-MujocoMimic-v0-seeds)"
        ),
    ),
    Recipe(
        name="deepmimic-PlanarMimic-v0",
        model="deepmimic",
        dataset="PlanarMimic-v0",
        task="rl",
        model_config={
            "env_id": "perceptzoo/PlanarMimic-v0",
            "env_kwargs": {},
            "pixels": False,
            "hidden": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.001,
            "gamma": 0.95,
            "gae_lambda": 0.95,
            "n_steps": 16,
            "num_envs": 16,
            "entropy_coef": 0.0,
            "normalize_advantages": True,
            "reward_scale": 1.0,
            "log_std_init": -1.0,
            "anneal_lr": False,
            "max_grad_norm": 0.5,
        },
        train={"steps": 250000},
        evaluate={"num_episodes": 100},
        suites=("full",),
        minutes=13,
        notes=(
            "planar 3-link character simulated by the project (MuJoCo was not used); one "
            "training seed; tracking errors against the PD-servo baseline over seeds: "
            "benchmarks/rl_imitation.py --env planar (deepmimic-PlanarMimic-v0-seeds)"
        ),
    ),
    Recipe(
        name="dqn-CartPole-v1-seed0",
        model="dqn",
        dataset="CartPole-v1",
        task="rl",
        variant="seed0",
        model_config={
            "hidden": [256, 256],
            "lr": 0.0023,
            "batch_size": 64,
            "buffer_size": 100000,
            "learning_starts": 1000,
            "gamma": 0.99,
            "train_freq": 256,
            "gradient_steps": 128,
            "epsilon_final": 0.04,
            "epsilon_decay_steps": 8000,
        },
        train={"steps": 50000},
        evaluate={"num_episodes": 100},
        published=Published(
            {},
            (
                "stable-baselines3 2.9.2 run in the same script on the same machine, same "
                "hyper-parameters, seeds and solve check"
            ),
        ),
        suites=("full",),
        minutes=72,
        notes=(
            "budget-limited CPU runs; seeds that did not reach 475 within the budget count "
            "as unsolved (null)"
        ),
    ),
    Recipe(
        name="mc_control-FrozenLake-v1-4x4",
        model="mc_control",
        dataset="FrozenLake-v1",
        task="rl",
        variant="4x4",
        model_config={
            "env_id": "FrozenLake-v1",
            "gamma": 0.999,
            "epsilon": 0.05,
            "epsilon_start": 1.0,
            "epsilon_decay_steps": 300000,
            "first_visit": True,
            "is_slippery": True,
        },
        train={"steps": 600000},
        evaluate={"num_episodes": 1000},
        suites=("full",),
        minutes=2,
    ),
    Recipe(
        name="policy_iteration-FrozenLake-v1-4x4",
        model="policy_iteration",
        dataset="FrozenLake-v1",
        task="rl",
        variant="4x4",
        model_config={"env_id": "FrozenLake-v1", "gamma": 0.999},
        evaluate={"num_episodes": 1000},
        published=Published(
            {"success_rate": 0.74},
            (
                "the commonly quoted optimum within the time limit (issue 4); our exact figure is "
                "success_rate_optimal_within_limit (backward induction over the step limit)"
            ),
        ),
        suites=("full",),
        minutes=1,
    ),
    Recipe(
        name="policy_iteration-FrozenLake-v1-8x8",
        model="policy_iteration",
        dataset="FrozenLake8x8-v1",
        task="rl",
        variant="8x8",
        model_config={"env_id": "FrozenLake8x8-v1", "gamma": 0.999},
        evaluate={"num_episodes": 1000},
        published=Published(
            {"success_rate": 0.91},
            (
                "the commonly quoted optimum within the time limit (issue 4); our exact figure is "
                "success_rate_optimal_within_limit (backward induction over the step limit)"
            ),
        ),
        suites=("full",),
        minutes=3,
    ),
    Recipe(
        name="q_learning-CliffWalking-v1",
        model="q_learning",
        dataset="CliffWalking-v1",
        task="rl",
        figure="train_last_100_episodes_mean_return",
        model_config={"alpha": 0.5, "epsilon": 0.1, "gamma": 1.0},
        train={"steps": 20000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"train_last_100_episodes_mean_return": -50},
            (
                "Sutton & Barto 2018, Example 6.6, Figure 6.4 (read off the plot: SARSA about "
                "-25, Q-learning about -50 per episode)"
            ),
        ),
        suites=("full",),
        minutes=1,
    ),
    Recipe(
        name="q_learning-Taxi-v4",
        model="q_learning",
        dataset="Taxi-v4",
        task="rl",
        model_config={
            "env_id": "Taxi-v4",
            "gamma": 0.99,
            "alpha": 0.1,
            "alpha_power": 0.0,
            "epsilon": 0.1,
            "epsilon_start": None,
            "epsilon_decay_steps": 0,
            "is_slippery": True,
        },
        train={"steps": 300000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"optimal_return_exact": 7.930000000000001},
            (
                "exact: value iteration on Taxi-v4's transition table, averaged over its "
                "start-state distribution"
            ),
        ),
        suites=("full",),
        minutes=2,
    ),
    Recipe(
        name="reinforce-CartPole-v1-seed0",
        model="reinforce",
        dataset="CartPole-v1",
        task="rl",
        variant="seed0",
        model_config={"hidden": [64, 64]},
        train={"steps": 100000},
        evaluate={"num_episodes": 100},
        suites=("full",),
        minutes=28,
        notes=(
            "budget-limited CPU runs; seeds that did not reach 475 within the budget count "
            "as unsolved (null)"
        ),
    ),
    Recipe(
        name="reinforce-Pendulum-v1-seed0",
        model="reinforce",
        dataset="Pendulum-v1",
        task="rl",
        variant="seed0",
        model_config={
            "gamma": 0.9,
            "log_std_init": -0.5,
            "lr": 0.001,
            "steps_per_update": 4000,
            "hidden": [64, 64],
        },
        train={"steps": 200000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"mean_return": -200},
            "about -150 to -200 is 'solved' for Pendulum-v1 (rl-baselines3-zoo A2C table)",
        ),
        suites=("full",),
        minutes=21,
    ),
    Recipe(
        name="sarsa-CliffWalking-v1",
        model="sarsa",
        dataset="CliffWalking-v1",
        task="rl",
        figure="train_last_100_episodes_mean_return",
        model_config={"alpha": 0.5, "epsilon": 0.1, "gamma": 1.0},
        train={"steps": 20000},
        evaluate={"num_episodes": 100},
        published=Published(
            {"train_last_100_episodes_mean_return": -25},
            (
                "Sutton & Barto 2018, Example 6.6, Figure 6.4 (read off the plot: SARSA about "
                "-25, Q-learning about -50 per episode)"
            ),
        ),
        suites=("full",),
        minutes=1,
    ),
    Recipe(
        name="value_iteration-FrozenLake-v1-4x4",
        model="value_iteration",
        dataset="FrozenLake-v1",
        task="rl",
        variant="4x4",
        model_config={"env_id": "FrozenLake-v1", "gamma": 0.999},
        evaluate={"num_episodes": 1000},
        published=Published(
            {"success_rate": 0.74},
            (
                "the commonly quoted optimum within the time limit (issue 4); our exact figure is "
                "success_rate_optimal_within_limit (backward induction over the step limit)"
            ),
        ),
        suites=("full",),
        minutes=2,
    ),
    Recipe(
        name="value_iteration-FrozenLake-v1-8x8",
        model="value_iteration",
        dataset="FrozenLake8x8-v1",
        task="rl",
        variant="8x8",
        model_config={"env_id": "FrozenLake8x8-v1", "gamma": 0.999},
        evaluate={"num_episodes": 1000},
        published=Published(
            {"success_rate": 0.91},
            (
                "the commonly quoted optimum within the time limit (issue 4); our exact figure is "
                "success_rate_optimal_within_limit (backward induction over the step limit)"
            ),
        ),
        suites=("full",),
        minutes=4,
    ),
]
