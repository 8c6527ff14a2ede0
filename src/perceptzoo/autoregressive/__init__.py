"""Autoregressive models: p(x) = prod_i p(x_i | x_<i), exact likelihoods from masked networks.

tabular, fvsbn, nade, made, pixelcnn, gated_pixelcnn, pixelrnn, wavenet, transformer; their
shared output distributions and samplers are in `common.py`.
"""

from perceptzoo.autoregressive import made  # noqa: F401, I001  (registers "made")
from perceptzoo.autoregressive import (  # noqa: F401  (each registers its model)
    fvsbn,
    gated_pixelcnn,
    nade,
    pixelcnn,
    pixelrnn,
    tabular,
    transformer,
    wavenet,
)
