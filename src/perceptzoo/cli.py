"""The `perceptzoo` command: list | train | sample | eval | report.

    perceptzoo list
    perceptzoo train made                       # MADE on the embedded digits, into runs/made-digits
    perceptzoo train made --dataset binarized_mnist --epochs 20 --set hidden_sizes=[500]
    perceptzoo train --resume runs/made-digits  # continue an interrupted run
    perceptzoo sample runs/made-digits -n 64 --out grid.png
    perceptzoo eval runs/made-digits --split test
    perceptzoo report                           # BENCHMARKS.md from benchmarks/results/*.json

Bad input gets one line on stderr that says what to do, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="perceptzoo", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="CPU threads for torch (default 1: the small models here run fastest "
                   "on one thread, and several processes then share a machine well)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="list the models and datasets")

    t = sub.add_parser("train", help="train a model into a run folder",
                       description="Train NAME on a dataset; writes config.json, "
                       "model.safetensors, metrics.jsonl, samples.png and a checkpoint.")
    t.add_argument("name", nargs="?", help="model name (see `perceptzoo list`)")
    t.add_argument("--dataset", help="dataset name (default: the model's default)")
    t.add_argument("--steps", type=_positive_int, help="optimizer steps")
    t.add_argument("--epochs", type=_positive_int, help="passes over the training split")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--lr", type=_float, help="peak learning rate")
    t.add_argument("--seed", type=int, help="seed for initialisation, data order and samples")
    t.add_argument("--out", help="run folder (default runs/NAME-DATASET)")
    t.add_argument("--resume", metavar="RUN", help="continue the interrupted run in RUN")
    t.add_argument("--data-dir", help="folder with MNIST-family data (default $PERCEPTZOO_DATA)")
    t.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE",
                   help="model config options; train.KEY=VALUE sets Trainer options "
                   "(e.g. train.ema_decay=0.999)")
    t.add_argument("--eval-samples", type=int, default=1000,
                   help="samples drawn for the final sample-based metrics (0: none)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help="run folder")
    s.add_argument("-n", "--num-samples", type=_positive_int, default=64)
    s.add_argument("--out", default="samples.png",
                   help="PNG file to write (a .wav beside it for audio data)")
    s.add_argument("--seed", type=int, default=0)

    e = sub.add_parser("eval", help="print a run's metrics on a split as one JSON object")
    e.add_argument("run", help="run folder")
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    e.add_argument("--num-samples", type=int, default=1000,
                   help="samples for sample-based metrics (0: likelihoods only)")
    e.add_argument("--data-dir")

    r = sub.add_parser("report", help="write BENCHMARKS.md from benchmarks/results/*.json")
    r.add_argument("--results", default="benchmarks/results")
    r.add_argument("--out", default="BENCHMARKS.md")
    return p


def _family_overrides(spec, args) -> dict:
    """--lr / --batch-size / --epochs as fields of a family-run config (rl, implicit), + --set."""
    import dataclasses

    from perceptzoo.core.config import parse_overrides
    from perceptzoo.core.errors import UserError

    fields = [f.name for f in dataclasses.fields(spec.config_class)]
    flags = {"lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs}
    given = {k: v for k, v in flags.items() if v is not None}
    for key in given:
        if key not in fields:
            raise UserError(f"--{key.replace('_', '-')} does not apply to {spec.name}; set its "
                            f"fields with --set key=value ({', '.join(fields)})")
    return {**given, **parse_overrides(args.overrides)}


def _train(args) -> int:
    from perceptzoo import data
    from perceptzoo.core import registry
    from perceptzoo.core.config import apply_overrides, parse_overrides
    from perceptzoo.core.errors import UserError
    from perceptzoo.core.runs import RunDir
    from perceptzoo.core.trainer import TrainConfig, resume, train
    from perceptzoo.metrics.evaluate import evaluate

    if args.name and not args.resume:
        spec = registry.get_spec(args.name)
        family_runs = registry.family_runs(spec)
        if family_runs is not None:
            run_path = family_runs.train(
                args.name, dataset=args.dataset, out=args.out, steps=args.steps, seed=args.seed,
                overrides=_family_overrides(spec, args), data_dir=args.data_dir)
            metrics = family_runs.evaluate(run_path, split="test", num_samples=args.eval_samples)
            print(json.dumps({"run": str(run_path), **metrics}))
            return 0
    if args.resume:
        family_runs = registry.family_runs(
            registry.get_spec(RunDir(args.resume).read_config()["model"]))
        if family_runs is not None:
            if not hasattr(family_runs, "resume"):
                raise UserError(f"{args.resume} is a run of a family that cannot resume; "
                                "start a new run")
            run_path = family_runs.resume(args.resume)
            metrics = family_runs.evaluate(run_path, split="test", num_samples=args.eval_samples)
            print(json.dumps({"run": str(run_path), **metrics}))
            return 0
        run_path = resume(args.resume)
    else:
        if not args.name:
            raise UserError("name a model to train (see `perceptzoo list`), or pass --resume RUN")
        overrides = parse_overrides(args.overrides)
        train_keys = {k[len("train."):]: v for k, v in overrides.items() if k.startswith("train.")}
        model_keys = {k: v for k, v in overrides.items() if not k.startswith("train.")}
        flags = {"steps": args.steps, "epochs": args.epochs, "batch_size": args.batch_size,
                 "lr": args.lr, "seed": args.seed}
        train_keys.update({k: v for k, v in flags.items() if v is not None})
        if args.no_progress:
            train_keys["progress"] = False
        cfg = apply_overrides(TrainConfig(), train_keys)
        if args.dataset:
            data.info(args.dataset)  # unknown dataset: fail before any work
        run_path = train(args.name, dataset=args.dataset, out=args.out, train_config=cfg,
                         model_overrides=model_keys, data_dir=args.data_dir)
    import perceptzoo
    from perceptzoo.core.trainer import init_distributed

    if init_distributed()[0] != 0:  # data-parallel launch: rank 0 evaluates and reports
        return 0
    run = RunDir(run_path)
    config = run.read_config()
    model = perceptzoo.load(run_path)
    metrics = evaluate(model, config["dataset"], "test", data_dir=config.get("data_dir"),
                       num_samples=args.eval_samples)
    run.append_metrics({"step": int(run.read_metrics()[-1]["step"]), **metrics})
    print(json.dumps({"run": str(run_path), **metrics}))
    return 0


def _sample(args) -> int:
    import perceptzoo
    from perceptzoo import data
    from perceptzoo.core import registry
    from perceptzoo.core.errors import UserError
    from perceptzoo.core.images import save_samples
    from perceptzoo.core.runs import RunDir

    family_runs = registry.family_runs(registry.get_spec(RunDir(args.run).read_config()["model"]))
    if family_runs is not None:
        print(family_runs.sample(args.run, num_samples=args.num_samples, out=args.out,
                                 seed=args.seed))
        return 0
    model = perceptzoo.load(args.run)
    if not hasattr(model, "sample"):
        raise UserError(f"model in {args.run} cannot sample")
    info = data.info(RunDir(args.run).read_config()["dataset"])
    g = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        samples = model.sample(args.num_samples, generator=g)
    written = save_samples(samples, args.out, info)
    print(f"wrote {args.num_samples} samples to {written}")
    return 0


def _eval(args) -> int:
    import perceptzoo
    from perceptzoo.core import registry
    from perceptzoo.core.runs import RunDir
    from perceptzoo.metrics.evaluate import evaluate

    config = RunDir(args.run).read_config()
    family_runs = registry.family_runs(registry.get_spec(config["model"]))
    if family_runs is not None:
        print(json.dumps(family_runs.evaluate(args.run, split=args.split,
                                              num_samples=args.num_samples)))
        return 0
    model = perceptzoo.load(args.run)
    metrics = evaluate(model, config["dataset"], args.split,
                       data_dir=args.data_dir or config.get("data_dir"),
                       num_samples=args.num_samples)
    print(json.dumps(metrics))
    return 0


def _list(args) -> int:
    from perceptzoo import data
    from perceptzoo.core import registry

    print("models:")
    for spec in registry.list_specs():
        print(f"  {spec.name:24s} {spec.family:16s} default dataset: {spec.default_dataset}")
    print("datasets:")
    for name in data.list_datasets():
        print(f"  {name}")
    return 0


def _report(args) -> int:
    from perceptzoo.report import write_report

    path = write_report(Path(args.results), Path(args.out))
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from perceptzoo.core.errors import UserError

    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    handler = {"list": _list, "train": _train, "sample": _sample, "eval": _eval,
               "report": _report}[args.command]
    try:
        return handler(args)
    except UserError as err:
        print(f"perceptzoo {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; continue with `perceptzoo train --resume RUN`", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
