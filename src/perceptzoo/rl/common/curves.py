"""Training curves: one row per finished episode (step, return, length, ...), to CSV and JSON.

    curve = Curve()
    curve.add(step=1200, episode_return=35.0, episode_length=35)
    curve.write("runs/dqn/curve")          # curve.csv + curve.json

Plots of curves are drawn by `perceptzoo.viz.curves.plot_curves` (e.g. `plot_curves({"dqn":
curve.xy()}, "curve.png")`); an agent's `training_summary` writes both into its run folder.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from perceptzoo.io import write_text


class Curve:
    """Rows of (step, episode, episode_return, episode_length, extra...)."""

    def __init__(self):
        self.rows: list[dict] = []

    def add(self, *, step: int, episode_return: float, episode_length: int, **extra) -> None:
        self.rows.append({"step": int(step), "episode": len(self.rows) + 1,
                          "episode_return": float(episode_return),
                          "episode_length": int(episode_length), **extra})

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([r["step"] for r in self.rows], float),
                np.array([r["episode_return"] for r in self.rows], float))

    def returns(self) -> np.ndarray:
        return np.array([r["episode_return"] for r in self.rows], float)

    def write(self, stem: str | Path) -> tuple[Path, Path]:
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted({k for r in self.rows for k in r}, key=lambda k: (k not in (
            "step", "episode", "episode_return", "episode_length"), k))
        csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(csv_path, table.getvalue())
        write_text(json_path, json.dumps(self.rows) + "\n")
        return csv_path, json_path
