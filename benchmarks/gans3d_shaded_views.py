"""Figure of the shaded multi-view data on the real meshes (`perceptzoo.data.voxels`'
`voxel_views16+real:shaded`): benchmarks/figures/gans3d/shaded_real_views.png.

One row per mesh: armadillo, dragon, cow (their first 4 placements in the valid split) and
the held-out bunny and spot (their first 4 in the test split), each placement at the
dataset's own pose, as a 48 x 48 render (`voxels.shaded_renders`, the dataset's renderer at
a finer grid) beside the dataset's 16 x 16 view (shown 3x). Rows are flipped for display
(the data's rows index the view's up axis upwards).

    PERCEPTZOO_DATA=/work/shared/data python benchmarks/gans3d_shaded_views.py
"""

import time
from pathlib import Path

import torch

from perceptzoo.data import voxels
from perceptzoo.data.shapes import REAL_HELDOUT, REAL_TRAIN
from perceptzoo.viz.images import save_grid

OUT = Path(__file__).parent / "figures" / "gans3d" / "shaded_real_views.png"
PER_MESH, SIZE = 4, 48

if __name__ == "__main__":
    torch.set_num_threads(1)
    start, cpu = time.time(), time.process_time()
    images = []
    for split, names in (("valid", REAL_TRAIN), ("test", REAL_HELDOUT)):
        shapes = voxels.split_shapes(split, real=True)
        views, poses = voxels.shaded_views(split, 16, real=True)
        for name in names:
            idx = [i for i, s in enumerate(shapes)
                   if isinstance(s, voxels.PlacedMesh) and s.name == name][:PER_MESH]
            fine = voxels.shaded_renders([shapes[i] for i in idx], poses[idx], SIZE)["image"]
            for j, i in enumerate(idx):
                images.append((fine[j] * 255).round().to(torch.uint8))
                images.append(views[i, 0].repeat_interleave(SIZE // 16, 0)
                              .repeat_interleave(SIZE // 16, 1))
    grid = torch.stack(images)[:, None].flip(2).numpy()          # upright for display
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_grid(grid, OUT, scale=2, nrow=2 * PER_MESH)
    print(f"{OUT}: {len(images) // 2} placements ({time.time() - start:.0f} s wall, "
          f"{time.process_time() - cpu:.0f} s CPU)")
