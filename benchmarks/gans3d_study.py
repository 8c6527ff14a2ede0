"""Score the gans3d runs of `benchmarks/gans3d_train.py`: the voxel 3D-GAN (trained on
voxels16) and PlatonicGAN (trained only on voxel_views16 silhouettes).

Figures, per model, from 128 generated volumes (binarised at 0.5):
- IoU of each generated shape to its nearest training shape (mean, and the same for the 128
  held-out real shapes (valid + test), the floor an unseen real shape reaches);
- Fréchet distance in the features of the voxel classifier (`perceptzoo.gans3d.classifier`,
  trained here on the train split and saved as safetensors) between 128 generated and the 128
  held-out volumes, beside the real-vs-real floor (128 train vs the same 128 held-out);
- turntable GIFs (absorption-only renders at 24 azimuths, elevation 20 degrees).

    python benchmarks/gans3d_study.py

GRAF, EG3D and HoloGAN are recipes (`perceptzoo bench graf-voxel_views16`, scored by
`perceptzoo.gans3d.scores.study_views`).
"""

import json
import time

import torch
from common import REPO, RESULTS, WORK, logged_train_seconds, write_result

from perceptzoo.core import runner
from perceptzoo.data import voxels
from perceptzoo.gans3d import classifier
from perceptzoo.gans3d.scores import generated_volumes, iou_to_nearest, score, turntable
from perceptzoo.metrics.frechet import frechet_distance

FIGURES = REPO / "benchmarks" / "figures" / "gans3d"
NUM = 128


def main() -> None:
    torch.set_num_threads(1)
    FIGURES.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train = voxels.load("voxels16", "train")
    held = torch.cat([voxels.load("voxels16", s).x for s in ("valid", "test")])
    if classifier.WEIGHTS.exists():
        clf = classifier.load()
    else:
        clf = classifier.train(train.x, train.y)
        classifier.save(clf)
    test = voxels.load("voxels16", "test")
    with torch.no_grad():
        acc = (clf(test.x.float()).argmax(1) == test.y).float().mean().item()
        floor = frechet_distance(clf.features(train.x[:NUM].float()), clf.features(held.float()))
    floor_iou = iou_to_nearest(held, train.x).mean().item()
    clf_time = time.time() - t0
    print(f"classifier test accuracy {acc:.3f}; FD floor {floor:.3f}; held-out IoU {floor_iou:.3f}")

    # (run folder suffix, result variant): the recipes own voxel_gan-voxels16 and
    # platonic_gan-voxel_views16 (the hull_long settings); these are the study's variants
    name, dataset, task = "platonic_gan", "voxel_views16", "gans3d_views"
    for suffix, variant in [("", "absorption"), ("-sparse", "sparse"), ("-hull", "hull"),
                            ("-absorption_slow_d", "absorption_slow_d")]:
        run = WORK / f"gans3d-{name}{suffix}"
        if (RESULTS / f"{name}-{dataset}-{variant}.json").exists():
            continue  # scored already
        if not (run / "bench-done").exists():
            print(f"{name}: no finished run at {run}; skipped")
            continue
        start = time.time()
        model = runner.load(run)
        metrics = {**score(model, NUM, clf), "voxel_classifier_test_accuracy": round(acc, 3)}
        turntable(generated_volumes(model, 6, seed=1), FIGURES / f"{run.name[7:]}_turntable.gif")
        turntable(held[:6], FIGURES / "real_turntable.gif")
        cfg = json.loads((run / "config.json").read_text())
        write_result(name, dataset, variant, config={"run": cfg["train"],
                                                  "model": cfg["model_config"]},
                     metrics=metrics,
                     published={"source": "Wu et al. 2016 and Henzler et al. 2019 report "
                                          "ShapeNet/ModelNet figures at 64^3 (classification "
                                          "accuracy of features, qualitative renders); no "
                                          "comparable published figure for 16^3 primitives"},
                     wall_time_s=logged_train_seconds(run) + (time.time() - start) + clf_time,
                     task=task, notes=f"CPU, 1 thread, {cfg['train']['steps']} steps at batch 32; "
                                      "FD from 128 vs 128 volumes in 64-d features (small: "
                                      "compare with the floor at the same size only)")
        print(name, metrics)


if __name__ == "__main__":
    main()
