"""Image and video translation: `pix2pix` (Isola et al. 2017), `cyclegan` (Zhu et al. 2017),
`bicyclegan` (Zhu et al. 2017) and `vid2vid` (Wang et al. 2018, reduced); what they share is
in `common` (the PatchGAN and the U-Net live in `perceptzoo.nn`)."""

from perceptzoo.translation import bicyclegan, cyclegan, pix2pix, vid2vid  # noqa: F401
