"""Schedules for exploration rates and learning rates.

- `linear_schedule(start, end, duration)(t)`: start -> end over `duration` steps, then end
  (the epsilon schedule of DQN, Mnih et al. 2015).
- `step_size(alpha, power)(n)`: alpha / n^power for the n-th update of an entry (n >= 1);
  power = 0 is a constant step size; 1/2 < power <= 1 satisfies the Robbins-Monro conditions
  sum alpha_n = inf, sum alpha_n^2 < inf under which TD(0) and Q-learning converge.
"""

from __future__ import annotations

from collections.abc import Callable


def linear_schedule(start: float, end: float, duration: int) -> Callable[[int], float]:
    def value(t: int) -> float:
        if duration <= 0:
            return end
        return start + (end - start) * min(1.0, t / duration)

    return value


def step_size(alpha: float, power: float = 0.0) -> Callable[[int], float]:
    def value(n: int) -> float:
        return alpha / max(n, 1) ** power

    return value
