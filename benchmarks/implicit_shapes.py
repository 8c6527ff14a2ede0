"""DeepSDF and Occupancy Networks on the procedural `shapes` collection, scored on held-out
shapes.

  deepsdf             auto-decoder on 64 random primitives (sphere, box, torus, capsule with
                      random sizes and rotations); test shapes get codes by latent
                      optimisation with the decoder frozen (DeepSDF eq. 10), from 20k SDF
                      samples, 400 Adam steps of 4000 points
  occupancy_network   pointcloud: encoder over 300 noisy surface points (sigma 0.005), as ONet's
                      point-cloud completion; image: one 64x64 render as input (single view)

Each: Chamfer-L1/L2, normal consistency, F-score@0.01 and volumetric IoU (100k uniform points)
on 8 held-out test shapes (and 4 training shapes), meshes extracted at 64^3 (CPU budget).

    python benchmarks/implicit_shapes.py [--steps 2000] [--only deepsdf onet-pointcloud]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, WORK, Timer, data_dir, write_result  # noqa: E402

from perceptzoo.implicit import runs  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"
DECODER = {"hidden": 128, "layers": 5, "skip_layers": [3]}
VARIANTS = {
    "deepsdf": ("deepsdf", {**DECODER, "latent_dim": 64, "shapes_per_batch": 8,
                            "points_per_shape": 1024}),
    "onet-pointcloud": ("occupancy_network", {**DECODER, "encoder": "pointcloud",
                                              "code_dim": 64, "shapes_per_batch": 8,
                                              "points_per_shape": 1024}),
    "onet-image": ("occupancy_network", {**DECODER, "encoder": "image", "code_dim": 64,
                                         "shapes_per_batch": 8, "points_per_shape": 1024}),
}
NOTES = {
    "deepsdf": "DeepSDF (Park et al. 2019) reports Chamfer on ShapeNet chairs/planes/tables/lamps/"
               "sofas (Tables 2-3, CD x 1000 on 30k points); not comparable with procedural "
               "primitives here.",
    "occupancy_network": "Occupancy Networks (Mescheder et al. 2019) report ShapeNet IoU/"
                         "Chamfer-L1/normal consistency (Table 1 single-image, Table 2 point "
                         "clouds); not comparable with procedural primitives here.",
}
NUM_TEST = 8
NUM_TRAIN_SCORED = 4
RESOLUTION = 64  # marching cubes grid for the many per-shape meshes (CPU budget)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--only", nargs="*")
    p.add_argument("--force", action="store_true")
    p.add_argument("--tag", default="", help="suffix for the variant name (e.g. a step count)")
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    runs.EVAL_RESOLUTION = RESOLUTION
    for base, (model, overrides) in VARIANTS.items():
        if args.only and base not in args.only:
            continue
        variant = base + (f"-{args.tag}" if args.tag else "")
        result = RESULTS / f"{model}-shapes-{variant}.json"
        if result.exists() and not args.force:
            print("skip", variant)
            continue
        out = WORK / f"{variant}-shapes"
        with Timer() as t_train:
            runs.train(model, dataset="shapes", out=out, steps=args.steps, seed=0,
                       overrides=overrides, data_dir=None)
        with Timer() as t_eval:
            test = runs.evaluate(out, split="test", num_samples=NUM_TEST)
            train = runs.evaluate(out, split="train", num_samples=NUM_TRAIN_SCORED)
        metrics = {f"test_{k}": v for k, v in test.items() if isinstance(v, float)}
        metrics.update({f"train_{k}": v for k, v in train.items() if isinstance(v, float)})
        metrics.update(train_time_s=round(t_train.seconds, 1), eval_time_s=round(t_eval.seconds, 1),
                       num_test_shapes=NUM_TEST, num_train_shapes_scored=NUM_TRAIN_SCORED,
                       mc_resolution=RESOLUTION)
        runs.sample(out, num_samples=4, out=FIGURES / f"implicit_{variant}_train.png", seed=0)
        if (out / "views.png").exists():
            shutil.copy(out / "views.png", FIGURES / f"implicit_{variant}.png")
        path = write_result(model, "shapes", variant, config={"steps": args.steps, **overrides},
                            metrics=metrics, published={"note": NOTES[model]},
                            wall_time_s=t_train.seconds + t_eval.seconds,
                            notes=f"CPU budget: {args.steps} Adam steps, one thread; "
                                  f"{NUM_TEST} held-out test shapes.")
        print(variant, json.dumps(metrics), path, flush=True)


if __name__ == "__main__":
    main()
