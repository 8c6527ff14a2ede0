"""Variational autoencoders: VAE and IWAE, beta-VAE, conditional and semi-supervised VAE, VQ-VAE."""
