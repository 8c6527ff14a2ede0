"""Generative adversarial networks: `gan` (Goodfellow et al. 2014), `dcgan`, `wgan` and
`wgan_gp`, `unrolled_gan`; losses, penalty and networks they share are in `common`."""

from perceptzoo.gans import dcgan, gan, stylegan, unrolled_gan, wgan  # noqa: F401
