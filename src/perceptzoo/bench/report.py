"""The leaderboard, and BENCHMARKS.md, from `benchmarks/results/*.json` (schema in DESIGN.md).

One table per task (`perceptzoo.bench.recipe.TASKS`): a result is in a task's table when its
dataset is one of the task's and it has the task's figure, so a generative model of any family
that was scored on MNIST samples lands in the one MNIST sample-quality table, and a digits model
with a likelihood in both the digits NLL and the digits sample-quality tables. One row per model
(per model and dataset where a table spans datasets: RL environments, shapes, toys): its best
run by the figure among those on the current protocol (a figure with a protocol mark, † for a
Fréchet distance scored against the head of the split, wins a row only when the model has no
other run in the table, and is shown marked); every run is listed under "Details". Columns:
ours, published (with its source), gap (ours - published), training wall time, device,
parameters, commit.

This module owns reading the results (`load_results`) and choosing each table's rows
(`task_spec`, `figure_of`, `leaderboard`); the HTML page (`bench/html.py`) renders the same
rows, so a result lands in the same table, with the same best row, on both pages.

    from perceptzoo.bench.report import load_results, leaderboard_markdown, write_report
    print(leaderboard_markdown(load_results(Path("benchmarks/results"))))
    write_report(Path("benchmarks/results"), Path("BENCHMARKS.md"))
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import TASKS
from perceptzoo.errors import UserError

#: figures where a larger value is better (for tables of tasks not in TASKS)
HIGHER_IS_BETTER = ("accuracy", "return", "iou", "psnr", "precision", "recall", "success",
                    "score", "mig", "reward", "f1", "consistency")


# -- reading and selection: the one rule both pages (this one and bench/html.py) render -------
def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every result file of `results_dir`, sorted by name, each with `_file` (its name) and
    `_family` (`family_of`); `metrics` defaults to {}. A missing folder, a file that is not
    JSON or not a result is a UserError saying what to do (a table silently short of a run
    would be wrong)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"no results folder {results_dir}: run `perceptzoo bench` first, or "
                        "pass the folder that holds the result JSON files")
    out = []
    for f in sorted(results_dir.glob("*.json")):
        try:
            r = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UserError(f"{f} is not valid JSON ({err}); fix or remove it") from None
        if not isinstance(r, dict) or "model" not in r \
                or not isinstance(r.setdefault("metrics", {}), dict):
            raise UserError(f"{f} is not a benchmark result (it needs a 'model' and a "
                            "'metrics' object; schema in DESIGN.md, 'Benchmark results'); fix "
                            "or remove it")
        r["_file"] = f.name
        r["_family"] = family_of(r)
        out.append(r)
    return out


def family_of(result: dict[str, Any]) -> str:
    """The result's family: as filled by `load_results`, else its own `family`, else its
    model's registered family ("other" for a model no longer registered)."""
    return str(result.get("_family") or result.get("family") or _family(result["model"]))


def _family(model: str) -> str:
    try:
        from perceptzoo.core import registry

        return registry.get_spec(model).family or "other"
    except Exception:  # a model no longer registered, or a package mid-rewrite
        return "other"


def number(value: Any) -> float | None:
    """`value` as a finite float, else None (a bool, a string, NaN or inf is no figure)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def task_spec(task: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """TASKS[task], or a table made from the results that name `task` and their figure."""
    if task in TASKS:
        return TASKS[task]
    figure = next((str(r["figure"]) for r in results
                   if r.get("task") == task and r.get("figure")), "")
    if not figure:  # no result names one: the first figure of the first result of the task
        figure = next((k for r in results if r.get("task") == task
                       for k, v in r["metrics"].items()
                       if number(v) is not None and not k.endswith("_time_s")), "")
    better = "higher" if any(w in figure for w in HIGHER_IS_BETTER) else "lower"
    return {"title": task.replace("_", " "), "figures": (figure,), "better": better,
            "datasets": (), "explicit_only": True}


def figure_of(result: dict[str, Any], task: str, spec: dict[str, Any]) -> tuple[str, float] | None:
    """(metric name, value) of `result` in the task's table, or None if it is not in it: a
    result is in it when it names the task (its `figure` first), or, for a task of TASKS that
    is not `explicit_only`, when it names no task of its own, its dataset is one of the task's
    and it has one of the task's figures (the first one found)."""
    explicit = result.get("task") == task
    if not explicit:
        if spec.get("explicit_only"):
            return None
        if result.get("task") and result["task"] not in TASKS:
            return None  # a task of its own (translation, paired data): only in that table
        if not _dataset_matches(result, spec):
            return None
    figures = spec["figures"]
    if explicit and result.get("figure"):
        figures = (str(result["figure"]), *figures)
    for key in figures:
        value = number(result["metrics"].get(key))
        if value is not None:
            return key, value
    return None


def _dataset_matches(result: dict[str, Any], spec: dict[str, Any]) -> bool:
    """TASKS' rule: a dataset named by the task, a prefix ending in ':', or '*' for any
    dataset of the task's `families`."""
    dataset = str(result.get("dataset", ""))
    for pattern in spec.get("datasets", ()):
        if pattern == "*":
            if family_of(result) in spec.get("families", ()):
                return True
        elif pattern.endswith(":"):
            if dataset.startswith(pattern):
                return True
        elif dataset == pattern:
            return True
    return False


#: Results whose file says `"frechet_reference": "head"` were scored, before commit 7cb7671,
#: against the first n images of the split instead of a random subset of it.
HEAD_REFERENCE_NOTE = (
    "† scored against the first n test images (before commit 7cb7671), which on MNIST are its "
    "cleaner writers: 26.7 from real training images, not 3.5; not comparable with the rest "
    "until re-scored.")


def _head_reference(result: dict[str, Any], metric: str) -> bool:
    return "frechet" in metric and result.get("frechet_reference") == "head"


#: Marks of figures measured under an earlier protocol, not comparable with the current one:
#: (mark, does it apply to (result, metric), the note under a table that shows it).
PROTOCOL_MARKS: tuple[tuple[str, Callable[[dict[str, Any], str], bool], str], ...] = (
    ("†", _head_reference, HEAD_REFERENCE_NOTE),
)


def protocol_marks(result: dict[str, Any], metric: str) -> list[tuple[str, str]]:
    """(mark, note) of every protocol mark that `result`'s figure `metric` carries; empty for
    a figure on the current protocol."""
    return [(mark, note) for mark, applies, note in PROTOCOL_MARKS if applies(result, metric)]


def better_run(new: tuple[bool, float], old: tuple[bool, float], higher: bool) -> bool:
    """Whether a run (marked?, figure) beats another for a model's row: a run on the current
    protocol beats any marked one, whatever the figures; between two of the same kind, the
    better figure (the earlier run on a tie)."""
    if new[0] != old[0]:
        return not new[0]
    return new[1] > old[1] if higher else new[1] < old[1]


def leaderboard(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """task -> rows: the tables of TASKS, then those of the tasks results name, each with a
    row; rows best first (by dataset, then best first, where the table spans datasets). A row
    (`result`, `metric`, `value`, `marks`, `runs`): the best result of one model (and
    dataset, where the table spans datasets) by the figure (`figure_of`), a run on the
    current protocol preferred to one with a protocol mark (`protocol_marks`); its figure,
    its marks, and how many runs it was chosen from. An ablation (a result with `ablation`:
    the model with part of its method taken away) never makes or counts toward a row.
    BENCHMARKS.md and the HTML page both render these rows."""
    tasks = list(TASKS) + sorted({r["task"] for r in results
                                  if r.get("task") and r["task"] not in TASKS})
    tables: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        spec = task_spec(task, results)
        sign = -1.0 if spec["better"] == "higher" else 1.0
        best: dict[tuple, dict[str, Any]] = {}
        for r in results:
            hit = None if r.get("ablation") else figure_of(r, task, spec)
            if hit is None:
                continue
            key = (r["model"], r.get("dataset", "")) if spec.get("per_dataset") else (r["model"],)
            row = {"result": r, "metric": hit[0], "value": hit[1], "runs": 1,
                   "marks": protocol_marks(r, hit[0])}
            if key in best:
                old = best[key]
                row["runs"] = old["runs"] + 1
                if not better_run((bool(row["marks"]), hit[1]),
                                  (bool(old["marks"]), old["value"]), sign < 0):
                    old["runs"] = row["runs"]
                    continue
            best[key] = row
        if best:
            rows = list(best.values())
            if spec.get("per_dataset"):
                rows.sort(key=lambda x: (str(x["result"].get("dataset")), sign * x["value"]))
            else:
                rows.sort(key=lambda x: sign * x["value"])
            tables[task] = rows
    return tables


# -- formatting ----------------------------------------------------------------------------------
def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e9:
            return str(int(value))
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3g}"
    return str(value)


def fmt_seconds(seconds: Any) -> str:
    s = number(seconds)
    if s is None:
        return "—"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def fmt_count(n: Any) -> str:
    n = number(n)
    if not n:
        return "—"
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


def short_source(source: str, limit: int = 48) -> str:
    """The paper-table-row part of a source line, at most `limit` characters."""
    text = source.split(";")[0].split(". Not comparable")[0].strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def device_of(r: dict[str, Any]) -> str:
    device = str(r.get("device", ""))
    device = device.split(" (")[0].replace(" thread(s) of ", "/").replace(" cores", " cores")
    if r.get("train_device"):  # trained on a lent GPU, scored here
        trained = str(r["train_device"]).split(",")[0].removeprefix("NVIDIA ")
        return f"{trained} (scored on {device.split(',')[0]})"
    return device.removeprefix("NVIDIA ")


def published_value(r: dict[str, Any], metric: str,
                    also: tuple[str, ...] = ()) -> tuple[float | None, str]:
    """The published figure for `metric` (else for the first of `also` it gives: the same
    quantity under another of the task's names, e.g. an RL success rate that is the mean
    return of a 0/1 reward), and its source."""
    pub = r.get("published") or {}
    source = pub.get("source") or pub.get("note") or ""
    for key in (metric, *also):
        if number(pub.get(key)) is not None:
            return number(pub[key]), source
    return None, source


def row_published(row: dict[str, Any], spec: dict[str, Any]) -> tuple[float | None, str]:
    """The published figure beside a leaderboard row (`leaderboard`) and its source: the one
    for the row's metric, else for another of the task's figures the run scored the same (one
    quantity under two names), else None."""
    r = row["result"]
    same = tuple(k for k in spec["figures"] if number(r["metrics"].get(k)) == row["value"])
    return published_value(r, row["metric"], same)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(task: str, rows: list[dict[str, Any]], results: list[dict[str, Any]],
                   link: str = "benchmarks/results/") -> list[str]:
    spec = task_spec(task, results)
    per_dataset = spec.get("per_dataset")
    extra = [k for k in spec.get("extra", ())
             if any(number(row["result"]["metrics"].get(k)) is not None for row in rows)]
    arrow = "↓" if spec["better"] == "lower" else "↑"
    head = ["model", *(["dataset"] if per_dataset else []),
            f"ours ({spec['figures'][0]} {arrow})", *extra,
            "published (source)", "gap", "train time", "device", "params", "commit"]
    lines = [f"### {spec['title']}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    notes: list[str] = []
    for row in rows:
        r = row["result"]
        pub, source = row_published(row, spec)
        gap = "—" if pub is None else f"{row['value'] - pub:+.3g}"
        published = fmt(pub) + (f" ({short_source(source)})" if source else "") \
            if pub is not None else ""
        ours = fmt(row["value"]) + ("" if row["metric"] == spec["figures"][0]
                                    else f" ({row['metric']})")
        for mark, note in row.get("marks", protocol_marks(r, row["metric"])):
            ours += f" {mark}"
            notes += [note] if note not in notes else []
        runs = f" ×{row['runs']}" if row["runs"] > 1 else ""
        cells = [f"[{r['model']}]({link}{r['_file']}){runs}",
                 *([str(r.get("dataset", ""))] if per_dataset else []), ours,
                 *[fmt(number(r["metrics"].get(k))) for k in extra],
                 published or "—", gap, fmt_seconds(r.get("wall_time_s")), device_of(r),
                 fmt_count(r.get("parameters")), str(r.get("commit", ""))]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for note in notes:
        lines += ["", note]
    return lines + [""]


def leaderboard_markdown(results: list[dict[str, Any]], tasks: list[str] | None = None,
                         link: str = "benchmarks/results/") -> str:
    tables = leaderboard(results)
    lines: list[str] = []
    for task, rows in tables.items():
        if tasks is None or task in tasks:
            lines += table_markdown(task, rows, results, link)
    return "\n".join(lines)


def details_markdown(results: list[dict[str, Any]], link: str = "benchmarks/results/") -> str:
    """One line per model: each of its runs (variant, dataset) with its first figure, linked to
    the result file (the full config, every metric, the source, notes)."""
    by_family: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in results:
        by_family.setdefault(family_of(r), {}).setdefault(r["model"], []).append(r)
    lines = [f"Every result file, by family and model: `{link}<model>-<run>.json`, its first "
             "figure and training time. Open one for the full config, every metric, the "
             "published figure's source with what is and is not comparable, and notes.", ""]
    for family in sorted(by_family):
        lines += [f"### {family}", ""]
        for model, runs in sorted(by_family[family].items()):
            items = []
            for r in sorted(runs, key=lambda x: x["_file"]):
                label = r["_file"].removesuffix(".json").removeprefix(f"{model}-")
                first = next(((k, v) for k, v in r["metrics"].items()
                              if number(v) is not None and not k.endswith("_time_s")), None)
                figure = f" {first[0]} {fmt(float(first[1]))}" if first else ""
                items.append(f"[`{label}`]({link}{r['_file']}){figure} "
                             f"({fmt_seconds(r.get('wall_time_s'))})")
            lines.append(f"- **{model}**: " + "; ".join(items))
        lines.append("")
    return "\n".join(lines)


def default_details(results_dir: Path, out: Path) -> Path:
    """Where the details page of the page `out` goes: DETAILS.md beside `out`, except in the
    repository's layout, the page in the folder two levels above the results (BENCHMARKS.md at
    the root, `benchmarks/results/`), where it goes beside the results folder
    (`benchmarks/DETAILS.md`, as checked in). Either way inside the page's folder: a page
    written elsewhere never writes into the results' tree."""
    results_dir, out = Path(results_dir), Path(out)
    if results_dir.resolve().parent.parent == out.resolve().parent:
        return results_dir.parent / "DETAILS.md"
    return out.parent / "DETAILS.md"


def write_report(results_dir: Path, out: Path, details: Path | None = None) -> Path:
    """BENCHMARKS.md: the leaderboard tables first, then a short pointer to `details` (default
    `default_details`: DETAILS.md beside `out`, or benchmarks/DETAILS.md for BENCHMARKS.md at
    the repository's root), written alongside with one line per run, so the page a user opens
    on GitHub stays small."""
    from perceptzoo.io import write_text

    results = load_results(results_dir)
    details = Path(details) if details is not None else default_details(results_dir, out)
    link = _relative_link(Path(results_dir), Path(out))
    details_link = _relative_link(Path(results_dir), details)
    families = sorted({family_of(r) for r in results})
    # the tasks of TASKS on the page; a study's own task (named by its results) in DETAILS.md
    others = [t for t in leaderboard(results) if t not in TASKS]
    write_text(details, "\n".join([
        "# Benchmarks: every run",
        "",
        f"Generated by `perceptzoo report` with [the leaderboard]"
        f"({_relative_file(Path(out), details)}); do not edit by hand.",
        "",
        *(["## Other tasks", "",
           "Tasks a study names for itself (not among the leaderboard's tasks), one table "
           "each, with the leaderboard's columns.", "",
           leaderboard_markdown(results, others, link=details_link)] if others else []),
        "## Every run",
        "",
        details_markdown(results, link=details_link)]))
    text = "\n".join([
        "# Benchmarks",
        "",
        "Generated by `perceptzoo report` from `benchmarks/results/*.json` (written by "
        "`perceptzoo bench`); do not edit by hand. One table per task, one row per model: its "
        "best run (×N: chosen from N runs). *ours* ↓ lower / ↑ higher is better; *published* "
        "the paper's figure (the result file has its table, row and what is comparable); "
        "*gap* = ours − published; *train time* the training time the run logged. Fréchet "
        "distances are in the project classifier's features, beside the real-vs-real floor at "
        "the same sample size.",
        "",
        "Reproduce: `perceptzoo bench --suite quick` (minutes, embedded data), "
        "`perceptzoo bench --suite full` (hours on a CPU), `perceptzoo bench --suite gpu`.",
        "",
        "## Leaderboard",
        "",
        leaderboard_markdown(results, list(TASKS), link=link),
        *([f"Other tasks, one table each in [{details.name}]"
           f"({_relative_file(details, Path(out))}#other-tasks): "
           + ", ".join(task_spec(t, results)["title"] for t in others) + ".", ""]
          if others else []),
        "## Details",
        "",
        f"Every run ({len(results)} result files), by family ({', '.join(families)}), with its "
        f"first figure and training time: [{details.name}]({_relative_file(details, Path(out))}"
        ").",
        "",
    ])
    write_text(out, text)
    return Path(out)


def _relative_file(target: Path, page: Path) -> str:
    """`target`'s path relative to the folder of `page` (for a markdown link)."""
    import os

    try:
        rel = os.path.relpath(Path(target).resolve(), Path(page).resolve().parent)
    except ValueError:
        rel = str(Path(target).resolve())
    return rel.replace(os.sep, "/")


def _relative_link(results_dir: Path, out: Path) -> str:
    import os

    try:
        rel = os.path.relpath(results_dir.resolve(), out.resolve().parent)
    except ValueError:
        rel = str(results_dir.resolve())
    return rel.replace(os.sep, "/").rstrip("/") + "/"
