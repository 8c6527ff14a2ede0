"""Tabular RL: MDP arrays and Bellman operators, dynamic programming, Monte Carlo, TD."""

from perceptzoo.rl.tabular import dynamic_programming, mdp, monte_carlo, td  # noqa: F401
