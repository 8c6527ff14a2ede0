"""Pix2Pix on edges -> digits (MNIST test digits' Sobel edge maps): L1, Fréchet distance and class
accuracy of the translations, the dropout-only diversity, a sample grid (sources, outputs,
targets). Trained through the one run path, resumable; one thread (2 shared CPU cores).

    nohup .venv/bin/python benchmarks/translation_pix2pix.py > /tmp/pix2pix.log 2>&1 &
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import REPO, WORK, Timer, data_dir, train_or_resume, write_result  # noqa: E402
from translation_common import diversity, edges_to_digits_figures, test_pairs  # noqa: E402

from perceptzoo.core import runner  # noqa: E402
from perceptzoo.viz.images import save_grid  # noqa: E402

FIGURES = REPO / "benchmarks" / "figures" / "translation"
MODEL = {"channels": 32, "d_channels": 32}
TRAIN = {"steps": 1500, "batch_size": 32, "lr": 2e-4, "seed": 0, "eval_every": 100000,
         "checkpoint_every": 250, "num_samples": 64, "progress": False}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    with Timer() as t:
        run, train_s = train_or_resume("pix2pix", WORK / "translation-pix2pix", dataset="mnist",
                                       train=TRAIN, model_config=MODEL)
        model = runner.load(run)
        edges, digits, labels, other = test_pairs()
        g = torch.Generator().manual_seed(0)
        outputs = torch.cat([model.sample(250, cond=edges[i:i + 250], generator=g)
                             for i in range(0, len(edges), 250)])
        metrics = edges_to_digits_figures(outputs, digits, labels, other)
        k = 10
        reps = torch.stack([model.sample(100, cond=edges[:100], generator=g) for _ in range(k)], 1)
        metrics["diversity_l1"] = round(diversity(reps), 5)
        FIGURES.mkdir(parents=True, exist_ok=True)
        grid = torch.cat([edges[:16] * 255, outputs[:16].to(torch.uint8), digits[:16]])
        save_grid(grid.numpy(), FIGURES / "pix2pix_edges2digits.png", nrow=16)
    metrics["train_seconds"] = round(train_s, 1)
    write_result("pix2pix", "mnist", "edges2digits", config={"model": MODEL, "train": TRAIN},
                 metrics=metrics, wall_time_s=t.seconds + 0.0,
                 published={"source": "Isola et al. 2017 report no MNIST figures (their tasks "
                            "are 256x256 photos: FCN-scores, AMT); none comparable"},
                 notes="edges -> digits: sources are the Sobel edge maps of the first 1000 MNIST "
                 "test digits; FD against test[1000:2000] with the real-vs-real floor at the "
                 "same size; diversity = mean pairwise L1 of 10 translations (dropout noise) "
                 "of 100 sources; figure: row 1 sources, row 2 outputs, row 3 targets; "
                 "1 thread of 2 shared CPU cores", task="translation_edges2digits")
    print(metrics)


if __name__ == "__main__":
    main()
