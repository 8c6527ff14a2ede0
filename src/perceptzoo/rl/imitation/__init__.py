"""Motion imitation: a planar articulated character tracking a reference clip (DeepMimic)."""

from perceptzoo.rl.imitation import character, deepmimic  # noqa: F401
