"""AIS against the exact log Z on an MNIST-trained RBM small enough to enumerate.

    python benchmarks/rbm_ais_vs_exact.py [--hidden 20] [--epochs 2]

Salakhutdinov & Murray (2008, section 4.1) check AIS on RBMs with 20 hidden units, whose log Z
is a sum over 2^20 hidden states. Same here: an RBM with 20 hidden units trained by CD-1 on the
fixed binarized MNIST through the runner, then log Z exact (enumerating the 2^20 hidden
configurations) and by AIS with the protocol of the 500-unit figures (100 runs, 14,500 betas,
base-rate p_A), and the test NLL under both.
"""

from __future__ import annotations

import argparse
import json

import torch
from common import WORK, Timer, data_dir, logged_train_seconds, write_result

from perceptzoo import data
from perceptzoo.core import runner


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", type=int, default=20)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    out = WORK / f"rbm-binarized_mnist-h{args.hidden}"
    if not (out / "model.safetensors").exists():
        runner.train("rbm", dataset="binarized_mnist", out=out,
                     train_config={"epochs": args.epochs, "batch_size": 100, "lr": 0.05,
                                   "schedule": "linear", "grad_clip": None, "seed": 0,
                                   "progress": False, "eval_every": 10**9,
                                   "eval_examples": 500, "num_samples": 0},
                     model_overrides={"num_hidden": args.hidden, "cd_k": 1})
    model = runner.load(out)
    with Timer() as t_exact:
        exact = model.log_partition_exact()
    with Timer() as t_ais:
        ais = model.ais(num_runs=100, num_betas=14500,
                        generator=torch.Generator().manual_seed(0))
    test = data.load("binarized_mnist", "test").x
    with torch.no_grad():
        free = torch.cat([model.free_energy(model._flat(test[i : i + 1000]))
                          for i in range(0, len(test), 1000)]).double().mean().item()
    metrics = {
        "log_z_exact": exact, "log_z_ais": ais.log_z, "log_z_ais_low": ais.log_z_low,
        "log_z_ais_high": ais.log_z_high, "ais_error_nats": ais.log_z - exact,
        "ais_relative_sd": ais.relative_sd,
        "test_nll_nats": free + exact, "test_nll_nats_ais": free + ais.log_z,
        "exact_time_s": round(t_exact.seconds, 1), "ais_time_s": round(t_ais.seconds, 1),
    }
    train_seconds = logged_train_seconds(out)
    path = write_result(
        "rbm", "binarized_mnist", f"h{args.hidden}-ais-vs-exact",
        config=json.loads((out / "config.json").read_text()), metrics=metrics,
        published={"source": "Salakhutdinov & Murray 2008, section 4.1: AIS on 20-hidden-unit "
                              "RBMs agrees with the exact log Z (their models, not ours)"},
        wall_time_s=train_seconds + t_exact.seconds + t_ais.seconds,
        notes="exact log Z enumerates the 2^H hidden states; AIS: 100 runs, 14,500 betas",
    )
    print(path, json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
