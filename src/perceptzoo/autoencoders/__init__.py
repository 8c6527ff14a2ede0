"""Autoencoders: linear (PCA), undercomplete and overcomplete, denoising and inpainting."""
