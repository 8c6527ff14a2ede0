"""Reinforcement learning: tabular planning, deep value and policy methods, imitation.

    perceptzoo train value_iteration --dataset FrozenLake-v1
    perceptzoo train q_learning --dataset Taxi-v4 --steps 200000
    perceptzoo train dqn --dataset CartPole-v1 --steps 50000
    perceptzoo train ppo --dataset Pendulum-v1 --steps 200000
    perceptzoo eval runs/dqn-CartPole-v1 --eval-episodes 20
    perceptzoo sample runs/dqn-CartPole-v1
"""

from perceptzoo.core import registry
from perceptzoo.rl import common, deep, imitation, tabular  # noqa: F401
from perceptzoo.rl.common.envs import list_env_ids

registry.register_datasets("rl", "Gymnasium environments", list_env_ids)
