"""Motion imitation: articulated characters tracking a reference clip (DeepMimic).

The quick test case is a 3-link arm simulated by MuJoCo (`mujoco_character.py`) when it is
installed, else by the project's numpy simulator (`character.py`); the real character is
Gymnasium's Walker2d-v5 imitating a walking clip (`walker.py`). `deepmimic.py` holds the
shared reward, episode loop and agents (`deepmimic`: actor-critic; `deepmimic_ppo`: PPO).
"""

from perceptzoo.rl.imitation import character, deepmimic, walker  # noqa: F401
