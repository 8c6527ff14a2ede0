"""BicycleGAN on edges -> digits (MNIST test digits' Sobel edge maps): L1, Fréchet distance and
class accuracy of one translation per edge map (z ~ N(0, I)), the diversity of 10 translations
of one edge map, the encoder's latent regression error, and a grid of several z per source.
Trained through the one run path, resumable; one thread (2 shared CPU cores).

    nohup .venv/bin/python benchmarks/translation_bicyclegan.py > /tmp/bicyclegan.log 2>&1 &
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
MODEL = {"channels": 32, "d_channels": 32, "latent_dim": 8}
TRAIN = {"steps": 500, "batch_size": 32, "lr": 2e-4, "seed": 0, "eval_every": 100000,
         "checkpoint_every": 100, "num_samples": 64, "progress": False}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    with Timer() as t:
        run, train_s = train_or_resume("bicyclegan", WORK / "translation-bicyclegan",
                                       dataset="mnist", train=TRAIN, model_config=MODEL)
        torch.set_grad_enabled(False)  # measuring from here on
        model = runner.load(run)
        edges, digits, labels, other = test_pairs()
        g = torch.Generator().manual_seed(0)
        outputs = torch.cat([model.sample(250, cond=edges[i:i + 250], generator=g)
                             for i in range(0, len(edges), 250)])
        metrics = edges_to_digits_figures(outputs, digits, labels, other)
        k = 10
        reps = torch.stack([model.sample(100, cond=edges[:100], generator=g) for _ in range(k)], 1)
        metrics["diversity_l1"] = round(diversity(reps), 5)
        z = model.latent(1000, g)
        fake = model.generate(edges.float() * 2 - 1, z)
        metrics["latent_regression_l1"] = round(float((model.encode(fake)[0] - z).abs().mean()), 4)
        metrics["latent_prior_l1"] = round(float(z.abs().mean()), 4)
        FIGURES.mkdir(parents=True, exist_ok=True)
        rows = [edges[:12] * 255, *[reps[:12, i].to(torch.uint8) for i in range(6)], digits[:12]]
        save_grid(torch.cat(rows).numpy(), FIGURES / "bicyclegan_edges2digits.png", nrow=12)
    metrics["train_seconds"] = round(train_s, 1)
    write_result("bicyclegan", "mnist", "edges2digits", config={"model": MODEL, "train": TRAIN},
                 metrics=metrics, wall_time_s=t.seconds,
                 published={"source": "Zhu et al. 2017 (BicycleGAN) report LPIPS diversity and "
                            "AMT fooling rates on 256x256 photo tasks (Table 1); no MNIST "
                            "figures; none comparable"},
                 notes="edges -> digits: sources are the Sobel edge maps of the first 1000 MNIST "
                 "test digits, one z ~ N(0, I) each; FD against test[1000:2000] with the "
                 "real-vs-real floor at the same size; diversity = mean pairwise L1 of 10 "
                 "translations (10 z) of 100 sources (compare pix2pix's dropout-only figure); "
                 "latent_regression_l1 = mean |mu(E(G(A, z))) - z| beside the prior's mean |z|; "
                 "figure: row 1 sources, rows 2-7 six z, row 8 targets; 1 thread of 2 shared "
                 "CPU cores", task="translation_edges2digits")
    print(metrics)


if __name__ == "__main__":
    main()
