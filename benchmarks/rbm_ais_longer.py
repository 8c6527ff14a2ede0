"""A longer AIS run on a trained RBM whose 14,500-beta estimate did not converge.

    python benchmarks/rbm_ais_longer.py pcd [--runs 50] [--betas 40000]

Re-estimates log Z of benchmarks/work/rbm-binarized_mnist-<variant> with more intermediate
distributions (same base-rate p_A and the paper's proportions of the beta schedule) and scores
the full test split with it; the result sits beside the 14,500-beta figure, it does not replace
it. If sd(r)/r stays above 1/3, this estimate is unconverged too.
"""

from __future__ import annotations

import argparse
import json

import torch
from common import WORK, Timer, data_dir, write_result

from perceptzoo import data
from perceptzoo.core import runner


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("variant", choices=["cd1", "cd25", "pcd"])
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--betas", type=int, default=40000)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    out = WORK / f"rbm-binarized_mnist-{args.variant}"
    model = runner.load(out)
    with Timer() as t:
        ais = model.ais(num_runs=args.runs, num_betas=args.betas,
                        generator=torch.Generator().manual_seed(1))
    test = data.load("binarized_mnist", "test").x
    with torch.no_grad():
        free = torch.cat([model.free_energy(model._flat(test[i : i + 1000]))
                          for i in range(0, len(test), 1000)]).double().mean().item()
    metrics = {"test_nll_nats_ais_longer": free + ais.log_z, "log_z": ais.log_z,
               "log_z_high": ais.log_z_high, "ais_relative_sd": ais.relative_sd,
               "ais_runs": args.runs, "ais_betas": args.betas, "ais_time_s": round(t.seconds, 1)}
    if ais.log_z_low > float("-inf"):
        metrics["log_z_low"] = ais.log_z_low
    path = write_result(
        "rbm", "binarized_mnist", f"{args.variant}-ais{args.betas // 1000}k",
        config={**json.loads((out / "config.json").read_text()), "ais_runs": args.runs,
                "ais_betas": args.betas},
        metrics=metrics, wall_time_s=t.seconds,
        notes="the same trained weights as the variant's main result, a longer AIS only",
    )
    print(path, json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
