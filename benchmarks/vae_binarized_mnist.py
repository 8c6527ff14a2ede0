"""VAE (Kingma & Welling 2014) on the fixed binarized MNIST: the test ELBO and IWAE-5000 NLL
beside the recipe's IWAE-100 figure, added to the recipe's own result.

    python benchmarks/vae_binarized_mnist.py [--recipe vae-binarized_mnist] [--k 5000]

A study of a recipe, not a second benchmark: the model, its training and its result file are
those of the recipe (`vae-binarized_mnist`: Burda et al. 2016's one-stochastic-layer model,
784-200-200-50 tanh encoder, 50-200-200-784 tanh decoder, Bernoulli likelihood, the ELBO;
`vae-binarized_mnist-iwae5`: the same trained on the IWAE bound with k=5; both in
`perceptzoo/bench/recipes/vae.py`). The run is the one `perceptzoo bench RECIPE` trains, in
`benchmarks/work/RECIPE/`; when it has not finished, or its result file is of another config,
this script runs the recipe through the harness first (train or resume, score, write
`benchmarks/results/RECIPE.json`). Then on the full 10,000-image test split: the ELBO (one
reparameterised sample per image, analytic KL) and the IWAE-100 bound per image (`--k-full`);
Burda et al.'s IWAE-5000 estimate (`--k`) on every 20th test image (500, stratified by label:
the split is sorted by label), because on 2 CPU cores shared by ~8 jobs the full-split
IWAE-5000 ran at ~1 s per image (~3 h; ~5,500 decodes per second), with its standard error, a
bootstrap interval and a paired estimate of the full split's IWAE-5000. These figures are added
to the recipe's result file (its `test_nll_nats`, config hash and commit are the harness's and
stay), so a re-run of this script or of the recipe writes that one file, never a second one.
The IWAE is resumable: it writes its partial sums into the run folder every 25 batches, so
rerunning the command continues where it stopped (and rescores a finished run quickly).

Comparability: Burda et al. resample a new binarization of MNIST each time an image is seen
(dynamic binarization) and train for ~3,280 epochs; we use the single fixed binarization of
Larochelle & Murray (the autoregressive models' data, so our figures sit in one table with
theirs) and a ~20-minute CPU budget. Fixed binarization overfits more and is usually a few nats
worse than dynamic binarization, so the published row is a reference, not a target.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from common import RESULTS, WORK, data_dir

from perceptzoo import data
from perceptzoo.bench import harness
from perceptzoo.bench import results as res
from perceptzoo.bench.recipe import Recipe
from perceptzoo.bench.recipes.vae import RECIPES
from perceptzoo.core import runner
from perceptzoo.io import write_json
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = RESULTS.parent / "figures" / "vae"
#: the recipes this study extends: the VAE on binarized MNIST by the ELBO and by the IWAE bound
STUDIED = tuple(r.name for r in RECIPES if r.model == "vae" and r.dataset == "binarized_mnist")


def iwae_test(model, x: torch.Tensor, k: int, partial_path, batch: int = 20):
    """(-L_k for every test image (N,), seconds spent over all sessions), resuming from
    `partial_path` (one seed per batch, so a resumed evaluation draws what one pass would)."""
    state = {"nll": [], "seconds": 0.0}
    if partial_path.exists():
        state = torch.load(partial_path, weights_only=True)
    start, first = time.time(), len(state["nll"])
    with torch.no_grad():
        for b in range(first, (len(x) + batch - 1) // batch):
            torch.manual_seed(10_000 + b)
            state["nll"].append(-model.log_prob(x[b * batch : (b + 1) * batch], k=k))
            if b % 25 == 0 or (b + 1) * batch >= len(x):
                state_now = {"nll": state["nll"],
                             "seconds": state["seconds"] + time.time() - start}
                torch.save(state_now, partial_path)
                print(f"iwae batch {b + 1}: mean so far {torch.cat(state['nll']).mean():.3f} "
                      f"({(time.time() - start) / (b + 1 - first):.2f} s/batch)", flush=True)
    return torch.cat(state["nll"]), state["seconds"] + time.time() - start


def recipe_run(recipe: Recipe) -> tuple[Path, Path]:
    """(the recipe's run folder, its result file), running the recipe through the harness
    (train or resume, score, write the result) unless both are there for its config."""
    run, path = WORK / res.result_name(recipe), RESULTS / f"{res.result_name(recipe)}.json"
    marker = res.read_result(run / harness.MARKER) or {}
    result = res.read_result(path) or {}
    wanted = res.config_hash(recipe)
    if not (marker.get("trained") and marker.get("config_hash") == wanted
            and result.get("config_hash") == wanted):
        print(f"running recipe {recipe.name} (perceptzoo bench {recipe.name})", flush=True)
        options = harness.Options(suite="full", results_dir=str(RESULTS), work_dir=str(WORK),
                                  progress=False)
        harness.run_recipe(recipe, options, say=lambda m: print(m, flush=True))
    return run, path


def add_to_result(path: Path, metrics: dict[str, Any], note: str, seconds: float) -> None:
    """The study's figures added to the recipe's result file (replacing an earlier run's of
    this study): the harness's own (its test_nll_nats, config hash, commit, training time)
    are kept."""
    result = json.loads(path.read_text())
    earlier = set((result.get("study") or {}).get("metrics", ()))
    harness_keys = set(result["metrics"]) - earlier
    added = {k: v for k, v in metrics.items() if k not in harness_keys}
    result["metrics"] = {k: v for k, v in result["metrics"].items() if k in harness_keys}
    result["metrics"].update(added)
    result["study"] = {"script": f"benchmarks/{Path(__file__).name}",
                       "commit": res.current_commit(), "seconds": round(seconds, 1),
                       "metrics": sorted(added), "note": note}
    write_json(path, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default=STUDIED[0], choices=STUDIED)
    parser.add_argument("--k", type=int, default=5000, help="importance samples, subset")
    parser.add_argument("--k-full", type=int, default=100, help="importance samples, full split")
    parser.add_argument("--every", type=int, default=20, help="subset: every n-th test image")
    parser.add_argument("--note", default="", help="a sentence for the study's note")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data_dir()
    recipe = next(r for r in RECIPES if r.name == args.recipe)
    run, path = recipe_run(recipe)
    model = runner.load(run)
    x = data.load("binarized_mnist", "test").x
    start = time.time()
    torch.manual_seed(0)
    with torch.no_grad():
        terms = [model.elbo(x[i : i + 500]) for i in range(0, len(x), 500)]
    neg_elbo = -torch.cat([t["elbo"] for t in terms]).mean().item()
    kl = torch.cat([t["kl"] for t in terms]).mean().item()
    # the full split with --k-full samples, and a stratified subset (every --every-th image
    # of the label-sorted test split) with --k, to show how much the bound moves with k
    nll_full, seconds_full = iwae_test(model, x, args.k_full,
                                       run / f"iwae{args.k_full}_partial.pt")
    subset = x[:: args.every]
    nll_sub, seconds_sub = iwae_test(model, subset, args.k,
                                     run / f"iwae{args.k}_every{args.every}_partial.pt")
    iwae_seconds = seconds_full + seconds_sub
    recipe_nll = json.loads(path.read_text())["metrics"].get("test_nll_nats")
    print(f"test -ELBO {neg_elbo:.2f}, IWAE-{args.k_full} NLL {nll_full.mean():.2f} nats "
          f"(all {len(x)}; the recipe's figure: {recipe_nll}); IWAE-{args.k} "
          f"{nll_sub.mean():.2f} vs IWAE-{args.k_full} {nll_full[:: args.every].mean():.2f} "
          f"on {len(subset)} images", flush=True)

    variant = recipe.variant or "elbo"
    FIGURES.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    save_grid(to_uint8(model.sample(64, generator=g, mean=True), None),
              FIGURES / f"binarized_mnist-{variant}-samples.png")
    pairs = [model.interpolate(x[i], x[j], 10) for i, j in ((0, 9999), (1500, 5000),
                                                               (3000, 8000))]
    save_grid(to_uint8(torch.cat(pairs), None),
              FIGURES / f"binarized_mnist-{variant}-interpolation.png", nrow=10)
    n = len(subset)
    metrics = {
        f"test_iwae{args.k_full}_nll_nats": round(nll_full.mean().item(), 3),
        "test_negative_elbo_nats": round(neg_elbo, 3),
        "test_kl_nats": round(kl, 3),
        f"test_subset{n}_iwae{args.k}_nll_nats": round(nll_sub.mean().item(), 3),
        f"test_subset{n}_iwae{args.k_full}_nll_nats":
            round(nll_full[:: args.every].mean().item(), 3),
        **{f"test_subset{n}_iwae{args.k}_{key}": round(value, 3)
           for key, value in subset_uncertainty(nll_sub, nll_full[:: args.every], nll_full)
           .items() if key != "mean"},
        "iwae_samples_per_second": round((len(x) * args.k_full + n * args.k) / iwae_seconds),
    }
    note = (f"IWAE-{args.k} (the paper's k) only on every {args.every}th test image (stratified "
            f"by label), beside this study's own IWAE-{args.k_full} of every image (the "
            "recipe's test_nll_nats is the harness's, with other draws); on 2 CPU cores shared "
            "by ~8 jobs the full-split IWAE-5000 ran at ~1 s per image (~3 h). " + args.note)
    add_to_result(path, metrics, note.strip(), time.time() - start)
    print(f"added {len(metrics)} figures to {path}")


def subset_uncertainty(nll_sub: torch.Tensor, nll_full_sub: torch.Tensor,
                       nll_full: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """How far the subset's IWAE-k mean may be from the full split's, from per-image values:
    the standard error over the n subset images and a 10,000-resample bootstrap 95 % interval;
    and the paired (control-variate) estimate of the full-split IWAE-k, the full split's
    IWAE-k_full minus the subset's mean gap IWAE-k_full - IWAE-k, whose standard error is the
    gap's (the two bounds of one image move together, so the gap varies far less than either)."""
    n = len(nll_sub)
    g = torch.Generator().manual_seed(seed)
    means = nll_sub[torch.randint(0, n, (10_000, n), generator=g)].mean(1)
    gap = nll_full_sub - nll_sub
    return {"mean": nll_sub.mean().item(), "se": (nll_sub.std() / n**0.5).item(),
            "boot_lo": means.quantile(0.025).item(), "boot_hi": means.quantile(0.975).item(),
            "paired": (nll_full.mean() - gap.mean()).item(),
            "paired_se": (gap.std() / n**0.5).item()}


if __name__ == "__main__":
    main()
