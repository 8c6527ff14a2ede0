"""Diffusion models: a fixed noising process and a learned denoiser that reverses it.

schedules (beta schedules, q(x_t | x_0)), ddpm (loss, ancestral sampler, variational bound),
samplers (DDIM, DPM-Solver++), edm_sampler (Heun on the Karras sigmas), guidance
(classifier-free), controlnet, latent_diffusion. The denoiser, a U-Net, is shared with other
families: `perceptzoo.nn.unet`.
"""

from perceptzoo.diffusion import (  # noqa: F401
    controlnet,
    ddpm,
    edm_sampler,
    guidance,
    latent_diffusion,
    samplers,
    schedules,
)
