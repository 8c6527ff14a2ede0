"""Step time of the Trainer's speed options against the plain fp32 run, in one process, on CPU
(one thread): bf16 autocast, torch.compile of the loss forward, channels-last (conv models),
for the U-Net (ddpm), PixelCNN, Glow and MADE at their registered default configs and datasets.

Each option: a fresh Trainer on the same model weights, 3 warm-up steps (compile's compilation
happens there and is reported apart), then STEPS timed steps; the ratio is plain / option
(> 1: the option is faster). The machine is shared: its load average is recorded beside each
model, and the plain run is timed again at the end of each model to show the drift.

    nohup .venv/bin/python benchmarks/speed_options.py > /tmp/speed_options.log 2>&1 &
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import data_dir, write_result

from perceptzoo import data
from perceptzoo.core import registry
from perceptzoo.core.runs import RunDir
from perceptzoo.core.trainer import TrainConfig, Trainer

MODELS = ["ddpm", "pixelcnn", "glow", "made"]
CONV = {"ddpm", "pixelcnn", "glow"}
STEPS, WARMUP, BATCH = 12, 3, 32


def build(name: str, dataset: str | None = None):
    """(model, train split, dataset name) at the registered defaults."""
    spec = registry.get_spec(name)
    dataset = dataset or spec.default_dataset
    cfg = registry.make_config(name, data.info(dataset))
    return registry.build_from_config(name, cfg), data.load(dataset, "train"), dataset


def make_trainer(model, train_set, folder: Path, **options) -> Trainer:
    cfg = TrainConfig(steps=10_000, batch_size=BATCH, progress=False, device="cpu",
                      tensorboard=False, num_samples=0, **options)
    trainer = Trainer(model, train_set, None, cfg, RunDir(folder))
    if hasattr(model, "initialize"):
        model.initialize(trainer.batch_at(0))
    return trainer


def time_steps(trainer: Trainer, steps: int = STEPS, warmup: int = WARMUP) -> dict:
    start = time.perf_counter()
    for i in range(warmup):
        trainer.train_one_step(trainer.batch_at(i))
    warm = time.perf_counter() - start
    times = []
    for i in range(warmup, warmup + steps):
        batch = trainer.batch_at(i)
        t0 = time.perf_counter()
        trainer.train_one_step(batch)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_step_s": times[len(times) // 2], "min_step_s": times[0],
            "warmup_s": round(warm, 2)}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    models = sys.argv[1:] or MODELS
    start = time.time()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            model0, train_set, dataset = build(name)
            options = {"plain": {}, "bf16": {"precision": "bf16"}}
            if name in CONV:
                options["channels_last"] = {"channels_last": True}
            options["compile"] = {"compile": True}
            row = {"dataset": dataset, "load_average_1min": os.getloadavg()[0]}
            for label, opts in options.items():
                torch.manual_seed(0)
                model = copy.deepcopy(model0)
                try:
                    trainer = make_trainer(model, train_set, Path(tmp) / f"{name}-{label}", **opts)
                    row[label] = time_steps(trainer)
                    if label == "compile":
                        failed = getattr(trainer.loss_module, "failed", None)
                        row[label]["compiled"] = failed is None
                        if failed:
                            row[label]["fallback_reason"] = failed
                except Exception as exc:  # noqa: BLE001 - record, go on to the next option
                    row[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                print(name, label, row[label], flush=True)
            model = copy.deepcopy(model0)
            row["plain_again"] = time_steps(make_trainer(model, train_set, Path(tmp) / "again"))
            plain = row["plain"]["median_step_s"]
            row["ratio_plain_over_option"] = {
                k: round(plain / v["median_step_s"], 3) for k, v in row.items()
                if isinstance(v, dict) and "median_step_s" in v and k not in ("plain",)}
            print(name, row["ratio_plain_over_option"], flush=True)
            rows[name] = row
    write_result(
        "trainer", "cpu", "speed-options",
        config={"models": models, "batch_size": BATCH, "timed_steps": STEPS,
                "warmup_steps": WARMUP, "threads": 1, "torch": torch.__version__},
        metrics={"models": rows},
        published={"source": "none: a measurement of this code on this machine"},
        wall_time_s=time.time() - start,
        notes="Ratios are plain median step time / option median step time (> 1: faster), "
              "one thread, on a shared 2-core machine under heavy load (load averages in the "
              "rows); plain_again re-times plain at the end of each model to show the drift.")


if __name__ == "__main__":
    main()
