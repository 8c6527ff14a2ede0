"""Neural implicit 3D representations: signed distance and occupancy fields, rendering, meshes.

- `sampling`: ground-truth SDF/occupancy of primitives and meshes, surface points, shapes,
  cameras and reference renders;
- `decoders`: the MLP f(x, z) with Fourier features, latent re-injection, geometric init;
- `occupancy` (Occupancy Networks), `deepsdf` (DeepSDF), `igr` (IGR), `rendering` (DVR);
- `mesh`: marching cubes over any points-to-values function, PLY/OBJ export;
- `runs`: train / evaluate / sample / load for `perceptzoo` run folders.
"""

from perceptzoo.implicit import deepsdf, igr, occupancy, rendering  # noqa: F401  (register)
