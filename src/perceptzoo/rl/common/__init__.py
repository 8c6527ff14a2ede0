"""Plumbing shared by the RL agents: environments, agent contract, buffers, curves, networks."""

from perceptzoo.rl.common import envs  # noqa: F401  (registers the perceptzoo/... envs)
