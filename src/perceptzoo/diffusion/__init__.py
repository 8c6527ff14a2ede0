"""Diffusion models: a fixed noising process and a learned denoiser that reverses it.

schedules (beta schedules, q(x_t | x_0)), unet (the denoiser), ddpm (loss, ancestral sampler,
variational bound), samplers (DDIM), guidance (classifier-free), controlnet, latent_diffusion.
"""

from perceptzoo.diffusion import (  # noqa: F401
    controlnet,
    ddpm,
    guidance,
    latent_diffusion,
    samplers,
    schedules,
    unet,
)
