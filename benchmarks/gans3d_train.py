"""Train the voxel 3D-GAN (voxels16) or PlatonicGAN (voxel_views16) variants for the gans3d study
through the one run path, resumably; `benchmarks/gans3d_study.py` scores the runs.

    python benchmarks/gans3d_train.py voxel_gan      # or platonic_gan
"""

import sys

import torch
from common import WORK, train_or_resume

RUNS = {
    "voxel_gan": ("voxels16", {"steps": 800, "batch_size": 32, "lr": 1e-3}),
    "platonic_gan": ("voxel_views16", {"steps": 800, "batch_size": 32, "lr": 2e-4}),
    # the first run's volumes came out empty (D won from the start); the second starts sparse
    "platonic_gan-sparse": ("voxel_views16", {"steps": 600, "batch_size": 32, "lr": 2e-4}),
    "platonic_gan-hull": ("voxel_views16", {"steps": 300, "batch_size": 32, "lr": 2e-4}),
    "platonic_gan-hull_long": ("voxel_views16", {"steps": 1200, "batch_size": 32, "lr": 2e-4}),
    # absorption with the hull run's slower discriminator: is the collapse the projection's?
    "platonic_gan-absorption_slow_d": ("voxel_views16", {"steps": 300, "batch_size": 32,
                                                          "lr": 2e-4}),
}
MODEL = {"channels": 16, "latent_dim": 64}
EXTRA = {"platonic_gan-sparse": {"init_occupancy": 0.05, "d_lr_scale": 0.5},
         "platonic_gan-hull": {"init_occupancy": 0.05, "d_lr_scale": 0.1,
                               "projection": "visual_hull"}}
EXTRA["platonic_gan-hull_long"] = EXTRA["platonic_gan-hull"]
EXTRA["platonic_gan-absorption_slow_d"] = {"init_occupancy": 0.05, "d_lr_scale": 0.1,
                                           "projection": "absorption"}

if __name__ == "__main__":
    torch.set_num_threads(1)
    name = sys.argv[1]
    dataset, train = RUNS[name]
    run, seconds = train_or_resume(
        name.split("-")[0], WORK / f"gans3d-{name}", dataset=dataset,
        train={**train, "seed": 0, "progress": False, "num_samples": 0, "eval_every": 100000,
               "checkpoint_every": 200},
        model_config={**MODEL, **EXTRA.get(name, {})})
    print(f"{name}: {run} trained in {seconds:.0f} s")
