"""Shared by every benchmark script: where data is, and how a result file is written.

    from common import write_result, data_dir, Timer
    with Timer() as t:
        ...train and evaluate...
    write_result("made", "binarized_mnist", "1mask", config={...},
                 metrics={"test_nll_nats": 88.9}, published={"test_nll_nats": 88.40,
                 "source": "Germain et al. 2015, Table 2"}, wall_time_s=t.seconds)

Result files follow DESIGN.md: benchmarks/results/<model>-<dataset>[-<variant>].json; then run
`perceptzoo report` to regenerate BENCHMARKS.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
WORK = REPO / "benchmarks" / "work"  # run folders of benchmark trainings (git-ignored)


def data_dir() -> Path:
    """Real data: $PERCEPTZOO_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("PERCEPTZOO_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    os.environ["PERCEPTZOO_DATA"] = str(path)
    return path


def device_description() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    threads = torch.get_num_threads()
    return f"cpu, {threads} thread(s) of {os.cpu_count()} cores ({platform.machine()})"


def commit() -> str:
    """The short hash of HEAD ($PERCEPTZOO_COMMIT where the copy has no git history: the GPU)."""
    if os.environ.get("PERCEPTZOO_COMMIT"):
        return os.environ["PERCEPTZOO_COMMIT"]
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                       text=True).strip()
    except Exception:
        return "unknown"


# the code a benchmark runs is the code it started with: a run left going across commits
# names the commit it began on, not the one checked out when it writes its result
STARTED_AT = commit()


def epochs_for_budget(model: str, dataset: str, model_cfg: dict, train_cfg, minutes: float) -> int:
    """Time 60 training steps (after 20 warm-up steps) and fit the epochs into `minutes`."""
    import tempfile

    import perceptzoo
    from perceptzoo import data
    from perceptzoo.core.runs import RunDir
    from perceptzoo.core.trainer import Trainer

    def sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    net = perceptzoo.build(model, dataset=dataset, **model_cfg)
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


def logged_train_seconds(run: Path) -> float:
    """Training time of a run, summed over its resumes: the Trainer's last logged `time_s`;
    for runs older than that field, config written -> last log line (pauses included)."""
    from perceptzoo.core.runs import RunDir

    logged = [r["time_s"] for r in RunDir(run).read_metrics() if "time_s" in r]
    if logged:
        return float(logged[-1])
    return (run / "metrics.jsonl").stat().st_mtime - (run / "config.json").stat().st_mtime


def write_result(model: str, dataset: str, variant: str | None, *, config: dict, metrics: dict,
                 published: dict | None = None, wall_time_s: float, notes: str = "",
                 train_device: str | None = None) -> Path:
    """Write one result file; `train_device`: where training ran, if not on this machine."""
    name = f"{model}-{dataset.replace(':', '_')}" + (f"-{variant}" if variant else "")
    record = {
        "model": model, "dataset": dataset, "variant": variant or "",
        "config": config, "metrics": metrics, "published": published or {},
        "wall_time_s": round(wall_time_s, 1), "device": device_description(),
        "commit": STARTED_AT, "date": datetime.date.today().isoformat(),
    }
    if train_device:
        record["train_device"] = train_device
    if notes:
        record["notes"] = notes
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
