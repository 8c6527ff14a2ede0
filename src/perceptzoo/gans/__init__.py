"""Generative adversarial networks: `gan` (Goodfellow et al. 2014), `dcgan`, `wgan` and
`wgan_gp`, `unrolled_gan`; losses, penalty and networks they share are in `common`."""

from perceptzoo.gans import (  # noqa: F401
    dcgan,
    gan,
    progressive_gan,
    stylegan,
    unrolled_gan,
    wgan,
)
