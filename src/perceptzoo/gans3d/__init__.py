"""3D generators: the voxel 3D-GAN, PlatonicGAN (3D shape from 2D views through a
differentiable projection) and GRAF (a generative radiance field). Their datasets are
`perceptzoo.data.voxels`."""

from perceptzoo.gans3d import graf, platonic_gan, voxel_gan  # noqa: F401
