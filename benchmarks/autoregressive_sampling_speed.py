"""Naive vs cached sampling time per example, and a check that both give the same samples.

    python benchmarks/autoregressive_sampling_speed.py --num-samples 4

For each model, at its binarized-MNIST benchmark size (28x28; WaveNet: a 1024-sample window
with the FSDD benchmark's two stacks), draws `num_samples` examples twice from the same seed:

- naive: a full forward pass for every new dimension (PixelCNN, gated PixelCNN: 784 passes
  over the whole image; Transformer: 784 passes over the growing prefix; WaveNet: 1024 passes
  over the growing waveform);
- cached: PixelCNN computes only the new pixel's activations in each layer; the gated
  PixelCNN the vertical stack once per row and the horizontal stack once per pixel; the
  Transformer keeps a KV cache; WaveNet keeps per-layer queues (Fast WaveNet).

Sampling time does not depend on the weights, so freshly initialised models are timed (the
trained ones take exactly as long). One torch thread on a shared CPU: the ratio is the figure
to read, the absolute seconds depend on the load. Results:
benchmarks/results/<model>-<dataset>-sampling.json.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import write_result

import perceptzoo

MODELS = {
    "pixelcnn": ("binarized_mnist", {"hidden_channels": 32, "num_blocks": 6}),
    "gated_pixelcnn": ("binarized_mnist", {"hidden_channels": 32, "num_layers": 5,
                                           "num_classes": None}),
    "transformer": ("binarized_mnist", {"embed_dim": 64, "num_layers": 2, "num_heads": 4}),
    "wavenet": ("fsdd", {"dilations": [2**i for i in range(8)] * 2, "residual_channels": 32,
                         "skip_channels": 64, "num_classes": None}),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="*", default=list(MODELS))
    p.add_argument("--num-samples", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(1)
    n = args.num_samples
    for name in args.models:
        dataset, cfg = MODELS[name]
        torch.manual_seed(0)
        model = perceptzoo.build(name, dataset=dataset, **cfg).eval()
        times, samples = {}, {}
        for mode in ("cached", "naive"):
            g = torch.Generator().manual_seed(0)
            start = time.time()
            samples[mode] = model.sample(n, generator=g, cached=mode == "cached")
            times[mode] = time.time() - start
            print(name, mode, round(times[mode], 2), flush=True)
        same = bool(torch.equal(samples["cached"], samples["naive"]))
        metrics = {"naive_s_per_sample": round(times["naive"] / n, 3),
                   "cached_s_per_sample": round(times["cached"] / n, 3),
                   "speedup": round(times["naive"] / times["cached"], 2),
                   "identical_samples": same}
        path = write_result(
            name, dataset, "sampling", config={"model": cfg, "num_samples": n},
            metrics=metrics, wall_time_s=times["naive"] + times["cached"],
            published={"source": "none (a speed ratio on this machine); Ramachandran et al. "
                                 "2017 (abstract) report up to 21x for WaveNet and 183x for "
                                 "PixelCNN++ with their caching"},
            notes=f"{n} samples per mode, batch {n}, one thread on a shared CPU")
        print(path, metrics, flush=True)


if __name__ == "__main__":
    main()
