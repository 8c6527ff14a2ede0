"""Hypothesis strategies and the outcome rule of the fuzz suite (test_fuzz.py).

Every case must end in a result or a `UserError` (exit 2 on the CLI): never another exception
(a traceback from inside torch) and never a silent wrong answer (an out-of-range input that
returns numbers). `TALLY` counts the cases tried per target, for docs/reliability.md.
"""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import strategies as st

TALLY: Counter = Counter()

#: Trainer models that build in milliseconds on the embedded digits (the fuzzed surface).
MODELS = ["made", "nade", "fvsbn", "pixelcnn", "gated_pixelcnn", "pixelrnn", "transformer",
          "realnvp", "glow", "ddpm", "vae", "dcgan", "gan", "wgan_gp"]

json_scalars = st.one_of(
    st.integers(-10**4, 10**4), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.none(), st.text(max_size=8),
)
json_values = st.one_of(json_scalars, st.lists(json_scalars, max_size=4))


def literal(value) -> str:
    """A value as the command line spells it."""
    try:
        return json.dumps(value)
    except ValueError:
        return str(value)
