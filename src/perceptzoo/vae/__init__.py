"""Variational autoencoders: VAE and IWAE, beta-VAE, conditional and semi-supervised VAE, VQ-VAE."""

from perceptzoo.vae import vae  # noqa: F401  (registers "vae")

# vq_vae is imported by its author
