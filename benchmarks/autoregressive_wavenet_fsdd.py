"""WaveNet on real speech (FSDD, 8 kHz, mu-law 256): test bits per sample, and WAV samples.

    python benchmarks/autoregressive_wavenet_fsdd.py --steps 1200

Trains a WaveNet of two stacks of dilations 1..128 (kernel 2, receptive field 511 samples =
64 ms; 32 residual, 64 skip channels; globally conditioned on the spoken digit) with the
Trainer on windows of 1024 samples (train: recordings 10-49), resuming the run in
benchmarks/work/ if one is there, then scores the test windows (recordings 0-4 of every
speaker and digit):

- test_bits_per_sample: -log2 p(x | digit) per sample, with the true digit;
- test_bits_per_sample_marginal: -log2 mean_y p(x | y), the label-free density (on every 4th
  test window: it costs one pass per digit);
- reference: the entropy of the codes' marginal histogram on the train split (the best a model
  without context can do), and 8 bits (uniform codes).

No paper reports bits/sample on FSDD, so there is no published figure to compare with.
Writes benchmarks/results/wavenet-fsdd.json and, per digit 0-3, one second of generated audio
(cached sampling) as WAV in the run folder and in benchmarks/figures/.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from common import WORK, Timer, data_dir, write_result

import perceptzoo
from perceptzoo import data
from perceptzoo.core.config import to_dict
from perceptzoo.core.runs import RunDir
from perceptzoo.core.trainer import TrainConfig, resume, train
from perceptzoo.data.fsdd import SAMPLE_RATE, mu_law_decode, write_wav


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--wav-seconds", type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir()
    out = WORK / "wavenet-fsdd"
    model_cfg = {"dilations": [2**i for i in range(8)] * 2, "residual_channels": 32,
                 "skip_channels": 64}
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=1e-3, eval_every=400,
                      eval_examples=50, checkpoint_every=200, num_samples=8, progress=False,
                      log_every=50)
    with Timer() as t:
        if (out / "config.json").exists():
            resume(out)
        else:
            train("wavenet", dataset="fsdd", out=out, train_config=cfg,
                  model_overrides=model_cfg)
    train_s = t.seconds
    model = perceptzoo.load(out)
    test = data.load("fsdd", "test")
    start = time.time()
    with torch.no_grad():
        cond, marg = [], []
        for i in range(0, len(test), 100):
            x, y = test.x[i : i + 100], test.y[i : i + 100]
            cond.append(-model.log_prob(x, y))
        sub = test.x[::4]  # the marginal costs 10 passes: every 4th test window
        for i in range(0, len(sub), 100):
            marg.append(-model.log_prob(sub[i : i + 100]))
    T = test.info.data_shape[-1]
    bits = float(torch.cat(cond).mean()) / (T * math.log(2))
    bits_marginal = float(torch.cat(marg).mean()) / (T * math.log(2))
    train_codes = data.load("fsdd", "train").x.flatten().long()
    hist = torch.bincount(train_codes, minlength=256).double()
    q = hist / hist.sum()
    unigram = float(-(q[q > 0] * q[q > 0].log2()).sum())
    eval_s = time.time() - start

    start = time.time()
    g = torch.Generator().manual_seed(0)
    length = int(args.wav_seconds * SAMPLE_RATE)
    digits = torch.arange(4)
    with torch.no_grad():
        codes = model.sample(len(digits), cond=digits, generator=g, length=length)
    sample_s = time.time() - start
    for d, c in zip(digits.tolist(), codes):
        audio = mu_law_decode(c.flatten().long())
        write_wav(audio, out / f"sample_digit{d}.wav")
        write_wav(audio, WORK.parent / "figures" / f"autoregressive_wavenet_fsdd_digit{d}.wav")
    config = RunDir(out).read_config()
    path = write_result(
        "wavenet", "fsdd", None,
        config={"model": config["model_config"], "train": to_dict(cfg)},
        metrics={"test_bits_per_sample": round(bits, 4),
                 "test_bits_per_sample_marginal": round(bits_marginal, 4),
                 "unigram_entropy_bits": round(unigram, 4),
                 "receptive_field_samples": model.receptive_field,
                 "train_time_s": round(train_s, 1), "eval_time_s": round(eval_s, 1),
                 "sampling_time_s_per_second_of_audio": round(sample_s / args.wav_seconds, 1),
                 "epochs": round(args.steps * args.batch_size / len(data.load("fsdd")), 2)},
        published={"test_bits_per_sample": None,
                   "source": "no published bits/sample on FSDD; compare with the unigram "
                             "entropy of the codes (a model without context) and 8 bits"},
        wall_time_s=train_s + eval_s + sample_s,
        notes=f"CPU budget: {args.steps} steps of {args.batch_size} windows of 1024 samples on "
              "one shared core; samples: 1 s per digit 0-3 (WAV in benchmarks/figures).")
    print(path, bits, bits_marginal, unigram)


if __name__ == "__main__":
    main()
