"""Normalizing flows: exact log-likelihood through invertible maps with tractable Jacobians.

Layers (`layers`), base distributions (`bases`), dequantization (`dequantization`), the flow
model that composes them (`model`), and the registered models: `realnvp`, `glow`,
`realnvp2d` (vectors, 2D toys, conditional), `srflow` (super-resolution) and `cflow`
(a flow conditioned on another flow's latents).
"""

from perceptzoo.flows import cflow, flow2d, glow, realnvp, srflow  # noqa: F401
