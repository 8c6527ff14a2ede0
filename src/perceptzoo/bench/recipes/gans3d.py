"""3D generators on procedural 16^3 primitives (`perceptzoo.data.voxels`): the voxel 3D-GAN on
occupancy grids, PlatonicGAN on silhouettes only. Ranked by the Fréchet distance in the voxel
classifier's features (`perceptzoo.gans3d.scores.study`: also IoU to the nearest training
shape, the real-vs-real floor and a turntable GIF in the run folder). The papers report
ShapeNet/ModelNet figures at 64^3 only, so no recipe carries a published figure. CPU budget:
800 steps at batch 32 took about 10 minutes on one shared thread (benchmarks/gans3d_train.py);
the GPU recipes train 32^3 grids longer.
"""

from __future__ import annotations

from perceptzoo.bench.recipe import Recipe
from perceptzoo.gans3d.scores import study

_CONSTANT = {"schedule": "constant", "grad_clip": None}
FIGURE = "frechet_distance_voxel_classifier"

RECIPES: list[Recipe] = [
    Recipe(
        name="voxel_gan-voxels16", model="voxel_gan", dataset="voxels16", task="gans3d_voxels",
        model_config={"channels": 16, "latent_dim": 64},
        train={"steps": 800, "batch_size": 32, "lr": 1e-3, "eval_every": 800,
               "num_samples": 0, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=12.0, study=study, figure=FIGURE,
        notes="Wu et al. 2016 at 16^3 on random primitives",
    ),
    Recipe(
        name="platonic_gan-voxel_views16", model="platonic_gan", dataset="voxel_views16",
        task="gans3d_views",
        model_config={"channels": 16, "latent_dim": 64, "projection": "visual_hull",
                      "init_occupancy": 0.05, "d_lr_scale": 0.1},
        train={"steps": 1200, "batch_size": 32, "lr": 2e-4, "eval_every": 1200, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=6.0, study=study, figure=FIGURE,
        notes="Henzler et al. 2019: 16^3 volumes learned from one silhouette per shape; the "
              "absorption projection with D at G's rate collapsed to empty volumes here",
    ),
]
