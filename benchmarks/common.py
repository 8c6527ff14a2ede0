"""Shared by the study and peer-comparison scripts in benchmarks/: the bench harness's result
schema, commit and device description, and run-or-resume through the one run path.

Benchmarks that are one training and one evaluation are recipes (`perceptzoo bench NAME`, see
`src/perceptzoo/bench/recipes/`); a script here measures what a recipe cannot: a comparison
with another library run in the same process, a sweep over samplers or guidance weights.

    from common import Timer, train_or_resume, write_result
    run = train_or_resume("ddpm", WORK / "ddpm-mnist", dataset="mnist",
                          train={"steps": 700}, model={"channels": 16})
    with Timer() as t:
        ...measure...
    write_result("ddpm", "mnist", "steps", config={...}, metrics={...},
                 published={"source": "..."}, wall_time_s=t.seconds, task="mnist_sample_quality")

Result files follow DESIGN.md (benchmarks/results/<model>-<dataset>[-<variant>].json); then
`perceptzoo report` regenerates BENCHMARKS.md.
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path
from typing import Any

from perceptzoo.bench.results import current_commit, device_description, training_seconds

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
WORK = REPO / "benchmarks" / "work"  # run folders of benchmark trainings (git-ignored)

# the code a benchmark runs is the code it started with: a run left going across commits
# names the commit it began on, not the one checked out when it writes its result
STARTED_AT = current_commit()


def data_dir() -> Path:
    """Real data: $PERCEPTZOO_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("PERCEPTZOO_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    os.environ["PERCEPTZOO_DATA"] = str(path)
    return path


def train_or_resume(model: str, out: Path, *, dataset: str | None = None,
                    train: dict[str, Any] | None = None,
                    model_config: dict[str, Any] | None = None) -> tuple[Path, float]:
    """Train `model` into `out` through `perceptzoo.core.runner`, resuming an interrupted run
    from its checkpoint and skipping a finished one (its weights exist and no checkpoint is
    newer); returns the run folder and its logged training time in seconds."""
    from perceptzoo.core import runner

    done = out / "bench-done"
    if not done.exists():
        if (out / "checkpoint.pt").exists():
            runner.resume(out)
        else:
            runner.train(model, dataset=dataset, out=out,
                         train_config={"progress": True, **(train or {})},
                         model_overrides=dict(model_config or {}))
        done.write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    return out, training_seconds(out) or float("nan")


def epochs_for_budget(model: str, dataset: str, model_cfg: dict, train_cfg, minutes: float) -> int:
    """Time 60 training steps (after 20 warm-up steps) and fit the epochs into `minutes`."""
    import tempfile

    import torch

    from perceptzoo import data
    from perceptzoo.core import registry, runner
    from perceptzoo.core.runs import RunDir
    from perceptzoo.core.trainer import Trainer

    def sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    spec = registry.get_spec(model)
    train_cfg = runner.train_config_for(spec, train_cfg)
    cfg = registry.make_config(model, data.info(dataset), **model_cfg)
    net = registry.build_from_config(model, cfg)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(net, data.load(dataset, "train"), None, train_cfg, RunDir(tmp))
        for step in range(80):
            if step == 20:
                sync()
                start = time.time()
            trainer.train_one_step(trainer.batch_at(step))
        sync()
        per_step = (time.time() - start) / 60
    return max(1, int(minutes * 60 / (per_step * trainer.steps_per_epoch)))


def logged_train_seconds(run: Path) -> float:
    """Training time of a run, summed over its resumes (the Trainer's last logged `time_s`)."""
    return training_seconds(run) or float("nan")


class Timer:
    def __enter__(self):
        self.start = time.time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.time() - self.start


def best_validation(records: list[dict]) -> dict | None:
    """The evaluation record with the lowest `valid_nll_nats` of a run's metrics, or None."""
    valid = [r for r in records if "valid_nll_nats" in r]
    return min(valid, key=lambda r: r["valid_nll_nats"]) if valid else None


def write_result(model: str, dataset: str, variant: str | None, *, config: dict, metrics: dict,
                 published: dict | None = None, wall_time_s: float, notes: str = "",
                 train_device: str | None = None, task: str | None = None,
                 parameters: int | None = None) -> Path:
    """Write one result file through the bench harness's writer
    (`perceptzoo.bench.results.write_result`, the DESIGN.md schema) as a study: suite "study",
    the calling script in `config.model.script`; `train_device`: where training ran, if not on
    this machine; `task`: the leaderboard table it belongs to (see bench/recipe.py TASKS)."""
    from perceptzoo.bench.recipe import Published, Recipe
    from perceptzoo.bench.results import write_result as write

    caller = Path(inspect.stack()[1].filename)
    name = f"{model}-{dataset.replace(':', '_')}" + (f"-{variant}" if variant else "")
    published = dict(published or {})
    source = str(published.pop("source", "") or published.pop("note", ""))
    figures = {k: published.pop(k) for k in list(published)
               if isinstance(published[k], (int, float)) and not isinstance(published[k], bool)}
    comparable = "; ".join([str(published.pop("comparable", "")), *(
        f"{k}: {v}" for k, v in published.items())]).strip("; ")
    study = Recipe(name=name, model=model, dataset=dataset, task=task or "",
                   variant=variant or "",
                   model_config={"script": f"benchmarks/{caller.name}", **config},
                   published=Published(figures, source, comparable) if source or figures
                   else None, notes=notes)
    return write(study, RESULTS, metrics=metrics, wall_time_s=wall_time_s, eval_time_s=None,
                 commit=STARTED_AT, device=device_description("auto"), parameters=parameters,
                 suite="study", extra={"train_device": train_device} if train_device else None)
