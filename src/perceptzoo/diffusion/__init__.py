"""Diffusion models: a fixed noising process and a learned denoiser that reverses it."""
