"""`perceptzoo bench`: run recipes, each in its own process, under a time budget; resume what an
earlier run left unfinished; write one result file per recipe.

For each selected recipe (see `perceptzoo.bench.recipe`):

1. skip it when its result file comes from the same commit and the same config (`--force`
   runs it anyway); a recipe whose training is unchanged and whose scoring changed re-scores
   its finished run without training it again;
2. start a child process (`python -m perceptzoo.bench.harness --child NAME`), so a crash, a
   missing dependency or a model that is mid-rewrite fails that recipe alone: the failure and
   the tail of its log are recorded in `<work>/bench-status.json` and the rest go on;
3. in the child, train through the one run path (`perceptzoo.core.runner.train`) into
   `<work>/<name>/`, or `runner.resume` it when an earlier attempt left a checkpoint (a
   `bench.json` beside the run says which recipe, config and commit it started from);
4. evaluate with `runner.evaluate`; add the real-vs-real Fréchet floor at the same sample size
   when the figure is a Fréchet distance (for a 2D toy's MMD: the real-vs-real MMD and a
   moment-matched Gaussian's), the sampling time per image, the parameter count;
5. write `benchmarks/results/<name>.json`: training time read from the run's own log (summed
   over resumes), the commit the run started on.

The parent shows one progress bar over the recipes with the running recipe's last log line
(the Trainer's own progress bar, "evaluating", ...), and kills a child that overruns its budget
(twice the `minutes` of the recipe or `--minutes`, plus a minute: a shared machine is slow, but
a runaway is stopped): its checkpoint stays, and the next `perceptzoo bench NAME` resumes from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perceptzoo.bench import results as res
from perceptzoo.bench.recipe import SUITES, Recipe
from perceptzoo.errors import UserError

STATUS_FILE = "bench-status.json"
MARKER = "bench.json"
#: a child gets its training budget times this, plus START_S, before it is stopped
BUDGET_FACTOR = 2.0
START_S = 60.0


@dataclass
class Options:
    """What `perceptzoo bench` was asked for (passed to each child as JSON)."""

    suite: str = "full"
    device: str | None = None
    minutes: float | None = None
    eval_only: bool = False
    tag: str = ""
    force: bool = False
    results_dir: str = ""
    work_dir: str = ""
    data_dir: str | None = None
    threads: int = 1
    jobs: int = 1
    progress: bool = True


@dataclass
class Outcome:
    name: str
    status: str
    """done | skipped | failed | timed out"""
    seconds: float = 0.0
    message: str = ""
    result: str = ""


# -- choosing recipes --------------------------------------------------------------------------
#: a Python file with more recipes (its module-level RECIPES): your own benchmarks, or tests'
EXTRA_RECIPES = "PERCEPTZOO_RECIPES"


def all_recipes() -> list[Recipe]:
    """Every family's recipes, plus those of the file named by $PERCEPTZOO_RECIPES."""
    import importlib.util

    from perceptzoo.bench.recipes import all_recipes as collect

    recipes = collect()
    extra = os.environ.get(EXTRA_RECIPES)
    if extra:
        spec = importlib.util.spec_from_file_location("perceptzoo_extra_recipes", extra)
        if spec is None or spec.loader is None or not Path(extra).is_file():
            raise UserError(f"${EXTRA_RECIPES} names {extra}, which is not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        taken = {r.name for r in recipes}
        recipes += [r for r in getattr(module, "RECIPES", []) if r.name not in taken]
    return recipes


def select(recipes: list[Recipe], names: list[str], suite: str | None) -> list[Recipe]:
    """Recipes named (by recipe name, model name or family module) or, with no names, those of
    `suite`. Names that match nothing are an error that lists what exists."""
    if suite is not None and suite not in SUITES:
        raise UserError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    if not names:
        chosen = [r for r in recipes if suite is None or suite in r.suites]
        if not chosen:
            raise UserError(f"no recipe is in suite {suite!r}")
        return chosen
    chosen: list[Recipe] = []
    for name in names:
        # a model name: its recipes of `suite` (no suite: all but the GPU-only ones)
        hits = [r for r in recipes if r.name == name] or [
            r for r in recipes if r.model == name
            and (suite in r.suites if suite is not None else r.suites != ("gpu",))]
        if not hits:
            close = sorted(r.name for r in recipes if name in r.name)[:8]
            raise UserError(f"no recipe or model named {name!r}" + (
                f"; did you mean {', '.join(close)}?" if close else
                "; `perceptzoo bench --list` lists them"))
        chosen += [r for r in hits if r not in chosen]
    return chosen


def check(recipes: list[Recipe]) -> list[str]:
    """Problems in recipe data that would make a run or a table wrong (one line each)."""
    from perceptzoo.bench.recipe import TASKS

    problems = []
    for r in recipes:
        bad = [s for s in r.suites if s not in SUITES]
        if bad:
            problems.append(f"{r.name}: unknown suite(s) {bad}")
        if r.task not in TASKS and not r.figure:
            problems.append(f"{r.name}: task {r.task!r} is not in TASKS and names no figure")
    return problems


# -- the parent ---------------------------------------------------------------------------------
def _say(message: str) -> None:
    print(message, flush=True)


def run_all(recipes: list[Recipe], options: Options, *, echo=_say) -> list[Outcome]:
    """Run `recipes` (each in a child process, `options.jobs` at a time); return outcomes."""
    from tqdm.auto import tqdm

    results_dir, work_dir = _dirs(options)
    commit = res.current_commit()
    outcomes: list[Outcome] = []
    todo: list[Recipe] = []
    gpu = _gpu_visible()
    for recipe in recipes:
        if (options.device or recipe.device).startswith("cuda") and not gpu:
            outcomes.append(Outcome(recipe.name, "failed", message="sized for a GPU and none is "
                                    "visible; --device cpu runs it here anyway (slowly)"))
            echo(f"failed    {recipe.name}: {outcomes[-1].message}")
        elif (not options.force and not options.eval_only
                and res.already_run(recipe, results_dir, commit, options.tag)):
            outcomes.append(Outcome(recipe.name, "skipped", message=f"already run at {commit} "
                                    "with this config (--force runs it again)"))
        else:
            todo.append(recipe)
    bar = tqdm(total=len(todo), desc="bench", unit="recipe", disable=not options.progress,
               dynamic_ncols=True)
    running: dict[str, tuple[subprocess.Popen, float, float, Path]] = {}
    queue = list(todo)

    def on_term(signum, frame):  # a `kill` of the bench stops its children too
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while queue or running:
            while queue and len(running) < max(1, options.jobs):
                recipe = queue.pop(0)
                proc, log = _spawn(recipe, options, work_dir)
                running[recipe.name] = (proc, time.time(), _limit(recipe, options), log)
            time.sleep(0.5)
            for name in list(running):
                proc, start, limit, log = running[name]
                elapsed = time.time() - start
                code = proc.poll()
                if code is None and elapsed > limit:
                    _stop(proc)
                    code = "timeout"
                if code is None:
                    continue
                del running[name]
                outcome = _outcome(name, code, elapsed, log, results_dir, options.tag, limit)
                outcomes.append(outcome)
                bar.update(1)
                echo(f"{outcome.status:9s} {name} ({outcome.seconds:.0f} s)"
                     + (f": {outcome.message}" if outcome.message else ""))
            if running:
                shown = "; ".join(f"{n}: {_last_line(running[n][3])}" for n in running)
                bar.set_postfix_str(shown[:120], refresh=True)
    except KeyboardInterrupt:
        for proc, *_ in running.values():
            _stop(proc)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
    _record_status(work_dir, outcomes)
    return outcomes


def _gpu_visible() -> bool:
    import torch

    return torch.cuda.is_available()


def _dirs(options: Options) -> tuple[Path, Path]:
    results_dir = Path(options.results_dir) if options.results_dir else res.default_results_dir()
    work_dir = Path(options.work_dir) if options.work_dir else res.default_work_dir()
    work_dir.mkdir(parents=True, exist_ok=True)
    return results_dir, work_dir


def _limit(recipe: Recipe, options: Options) -> float:
    minutes = options.minutes if options.minutes is not None else recipe.minutes
    return minutes * 60 * BUDGET_FACTOR + START_S


def _spawn(recipe: Recipe, options: Options, work_dir: Path) -> tuple[subprocess.Popen, Path]:
    log = work_dir / f"{res.result_name(recipe, options.tag)}.log"
    log.with_suffix(".status.json").unlink(missing_ok=True)  # an earlier attempt's
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(options.threads))
    env["PYTHONUNBUFFERED"] = "1"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "perceptzoo.bench.harness", "--child", recipe.name,
             "--options", json.dumps(dataclasses.asdict(options))],
            stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return proc, log


def _stop(proc: subprocess.Popen) -> None:
    """Stop a child and whatever it started (its own session), politely first."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_line(log: Path) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 400))
            tail = f.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [x.strip() for x in tail.replace("\r", "\n").split("\n") if x.strip()]
    return lines[-1] if lines else "starting"


def _outcome(name: str, code, elapsed: float, log: Path, results_dir: Path, tag: str,
             limit: float) -> Outcome:
    status_file = log.with_suffix(".status.json")
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    if code == "timeout":
        return Outcome(name, "timed out", elapsed,
                       f"stopped after {limit:.0f} s; its checkpoint is kept: run `perceptzoo "
                       f"bench {name}` again to resume (log: {log})")
    if code == 0 and status.get("status") == "done":
        return Outcome(name, "done", elapsed, status.get("summary", ""), status.get("result", ""))
    message = status.get("error") or f"exit status {code}: {_last_line(log)}"
    return Outcome(name, "failed", elapsed, f"{message} (log: {log})")


def _record_status(work_dir: Path, outcomes: list[Outcome]) -> None:
    from perceptzoo.io import write_json

    path = work_dir / STATUS_FILE
    try:
        status = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        status = {}
    for o in outcomes:
        if o.status != "skipped":
            status[o.name] = {**dataclasses.asdict(o), "date": time.strftime("%Y-%m-%d %H:%M")}
    write_json(path, status)


# -- the child ----------------------------------------------------------------------------------
def run_recipe(recipe: Recipe, options: Options, *, say=print) -> Path:
    """Train (or resume) and score one recipe in this process; returns its result file.
    Holds `<work>/<name>.lock` meanwhile: a second `perceptzoo bench` of the same recipe on
    the same work folder is refused instead of wiping the run under the first."""
    results_dir, work_dir = _dirs(options)
    with _exclusive(work_dir / f"{res.result_name(recipe, options.tag)}.lock", recipe.name):
        return _run_recipe(recipe, options, results_dir, work_dir, say=say)


class _exclusive:
    """An exclusive, non-blocking flock on `path` (released when the process ends, even by
    SIGKILL); UserError naming the holder when another process has it."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name

    def __enter__(self) -> None:
        import fcntl

        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise UserError(f"recipe {self.name} is being run by {holder} in the same work "
                            f"folder ({self.path.parent}); wait for it, or pass --work DIR "
                            "to run it elsewhere") from None
        self.file.truncate(0)
        self.file.write(f"perceptzoo bench (pid {os.getpid()}, since "
                        f"{time.strftime('%H:%M')})\n")
        self.file.flush()

    def __exit__(self, *exc) -> None:
        self.file.close()


def _run_recipe(recipe: Recipe, options: Options, results_dir: Path, work_dir: Path, *,
                say=print) -> Path:
    import torch

    from perceptzoo.core import runner

    torch.set_num_threads(options.threads)
    run = work_dir / res.result_name(recipe, options.tag)
    device = options.device or recipe.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"recipe {recipe.name} is sized for a GPU and none is visible; run it "
                        "with --device cpu to try it here anyway (slowly)")
    marker = run / MARKER
    state = json.loads(marker.read_text()) if marker.exists() else {}
    same = state.get("device") == device and same_training(state, recipe)
    if same and "training_hash" not in state:  # an older marker: record its training hash
        state["training_hash"] = res.training_hash(recipe)
        _write_marker(marker, state)
    if options.eval_only:
        if not (same and state.get("trained")):
            raise UserError(f"{run} holds no finished training of recipe {recipe.name}; run "
                            f"`perceptzoo bench {recipe.name}` without --eval-only")
    elif options.force or not same or not state.get("trained"):
        resumable = (same and not options.force and (run / "checkpoint.pt").exists()
                     and (run / "config.json").exists())
        if resumable:
            from perceptzoo.errors import RunFinished

            say(f"resuming {run} from its checkpoint")
            try:
                runner.resume(run)
            except RunFinished:  # stopped after its last step, before the marker was written
                say(f"{run} had already finished training")
        else:
            if run.exists():
                shutil.rmtree(run)
            state = {"recipe": recipe.name, "training_hash": res.training_hash(recipe),
                     "config_hash": res.config_hash(recipe), "device": device,
                     "commit": res.current_commit(), "started": time.strftime("%Y-%m-%d %H:%M")}
            run.mkdir(parents=True)
            _write_marker(marker, state)
            say(f"training {recipe.model} on {recipe.dataset} into {run}")
            # the Trainer's bar goes to the recipe's log, where the parent shows its last line
            train = {"progress": True, **recipe.train, "device": device}
            runner.train(recipe.model, dataset=recipe.dataset, out=run, train_config=train,
                         model_overrides=dict(recipe.model_config), data_dir=options.data_dir)
        state["trained"] = True
        _write_marker(marker, state)
    return score(recipe, run, options, commit=state.get("commit") or res.current_commit(),
                 device=device, results_dir=results_dir, say=say)


def same_training(state: dict[str, Any], recipe: Recipe) -> bool:
    """Whether a run folder's marker (`bench.json`) records the training `recipe` asks for:
    its training hash, or, in a marker written before training hashes, the whole config's."""
    if "training_hash" in state:
        return state["training_hash"] == res.training_hash(recipe)
    return state.get("config_hash") == res.config_hash(recipe)


def _write_marker(path: Path, state: dict[str, Any]) -> None:
    from perceptzoo.io import write_json

    write_json(path, state)


def score(recipe: Recipe, run: Path, options: Options, *, commit: str, device: str,
          results_dir: Path, say=print) -> Path:
    """Evaluate a trained run as the recipe says and write its result file."""
    from perceptzoo.bench.metrics import mmd_references, real_vs_real, sample_size
    from perceptzoo.core import registry, runner
    from perceptzoo.metrics import classifier

    spec = registry.get_spec(recipe.model)
    kwargs = {"split": "test", **recipe.evaluate}
    uses_fd = spec.runner == "trainer" and classifier.has_classifier(recipe.dataset)
    if uses_fd and "num_samples" not in kwargs:
        suite = options.suite if options.suite in recipe.suites else recipe.suites[0]
        kwargs["num_samples"] = sample_size(suite, recipe.dataset, options.data_dir)
    if spec.runner == "field":  # the benchmark protocol (128^3, 100k IoU points), not the
        kwargs.setdefault("full", options.suite != "quick")  # quick one sized to a short run
    say(f"evaluating {run} ({', '.join(f'{k}={v}' for k, v in kwargs.items())})")
    start = time.time()
    metrics = runner.evaluate(run, data_dir=options.data_dir,
                              device=None if device == "auto" else device, **kwargs)
    metrics = not_a_data_likelihood(metrics, _log_prob_of(recipe, spec), kwargs["split"])
    if spec.runner == "trainer" and not _figures(metrics):
        say(f"no likelihood or sample figure: the training loss on the {kwargs['split']} split")
        metrics.update(split_loss(run, kwargs["split"], options.data_dir))
    if "frechet_distance" in metrics:
        say("real-vs-real floor at the same sample size")
        metrics.update(real_vs_real(recipe.dataset, int(kwargs["num_samples"]),
                                    split=kwargs["split"], data_dir=options.data_dir))
    if "mmd" in metrics and kwargs.get("num_samples"):
        say("real-vs-real and moment-matched-Gaussian MMD at the same sample size")
        metrics.update(mmd_references(recipe.dataset, int(kwargs["num_samples"]),
                                      split=kwargs["split"], data_dir=options.data_dir))
    if metrics.get("sampling_time_s") and kwargs.get("num_samples"):
        metrics["sampling_ms_per_image"] = round(
            1000 * metrics["sampling_time_s"] / kwargs["num_samples"], 3)
    if spec.runner == "agent":  # the learning curve's end (online return, episodes)
        trained = [r for r in _rundir(run).read_metrics() if r.get("kind") == "train"]
        last = trained[-1] if trained else {}
        for key, value in last.items():
            if key not in ("step", "kind", "time_s") and isinstance(value, (int, float)):
                metrics[f"train_{key}"] = value
        if last.get("step") and last.get("time_s"):  # env steps per second of training
            metrics["steps_per_s"] = round(last["step"] / last["time_s"], 1)
    if recipe.study is not None:
        say(f"study {recipe.study.__name__}")
        metrics.update(recipe.study(run))
    eval_time = time.time() - start
    model = runner.load(run)
    config = runner.read_config(_rundir(run))
    path = res.write_result(recipe, results_dir, metrics=metrics,
                            wall_time_s=res.training_seconds(run), eval_time_s=eval_time,
                            commit=commit, device=res.device_description(device),
                            parameters=res.count_parameters(model), run_config=config,
                            suite=options.suite, tag=options.tag, run=run)
    _log_tensorboard(run, say)
    return path


def _figures(metrics: dict[str, Any]) -> list[str]:
    """The numeric metrics that are figures (not timings or sample counts)."""
    return [k for k, v in metrics.items() if isinstance(v, (int, float))
            and not isinstance(v, bool) and not k.endswith("_time_s")]


def split_loss(run: Path, split: str, data_dir: str | None = None) -> dict[str, float]:
    """The model's training objective and the metrics its `loss` reports (a reconstruction
    error, ...), averaged over the whole `split` with a fixed seed: the figure of a model that
    has neither a likelihood nor samples to score (a denoising autoencoder)."""
    import torch

    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.metrics.evaluate import mean_over_batches

    config = runner.read_config(_rundir(run))
    model = runner.load(run)
    if not hasattr(model, "loss"):
        return {}
    ds = data.load(config["dataset"], split, data_dir or config.get("data_dir"))
    torch.manual_seed(0)  # the corruption a denoising loss draws
    means = mean_over_batches(model, ds.x, ds.y, 500, next(model.parameters()).device)
    return {f"{split}_{k}": round(v, 6) for k, v in means.items()}


def _log_prob_of(recipe: Recipe, spec: Any) -> str:
    """What the model's log_prob scores: the recipe's word, else the model class's
    `log_prob_of` attribute, else "data"."""
    if recipe.log_prob_of != "data":
        return recipe.log_prob_of
    return str(getattr(spec.model_class, "log_prob_of", "data"))


def not_a_data_likelihood(metrics: dict[str, Any], of: str, split: str) -> dict[str, Any]:
    """Metrics with the NLL of a log_prob that is not of the data (`of` = "codes": a VQ-VAE's
    prior over its code grid) renamed `<split>_<of>_nll_nats`, and its bits/dim (the NLL of
    the codes divided by the pixel count, no pixel likelihood) dropped, so the result stays out
    of the likelihood tables; unchanged when `of` is "data"."""
    if of == "data":
        return metrics
    out = dict(metrics)
    nll = out.pop(f"{split}_nll_nats", None)
    out.pop(f"{split}_bits_per_dim", None)
    if nll is not None:
        out[f"{split}_{of}_nll_nats"] = nll
    return out


def _rundir(run: Path):
    from perceptzoo.core.runs import RunDir

    return RunDir(run)


def _log_tensorboard(run: Path, say) -> None:
    from perceptzoo.bench import tensorboard

    if tensorboard.available():
        say(f"TensorBoard events in {tensorboard.log_run(run)}")


def _child(name: str, options: Options) -> int:
    """Entry point of a child process: run one recipe, leave a status file beside the log."""
    from perceptzoo.io import write_json

    results_dir, work_dir = _dirs(options)
    recipe = next((r for r in all_recipes() if r.name == name), None)
    status_path = work_dir / f"{name}{'-' + options.tag if options.tag else ''}.status.json"
    if recipe is None:
        write_json(status_path, {"status": "failed", "error": f"no recipe named {name!r}"})
        return 2
    try:
        path = run_recipe(recipe, options, say=lambda m: print(m, flush=True))
    except Exception as err:  # one recipe's failure is recorded; the parent goes on
        traceback.print_exc()
        write_json(status_path, {"status": "failed", "error": f"{type(err).__name__}: {err}"})
        return 1
    result = json.loads(path.read_text())
    summary = _summary(recipe, result["metrics"])
    write_json(status_path, {"status": "done", "result": str(path), "summary": summary})
    return 0


def _summary(recipe: Recipe, metrics: dict[str, Any]) -> str:
    """The recipe's figure first, then up to two more numbers: one line for the console."""
    from perceptzoo.bench.recipe import TASKS

    keys = [recipe.figure] if recipe.figure else list(TASKS.get(recipe.task, {}).get("figures", ()))
    keys += [k for k in metrics if k not in keys and not k.endswith("_time_s")]
    numbers = [(k, metrics[k]) for k in keys
               if isinstance(metrics.get(k), (int, float)) and not isinstance(metrics[k], bool)]
    return ", ".join(f"{k} {v:.4g}" for k, v in numbers[:3])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="one bench recipe in this process (used by "
                                "`perceptzoo bench`)")
    p.add_argument("--child", required=True, metavar="RECIPE")
    p.add_argument("--options", default="{}")
    args = p.parse_args(argv)
    return _child(args.child, Options(**json.loads(args.options)))


if __name__ == "__main__":
    sys.exit(main())
