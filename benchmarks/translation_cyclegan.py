"""CycleGAN on handwritten MNIST (X) <-> printed digits rendered from installed fonts (Y),
unpaired: cycle errors of F(G(x)) and G(F(y)) on held-out images beside an untrained pair's,
the project classifier's accuracy that the digit's identity survives each direction, the
Fréchet distance of F(y) to handwriting, and a grid. Trained through the one run path,
resumable; one thread (2 shared CPU cores).

    nohup .venv/bin/python benchmarks/translation_cyclegan.py > /tmp/cyclegan.log 2>&1 &
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import REPO, WORK, Timer, data_dir, train_or_resume, write_result  # noqa: E402
from translation_common import N, accuracy, fd  # noqa: E402

import perceptzoo  # noqa: E402
from perceptzoo import data  # noqa: E402
from perceptzoo.core import runner  # noqa: E402
from perceptzoo.viz.images import save_grid  # noqa: E402

FIGURES = REPO / "benchmarks" / "figures" / "translation"
MODEL = {"channels": 8, "num_blocks": 2, "d_channels": 16}
TRAIN = {"steps": 500, "batch_size": 8, "lr": 2e-4, "seed": 0, "eval_every": 100000,
         "checkpoint_every": 100, "num_samples": 64, "progress": False}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    with Timer() as t:
        run, train_s = train_or_resume("cyclegan", WORK / "translation-cyclegan",
                                       dataset="mnist", train=TRAIN, model_config=MODEL)
        torch.set_grad_enabled(False)  # measuring from here on
        model = runner.load(run)
        mnist, printed = data.load("mnist", "test"), data.load("printed_digits", "test")
        x, x_labels, x_other = mnist.x[:N], mnist.y[:N], mnist.x[N:2 * N]
        y, y_labels = printed.x[:N], printed.y[:N]
        g_x = torch.cat([model.translate(x[i:i + 250], "x_to_y") for i in range(0, N, 250)])
        f_y = torch.cat([model.translate(y[i:i + 250], "y_to_x") for i in range(0, N, 250)])
        cyc_x, cyc_y = model.cycle_errors(x, y)
        torch.manual_seed(0)
        untrained = perceptzoo.build("cyclegan", dataset="mnist", **MODEL).eval()
        raw_x, raw_y = untrained.cycle_errors(x, y)
        metrics = {
            "cycle_l1_x": round(cyc_x, 5), "cycle_l1_y": round(cyc_y, 5),
            "untrained_cycle_l1_x": round(raw_x, 5), "untrained_cycle_l1_y": round(raw_y, 5),
            "class_kept_x_to_y": round(accuracy(g_x, x_labels), 4),
            "class_kept_y_to_x": round(accuracy(f_y, y_labels), 4),
            "class_accuracy_real_x": round(accuracy(x, x_labels), 4),
            "class_accuracy_real_y": round(accuracy(y, y_labels), 4),
            "frechet_distance_y_to_x": round(fd(f_y, x_other), 3),
            "frechet_distance_printed_vs_handwritten": round(fd(y, x_other), 3),
            "frechet_distance_real_floor": round(fd(x, x_other), 3),
            "num_samples": N,
        }
        FIGURES.mkdir(parents=True, exist_ok=True)
        k = 12
        rows = [x[:k], g_x[:k], model.translate(g_x[:k], "y_to_x"),
                y[:k], f_y[:k], model.translate(f_y[:k], "x_to_y")]
        save_grid(torch.cat([r.to(torch.uint8) for r in rows]).numpy(),
                  FIGURES / "cyclegan_mnist_printed.png", nrow=k)
    metrics["train_seconds"] = round(train_s, 1)
    write_result("cyclegan", "mnist", "printed_digits", config={"model": MODEL, "train": TRAIN},
                 metrics=metrics, wall_time_s=t.seconds,
                 published={"source": "Zhu et al. 2017 (CycleGAN) report FCN scores and AMT on "
                            "256x256 photo tasks (Tables 1-3); no digit figures; none "
                            "comparable"},
                 notes="X = MNIST test[:1000], Y = printed_digits test[:1000] (fonts from the "
                 "Debian packages fonts-dejavu-core and fonts-liberation); cycle_l1 = mean "
                 "|F(G(x)) - x| (and |G(F(y)) - y|) per pixel in [0, 1], beside a freshly "
                 "initialised pair (seed 0); class_kept = the MNIST classifier labels the "
                 "translation as the source's digit (its accuracy on the real images of each "
                 "domain beside); FD of F(y) to MNIST test[1000:2000] with the printed-vs-"
                 "handwritten and real-vs-real figures at the same size; figure rows: x, G(x), "
                 "F(G(x)), y, F(y), G(F(y)); 1 thread of 2 shared CPU cores",
                 task="translation_unpaired")
    print(metrics)


if __name__ == "__main__":
    main()
