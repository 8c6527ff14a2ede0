"""VQ-VAE with a Transformer prior over its 7x7 code grid on MNIST (256 grey levels).

    python benchmarks/vq_vae_mnist.py [--steps 1600] [--prior-start 900]

One run of the registered `vq_vae` through the runner: the autoencoder (32 channels, 2 residual
blocks, K = 64 codes of dimension 16, EMA codebook, dead-code restarts, beta = 0.25) trains for
`--prior-start` steps, then the causal Transformer prior (the autoregressive family's
`transformer`, 2 layers of width 32) trains on the frozen encoder's codes for the remaining
steps; batch 64, AdamW 1e-3, constant learning rate. Sized to ~25 minutes on one shared CPU
thread, about one epoch per stage: far shorter than the paper's training.

Figures on the MNIST test split: reconstruction MSE (pixels in [0, 1]), code perplexity and
usage, the prior's NLL in bits per code, and Frechet distance / precision / recall of 1,000
samples against 1,000 test images in the project classifier's features, with the real-vs-real
floor at the same sizes. `test_nll_nats` from the runner is the prior's NLL of the 49 codes of
an image, not an image likelihood, so it is reported as `prior_nll_nats_per_image` and no
bits/dim is recorded. The run folder under benchmarks/work/ makes training resumable.
No published figure: van den Oord et al. 2017 report no MNIST numbers.
"""

from __future__ import annotations

import argparse
import json

import torch
from common import REPO, WORK, Timer, data_dir, logged_train_seconds, write_result

from perceptzoo import data
from perceptzoo.bench.metrics import real_vs_real
from perceptzoo.core import runner
from perceptzoo.viz.images import save_grid, to_uint8


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1600)
    p.add_argument("--prior-start", type=int, default=900)
    p.add_argument("--num-samples", type=int, default=1000)
    p.add_argument("--figures-only", action="store_true",
                   help="only write the sample and reconstruction grids of the trained run")
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    if args.figures_only:
        write_figures(WORK / "vq_vae-mnist")
        return
    model_cfg = {"hidden_channels": 32, "embed_dim": 16, "codebook_size": 64, "ema": True,
                 "prior": "transformer",
                 "prior_config": {"embed_dim": 32, "num_layers": 2, "num_heads": 2},
                 "prior_start": args.prior_start}
    train_cfg = {"steps": args.steps, "batch_size": 64, "lr": 1e-3, "schedule": "constant",
                 "seed": 0, "progress": False, "eval_every": 10**9, "eval_examples": 500,
                 "checkpoint_every": 100, "num_samples": 64}
    out = WORK / "vq_vae-mnist"
    if (out / "model.safetensors").exists():
        pass
    elif (out / "config.json").exists():
        runner.resume(out)
    else:
        runner.train("vq_vae", dataset="mnist", out=out, train_config=train_cfg,
                     model_overrides=model_cfg)
    train_seconds = logged_train_seconds(out)
    with Timer() as te:
        metrics = runner.evaluate(out, split="test", num_samples=args.num_samples)
        metrics.update(real_vs_real("mnist", args.num_samples, split="test"))
    metrics["prior_nll_nats_per_image"] = metrics.pop("test_nll_nats")
    metrics.pop("test_bits_per_dim", None)  # codes are not pixels: no bits/dim of the image
    metrics["train_time_s"] = round(train_seconds, 1)
    metrics["eval_time_s"] = round(te.seconds, 1)
    config = json.loads((out / "config.json").read_text())
    path = write_result(
        "vq_vae", "mnist", None, config=config, metrics=metrics,
        published={"source": "van den Oord et al. 2017 report no MNIST figures"},
        wall_time_s=train_seconds + te.seconds, task="mnist_sample_quality",
        notes=("test_recon_mse: mean squared error of decode(quantize(encode(x))) with pixels "
               "in [0, 1]; test_prior_nll_bits_per_code: the Transformer prior's NLL of the "
               "encoder's 7x7 codes, in bits per code (log2 64 = 6 would be a uniform prior); "
               "samples: codes from the prior, decoded. Trained ~1 epoch per stage on a shared "
               "CPU."),
    )
    write_figures(out)
    print(path, json.dumps(metrics, indent=1))


def write_figures(out) -> None:
    """benchmarks/figures/vq_vae-mnist-samples.png (100 prior samples) and
    vq_vae-mnist-reconstructions.png (test images, odd rows, above their reconstructions)."""
    model = runner.load(out)
    figures = REPO / "benchmarks" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        samples = model.sample(100, generator=torch.Generator().manual_seed(1))
        x = data.load("mnist", "test").x[:50]
        recon = model.decode(model.lookup(model.codes(x)[:, 0])).clamp(0, 1) * 255
    save_grid(to_uint8(samples, 256), figures / "vq_vae-mnist-samples.png", scale=2, nrow=10)
    pairs = torch.stack([x.float().view(5, 10, 1, 28, 28), recon.round().view(5, 10, 1, 28, 28)],
                        1).reshape(100, 1, 28, 28)
    save_grid(to_uint8(pairs, 256), figures / "vq_vae-mnist-reconstructions.png", scale=2,
              nrow=10)


if __name__ == "__main__":
    main()
