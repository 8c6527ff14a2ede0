"""Deep RL: DQN, REINFORCE with a learned baseline, advantage actor-critic."""

from perceptzoo.rl.deep import actor_critic, dqn, reinforce  # noqa: F401
