"""Figures of the 3D generators: IoU of each generated shape to its nearest training shape, a
Fréchet distance in the voxel classifier's features (`gans3d.classifier`, with the project's
one `metrics.frechet.frechet_distance`) beside its real-vs-real floor at the same size, and
turntable GIFs (absorption-only renders of the volumes turning about z).

`study(run_dir)` is the bench recipes' extra figures for a voxel_gan or platonic_gan run on
16^3 shapes (`perceptzoo.bench.recipes.gans3d`).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image

from perceptzoo.data import voxels
from perceptzoo.errors import UserError
from perceptzoo.gans3d import classifier
from perceptzoo.gans3d.projection import camera_rotation, project
from perceptzoo.metrics.frechet import frechet_distance


def iou_to_nearest(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(Na,) max over j of IoU(a_i, b_j) for binary volumes a (Na, ...), b (Nb, ...)."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    inter = a @ b.T
    union = a.sum(1, keepdim=True) + b.sum(1)[None] - inter
    return (inter / union.clamp(min=1)).amax(1)


def turntable(volumes: torch.Tensor, path: str | Path, frames: int = 24, scale: int = 4,
              elevation_deg: float = 20.0) -> Path:
    """A GIF (real GIF bytes, Pillow) of volumes (K, 1, n, n, n) side by side turning about z,
    each frame the absorption-only projection (dark = opaque)."""
    images = []
    for i in range(frames):
        az, el = 2 * math.pi * i / frames, math.radians(elevation_deg)
        r = camera_rotation((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az),
                             math.sin(el)))
        img = project(volumes.float(), r[None], "absorption")[:, 0]  # (K, n, n)
        strip = torch.cat(list(img), 1)
        frame = ((1 - strip).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        images.append(Image.fromarray(frame, "L").resize(
            (frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST))
    path = Path(path)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=80,
                   loop=0)
    return path


def generated_volumes(model, num: int, seed: int = 0) -> torch.Tensor:
    """Binary volumes (num, 1, n, n, n) uint8 of a voxel_gan or platonic_gan."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if hasattr(model, "generate_volumes"):
            probs = model.generate_volumes(num, g)
        else:
            probs = model.generate(num, g)
    return (probs.cpu() > 0.5).to(torch.uint8)


def score(model, num: int = 128, clf: classifier.VoxelClassifier | None = None
          ) -> dict[str, float]:
    """IoU-to-nearest and FD (with floors) of `num` generated 16^3 volumes against the
    voxels16 train split and `num` held-out shapes (valid + test)."""
    clf = clf or classifier.load()
    train = voxels.load("voxels16", "train").x
    held = torch.cat([voxels.load("voxels16", s).x for s in ("valid", "test")])[:num]
    vols = generated_volumes(model, num)
    if vols.shape[1:] != (1, 16, 16, 16):
        raise UserError("the gans3d scores are for 16^3 volumes (voxels16 / voxel_views16)")
    with torch.no_grad():
        f_held = clf.features(held.float())
        fd = frechet_distance(clf.features(vols.float()), f_held)
        floor = frechet_distance(clf.features(train[:num].float()), f_held)
    occupied = vols.flatten(1).float().mean(1)
    return {"iou_to_nearest_train_mean": round(iou_to_nearest(vols, train).mean().item(), 4),
            "iou_to_nearest_train_heldout_real_mean":
                round(iou_to_nearest(held, train).mean().item(), 4),
            "frechet_distance_voxel_classifier": round(fd, 3),
            "frechet_distance_real_vs_real_floor": round(floor, 3),
            "empty_samples_fraction": round((occupied == 0).float().mean().item(), 3),
            "num_samples": num, "num_heldout_real": len(held)}


def study(run_dir) -> dict[str, float]:
    """The bench harness's extra figures for a run folder, and its turntable GIF there."""
    from perceptzoo.core import runner

    model = runner.load(run_dir)
    turntable(generated_volumes(model, 6, seed=1), Path(run_dir) / "turntable.gif")
    return score(model)
