"""MADE (Germain et al. 2015) on the fixed binarized MNIST and on digits.

    python benchmarks/made.py binarized_mnist 1mask          [--hidden 8000 [8000]] [--epochs 30]
    python benchmarks/made.py binarized_mnist 32masks        (32 connectivities, natural order)
    python benchmarks/made.py binarized_mnist 32masks-orders (32 orderings and connectivities)
    python benchmarks/made.py digits 1mask

Architecture: one hidden layer of ReLU units with masked direct input->output connections, the
configuration of the authors' published command for their MNIST results (github.com/mgermain/MADE
README: hidden layers of 8000 units, `direct_input_connect Output`, ReLU ("hinge"), batch 100,
early stopping with a look-ahead of 30 epochs, Adagrad). Karpathy's pytorch-made README notes
that 500 units and one mask give ~94.5 nats (the paper's masks-plot setting), so the Table 2 rows
are not 500-unit models; `--hidden 500` runs that size (91.1 nats with our recipe).
Our recipe: AdamW with a cosine schedule over at most `--epochs`, validation NLL every epoch,
early stopping (`keep_best`, `patience` evaluations) -- the reported weights are the best
validation epoch's, never selected on the test set.
1mask: natural order, one connectivity. 32masks: the model cycles through 32 masks, one per
minibatch (section 4.3), and is evaluated as the 32-mask ensemble (log-mean-exp of
probabilities) and, for comparison, with its first mask alone.
The run folder under benchmarks/work/ makes the training resumable: rerun the same command.

Measured (BENCHMARKS.md): the 32-mask ensemble beats the one-mask model only with orderings in
the masks (32masks-orders: 88.30 nats after 40 epochs on 2 CPU threads, 50 minutes, against
88.93 for one mask; 88.05 after 108 epochs on a GPU; each mask alone scores ~92.5-93.6).
32 connectivities in one order gain only ~2-3 nats over their own masks and stay behind the
one-mask model (90.0-90.6).
"""

from __future__ import annotations

import argparse
import json

import torch
from common import (
    RESULTS,
    WORK,
    Timer,
    best_validation,
    data_dir,
    device_description,
    epochs_for_budget,
    logged_train_seconds,
    write_result,
)

import perceptzoo
from perceptzoo.core.runs import RunDir
from perceptzoo.metrics.evaluate import evaluate

PUBLISHED = {  # Germain et al. 2015, Table 2 (binarized MNIST test NLL, nats)
    "1mask": {"test_nll_nats": 88.40,
              "source": "Germain et al. 2015, Table 2, MADE 1 hidden layer, 1 mask"},
    "32masks": {"test_nll_nats": 86.64,
                "source": "Germain et al. 2015, Table 2, best MADE with 32 masks (the authors' "
                          "README gives 2 hidden layers of 8000 units, order+connectivity masks)"},
}
PUBLISHED["32masks-orders"] = PUBLISHED["32masks"]
PEER_NOTE = (
    "pytorch-generative reports 84.87 nats for MADE on MNIST, but with dynamically binarized "
    "data (a fresh Bernoulli draw of each image every epoch), a different and easier task than "
    "the fixed Larochelle-Murray binarization used here and in the paper: not comparable."
)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dataset", choices=["binarized_mnist", "digits"])
    p.add_argument("variant", choices=["1mask", "32masks", "32masks-orders"])
    p.add_argument("--hidden", type=int, nargs="+", default=None,
                   help="hidden units per layer (binarized MNIST: 8000; the authors' 32-mask "
                        "command: 8000 8000)")
    p.add_argument("--epochs", type=int, default=None, help="at most this many epochs")
    p.add_argument("--patience", type=int, default=4,
                   help="stop after this many evaluations without a better validation NLL")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--eval-only", action="store_true",
                   help="score the run's best weights so far (an interrupted run) without training")
    p.add_argument("--tag", default="", help="suffix for the variant name (e.g. gpu)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--minutes", type=float, default=None,
                   help="size the number of epochs to this training-time budget (measured)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data_dir()
    masks = 1 if args.variant == "1mask" else 32
    mnist = args.dataset == "binarized_mnist"
    hidden = args.hidden or [8000 if mnist else 500]
    model_cfg = {"hidden_sizes": hidden, "num_masks": masks,
                 "order_agnostic": args.variant == "32masks-orders",
                 "connectivity_agnostic": True, "direct_connections": True}
    epochs = args.epochs or ((30 if masks == 1 else 40) if mnist else 200)
    lr = args.lr or (2e-3 if args.dataset == "digits" else 1e-3)
    steps_per_epoch = {"binarized_mnist": 50000, "digits": 1257}[args.dataset] // args.batch_size
    train_cfg = perceptzoo.TrainConfig(
        epochs=epochs, batch_size=args.batch_size, lr=lr, weight_decay=0.0, grad_clip=10.0,
        schedule="cosine", warmup_steps=200, num_samples=64, device=args.device,
        progress=False, log_every=100, checkpoint_every=steps_per_epoch,
        # validation every epoch (1 mask) or every 2 epochs (a 32-mask ensemble costs 32
        # passes: on a CPU only the first 2,000 images), the best epoch's weights kept
        eval_every=steps_per_epoch * (1 if masks == 1 else 2),
        eval_examples=10000 if masks == 1 or args.device != "cpu" else 2000,
        keep_best=mnist, patience=args.patience if mnist else None,
    )
    if args.minutes and not args.eval_only:
        epochs = epochs_for_budget("made", args.dataset, model_cfg, train_cfg, args.minutes)
        train_cfg.epochs = epochs
        print(f"{args.minutes} min budget -> {epochs} epochs", flush=True)
    size = "x".join(map(str, hidden))  # 8000, or 8000x8000 for two layers
    suffix = (f"-h{size}" if mnist else "") + (f"-{args.tag}" if args.tag else "")
    variant = args.variant + suffix
    out = WORK / f"made-{args.dataset}-{variant}"
    run = RunDir(out)
    if not args.eval_only:
        if run.has_checkpoint():
            perceptzoo.resume(out)
        else:
            perceptzoo.train("made", dataset=args.dataset, out=out, train_config=train_cfg,
                             model_overrides=model_cfg)
    # the run's own training config (an --eval-only or resumed call rebuilds `train_cfg` from
    # the command line, which need not be what the run was started with)
    trained = run.read_config()["train"]
    train_s = logged_train_seconds(out)  # summed over the run's resumes
    with Timer() as timer:
        model = perceptzoo.load(out).to(args.device)
        metrics = evaluate(model, args.dataset, "test", num_samples=500 if masks == 1 else 0)
    result = {"test_nll_nats": metrics["test_nll_nats"],
              "test_bits_per_dim": metrics["test_bits_per_dim"]}
    notes = PEER_NOTE if args.dataset == "binarized_mnist" else (
        "digits: 17 grey levels, categorical outputs; no published figure for this dataset")
    if masks > 1:
        result["test_nll_nats_1mask"] = metrics["test_nll_nats_1mask"]
        result["ensemble_gain_over_own_first_mask_nats"] = round(
            metrics["test_nll_nats_1mask"] - metrics["test_nll_nats"], 2)
        single = RESULTS / f"made-{args.dataset}-1mask{suffix}.json"
        if single.exists():  # the dedicated one-mask model of the same size and tag
            result["one_mask_model_test_nll_nats"] = json.loads(
                single.read_text())["metrics"]["test_nll_nats"]
        notes = (f"{masks} masks ({'orderings and ' if model_cfg['order_agnostic'] else ''}"
                 "connectivities: hidden degrees redrawn per mask), cycled one per minibatch "
                 "(section 4.3); scored as the ensemble (log-mean-exp of the masks' "
                 "probabilities) and with its first mask alone; validation every 2 epochs on "
                 f"the first {trained['eval_examples']:,} valid images. " + notes)
    for key in ("frechet_distance", "precision", "recall"):
        if key in metrics:
            result[key] = metrics[key]
    records = run.read_metrics()
    best = best_validation(records)
    if best:
        result["valid_nll_nats"] = best["valid_nll_nats"]
        result["best_epoch"] = best["step"] / steps_per_epoch
        result["epochs_run"] = max(r["step"] for r in records) / steps_per_epoch
    result.update(train_time_s=round(train_s, 1), eval_time_s=round(timer.seconds, 1))
    published = PUBLISHED[args.variant] if mnist else None
    epochs = trained["epochs"]
    cut_short = (result.get("epochs_run", epochs) < epochs
                 and not any(r.get("stopped_early") for r in records))
    write_result("made", args.dataset, variant, config={
        "script": "benchmarks/made.py", "model": model_cfg, "train": trained,
        "budget": f"at most {epochs} epochs on {device_description()}; ran "
                  f"{result.get('epochs_run', epochs):g}, best validation at epoch "
                  f"{result.get('best_epoch', epochs):g}" + (
                      " (training stopped by a time limit before its last epoch; the weights "
                      "are the best validation epoch's)" if cut_short else "")},
        metrics=result, published=published, wall_time_s=train_s + timer.seconds, notes=notes)
    print(args.dataset, variant, result, f"{train_s + timer.seconds:.0f} s")


if __name__ == "__main__":
    main()
