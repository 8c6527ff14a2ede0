"""Reinforcement learning: tabular planning, deep value and policy methods, imitation."""
