"""C-Flow on paired MNIST domains: edge maps -> digits (and the bits/dim of each flow).

Trains `cflow` (direction edges_to_digits by default) on MNIST, where each digit's edge map
(`perceptzoo.data.edges.edge_map`) is its pair, then draws digits for test edge maps.
Figure benchmarks/figures/flows_cflow_mnist_<direction>.png: one column per test example;
rows: the domain-A input, the true domain-B image, then 4 generated domain-B images at
temperature 0.7. Metrics: bits/dim of the pair's bound, of flow A alone and of B given A;
for edges -> digits also the edge-map consistency of the generated digits (fraction of
pixels where edge_map(generated) equals the input edge map) and the classifier accuracy of the
generated digits against the true labels (the shipped MNIST classifier, when present).
Published: C-Flow (Pumarola et al. 2020) reports no MNIST figure; none is quoted.

    python benchmarks/flows_cflow_mnist.py [--steps 1500] [--direction edges_to_digits]
"""

from __future__ import annotations

import argparse
import time

import torch
from common import REPO, WORK, Timer, data_dir, train_or_resume, write_result

from perceptzoo import data
from perceptzoo.core import runner
from perceptzoo.data.edges import edge_map
from perceptzoo.metrics.evaluate import evaluate
from perceptzoo.viz.images import save_grid

MODEL = dict(hidden=32, num_steps=4, num_scales=2)


def _u8(x: torch.Tensor, levels: int) -> torch.Tensor:
    return (x.float() / (levels - 1) * 255).round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--direction", default="edges_to_digits",
                   choices=["edges_to_digits", "digits_to_edges"])
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    model_cfg = {**MODEL, "direction": args.direction}
    train = dict(steps=args.steps, batch_size=64, lr=1e-3, warmup_steps=100)
    train.update(eval_every=500, eval_examples=500, checkpoint_every=100, progress=False,
                 num_samples=64)
    out = WORK / f"flows_cflow_mnist_{args.direction}"
    start = time.time()
    with Timer() as t:
        run, _ = train_or_resume("cflow", out, dataset="mnist", train=train,
                                 model_config=model_cfg)
    model = runner.load(run)
    torch.manual_seed(0)
    metrics = evaluate(model, "mnist", "test", num_samples=1000)
    test = data.load("mnist", "test")
    x_a, x_b = model.pair(test.x[:500])
    g = torch.Generator().manual_seed(1)
    generated = model.translate(x_a, generator=g, temperature=0.7)
    if args.direction == "edges_to_digits":
        consistency = (edge_map(generated.to(torch.uint8), 256) == x_a).float().mean()
        metrics["edge_consistency"] = float(consistency)
        from perceptzoo.metrics import classifier

        if classifier.has_classifier("mnist"):
            with torch.no_grad():
                logits = classifier.load_classifier("mnist")(generated)
            metrics["generated_class_accuracy"] = float(
                (logits.argmax(1) == test.y[:500]).float().mean())
    else:
        metrics["edge_pixel_accuracy"] = float((generated == x_b).float().mean())
    la, lb = model.levels_a, model.levels_b
    cols = 12
    rows = [_u8(x_a[:cols], la), _u8(x_b[:cols], lb)]
    for _ in range(4):
        rows.append(_u8(model.translate(x_a[:cols], generator=g, temperature=0.7), lb))
    save_grid(torch.cat(rows).numpy(), REPO / "benchmarks" / "figures" /
              f"flows_cflow_mnist_{args.direction}.png", scale=2, nrow=cols)
    print(metrics, flush=True)
    write_result(
        "cflow", "mnist", args.direction,
        config={"model": model_cfg, "train": train, "translate_temperature": 0.7},
        metrics={k: v for k, v in metrics.items() if not k.endswith("time_s")},
        published={"note": "C-Flow (Pumarola et al. 2020) reports no MNIST figure"},
        wall_time_s=time.time() - start,
        notes=f"CPU budget run, training {t.seconds:.0f} s; test_bits_per_dim is the pair's "
              "bound per digit pixel (an upper bound on the digit's bits/dim); figure "
              f"figures/flows_cflow_mnist_{args.direction}.png",
    )


if __name__ == "__main__":
    main()
