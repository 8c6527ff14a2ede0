"""The `perceptzoo` command: list | train | sample | eval | bench | report.

    perceptzoo list
    perceptzoo train made                       # MADE on the embedded digits, into runs/made-digits
    perceptzoo train made --dataset binarized_mnist --epochs 20 --set hidden_sizes=[500]
    perceptzoo train --resume runs/made-digits  # continue an interrupted run
    perceptzoo sample runs/made-digits -n 64 --out grid.png
    perceptzoo sample runs/ddpm-digits --set sampler=dpm_solver sample_steps=20
    perceptzoo eval runs/made-digits --split test
    perceptzoo bench --suite quick              # one model of every family, minutes, a leaderboard
    perceptzoo bench made-digits-1mask --force  # one recipe (or every recipe of a model)
    perceptzoo report                           # BENCHMARKS.md from benchmarks/results/*.json
    perceptzoo report --out report.html         # one self-contained HTML page

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
                       description="Train NAME on a dataset (an image set, an environment, a "
                       "shape: see `perceptzoo list`); writes config.json, model.safetensors, "
                       "metrics.jsonl, samples and a checkpoint into the run folder.")
    t.add_argument("name", nargs="?", help="model name (see `perceptzoo list`)")
    t.add_argument("--dataset", help="dataset name (default: the model's default)")
    t.add_argument("--steps", type=_positive_int,
                   help="optimizer steps (agents: environment steps)")
    t.add_argument("--epochs", type=_positive_int, help="passes over the training split")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--lr", type=_float, help="peak learning rate")
    t.add_argument("--device", help="auto (a GPU if one is visible) | cpu | cuda")
    t.add_argument("--seed", type=int, help="seed for initialisation, data order and samples")
    t.add_argument("--out", help="run folder (default runs/NAME-DATASET)")
    t.add_argument("--resume", metavar="RUN", help="continue the interrupted run in RUN")
    t.add_argument("--data-dir", help="folder with MNIST-family data (default $PERCEPTZOO_DATA)")
    t.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE",
                   help="model config options; train.KEY=VALUE sets Trainer options "
                   "(e.g. train.ema_decay=0.999)")
    _eval_flags(t)
    t.add_argument("--full-eval", action="store_true",
                   help="end with the full evaluation (every --eval-samples draw; implicit "
                   "shapes: the papers' protocol) instead of one sized to a fifth of training")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help="run folder")
    s.add_argument("-n", "--num-samples", type=_positive_int, default=64,
                   help="samples (agents: episodes; fields: shapes)")
    s.add_argument("--out", help="file to write (default: samples in the run folder)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--inpaint", action="store_true",
                   help="fill a hidden region of held-out test images (inpainting models)")
    s.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE",
                   help="sampling options of a diffusion model for this call only (the run "
                   "is unchanged): sampler=ancestral|ddim|dpm_solver|heun, sample_steps=N "
                   "(null: the sampler's default), ddim_eta=X, heun_churn=X, "
                   "sample_spacing=trailing|leading|linear, guidance_scale=W (ddpm_cfg)")

    e = sub.add_parser("eval", help="print a run's metrics on a split as one JSON object")
    e.add_argument("run", help="run folder")
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    _eval_flags(e)
    e.add_argument("--device", help="evaluate on this device (default cpu)")
    e.add_argument("--seed", type=int, default=0,
                   help="seed of the evaluation's random draws (a flow's dequantization noise, "
                   "samples): the same run and seed give the same numbers")
    e.add_argument("--full-eval", action="store_true",
                   help="the papers' full protocol where the default is quicker (implicit "
                   "shapes: marching cubes at 128^3, 100k IoU points)")
    e.add_argument("--data-dir")

    b = sub.add_parser("bench", help="train and score benchmark recipes; print the leaderboard",
                       description="Run benchmark recipes (perceptzoo/bench/recipes/), each in "
                       "its own process, resuming what an earlier run left; write "
                       "benchmarks/results/NAME.json and print the leaderboard.")
    b.add_argument("names", nargs="*", metavar="NAME",
                   help="recipes or models to run (default: every recipe of --suite)")
    b.add_argument("--suite", choices=["quick", "full", "gpu"],
                   help="quick: one model of every family on embedded data in minutes; full: "
                   "the CPU benchmarks (hours); gpu: recipes sized for a GPU (default: quick "
                   "when no NAME is given)")
    b.add_argument("--device", help="run every recipe on this device (cpu | cuda | auto) "
                   "instead of the recipe's own")
    b.add_argument("--minutes", type=_float, help="training budget of each recipe (default: "
                   "the recipe's); a run stopped at its budget resumes on the next call")
    b.add_argument("--eval-only", action="store_true",
                   help="score the finished runs again without training")
    b.add_argument("--tag", default="", help="suffix for result and run names, to keep a "
                   "variant beside the default result")
    b.add_argument("--force", action="store_true",
                   help="run recipes already run at this commit with the same config")
    b.add_argument("--jobs", type=_positive_int, help="recipes run at once (default: 2 for "
                   "the quick suite, else 1)")
    b.add_argument("--results", help="results folder (default benchmarks/results)")
    b.add_argument("--work", help="folder for run folders and logs (default benchmarks/work)")
    b.add_argument("--data-dir", help="folder with MNIST-family data (default $PERCEPTZOO_DATA)")
    b.add_argument("--list", action="store_true", help="list the recipes and exit")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")

    r = sub.add_parser("report", help="write BENCHMARKS.md (or an HTML page) from results",
                       description="Write the leaderboard and details from result files: "
                       "markdown, or one self-contained HTML page when --out ends in .html.")
    r.add_argument("results", nargs="?", default=None,
                   help="results folder (default benchmarks/results)")
    r.add_argument("--results", dest="results_flag", help=argparse.SUPPRESS)
    r.add_argument("--out", default="BENCHMARKS.md",
                   help="BENCHMARKS.md (markdown) or a .html file")
    r.add_argument("--details", default=None,
                   help="markdown only: the page listing every run (default DETAILS.md beside "
                   "--out; benchmarks/DETAILS.md for BENCHMARKS.md at the repository's root)")
    return p


def _eval_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--eval-samples", type=_nonnegative_int, default=1000,
                   help="samples drawn for sample-based metrics (0: none)")
    p.add_argument("--eval-episodes", type=_positive_int, default=100,
                   help="seeded episodes an agent is scored on")
    p.add_argument("--eval-shapes", type=_positive_int, default=16,
                   help="shapes an implicit model is scored on")


def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _train(args) -> int:
    from perceptzoo.core import runner
    from perceptzoo.core.config import parse_overrides
    from perceptzoo.errors import UserError

    if args.resume:
        run_path = runner.resume(args.resume)
    else:
        if not args.name:
            raise UserError("name a model to train (see `perceptzoo list`), or pass --resume RUN")
        overrides = parse_overrides(args.overrides)
        train_keys = {k[len("train."):]: v for k, v in overrides.items() if k.startswith("train.")}
        model_keys = {k: v for k, v in overrides.items() if not k.startswith("train.")}
        flags = {"steps": args.steps, "epochs": args.epochs, "batch_size": args.batch_size,
                 "lr": args.lr, "seed": args.seed, "device": args.device}
        train_keys.update({k: v for k, v in flags.items() if v is not None})
        if args.no_progress:
            train_keys["progress"] = False
        run_path = runner.train(args.name, dataset=args.dataset, out=args.out,
                                train_config=train_keys, model_overrides=model_keys,
                                data_dir=args.data_dir)
    if runner.init_distributed()[0] != 0:  # data-parallel launch: rank 0 evaluates and reports
        return 0
    # the default end-of-run evaluation fits in a fifth of the training time; --full-eval
    trained = runner.training_seconds(run_path)
    budget = None if args.full_eval or trained is None else runner.EVAL_FRACTION * trained
    metrics = runner.evaluate(run_path, split="test", num_samples=args.eval_samples,
                              num_episodes=args.eval_episodes, num_shapes=args.eval_shapes,
                              full=args.full_eval, budget_s=budget)
    if metrics.get("eval_num_samples", args.eval_samples) < args.eval_samples:
        print(f"evaluated with {metrics['eval_num_samples']} of {args.eval_samples} samples "
              f"(what fits in a fifth of the {trained:.0f} s of training); `perceptzoo eval "
              f"{run_path} --full-eval` or `train ... --full-eval` draws them all",
              file=sys.stderr)
    print(json.dumps({"run": str(run_path), **metrics}))
    return 0


def _sample(args) -> int:
    from perceptzoo.core import runner
    from perceptzoo.core.config import parse_overrides

    print(runner.sample(args.run, num_samples=args.num_samples, out=args.out, seed=args.seed,
                        inpaint=args.inpaint, overrides=parse_overrides(args.overrides)))
    return 0


def _eval(args) -> int:
    from perceptzoo.core import runner

    metrics = runner.evaluate(args.run, split=args.split, num_samples=args.eval_samples,
                              num_episodes=args.eval_episodes, num_shapes=args.eval_shapes,
                              data_dir=args.data_dir, device=args.device, full=args.full_eval,
                              seed=args.seed)
    print(json.dumps(metrics))
    return 0


def _list(args) -> int:
    from perceptzoo import data
    from perceptzoo.core import registry

    print("models:")
    for spec in registry.list_specs():
        print(f"  {spec.name:24s} {spec.family:16s} {spec.runner:8s} "
              f"default dataset: {spec.default_dataset}")
    print("datasets (images, audio, 2D points):")
    for name in data.list_datasets():
        print(f"  {name}")
    for family, (what, names) in sorted(registry.family_datasets().items()):
        print(f"datasets of the {family} family ({what}):")
        for name in names():
            print(f"  {name}")
    return 0


def _bench(args) -> int:
    from perceptzoo.bench import harness, report
    from perceptzoo.bench.results import default_results_dir, default_work_dir, result_name

    recipes = harness.all_recipes()
    if args.list:
        for r in recipes:
            print(f"  {r.name:55s} {','.join(r.suites):6s} {r.minutes:6.1f} min  {r.task}")
        return 0
    suite = args.suite or (None if args.names else "quick")
    chosen = harness.select(recipes, args.names, suite)
    options = harness.Options(
        suite=suite or "full", device=args.device, minutes=args.minutes,
        eval_only=args.eval_only, tag=args.tag, force=args.force,
        results_dir=args.results or str(default_results_dir()),
        work_dir=args.work or str(default_work_dir()), data_dir=args.data_dir,
        threads=args.threads, jobs=args.jobs or (2 if suite == "quick" else 1),
        # a bar on a terminal; in a log, the one line per finished recipe says as much
        progress=not args.no_progress and sys.stderr.isatty())
    for problem in harness.check(chosen):
        print(f"warning: {problem}", file=sys.stderr)
    print(f"bench: {len(chosen)} recipe(s), {options.jobs} at a time; runs and logs in "
          f"{options.work_dir}")
    try:
        outcomes = harness.run_all(chosen, options)
    except KeyboardInterrupt:
        print("interrupted; run the same `perceptzoo bench` again: finished recipes are "
              "skipped and unfinished runs resume from their checkpoints", file=sys.stderr)
        return 130
    results = report.load_results(Path(options.results_dir))
    names = {result_name(r, args.tag) for r in chosen}
    mine = [r for r in results if r["_file"].removesuffix(".json") in names]
    tasks = sorted({t for t, rows in report.leaderboard(results).items()
                    if any(row["result"] in mine for row in rows)})
    print()
    print(report.leaderboard_markdown(results, tasks=tasks))
    failed = [o for o in outcomes if o.status in ("failed", "timed out")]
    done = [o for o in outcomes if o.status == "done"]
    print(f"{len(done)} done, {len(outcomes) - len(done) - len(failed)} skipped, "
          f"{len(failed)} failed in {sum(o.seconds for o in outcomes):.0f} s of recipe time")
    for o in failed:
        print(f"  {o.status}: {o.name}: {o.message}")
    # every failure the user's to fix (data absent, bad option): say so as bad input does
    code = (EXIT_USAGE if failed and all(o.message.startswith("UserError") for o in failed)
            else 1 if failed else 0)
    if not results:
        print(f"no results in {options.results_dir} yet, so no report")
        return code
    out = Path(options.work_dir) / "report.html"
    try:
        written = _write_report(Path(options.results_dir), out)
    except Exception as err:  # the page is a convenience: the markdown leaderboard still comes
        written = _write_report(Path(options.results_dir), out.with_suffix(".md"))
        print(f"(no HTML report: {type(err).__name__}: {err})")
    print(f"report: {written}")
    return code


def _write_report(results: Path, out: Path, details: Path | None = None) -> Path:
    """Markdown (with its details page, `details` or its default), or the HTML page when
    `out` ends in .html (imported only then)."""
    from perceptzoo.errors import UserError

    if out.suffix.lower() in (".html", ".htm"):
        if details is not None:
            raise UserError("--details names the markdown report's page of every run; the "
                            "HTML page holds every run itself: leave --details out")
        try:
            from perceptzoo.bench.html import write_html
        except ImportError as err:
            raise UserError(f"this version cannot write an HTML report yet ({err}); write "
                            "markdown with --out BENCHMARKS.md") from None
        return write_html(results, out)
    from perceptzoo.bench.report import write_report

    return write_report(results, out, details)


def _report(args) -> int:
    from perceptzoo.bench.report import load_results
    from perceptzoo.bench.results import default_results_dir
    from perceptzoo.errors import UserError

    given = args.results or args.results_flag
    results = Path(given or default_results_dir())
    where = "" if given else " (the default: benchmarks/results of this checkout or folder)"
    advice = ("pass the folder that holds the result files, `perceptzoo report FOLDER`, or "
              "write results there with `perceptzoo bench` (e.g. `perceptzoo bench --suite "
              "quick`); nothing was written")
    if not results.is_dir():
        raise UserError(f"found no results: there is no folder {results}{where}; {advice}")
    if not load_results(results):
        raise UserError(f"found no results: {results}{where} holds no result files (*.json "
                        f"written by `perceptzoo bench`); {advice}")
    path = _write_report(results, Path(args.out),
                         Path(args.details) if args.details else None)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from perceptzoo.errors import Interrupted, UserError

    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    handler = {"list": _list, "train": _train, "sample": _sample, "eval": _eval,
               "bench": _bench, "report": _report}[args.command]
    try:
        return handler(args)
    except UserError as err:
        print(f"perceptzoo {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as stopped:
        print(f"perceptzoo {args.command}: {stopped}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; continue with `perceptzoo train --resume RUN`", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
