"""Normalizing flows: exact log-likelihood through invertible maps with tractable Jacobians."""
