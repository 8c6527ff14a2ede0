"""TensorBoard events from a run folder, when `tensorboard` is installed (`pip install
perceptzoo[tensorboard]`); nothing else needs it.

A run's `metrics.jsonl` already holds every scalar the Trainer logged, each with its step and
kind ("train", "valid", "eval", ...), and `samples.png` the grid at the end of training; this
writes them as TensorBoard scalars (`<kind>/<name>`) and an image into `<run>/tensorboard/`:

    perceptzoo bench --suite quick && tensorboard --logdir benchmarks/work

`perceptzoo bench` calls `log_run` after scoring each recipe. (Live logging while a run trains
needs one call in the Trainer's log step; see the bench issue's notes.)
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path


def available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def log_run(run: str | Path, logdir: str | Path | None = None) -> Path:
    """Write the scalars of `run`'s metrics.jsonl and its sample grid as TensorBoard events
    into `logdir` (default `<run>/tensorboard`); returns the folder."""
    import numpy as np
    from PIL import Image
    from torch.utils.tensorboard import SummaryWriter

    from perceptzoo.core.runs import RunDir

    run = Path(run)
    logdir = Path(logdir) if logdir else run / "tensorboard"
    writer = SummaryWriter(log_dir=str(logdir))
    try:
        last_step = 0
        for record in RunDir(run).read_metrics():
            step = record.get("step")
            if not isinstance(step, int):
                continue
            last_step = max(last_step, step)
            kind = record.get("kind", "train")
            for key, value in record.items():
                if key in ("step", "kind") or isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)) and math.isfinite(value):
                    writer.add_scalar(f"{kind}/{key}", value, step)
        for name in ("samples.png", "rollout.png"):
            if (run / name).exists():
                image = np.asarray(Image.open(run / name).convert("RGB"))
                writer.add_image(name.removesuffix(".png"), image, last_step, dataformats="HWC")
    finally:
        writer.close()
    return logdir
