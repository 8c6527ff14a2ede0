"""Step time of the Trainer's speed options against the plain fp32 run, in one process, on CPU
(one thread): bf16 autocast, torch.compile of the loss forward, channels-last (conv models),
for the U-Net (ddpm), PixelCNN, Glow and MADE at their registered default configs and datasets.

Each option: a fresh Trainer on the same model weights, 3 warm-up steps (compile's compilation
happens there and is reported apart), then STEPS timed steps interleaved across the options
(step i of every option back to back, so the shared machine's load drift falls on all alike);
the ratio is plain median / option median (> 1: the option is faster). The load average is
recorded beside each model.

    nohup .venv/bin/python benchmarks/speed_options.py [MODEL ...] [--no-compile] > /tmp/so.log &
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
    times = [0.0]
    for i in range(warmup, warmup + steps):
        batch = trainer.batch_at(i)
        t0 = time.perf_counter()
        trainer.train_one_step(batch)
        times.append(time.perf_counter() - t0)
    times = sorted(times[1:] or times)
    return {"median_step_s": times[len(times) // 2], "min_step_s": times[0],
            "warmup_s": round(warm, 2)}


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    args = sys.argv[1:]
    with_compile = "--no-compile" not in args
    models = [a for a in args if not a.startswith("--")] or MODELS
    start = time.time()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            model0, train_set, dataset = build(name)
            options = {"plain": {}, "bf16": {"precision": "bf16"}}
            if name in CONV:
                options["channels_last"] = {"channels_last": True}
            if with_compile:
                options["compile"] = {"compile": True}
            row = {"dataset": dataset, "load_average_1min": os.getloadavg()[0]}
            trainers = {}
            for label, opts in options.items():
                torch.manual_seed(0)
                model = copy.deepcopy(model0)
                try:
                    trainers[label] = make_trainer(model, train_set,
                                                   Path(tmp) / f"{name}-{label}", **opts)
                    row[label] = time_steps(trainers[label], steps=0)  # warm-up (compiles)
                except Exception as exc:  # noqa: BLE001 - record, go on to the next option
                    row[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            # interleaved: step i of every option back to back, so the machine's load drift
            # (it is shared) falls on all options alike
            times = {label: [] for label in trainers}
            for i in range(WARMUP, WARMUP + STEPS):
                for label, trainer in trainers.items():
                    batch = trainer.batch_at(i)
                    t0 = time.perf_counter()
                    trainer.train_one_step(batch)
                    times[label].append(time.perf_counter() - t0)
            for label, ts in times.items():
                ts.sort()
                row[label].update(median_step_s=ts[len(ts) // 2], min_step_s=ts[0])
                if label == "compile":
                    failed = getattr(trainers[label].loss_module, "failed", None)
                    row[label]["compiled"] = failed is None
                    if failed:
                        row[label]["fallback_reason"] = failed
                print(name, label, row[label], flush=True)
            plain = row["plain"]["median_step_s"]
            row["ratio_plain_over_option"] = {
                k: round(plain / v["median_step_s"], 3) for k, v in row.items()
                if isinstance(v, dict) and "median_step_s" in v and k != "plain"}
            print(name, row["ratio_plain_over_option"], flush=True)
            rows[name] = row
    write_result(
        "trainer", "cpu",
        "speed-options" if set(models) == set(MODELS) else f"speed-options-{'-'.join(models)}",
        config={"models": models, "batch_size": BATCH, "timed_steps": STEPS,
                "warmup_steps": WARMUP, "threads": 1, "torch": torch.__version__,
                "compile": with_compile},
        metrics={"models": rows},
        published={"source": "none: a measurement of this code on this machine"},
        wall_time_s=time.time() - start,
        notes="Ratios are plain median step time / option median step time (> 1: faster), "
              "one thread, on a shared 2-core machine under heavy load (load averages in the "
              "rows); steps of the options are interleaved so load drift falls on all alike.")


if __name__ == "__main__":
    main()
