"""Autoregressive models: p(x) = prod_i p(x_i | x_<i), exact likelihoods from masked networks."""

from perceptzoo.autoregressive import made  # noqa: F401  (registers "made")
