"""Deep RL: DQN, REINFORCE with a learned baseline, advantage actor-critic, PPO."""

from perceptzoo.rl.deep import actor_critic, dqn, ppo, reinforce  # noqa: F401
