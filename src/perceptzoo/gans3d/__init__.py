"""3D generators: the voxel 3D-GAN, PlatonicGAN (3D shape from 2D views through a
differentiable projection), and the 3D-aware image generators GRAF (a generative radiance
field), GIRAFFE (composited object feature fields), EG3D (tri-plane features) and HoloGAN
(a rigidly rotated 3-D feature volume). Their
datasets are `perceptzoo.data.voxels`."""

from perceptzoo.gans3d import (  # noqa: F401
    giraffe,
    graf,
    hologan,
    platonic_gan,
    triplane,
    voxel_gan,
)
