"""`perceptzoo report --out report.html`: one self-contained page from the benchmark results.

The page reads `benchmarks/results/*.json` (schema in DESIGN.md, "Benchmark results") and
holds, with no network asset (images inlined as `data:` URIs, each file's bytes once, charts
drawn as inline SVG, sorting in a few lines of plain JavaScript):

- **Leaderboards**, one table per task of `perceptzoo.bench.recipe.TASKS`, one row per model
  (per model and dataset where the table spans datasets), its best run by the task's figure;
  every run is in the model's section. Columns: ours, published (with source), gap, train
  wall time, device, parameters, commit, and the task's `extra` metrics (precision, recall,
  the real-vs-real floor and ms per image for sample quality; steps to solve and env steps/s
  for RL; IoU and normal consistency for shapes). Click a header to sort by it; again to
  reverse.
- **Likelihood against sample quality**, one scatter per dataset: x the test bits/dim, y the
  Frechet distance. Models with an exact likelihood (autoregressive models, flows) are filled
  circles, those with a bound (VAEs, diffusion) hollow diamonds, and implicit models (GANs,
  anything scored by samples alone) triangles in a "no likelihood" lane: the taxonomy of
  generative models by how they treat the density (Goodfellow 2016, NIPS tutorial, Fig. 9).
- **Sampling speed**: seconds per generated image, log scale.
- **One section per model**: its result files, its sample grids and its training curves.

The results are read, and each table's rows chosen, by `perceptzoo.bench.report` (its
`load_results` and `leaderboard`), so the page's tables are BENCHMARKS.md's: a result names
its task (`"task"`, with `"figure"` for a table not in TASKS), or names none and its dataset is
one of the task's and it has one of the task's figures; so a generative model of any family
scored on MNIST samples lands in the one MNIST sample-quality table. This module only renders.
Optional keys read where a result has them:

- `"parameters"` (also read from `metrics` or `config`);
- `"samples"` / `"sample_grid"` / `"figures"`: image paths (relative to the repository, to
  `benchmarks/`, or to the figures folder); paths to images named in `notes` count too;
- `"run"` / `"run_dir"`: the run folder, whose `samples.png` is shown and whose
  `metrics.jsonl` gives the training curves;
- `"curves"`: `{"train_loss": [[step, value], ...], ...}` (or `{"step": [...], "value": [...]}`
  per series, or the run's `metrics.jsonl` records as a list);
- metrics `sampling_ms_per_image` (or `sampling_time_s_per_image`), else `sampling_time_s`
  with the number of samples in `metrics.num_samples`, `config.num_samples` or
  `config.evaluate.num_samples`; `wall_time_s` is taken as the training time unless the
  metrics hold `train_time_s`.

Images under the figures folder (`benchmarks/figures/` by default) that no result names are
given to the model whose name (or an older script's short name for it) is in the file name,
else to the models trained on the environment or shape it names.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import re
from pathlib import Path
from typing import Any

from perceptzoo.bench.report import (
    better_run,
    family_of,
    leaderboard,
    load_results,
    number,
    protocol_marks,
    row_published,
    task_spec,
)
from perceptzoo.errors import UserError
from perceptzoo.io import write_text

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
AUDIO_TYPES = {".wav": "audio/wav"}
MAX_INLINE_BYTES = 4_000_000
"""a bigger file is named on the page but not inlined"""

#: Short names older study scripts gave their figures -> the model's registered name.
FIGURE_ALIASES = {"ldm": "latent_diffusion", "cfg": "ddpm_cfg", "ddim20": "ddpm",
                  "onet": "occupancy_network", "qlearning": "q_learning"}

#: Datasets too general to give a figure file to every model trained on them by name alone.
IMAGE_DATASETS = ("binarized_mnist", "mnist", "fashion_mnist", "digits")

#: Column titles for metric keys of a task's `extra` columns (others are shown as named).
EXTRA_TITLES = {"real_vs_real_frechet_distance": "real-vs-real floor",
                "sampling_ms_per_image": "ms / image", "steps_to_solve_median": "steps to solve",
                "steps_per_s": "env steps/s", "test_nll_gap_nats": "NLL gap (nats)"}
HEADLINE_KEYS = ("test_nll_nats", "test_bits_per_dim", "test_bits_per_dim_bound",
                 "test_bits_per_sample", "frechet_distance", "precision", "recall",
                 "mean_return", "best_eval_mean_return", "success_rate", "steps_to_solve_median",
                 "chamfer_l1", "test_chamfer_l1", "iou", "test_iou", "mmd", "test_accuracy",
                 "accuracy", "cached_s_per_sample", "speedup")
PER_IMAGE_KEYS = ("sampling_time_s_per_image", "sampling_s_per_image",
                  "sampling_time_per_image_s", "cached_s_per_sample", "s_per_sample")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
#: Families whose reported likelihood is not exact, and what it is instead.
NOT_EXACT = {"vae": "an upper bound on the NLL (the ELBO or the IWAE bound)",
             "diffusion": "an upper bound on the NLL (the variational bound)",
             "energy": "an estimate of the NLL (log Z by annealed importance sampling)"}
LIKELIHOOD_STYLE = {"exact": ("#1f77b4", "exact likelihood (autoregressive, flow)"),
                    "bound": ("#ff7f0e", "likelihood bound or estimate (VAE, diffusion, "
                              "energy)"),
                    "none": ("#d62728", "no likelihood: implicit models (GANs), or none "
                             "reported")}


# ---------------------------------------------------------------- reading results


def _dataset_token(dataset: str) -> str:
    d = dataset.lower()
    d = re.sub(r"-v\d+$", "", d)  # gym ids: CartPole-v1 -> cartpole
    return d.split(":", 1)[1] if d.startswith("mesh:") else d.replace(":", "_")


def _device(r: dict) -> str:
    device = str(r.get("device", ""))
    if r.get("train_device"):
        return f"trained on {r['train_device']}; scored on {device}"
    return device


def _train_seconds(r: dict) -> float | None:
    v = number(r["metrics"].get("train_time_s"))
    if v is None:
        v = number(r.get("train_time_s"))
    return v if v is not None else number(r.get("wall_time_s"))


def _parameters(r: dict) -> float | None:
    for holder in (r, r["metrics"], r.get("config") or {}):
        v = number(holder.get("parameters")) if isinstance(holder, dict) else None
        if v is not None:
            return v
    return None


def _per_image_seconds(r: dict) -> float | None:
    for k in PER_IMAGE_KEYS:
        v = number(r["metrics"].get(k))
        if v is not None:
            return v
    ms = number(r["metrics"].get("sampling_ms_per_image"))
    if ms is not None:
        return ms / 1000
    total = number(r["metrics"].get("sampling_time_s"))
    if total is None:
        return None
    config = r.get("config") or {}
    for n in (r["metrics"].get("num_samples"), r["metrics"].get("sampling_num_samples"),
              config.get("num_samples"), (config.get("evaluate") or {}).get("num_samples"),
              (r.get("evaluate") or {}).get("num_samples")):
        n = number(n)
        if n:
            return total / n
    return None


# ---------------------------------------------------------------- formatting


def _esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def fmt(v: float | None) -> str:
    """A figure for a table cell: four significant digits, thousands without decimals."""
    if v is None:
        return ""
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _short(text: str, limit: int = 70) -> str:
    """`text` cut at a word near `limit` characters (the whole text is in the cell's tooltip)."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:(") + " ..."


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return ""
    if s < 1:
        return f"{s * 1000:.3g} ms"
    if s < 90:
        return f"{s:.3g} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_count(n: float | None) -> str:
    if n is None:
        return ""
    if n >= 1e6:
        return f"{n / 1e6:.3g}M"
    if n >= 1e3:
        return f"{n / 1e3:.3g}k"
    return f"{n:.0f}"


# ---------------------------------------------------------------- leaderboards


def _cell(text: str, sort: float | str | None = None, title: str = "", cls: str = "") -> str:
    attrs = ""
    if sort is not None:
        attrs += f' data-sort="{_esc(sort)}"'
    if title:
        attrs += f' title="{_esc(title)}"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<td{attrs}>{text}</td>"


def leaderboard_rows(task: str, results: list[dict]) -> list[dict]:
    """`task`'s rows as `report.leaderboard` chose them (the page's tables and BENCHMARKS.md's
    are the same rows); empty where no result is on the task's table."""
    return leaderboard(results).get(task, [])


def _extra_value(r: dict, key: str) -> float | None:
    v = number(r["metrics"].get(key))
    if v is None:
        v = number(r["metrics"].get(f"test_{key}"))
    if v is None and key == "sampling_ms_per_image":
        s = _per_image_seconds(r)
        v = None if s is None else 1000 * s
    return v


def _leaderboard(task: str, rows: list[dict], results: list[dict]) -> str:
    """One task's table: its `rows` (from `report.leaderboard`) in HTML, sortable."""
    spec = task_spec(task, results)
    figures = spec["figures"]
    better = spec["better"]
    listed = spec.get("extra", ())  # "iou" and "test_iou": one column, whichever a run has
    extras = [k for k in listed if not (k.startswith("test_") and k[5:] in listed)
              and any(_extra_value(row["result"], k) is not None for row in rows)]
    heads = ["model", "dataset", "variant", f"ours ({figures[0]})", "published", "gap",
             *[EXTRA_TITLES.get(k, k.replace("_", " ")) for k in extras], "train wall time",
             "device", "parameters", "commit"]
    sorted_by = f' aria-sort="{"ascending" if better != "higher" else "descending"}"'
    th = "".join(f'<th scope="col"{sorted_by if i == 3 else ""}>{_esc(h)}</th>'
                 for i, h in enumerate(heads))
    body, notes, marked = [], [], []
    for row in rows:
        r, value, key = row["result"], row["value"], row["metric"]
        pub, source = row_published(row, spec)
        comparable = str((r.get("published") or {}).get("comparable") or "")
        gap = value - pub if pub is not None else None
        label = _esc(r["model"])
        if row["runs"] > 1:
            label += f' <small>(best of {row["runs"]})</small>'
        ours = fmt(value) + (f" <small>({_esc(key)})</small>" if key != figures[0] else "")
        if ("nll" in key or "bits" in key) and r.get("_family") in NOT_EXACT:
            ours = f'<span title="{_esc(NOT_EXACT[r["_family"]])}">{ours} *</span>'
        for mark, note in row["marks"]:
            ours = f'<span class="mark" title="{_esc(note)}">{ours} {_esc(mark)}</span>'
            marked += [note] if note not in marked else []
        cells = [
            _cell(f'<a href="#model-{_esc(r["model"])}">{label}</a>', r["model"],
                  title=str(r.get("notes", ""))),
            _cell(_esc(r.get("dataset", "")), r.get("dataset", "")),
            _cell(_esc(r.get("variant", "")), r.get("variant", "")),
            _cell(ours, value, title=f'{r["_file"]}: {key}', cls="num"),
            _cell(fmt(pub) + (f' <span class="src">({_esc(_short(source))})</span>'
                              if source else ""),
                  "" if pub is None else pub, title=source, cls="pub"),
            _cell("" if gap is None else f"{gap:+.4g}"
                  + (f" <small>({100 * gap / abs(pub):+.1f}%)</small>" if pub else ""),
                  "" if gap is None else gap, cls="num"),
        ]
        for k in extras:
            v = _extra_value(r, k)
            cells.append(_cell(fmt(v), "" if v is None else v, cls="num"))
        seconds, params = _train_seconds(r), _parameters(r)
        cells += [
            _cell(fmt_seconds(seconds), "" if seconds is None else seconds, cls="num"),
            _cell(_esc(_device(r)), _device(r), cls="dev"),
            _cell(fmt_count(params), "" if params is None else params, cls="num"),
            _cell(f"<code>{_esc(r.get('commit', ''))}</code>", r.get("commit", "")),
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
        if comparable:
            notes.append(f"<li><b>{_esc(r['model'])}</b>: {_esc(comparable)}</li>")
    note_html = f'<ul class="notes">{"".join(notes)}</ul>' if notes else ""
    note_html += "".join(f'<p class="hint">{_esc(note)}</p>' for note in marked)
    return (f'<h3 id="task-{_esc(task)}">{_esc(spec.get("title", task))}</h3>'
            f'<p class="hint">sorted by {_esc(figures[0])} ({_esc(better)} is better); click '
            "a header to sort by it, again to reverse</p>"
            f'<div class="scroll"><table class="sortable leaderboard" data-task="{_esc(task)}">'
            f"<thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
            f"{note_html}")


# ---------------------------------------------------------------- SVG charts


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (Heckbert's "nice numbers")."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]


def _marker(kind: str, x: float, y: float, color: str) -> str:
    if kind == "exact":
        return f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}"/>'
    if kind == "bound":
        return (f'<path class="point" d="M{x:.1f} {y - 6:.1f}L{x + 6:.1f} {y:.1f}L{x:.1f} '
                f'{y + 6:.1f}L{x - 6:.1f} {y:.1f}Z" fill="white" stroke="{color}" '
                'stroke-width="2"/>')
    return (f'<path class="point" d="M{x:.1f} {y - 6:.1f}L{x + 6:.1f} {y + 5:.1f}L{x - 6:.1f} '
            f'{y + 5:.1f}Z" fill="{color}"/>')


def likelihood_kind(r: dict) -> tuple[str, float | None]:
    """("exact" | "bound" | "none", the test bits/dim) of a result. A VAE's or a diffusion
    model's likelihood is a bound and an energy model's an AIS estimate, whatever the key is
    called (the evaluator reports each model's `log_prob` as `test_bits_per_dim`)."""
    m = r["metrics"]
    bpd = number(m.get("test_bits_per_dim"))
    if bpd is None:
        nats = number(m.get("test_nll_nats"))
        model_cfg = (r.get("config") or {}).get("model")  # older results name the model here
        shape = model_cfg.get("data_shape") if isinstance(model_cfg, dict) else None
        if nats is not None and isinstance(shape, list) and shape:
            bpd = nats / (math.prod(shape) * math.log(2))
    if bpd is not None:
        return ("bound" if r.get("_family") in NOT_EXACT else "exact"), bpd
    for k in ("test_bits_per_dim_bound", "test_bits_per_dim_elbo"):
        if number(m.get(k)) is not None:
            return "bound", number(m[k])
    return "none", None


def scatter_points(results: list[dict]) -> dict[str, list[dict]]:
    """Per dataset, one point per model: its run with the lowest Frechet distance, a run on
    the current protocol preferred to one with a protocol mark (as on the leaderboard)."""
    best: dict[tuple[str, str], dict] = {}
    for r in results:
        fd = number(r["metrics"].get("frechet_distance"))
        if fd is None:
            continue
        kind, bpd = likelihood_kind(r)
        slot = (r.get("dataset", ""), r["model"])
        marked = bool(protocol_marks(r, "frechet_distance"))
        if slot not in best or better_run((marked, fd), (best[slot]["marked"], best[slot]["fd"]),
                                          False):
            best[slot] = {"model": r["model"], "file": r["_file"], "fd": fd, "bpd": bpd,
                          "kind": kind, "marked": marked,
                          "floor": number(r["metrics"].get("real_vs_real_frechet_distance"))}
    out: dict[str, list[dict]] = {}
    for (dataset, _), p in sorted(best.items()):
        out.setdefault(dataset, []).append(p)
    return out


def scatter_svg(dataset: str, points: list[dict], width: int = 560, height: int = 380) -> str:
    """Bits/dim (x) against Frechet distance (y); models without a likelihood in a lane."""
    left, right, top, bottom = 62, 20, 36, 48
    with_x = [p for p in points if p["bpd"] is not None]
    lane = [p for p in points if p["bpd"] is None]
    lane_w = 90 if lane else 0
    plot_r = width - right - lane_w
    floors = [p["floor"] for p in points if p["floor"] is not None]
    ys = [p["fd"] for p in points] + floors
    yt = nice_ticks(0.0, max(ys))
    xs = [p["bpd"] for p in with_x]
    xt = nice_ticks(min(xs), max(xs)) if xs else []
    if len(xt) == 1:
        xt = [xt[0] - 0.5, xt[0] + 0.5]

    def sx(v: float) -> float:
        return left + (v - xt[0]) / (xt[-1] - xt[0]) * (plot_r - left)

    def sy(v: float) -> float:
        return height - bottom - (v - yt[0]) / (yt[-1] - yt[0]) * (height - bottom - top)

    parts = [f'<svg class="scatter" data-dataset="{_esc(dataset)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{_esc(dataset)}: test bits/dim '
             "against Frechet distance</title>",
             f'<text x="{width / 2:.0f}" y="18" class="ctitle">{_esc(dataset)}</text>']
    for t in yt:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" '
                     'class="grid"/>'
                     f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" class="tick" '
                     f'text-anchor="end">{fmt(t)}</text>')
    for t in xt:
        parts.append(f'<line x1="{sx(t):.1f}" x2="{sx(t):.1f}" y1="{top}" '
                     f'y2="{height - bottom}" class="grid"/>'
                     f'<text x="{sx(t):.1f}" y="{height - bottom + 16}" class="tick" '
                     f'text-anchor="middle">{t:g}</text>')
    parts.append(f'<text x="{(left + plot_r) / 2:.0f}" y="{height - 8}" class="axis" '
                 'text-anchor="middle">test bits/dim (lower is better)</text>'
                 f'<text transform="translate(16 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
                 'class="axis" text-anchor="middle">Fréchet distance (lower is better)</text>')
    if lane:
        lx = plot_r + 10
        parts.append(f'<rect x="{lx}" y="{top}" width="{lane_w - 14}" '
                     f'height="{height - bottom - top}" class="lane"/>'
                     f'<text x="{lx + (lane_w - 14) / 2:.0f}" y="{top - 4}" '
                     'class="tick" text-anchor="middle">no likelihood</text>')
    if floors:
        floor = min(floors)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(floor):.1f}" '
                     f'y2="{sy(floor):.1f}" class="floor"/>'
                     f'<text x="{plot_r - 4}" y="{sy(floor) + 13:.1f}" class="tick" '
                     f'text-anchor="end">real-vs-real floor {fmt(floor)}</text>')
    placed = []
    for i, p in enumerate(sorted(points, key=lambda p: p["fd"])):
        x = (plot_r + 10 + (lane_w - 14) / 2 + (i % 3 - 1) * 12 if p["bpd"] is None
             else sx(p["bpd"]))
        placed.append((p, x, sy(p["fd"])))
    boxes = [(x - 6, y - 6, x + 6, y + 6) for _, x, y in placed]  # the markers
    for p, x, y in placed:
        color = LIKELIHOOD_STYLE[p["kind"]][0]
        tip = (f'{p["model"]} ({p["file"]}): FD {fmt(p["fd"])}'
               + (f', {fmt(p["bpd"])} bits/dim' if p["bpd"] is not None else ""))
        lx, ly, anchor = _place_label(p["model"], x, y, boxes, width)
        parts.append(f'<g data-model="{_esc(p["model"])}" data-kind="{p["kind"]}"><title>'
                     f"{_esc(tip)}</title>{_marker(p['kind'], x, y, color)}"
                     f'<text x="{lx:.1f}" y="{ly:.1f}" class="label" text-anchor="{anchor}">'
                     f'{_esc(p["model"])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _place_label(text: str, x: float, y: float, boxes: list[tuple], width: float
                 ) -> tuple[float, float, str]:
    """A spot for a point's label that overlaps no marker or label placed before (greedy);
    the chosen box is added to `boxes`."""
    w = 6.2 * len(text)
    candidates = [(8, -6, "start"), (8, 13, "start"), (-8, -6, "end"), (-8, 13, "end"),
                  (8, -19, "start"), (-8, -19, "end"), (8, 26, "start"), (-8, 26, "end")]
    fallback = None
    for dx, dy, anchor in candidates:
        lx, ly = x + dx, y + dy
        box = (lx, ly - 9, lx + w, ly + 2) if anchor == "start" else (lx - w, ly - 9, lx, ly + 2)
        if box[0] < 0 or box[2] > width:
            continue
        fallback = fallback or (lx, ly, anchor, box)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                   for b in boxes):
            boxes.append(box)
            return lx, ly, anchor
    lx, ly, anchor, box = fallback or (x + 8, y - 6, "start", (x, y, x, y))
    boxes.append(box)
    return lx, ly, anchor


def _legend() -> str:
    items = []
    for kind, (color, label) in LIKELIHOOD_STYLE.items():
        items.append(f'<span><svg width="16" height="16" viewBox="0 0 16 16">'
                     f"{_marker(kind, 8, 8, color)}</svg> {_esc(label)}</span>")
    return f'<p class="legend">{" ".join(items)}</p>'


def speed_bars(results: list[dict]) -> tuple[list[dict], list[str]]:
    """(per model and dataset the fastest seconds per image, results with only a total)."""
    best: dict[tuple[str, str], dict] = {}
    totals = []
    for r in results:
        s = _per_image_seconds(r)
        if s is None or s <= 0:
            if s is None and number(r["metrics"].get("sampling_time_s")) is not None:
                totals.append(f'{r["_file"]}: {fmt_seconds(r["metrics"]["sampling_time_s"])} '
                              "in all (the number of samples is not recorded)")
            continue
        slot = (r["model"], r.get("dataset", ""))
        if slot not in best or s < best[slot]["seconds"]:
            best[slot] = {"model": r["model"], "dataset": r.get("dataset", ""), "seconds": s,
                          "file": r["_file"], "device": _device(r)}
    return sorted(best.values(), key=lambda b: b["seconds"]), totals


def speed_svg(bars: list[dict], width: int = 760) -> str:
    row, left, right, top = 22, 240, 70, 26
    height = top + row * len(bars) + 34
    secs = [b["seconds"] for b in bars]
    ticks = _log_ticks(min(secs), max(secs))
    if len(ticks) == 1:
        ticks = [ticks[0], ticks[0] * 10]
    lo, hi = math.log10(ticks[0]), math.log10(ticks[-1])

    def sx(v: float) -> float:
        return left + (math.log10(v) - lo) / (hi - lo) * (width - left - right)

    parts = [f'<svg class="speed" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">'
             "<title>seconds per sampled image, log scale</title>"]
    for t in ticks:
        parts.append(f'<line x1="{sx(t):.1f}" x2="{sx(t):.1f}" y1="{top - 4}" '
                     f'y2="{height - 30}" class="grid"/><text x="{sx(t):.1f}" '
                     f'y="{height - 14}" class="tick" text-anchor="middle">'
                     f'{f"{t * 1000:g} ms" if t < 1 else f"{t:g} s"}</text>')
    for i, b in enumerate(bars):
        y = top + i * row
        w = max(sx(b["seconds"]) - left, 1.0)
        tip = f'{b["file"]} on {b["device"]}'
        parts.append(f'<g data-model="{_esc(b["model"])}"><title>{_esc(tip)}</title>'
                     f'<text x="{left - 8}" y="{y + 14}" class="label" text-anchor="end">'
                     f'{_esc(b["model"])} ({_esc(b["dataset"])})</text>'
                     f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" '
                     f'height="{row - 6}"/><text x="{left + w + 5:.1f}" y="{y + 14}" '
                     f'class="tick">{fmt_seconds(b["seconds"])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _series_from_records(records: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """From a run's metrics.jsonl: the training losses (`loss`, or a GAN's `loss_d`, `loss_g`)
    and the validation NLL (or loss), against the step."""
    series: dict[str, list[tuple[float, float]]] = {}
    for rec in records:
        step, kind = number(rec.get("step")), rec.get("kind", "train")
        if step is None or kind not in ("train", "valid"):
            continue
        keys = [k for k in rec if k.startswith("loss") and number(rec[k]) is not None]
        if kind == "valid" and number(rec.get("nll_nats")) is not None:
            keys = ["nll_nats"]
        for k in keys:
            series.setdefault(f"{kind} {k}", []).append((step, float(rec[k])))
    return series


def curves_of(r: dict, roots: list[Path]) -> dict[str, list[tuple[float, float]]]:
    """Training curves a result carries (`curves`) or its run folder's metrics.jsonl holds."""
    curves = r.get("curves")
    if isinstance(curves, list):
        return _series_from_records([c for c in curves if isinstance(c, dict)])
    out: dict[str, list[tuple[float, float]]] = {}
    if isinstance(curves, dict):
        for name, data in curves.items():
            if isinstance(data, dict) and "step" in data:
                ys = data.get("value", data.get("values", []))
                pts = list(zip(data["step"], ys))
            elif isinstance(data, list):
                pts = [tuple(p) for p in data if isinstance(p, (list, tuple)) and len(p) == 2]
            else:
                continue
            pts = [(float(x), float(y)) for x, y in pts
                   if number(x) is not None and number(y) is not None]
            if pts:
                out[str(name)] = pts
        return out
    run = _find_file(r.get("run") or r.get("run_dir"), roots)
    if run is not None and (run / "metrics.jsonl").is_file():
        records = []
        for line in (run / "metrics.jsonl").read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return _series_from_records(records)
    return {}


def curves_svg(title: str, series: dict[str, list[tuple[float, float]]], width: int = 460,
               height: int = 240) -> str:
    """A line chart of each series against the step (log y when the values span decades)."""
    left, right, top, bottom = 56, 12, 24, 40
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    log_y = min(ys) > 0 and max(ys) / min(ys) > 30
    ty = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    yt = _log_ticks(min(ys), max(ys)) if log_y else nice_ticks(min(ys), max(ys))
    xt = nice_ticks(min(xs), max(xs))
    if len(yt) == 1:
        yt = [yt[0], yt[0] * 10] if log_y else [yt[0] - 1, yt[0] + 1]

    def sx(v: float) -> float:
        return left + (v - xt[0]) / ((xt[-1] - xt[0]) or 1) * (width - left - right)

    def sy(v: float) -> float:
        span = (ty(yt[-1]) - ty(yt[0])) or 1
        return height - bottom - (ty(v) - ty(yt[0])) / span * (height - bottom - top)

    parts = [f'<svg class="curve" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{_esc(title)}</title><text x="{width / 2:.0f}" y="15" class="ctitle">'
             f"{_esc(title)}</text>"]
    for t in yt:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(t):.1f}" '
                     f'y2="{sy(t):.1f}" class="grid"/><text x="{left - 5}" y="{sy(t) + 4:.1f}" '
                     f'class="tick" text-anchor="end">{fmt(t)}</text>')
    for t in xt:
        parts.append(f'<text x="{sx(t):.1f}" y="{height - bottom + 15}" class="tick" '
                     f'text-anchor="middle">{fmt(t)}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" class="axis" '
                 'text-anchor="middle">step</text>')
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        parts.append(f'<polyline class="line" data-series="{_esc(name)}" points="{path}" '
                     f'fill="none" stroke="{color}" stroke-width="1.6"/>'
                     f'<text x="{width - right - 4}" y="{top + 12 + 13 * i}" class="label" '
                     f'text-anchor="end" fill="{color}">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- images


def _find_file(name: Any, roots: list[Path]) -> Path | None:
    if not isinstance(name, str) or not name:
        return None
    p = Path(name)
    if p.is_absolute():
        return p if p.exists() else None
    for root in roots:
        if (root / p).exists():
            return root / p
    return None


def _data_uri(path: Path) -> str | None:
    mime = IMAGE_TYPES.get(path.suffix.lower()) or AUDIO_TYPES.get(path.suffix.lower())
    if mime is None or path.stat().st_size > MAX_INLINE_BYTES:
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _referenced_media(r: dict, roots: list[Path]) -> list[Path]:
    names: list[str] = []
    for key in ("samples", "sample_grid", "figures", "images"):
        v = r.get(key)
        names += [v] if isinstance(v, str) else [x for x in v or [] if isinstance(x, str)]
    exts = "|".join(e.lstrip(".") for e in (*IMAGE_TYPES, *AUDIO_TYPES))
    text = json.dumps({k: v for k, v in r.items() if k not in ("samples", "sample_grid")})
    names += re.findall(rf"[\w./:-]+\.(?:{exts})\b", text)
    found = [p for p in (_find_file(n, roots) for n in names) if p is not None]
    run = _find_file(r.get("run") or r.get("run_dir"), roots)
    if run is not None and run.is_dir():
        found += sorted(p for p in run.iterdir() if p.suffix.lower() in IMAGE_TYPES)
    return found


def _token_match(name: str, stem: str) -> tuple[int, int] | None:
    m = re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", stem)
    return m.span() if m else None


def assign_figures(results: list[dict], figures_root: Path | None,
                   roots: list[Path]) -> dict[str, list[Path]]:
    """model -> its media: files its results name first, then files under `figures_root`
    matched by model name, then by a variant only one model has, then by environment/shape."""
    media: dict[str, list[Path]] = {}
    claimed: set[Path] = set()
    for r in results:
        for p in _referenced_media(r, roots):
            if p.resolve() not in {q.resolve() for q in media.get(r["model"], [])}:
                media.setdefault(r["model"], []).append(p)
            claimed.add(p.resolve())
    if figures_root is None or not figures_root.is_dir():
        return media
    models = sorted({r["model"] for r in results})
    names = {m: m for m in models} | {a: m for a, m in FIGURE_ALIASES.items() if m in models}
    variants: dict[str, set[str]] = {}
    datasets: dict[str, set[str]] = {}
    for r in results:
        if r.get("variant"):
            variants.setdefault(str(r["variant"]).lower(), set()).add(r["model"])
        if r.get("dataset") and r["dataset"] not in IMAGE_DATASETS:
            datasets.setdefault(_dataset_token(r["dataset"]), set()).add(r["model"])
    unique_variants = {v: ms for v, ms in variants.items() if len(ms) == 1 and len(v) >= 4}
    for path in sorted(p for p in figures_root.rglob("*") if p.is_file()):
        if path.resolve() in claimed or path.suffix.lower() not in {*IMAGE_TYPES, *AUDIO_TYPES}:
            continue
        # a sub-folder's name counts as part of the file name: figures/vae/x.png -> vae_x
        stem = "_".join(path.relative_to(figures_root).with_suffix("").parts).lower()
        owners: set[str] = set()
        taken: list[tuple[int, int]] = []
        for name in sorted(names, key=len, reverse=True):  # gated_pixelcnn before pixelcnn
            span = _token_match(name, stem)
            if span and not any(a < span[1] and span[0] < b for a, b in taken):
                taken.append(span)
                owners.add(names[name])
        for table in (unique_variants, datasets):
            if not owners:
                owners = set().union(*[ms for v, ms in table.items() if _token_match(v, stem)])
        for m in sorted(owners):
            media.setdefault(m, []).append(path)
    return media


def _media_html(paths: list[Path], inlined: dict[str, str]) -> str:
    """The figures of one model section. A file's bytes go in the page once: `inlined` maps
    each data URI written so far to its element's id, and a later copy (a figure two models
    share) names that id in `data-same`, whose `src` SAME_JS copies when the page loads."""
    items = []
    for p in paths:
        uri = _data_uri(p)
        if uri is None:
            items.append(f"<figure><figcaption>{_esc(p.name)} (not inlined: over "
                         f"{MAX_INLINE_BYTES // 1_000_000} MB)</figcaption></figure>")
            continue
        if uri in inlined:
            src = f'data-same="{inlined[uri]}"'
        else:
            inlined[uri] = f"media-{len(inlined)}"
            src = f'id="{inlined[uri]}" src="{uri}"'
        if p.suffix.lower() in AUDIO_TYPES:
            items.append(f"<figure><audio controls {src}></audio>"
                         f"<figcaption>{_esc(p.name)}</figcaption></figure>")
        else:
            items.append(f'<figure><img class="sample" alt="{_esc(p.name)}" {src}>'
                         f"<figcaption>{_esc(p.name)}</figcaption></figure>")
    return f'<div class="grid">{"".join(items)}</div>' if items else ""


# ---------------------------------------------------------------- the page


def _headline(r: dict) -> str:
    m = r["metrics"]
    keys = [k for k in HEADLINE_KEYS if number(m.get(k)) is not None][:5]
    if not keys:
        keys = [k for k, v in m.items() if number(v) is not None][:4]
    return ", ".join(f"{_esc(k)} {fmt(number(m[k]))}" for k in keys)


def _model_section(model: str, family: str, runs: list[dict], media: list[Path],
                   roots: list[Path], inlined: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td><code>{_esc(r['_file'])}</code></td><td>{_esc(r.get('dataset', ''))}</td>"
        f"<td>{_esc(r.get('variant', ''))}</td><td>{_headline(r)}</td>"
        f"<td>{fmt_seconds(_train_seconds(r))}</td><td>{_esc(_device(r))}</td>"
        f"<td><code>{_esc(r.get('commit', ''))}</code></td></tr>"
        for r in runs)
    curves = "".join(curves_svg(f"{r['_file']}", c) for r in runs
                     if (c := curves_of(r, roots)))
    return (f'<section class="model" id="model-{_esc(model)}"><h3>{_esc(model)} '
            f'<small>{_esc(family)}</small></h3><div class="scroll"><table class="runs"><thead>'
            "<tr><th>result</th><th>dataset</th><th>variant</th><th>figures</th>"
            "<th>train wall time</th><th>device</th><th>commit</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
            f'{_media_html(media, inlined)}'
            f'{f"<div class=curves>{curves}</div>" if curves else ""}'
            "</section>")


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;
background:#fafafa}
main{max-width:1480px;margin:0 auto;padding:12px 24px 48px}
h1{margin:8px 0 0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{margin:22px 0 4px}h3 small{color:#777;font-weight:normal}
nav a{margin-right:14px}.meta,.hint{color:#666;margin:2px 0 8px}
table{border-collapse:collapse;background:white;font-size:12.5px;margin:4px 0 8px}
th,td{border:1px solid #e1e4e8;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f3f6;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#e2e8f0}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
td.num{text-align:right;white-space:nowrap}.src{color:#666;font-size:12px}
td.pub{max-width:280px;min-width:190px}td.dev{font-size:12px;min-width:150px}
tbody tr:first-child td.num:nth-child(4){font-weight:bold}
.scroll{overflow-x:auto;max-width:100%}
ul.notes{color:#555;font-size:12px;margin:0 0 8px}
.charts{display:flex;flex-wrap:wrap;gap:14px}
svg{background:white;border:1px solid #e1e4e8}
svg .grid{stroke:#eee}svg .tick{font-size:11px;fill:#555}svg .axis{font-size:12px;fill:#333}
svg .label{font-size:11px;fill:#222}svg .ctitle{font-size:13px;font-weight:bold;
text-anchor:middle}svg .lane{fill:#fbeaea}svg .floor{stroke:#2ca02c;stroke-dasharray:5 4}
svg .bar{fill:#4c78a8}.legend span{margin-right:18px}.legend svg{border:0;vertical-align:middle}
.grid{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
figure{margin:0;background:white;border:1px solid #e1e4e8;padding:4px}
figure img{max-width:300px;max-height:300px;image-rendering:pixelated;display:block}
figcaption{font-size:11px;color:#666;max-width:300px;word-break:break-all}
.curves{display:flex;flex-wrap:wrap;gap:10px;margin-top:8px}
section.model{border-top:1px solid #e1e4e8;padding-bottom:8px}
"""

SORT_JS = """
(function () {
  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) return "";
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = rows.every(function (r) {
          var v = key(r, col);
          return v === "" || isFinite(Number(v));
        });
        rows.sort(function (a, b) {
          var x = key(a, col), y = key(b, col);
          if (x === "" || y === "") return (x === "") - (y === "");  /* blanks last */
          var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""

#: a figure shared by several model sections is inlined once; its copies take its source
SAME_JS = """
document.querySelectorAll("[data-same]").forEach(function (el) {
  el.src = document.getElementById(el.getAttribute("data-same")).src;
});
"""


def render(results: list[dict], *, figures_root: Path | None = None,
           roots: list[Path] | None = None, source: str = "") -> str:
    """The page's HTML for `results` (as `load_results` returns them)."""
    roots = roots or []
    for r in results:
        r.setdefault("metrics", {})
        r["_family"] = family_of(r)
    boards = [_leaderboard(task, rows, results) for task, rows in leaderboard(results).items()]
    panels = scatter_points(results)
    scatter = "".join(scatter_svg(d, pts) for d, pts in panels.items())
    bars, totals = speed_bars(results)
    media = assign_figures(results, figures_root, roots)
    by_model: dict[str, list[dict]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    order = sorted(by_model, key=lambda m: (by_model[m][0]["_family"], m))
    inlined: dict[str, str] = {}
    sections = "".join(_model_section(m, by_model[m][0]["_family"], by_model[m],
                                      media.get(m, []), roots, inlined) for m in order)
    commits = sorted({str(r.get("commit", "")) for r in results if r.get("commit")})
    toc = " ".join(f'<a href="#model-{_esc(m)}">{_esc(m)}</a>' for m in order)
    speed = (speed_svg(bars) if bars else "<p>No result records a sampling time per image.</p>")
    totals_html = ("<p class=hint>Sampling times recorded only as a total:</p><ul class=notes>"
                   + "".join(f"<li>{_esc(t)}</li>" for t in totals) + "</ul>") if totals else ""
    scatter_html = (f'{_legend()}<div class="charts">{scatter}</div>' if scatter else
                    "<p>No result carries both a likelihood and a Fréchet distance.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perceptzoo benchmarks</title><style>{CSS}</style></head>
<body><main>
<h1>perceptzoo benchmarks</h1>
<p class="meta">{len(results)} result files, {len(by_model)} models, from {_esc(source)};
commits {_esc(", ".join(commits[:12]))}{" ..." if len(commits) > 12 else ""};
page written {_dt.date.today().isoformat()}.</p>
<nav><a href="#leaderboards">leaderboards</a><a href="#scatter">likelihood vs sample quality</a>
<a href="#speed">sampling speed</a><a href="#models">models</a></nav>
<h2 id="leaderboards">Leaderboards</h2>
<p class="hint">One row per model (per model and dataset where a table spans datasets): its best
run by the table's figure (every run is in the model's section). Gap = ours &minus; published.
Train wall time is the run's training time. * marks a likelihood that is a bound or an estimate
(VAE, diffusion, energy models), not exact.</p>
{"".join(boards) or "<p>No result is on a leaderboard yet.</p>"}
<h2 id="scatter">Likelihood against sample quality</h2>
<p class="hint">One point per model and dataset (its run with the lowest Fréchet distance, in the
project classifier's features). Tractable densities are scored on both axes; implicit models
only on samples, so they stand in the "no likelihood" lane.</p>
{scatter_html}
<h2 id="speed">Sampling speed</h2>
<p class="hint">Seconds per generated image (fastest recorded run per model and dataset; the
device is in each bar's tooltip), log scale.</p>
{speed}{totals_html}
<h2 id="models">Models</h2>
<p class="hint">{toc}</p>
{sections}
</main><script>{SORT_JS}{SAME_JS}</script></body></html>
"""


def write_html(results_dir: Path, out: Path, *, figures_root: Path | None = None) -> Path:
    """Write the report page for `results_dir/*.json` to `out`; returns `out`.

    figures_root: a folder of figures to attribute to models by file name (default: the
    `figures` folder beside `results_dir`, as in `benchmarks/results` and `benchmarks/figures`).
    Paths a result names are looked up under the repository (two folders above `results_dir`),
    `benchmarks/`, the results folder and `figures_root`.
    """
    results_dir, out = Path(results_dir), Path(out)
    results = load_results(results_dir)
    if figures_root is None and (results_dir.parent / "figures").is_dir():
        figures_root = results_dir.parent / "figures"
    roots = [results_dir.parent.parent, results_dir.parent, results_dir]
    if figures_root is not None:
        figures_root = Path(figures_root)
        if not figures_root.is_dir():
            raise UserError(f"no figures folder {figures_root}: pass an existing folder or "
                            "leave figures_root out")
        roots += [figures_root, figures_root.parent]
    write_text(out, render(results, figures_root=figures_root, roots=roots,
                           source=str(results_dir)))
    out.chmod(0o644)  # a page to open and share (the atomic writer's temporary file is 0600)
    return out
