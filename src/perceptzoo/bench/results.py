"""Result files: one JSON per (model, dataset, variant) under `benchmarks/results/` (DESIGN.md).

    {"model": "made", "dataset": "binarized_mnist", "variant": "1mask", "task": "...",
     "recipe": "made-binarized_mnist-1mask",
     "config": {"model": {...the model's full config}, "train": {...the recipe's options},
                "evaluate": {...}, "device": "cpu", "run": {...the run's config.json}},
     "metrics": {...},
     "published": {"test_nll_nats": 88.40, "source": "...", "comparable": "..."},
     "wall_time_s": 1234.5, "eval_time_s": 12.0, "device": "cpu, 1 thread(s) of 2 cores",
     "commit": "abc1234", "scored_commit": "def5678", "date": "2026-11-30",
     "parameters": 1234567, "suite": "full"}

`wall_time_s` is the *training* time the run logged (its Trainer's `time_s`, summed over
resumes), not the wall clock of the bench process; `commit` is the commit the run started on,
`scored_commit` the commit whose code computed the metrics (they differ when a finished run
was re-scored: `perceptzoo bench NAME --eval-only`, or a recipe whose scoring alone changed).
`suite` is the suite `perceptzoo bench` ran it in, "study" for a peer comparison or one-off
study in `benchmarks/` (written through `benchmarks/common.py`, the script named in the
config), empty for a result written before the harness existed. An ablation's result also
says what it takes away (`ablation`, from its recipe), and never takes its model's
leaderboard row (`report.leaderboard`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Recipe
from perceptzoo.io import write_json


def repo_root() -> Path:
    """The checkout perceptzoo runs from (src/perceptzoo/bench -> the repository), or the
    current folder when it is installed elsewhere."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def default_results_dir() -> Path:
    return repo_root() / "benchmarks" / "results"


def default_work_dir() -> Path:
    """Run folders of benchmark trainings (git-ignored in the repository)."""
    root = repo_root()
    return root / "benchmarks" / "work" if (root / "benchmarks").is_dir() else root / "runs"


def current_commit() -> str:
    """Short hash of HEAD ($PERCEPTZOO_COMMIT where the copy has no git history: a lent GPU)."""
    if os.environ.get("PERCEPTZOO_COMMIT"):
        return os.environ["PERCEPTZOO_COMMIT"]
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root(),
                                       text=True, stderr=subprocess.DEVNULL).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_description(device: str = "cpu") -> str:
    import torch

    if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()):
        return torch.cuda.get_device_name(0)
    return (f"cpu, {torch.get_num_threads()} thread(s) of {os.cpu_count()} cores "
            f"({platform.machine()})")


def training_config(recipe: Recipe) -> dict[str, Any]:
    """What a recipe trains with: the part of it that makes a run folder."""
    return {"model": recipe.model, "dataset": recipe.dataset,
            "model_config": recipe.model_config, "train": recipe.train,
            "device": recipe.device}


def recipe_config(recipe: Recipe) -> dict[str, Any]:
    """What a recipe trains and scores with: the part of it that makes a result."""
    return {**training_config(recipe), "evaluate": recipe.evaluate}


def _hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def config_hash(recipe: Recipe) -> str:
    """Names a result: what was trained and how it was scored."""
    return _hash(recipe_config(recipe))


def training_hash(recipe: Recipe) -> str:
    """Names a run folder: what was trained. A recipe whose scoring alone changed keeps its
    training hash, so `perceptzoo bench` re-scores its run instead of training it again."""
    return _hash(training_config(recipe))


def result_name(recipe: Recipe, tag: str = "") -> str:
    return recipe.name + (f"-{tag}" if tag else "")


def read_result(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def already_run(recipe: Recipe, results_dir: Path, commit: str, tag: str = "") -> bool:
    """True when the recipe's result exists from the same commit and the same config."""
    result = read_result(results_dir / f"{result_name(recipe, tag)}.json")
    return bool(result and result.get("commit") == commit
                and result.get("config_hash") == config_hash(recipe))


def training_seconds(run: Path) -> float | None:
    """Training time of a run: the last `time_s` its Trainer (or agent loop) logged, which
    already sums the time of every resume; None when the run logged none."""
    from perceptzoo.core.runs import RunDir

    logged = [r["time_s"] for r in RunDir(run).read_metrics() if "time_s" in r]
    return float(logged[-1]) if logged else None


def count_parameters(model: Any) -> int:
    """Trainable numbers of a model (an nn.Module) or an agent (its state tensors)."""
    if hasattr(model, "parameters"):
        return int(sum(p.numel() for p in model.parameters()))
    if hasattr(model, "state_tensors"):
        return int(sum(t.numel() for t in model.state_tensors().values()))
    return 0


def published_record(recipe: Recipe) -> dict[str, Any]:
    if recipe.published is None:
        return {}
    return {**recipe.published.metrics, "source": recipe.published.source,
            "comparable": recipe.published.comparable}


def write_result(recipe: Recipe, results_dir: Path, *, metrics: dict[str, Any],
                 wall_time_s: float | None, eval_time_s: float | None, commit: str,
                 device: str, parameters: int | None, run_config: dict[str, Any] | None = None,
                 suite: str = "", tag: str = "", run: Path | None = None,
                 extra: dict[str, Any] | None = None) -> Path:
    """Write `<results_dir>/<recipe.name>[-tag].json` in the DESIGN.md schema; `extra`: more
    top-level fields (a study's `train_device` where it trained elsewhere, ...)."""
    record: dict[str, Any] = {
        "model": recipe.model, "dataset": recipe.dataset,
        "variant": "-".join(v for v in (recipe.variant, tag) if v),
        "task": recipe.task, "recipe": recipe.name,
        "config": {"model": (run_config or {}).get("model_config") or recipe.model_config,
                   "train": recipe.train, "evaluate": recipe.evaluate, "device": recipe.device,
                   "run": run_config or {}},
        "config_hash": config_hash(recipe),
        "metrics": metrics, "published": published_record(recipe),
        "wall_time_s": None if wall_time_s is None else round(wall_time_s, 3),
        "eval_time_s": None if eval_time_s is None else round(eval_time_s, 3),
        "device": device, "commit": commit, "scored_commit": current_commit(),
        "date": datetime.date.today().isoformat(), "parameters": parameters, "suite": suite,
    }
    if recipe.figure:
        record["figure"] = recipe.figure
    if run is not None:  # relative to the repository when inside it (the HTML report finds it)
        try:
            record["run"] = str(Path(run).resolve().relative_to(repo_root()))
        except ValueError:
            record["run"] = str(run)
    if recipe.notes:
        record["notes"] = recipe.notes
    if recipe.ablation:
        record["ablation"] = recipe.ablation
    record.update(extra or {})
    path = results_dir / f"{result_name(recipe, tag)}.json"
    results_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, record)
    return path
