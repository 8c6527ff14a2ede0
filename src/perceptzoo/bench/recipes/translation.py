"""Image and video translation: edges -> digits (Pix2Pix, BicycleGAN), handwritten <-> printed
digits (CycleGAN), edge video -> moving-digit video (vid2vid, reduced).

The harness's evaluation gives the Fréchet distance of `sample(n)` (translations of held-out
sources) in the MNIST classifier's features; vid2vid's per-frame figure comes from `study`.
The figures the study scripts add (L1, class accuracy, diversity, cycle errors, class kept,
temporal consistency, grids and the GIF) are in benchmarks/translation_*.py, which train with
the same settings. No published figure is comparable: the papers measure 256x256 photos
(FCN scores, LPIPS, AMT studies, I3D FID), not digits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Recipe


def vid2vid_frames(run: Path) -> dict[str, Any]:
    """Mean over the 8 frames of the per-frame FD of 1000 held-out translated videos against
    the real frames at the same time step (MNIST classifier features)."""
    import torch

    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.data.moving_digits import frames
    from perceptzoo.data.paired import edge_source
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance

    model = runner.load(run)
    real = frames(data.load("moving_digits", "test").x[:1000])
    edges = edge_source(real.flatten(0, 1)).view_as(real)
    with torch.no_grad():
        out = torch.cat([model.translate(edges[i:i + 100]) for i in range(0, len(edges), 100)])
    fds = [frechet_distance(classifier.features("mnist", real[:, t]),
                            classifier.features("mnist", out[:, t]))
           for t in range(real.shape[1])]
    return {"mean_frame_frechet_distance": sum(fds) / len(fds),
            "per_frame_frechet_distance": fds}


_TRAIN = {"lr": 2e-4, "seed": 0, "eval_every": 100000, "checkpoint_every": 200}

RECIPES: list[Recipe] = [
    Recipe(
        name="pix2pix-mnist-edges2digits", model="pix2pix", dataset="mnist",
        task="translation_edges2digits", figure="frechet_distance", variant="edges2digits",
        model_config={"channels": 32, "d_channels": 32},
        train={**_TRAIN, "steps": 1500, "batch_size": 32},
        evaluate={"num_samples": 1000}, minutes=20.0,
        notes="U-Net + pair PatchGAN, cGAN + 100 L1; FD of translations of held-out edge maps "
        "(benchmarks/translation_pix2pix.py adds L1, class accuracy, dropout diversity)"),
    Recipe(
        name="bicyclegan-mnist-edges2digits", model="bicyclegan", dataset="mnist",
        task="translation_edges2digits", figure="frechet_distance", variant="edges2digits",
        model_config={"channels": 32, "d_channels": 32, "latent_dim": 8},
        train={**_TRAIN, "steps": 500, "batch_size": 32},
        evaluate={"num_samples": 1000}, minutes=20.0,
        notes="cVAE-GAN + cLR-GAN, z in R^8; FD of translations with z ~ N(0, I) "
        "(benchmarks/translation_bicyclegan.py adds L1, class accuracy, diversity, latent "
        "regression)"),
    Recipe(
        name="cyclegan-mnist-printed_digits", model="cyclegan", dataset="mnist",
        task="translation_unpaired", figure="frechet_distance", variant="printed_digits",
        model_config={"channels": 8, "num_blocks": 2, "d_channels": 16},
        train={**_TRAIN, "steps": 500, "batch_size": 8},
        evaluate={"num_samples": 1000}, minutes=30.0,
        notes="handwritten MNIST <-> printed digits (installed fonts), unpaired; FD of F(y) for "
        "held-out printed digits y against MNIST (benchmarks/translation_cyclegan.py adds cycle "
        "errors and class kept both ways)"),
    Recipe(
        name="vid2vid-moving_digits-edges2video", model="vid2vid", dataset="moving_digits",
        task="translation_video", figure="mean_frame_frechet_distance", variant="edges2video",
        model_config={"channels": 16, "d_channels": 16},
        train={**_TRAIN, "steps": 600, "batch_size": 8},
        evaluate={"num_samples": 0}, study=vid2vid_frames, minutes=20.0,
        notes="edge video -> digit video, reduced vid2vid with flow warping "
        "(benchmarks/translation_vid2vid.py adds temporal consistency and the GIF)"),
]
