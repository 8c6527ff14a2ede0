"""Variational autoencoders: VAE and IWAE, beta-VAE, conditional and semi-supervised VAE, VQ-VAE."""

from perceptzoo.vae import beta_vae, conditional_vae, vae  # noqa: F401  (register their models)

# vq_vae is imported by its author
