"""Variational autoencoders: VAE and IWAE, beta-VAE, conditional and semi-supervised VAE, VQ-VAE."""

from perceptzoo.vae import vae  # noqa: F401  (registers "vae")

from perceptzoo.vae import vq_vae  # noqa: F401  isort: skip
