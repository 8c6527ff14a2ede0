"""Motion imitation: an articulated character tracking a reference clip (DeepMimic).

The character is simulated by MuJoCo (`mujoco_character.py`) when it is installed, else by the
project's numpy simulator (`character.py`); `deepmimic.py` holds the environment and agent.
"""

from perceptzoo.rl.imitation import character, deepmimic  # noqa: F401
