"""Reinforcement learning: tabular planning, deep value and policy methods, imitation.

    perceptzoo train value_iteration --dataset FrozenLake-v1
    perceptzoo train q_learning --dataset Taxi-v4 --steps 200000
    perceptzoo train dqn --dataset CartPole-v1 --steps 50000
    perceptzoo eval runs/dqn-CartPole-v1
"""

from perceptzoo.rl import common, deep, imitation, tabular  # noqa: F401
