"""Neural implicit 3D representations: signed distance and occupancy fields, rendering, meshes.

- `common`: the field contract written once (`ImplicitField`: data source, optimiser,
  evaluation with mesh metrics, mesh and turntable export); each model writes only its data,
  batch, loss and per-shape field;
- `decoders`: the MLP f(x, z) with Fourier features, latent re-injection, geometric init;
- `occupancy` (Occupancy Networks), `deepsdf` (DeepSDF), `igr` (IGR), `rendering` (DVR);
- `cameras`: cameras, rays, the volume-rendering quadrature and ground-truth renders, the
  module shared with the 3D-aware generators;
- `mesh`: marching cubes over any points-to-values function, in chunks; PLY/OBJ export.

The shapes the models fit (primitives, real meshes, procedural collections; SDF, occupancy
and surface samples) are data: `perceptzoo.data.shapes`. Models are trained, evaluated and
sampled through `perceptzoo.core.runner` like every other family:

    perceptzoo train igr --dataset mesh:bunny-watertight --steps 2000
    perceptzoo eval runs/igr-mesh_bunny-watertight
    perceptzoo sample runs/igr-mesh_bunny-watertight --out bunny.ply
"""

from perceptzoo.core import registry
from perceptzoo.data.shapes import dataset_names
from perceptzoo.implicit import deepsdf, igr, occupancy, rendering  # noqa: F401  (register)

registry.register_datasets("implicit", "shapes and meshes", dataset_names)
