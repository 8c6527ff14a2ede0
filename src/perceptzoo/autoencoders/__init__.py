"""Autoencoders: linear (PCA), undercomplete and overcomplete, denoising and inpainting."""

from perceptzoo.autoencoders import autoencoder, denoising, linear  # noqa: F401  (register)
