"""Reinforcement learning: tabular planning, deep value and policy methods, imitation.

    perceptzoo train value_iteration --dataset FrozenLake-v1
    perceptzoo train q_learning --dataset Taxi-v4 --steps 200000
    perceptzoo train dqn --dataset CartPole-v1 --steps 50000
    perceptzoo train ppo --dataset Pendulum-v1 --steps 100000 --set num_envs=4 n_steps=1024 \
        batch_size=64 num_epochs=10 gamma=0.9 gae_lambda=0.95 anneal_lr=false \
        normalize_obs=true normalize_reward=true
    perceptzoo eval runs/dqn-CartPole-v1 --eval-episodes 20
    perceptzoo sample runs/dqn-CartPole-v1

Agents run through the one run path (`perceptzoo.core.runner`, runner "agent"): a dataset is
a Gymnasium environment id (`perceptzoo list` shows them); `--steps` counts environment steps
and sets the agent's `total_steps` (its default when not given); `--seed`,
`--device`, and where the agent has them `--lr` and `--batch-size` reach its config. What every
agent shares (evaluation, rollout pictures, the training curve, `save`) is `common/agent.py`.
"""

from perceptzoo.core import registry
from perceptzoo.rl import common, deep, imitation, tabular  # noqa: F401
from perceptzoo.rl.common.envs import list_env_ids

registry.register_datasets("rl", "Gymnasium environments", list_env_ids)
