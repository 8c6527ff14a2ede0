"""3D generators: the voxel 3D-GAN, PlatonicGAN (3D shape from 2D views through a
differentiable projection) GRAF (a generative radiance field) and
the EG3D tri-plane generator. Their datasets are
`perceptzoo.data.voxels`."""

from perceptzoo.gans3d import graf, platonic_gan, triplane, voxel_gan  # noqa: F401
