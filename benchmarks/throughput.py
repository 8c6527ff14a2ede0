"""Throughput against this machine's limit: training FLOPs per example (FlopCounterMode over
one whole Trainer step: forward and backward) and achieved GFLOP/s as a fraction of the
dense float32 matmul peak measured in the same run (one thread), for the U-Net (ddpm),
PixelCNN, Glow, MADE, the VAE and DCGAN at their registered defaults. For the model furthest
under peak, a short torch.profiler look names the top ops by CPU time.

    nohup .venv/bin/python benchmarks/throughput.py > /tmp/throughput.log 2>&1 &
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch
from common import data_dir, write_result
from speed_options import build, make_trainer, time_steps

from perceptzoo.bench.flops import matmul_peak_gflops, training_flops_per_example

MODELS = ["made", "pixelcnn", "glow", "ddpm", "vae", "dcgan"]


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    start = time.time()
    peak_before = matmul_peak_gflops()
    rows, trainers = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            try:
                model, train_set, dataset = build(name)
                trainer = make_trainer(model, train_set, Path(tmp) / name)
                batch = trainer.batch_at(0)
                flops = training_flops_per_example(lambda t=trainer, b=batch: t.train_one_step(b),
                                                   trainer.cfg.batch_size)
                timing = time_steps(trainer, steps=8, warmup=2)
                per_example_s = timing["median_step_s"] / trainer.cfg.batch_size
                gflops = flops / per_example_s / 1e9
                rows[name] = {"dataset": dataset, "training_flops_per_example": flops,
                              "median_step_s": round(timing["median_step_s"], 4),
                              "achieved_gflops": round(gflops, 3),
                              "load_average_1min": os.getloadavg()[0]}
                trainers[name] = (trainer, batch)
            except Exception as exc:  # noqa: BLE001 - record and go on
                rows[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            print(name, rows[name], flush=True)
        peak_after = matmul_peak_gflops()
        peak = max(peak_before, peak_after)
        for row in rows.values():
            if "achieved_gflops" in row:
                row["fraction_of_peak"] = round(row["achieved_gflops"] / peak, 4)
        under = sorted((r["fraction_of_peak"], n) for n, r in rows.items()
                       if "fraction_of_peak" in r)
        profile = {}
        if under:
            name = under[0][1]
            trainer, batch = trainers[name]
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(2):
                    trainer.train_one_step(batch)
            top = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total,
                         reverse=True)[:8]
            total = sum(e.self_cpu_time_total for e in prof.key_averages())
            profile = {"model": name, "top_ops_by_self_cpu": [
                {"op": e.key, "self_cpu_fraction": round(e.self_cpu_time_total / total, 3),
                 "calls": e.count} for e in top]}
            print(profile, flush=True)
    write_result(
        "throughput", "cpu", None,
        config={"models": MODELS, "threads": 1, "matmul_n": 1024, "torch": torch.__version__},
        metrics={"models": rows, "matmul_peak_gflops": round(peak, 2),
                 "matmul_peak_gflops_before": round(peak_before, 2),
                 "matmul_peak_gflops_after": round(peak_after, 2),
                 "under_30_percent_of_peak": [n for f, n in under if f < 0.3],
                 "profile": profile},
        published={"source": "none: a measurement of this code on this machine"},
        wall_time_s=time.time() - start,
        notes="FLOPs counted by torch.utils.flop_counter.FlopCounterMode (matmul, conv, "
              "attention; elementwise ops uncounted) over one Trainer step at batch 32; "
              "peak = best of the 1024^3 float32 matmul before and after, one thread, on a "
              "shared machine under load.")


if __name__ == "__main__":
    main()
