"""Offline metrics: likelihoods in nats and bits/dim, Frechet distance and precision/recall in
the feature space of the project's own classifiers, and MMD for 2D data."""

from perceptzoo.metrics.frechet import frechet_distance, precision_recall
from perceptzoo.metrics.likelihood import bits_per_dim, dequantized_nll
from perceptzoo.metrics.mmd import mmd_rbf

__all__ = ["bits_per_dim", "dequantized_nll", "frechet_distance", "mmd_rbf", "precision_recall"]
