"""3D generators: the voxel 3D-GAN and PlatonicGAN (3D shape from 2D views through a
differentiable projection). Importing the family registers its models and the voxel datasets
(`perceptzoo.data.voxels.install`)."""

from perceptzoo.data import voxels as _voxels

_voxels.install()

from perceptzoo.gans3d import graf, platonic_gan, voxel_gan  # noqa: E402,F401
