"""Variational autoencoders: VAE and IWAE, beta-VAE, conditional and semi-supervised VAE, VQ-VAE."""

from perceptzoo.vae import beta_vae, conditional_vae, vae  # noqa: F401  (register their models)

from perceptzoo.vae import vq_vae  # noqa: F401  isort: skip
