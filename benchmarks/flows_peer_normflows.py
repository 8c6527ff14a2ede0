"""Peer comparison in one run: our realnvp2d / glow against same-size models in `normflows`.

`--which realnvp2d` (2D toy):

Both models: 8 affine couplings with alternating masks over 2D data, each preceded by
ActNorm, ReLU MLPs with two hidden layers, zero-initialised outputs, a standard normal base.
Ours uses one MLP (2 -> 64 -> 64 -> 4) per coupling for shift and log-scale; normflows'
`MaskedAffineFlow` takes separate s and t MLPs, so they get 45 hidden units each (2 x
(2 -> 45 -> 45 -> 2)), which matches the parameter count (printed in the result).

Measured (one thread, same process, the two trainings interleaved step by step so that load
from other processes falls on both alike):
- time per training step (forward, backward, Adam step; batch 256): median of each, ratio
  ours / normflows (goal <= 1.0);
- test NLL (nats) on toy2d:8gaussians after equal wall time: each model trains until its own
  cumulative step time reaches the budget; the true test NLL is the reference.

`--which glow` (digits 8x8, 17 levels, uniformly dequantized the same way for both): our
`glow` (L=2, K=4, hidden 32, sigmoid coupling scale, PLU 1x1 conv, factored-out latents with a
learned diagonal Gaussian, no conditional split prior) against normflows' `MultiscaleFlow`
of `GlowBlock`s with the same L, K, hidden channels, scale map and LU convolution and a
learned diagonal Gaussian per level. Same timing protocol; the figure after equal wall time is
the test dequantized bits/dim.

    pip install normflows        # the `bench` extra
    python benchmarks/flows_peer_normflows.py [--which realnvp2d|glow] [--budget-s 120]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from common import Timer, write_result

import perceptzoo
from perceptzoo.data import toy2d


def normflows_realnvp(num_layers: int = 8, hidden: int = 45):
    import normflows as nf

    flows = []
    for i in range(num_layers):
        b = torch.tensor([1.0, 0.0] if i % 2 == 0 else [0.0, 1.0])
        s = nf.nets.MLP([2, hidden, hidden, 2], init_zeros=True)
        t = nf.nets.MLP([2, hidden, hidden, 2], init_zeros=True)
        flows += [nf.flows.ActNorm(2), nf.flows.MaskedAffineFlow(b, t, s)]
    # normflows applies flows in the sampling direction; log_prob runs them inverted
    return nf.NormalizingFlow(nf.distributions.DiagGaussian(2, trainable=False), flows)


def normflows_glow(levels: int = 2, steps: int = 4, hidden: int = 32, shape=(1, 8, 8)):
    """normflows' Glow recipe (its glow example) for `shape`, without class conditioning."""
    import normflows as nf

    c, h, w = shape
    q0, merges, flows = [], [], []
    for i in range(levels):
        block = [nf.flows.GlowBlock(c * 2 ** (levels + 1 - i), hidden, split_mode="channel",
                                    scale=True, scale_map="sigmoid", use_lu=True)
                 for _ in range(steps)]
        flows.append(block + [nf.flows.Squeeze()])
        if i > 0:
            merges.append(nf.flows.Merge())
            latent = (c * 2 ** (levels - i), h // 2 ** (levels - i), w // 2 ** (levels - i))
        else:
            latent = (c * 2 ** (levels + 1), h // 2**levels, w // 2**levels)
        q0.append(nf.distributions.DiagGaussian(latent))
    return nf.MultiscaleFlow(q0, flows, merges, class_cond=False)


def count(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def interleaved(step_ours, step_theirs, batches, budget_s: float):
    """Alternate single steps of the two trainings (the first mover alternates) until each has
    spent `budget_s` seconds in its own steps. Returns (step times, steps) per library."""
    spent = {"ours": 0.0, "normflows": 0.0}
    times = {"ours": [], "normflows": []}
    i = 0
    while min(spent.values()) < budget_s:
        x = batches()
        order = [("ours", step_ours), ("normflows", step_theirs)]
        if i % 2:
            order.reverse()
        for name, fn in order:
            if spent[name] >= budget_s:
                continue
            start = time.perf_counter()
            fn(x)
            dt = time.perf_counter() - start
            spent[name] += dt
            times[name].append(dt)
        i += 1
    return times


def adam_step(opt, loss) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def compare_glow(args) -> None:
    import normflows

    from perceptzoo import data

    train = data.load("digits", "train").x
    test = data.load("digits", "test").x
    levels = 17
    num_dims = 64
    torch.manual_seed(0)
    ours = perceptzoo.build("glow", hidden=32, num_steps=4, num_scales=2, learned_prior=False,
                            base="diagonal", scale_map="sigmoid")
    theirs = normflows_glow()

    def dequantize(x, g=None):
        u = torch.rand(x.shape, generator=g)
        return (x.float() + u) / levels  # y in [0, 1)

    def log_prob_theirs(y):  # the same centring as ours, then the same D log L accounting
        return theirs.log_prob(y - 0.5, None) - num_dims * math.log(levels)

    ours.initialize((train[:256], None))
    with torch.no_grad():
        log_prob_theirs(dequantize(train[:256]))  # normflows' ActNorm initialises here
    opt_ours = torch.optim.Adam(ours.parameters(), lr=1e-3)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)

    def batches():
        x = train[torch.randint(len(train), (args.batch_size,), generator=g)]
        return x

    with Timer() as wall:
        times = interleaved(
            lambda x: adam_step(opt_ours, -ours.log_prob(x).mean()),
            lambda x: adam_step(opt_theirs, -log_prob_theirs(dequantize(x)).mean()),
            batches, args.budget_s)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        ge = torch.Generator().manual_seed(1)
        y = dequantize(test, ge)
        bpd = lambda lp: float(-lp.mean() / (num_dims * math.log(2)))  # noqa: E731
        ours_bpd = bpd(ours.continuous_log_prob(y) - num_dims * math.log(levels))
        theirs_bpd = bpd(log_prob_theirs(y))
    t_ours, t_theirs = (statistics.median(times[k][10:]) for k in ("ours", "normflows"))
    metrics = {
        "step_time_ms": round(1000 * t_ours, 3),
        "normflows_step_time_ms": round(1000 * t_theirs, 3),
        "step_time_ratio": round(t_ours / t_theirs, 3),
        "test_bits_per_dim": round(ours_bpd, 4),
        "normflows_test_bits_per_dim": round(theirs_bpd, 4),
        "steps": len(times["ours"]), "normflows_steps": len(times["normflows"]),
        "parameters": count(ours), "normflows_parameters": count(theirs),
    }
    print(metrics, flush=True)
    write_result(
        "glow", "digits", "vs-normflows",
        config={"ours": {"hidden": 32, "num_steps": 4, "num_scales": 2, "lu": True,
                         "scale_map": "sigmoid", "learned_prior": False, "base": "diagonal"},
                "normflows": {"version": normflows.__version__, "levels": 2, "steps": 4,
                              "hidden": 32, "scale_map": "sigmoid", "use_lu": True},
                "batch_size": args.batch_size, "lr": 1e-3, "budget_s_each": args.budget_s},
        metrics=metrics,
        published={"note": "peer library measured in the same run; no published figure"},
        wall_time_s=wall.seconds,
        notes="step_time_ratio = ours / normflows (median step time, interleaved steps); "
              "test dequantized bits/dim (same noise for both) after equal wall time",
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--which", choices=["realnvp2d", "glow"], default="realnvp2d")
    p.add_argument("--budget-s", type=float, default=120.0)
    p.add_argument("--batch-size", type=int, default=256)
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.which == "glow":
        compare_glow(args)
    else:
        compare_realnvp2d(args)


def compare_realnvp2d(args) -> None:
    import normflows

    toy = "8gaussians"
    train = toy2d.load(toy, "train").x
    test = toy2d.load(toy, "test").x
    torch.manual_seed(0)
    ours = perceptzoo.build("realnvp2d", num_layers=8, hidden=64, base="normal")
    theirs = normflows_realnvp()
    ours.initialize((train[:512], None))
    with torch.no_grad():  # normflows' ActNorm initialises itself on its first batch
        theirs.log_prob(train[:512])
    opt_ours = torch.optim.Adam(ours.parameters(), lr=2e-3)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=2e-3)

    def step_ours(x):
        loss = -ours.log_prob(x).mean()
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()

    def step_theirs(x):
        loss = theirs.forward_kld(x)
        opt_theirs.zero_grad(set_to_none=True)
        loss.backward()
        opt_theirs.step()

    spent = {"ours": 0.0, "normflows": 0.0}
    times = {"ours": [], "normflows": []}
    steps = {"ours": 0, "normflows": 0}
    g = torch.Generator().manual_seed(0)
    with Timer() as wall:
        i = 0
        while min(spent.values()) < args.budget_s:
            x = train[torch.randint(len(train), (args.batch_size,), generator=g)]
            order = [("ours", step_ours), ("normflows", step_theirs)]
            if i % 2:
                order.reverse()
            for name, fn in order:
                if spent[name] >= args.budget_s:
                    continue
                start = time.perf_counter()
                fn(x)
                dt = time.perf_counter() - start
                spent[name] += dt
                times[name].append(dt)
                steps[name] += 1
            i += 1
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        nll_ours = float(-ours.log_prob(test).mean())
        nll_theirs = float(-theirs.log_prob(test).mean())
    true_nll = float(-toy2d.log_prob(toy, test).mean())
    t_ours = statistics.median(times["ours"][10:])
    t_theirs = statistics.median(times["normflows"][10:])
    metrics = {
        "step_time_ms": round(1000 * t_ours, 3),
        "normflows_step_time_ms": round(1000 * t_theirs, 3),
        "step_time_ratio": round(t_ours / t_theirs, 3),
        "test_nll_nats": round(nll_ours, 4),
        "normflows_test_nll_nats": round(nll_theirs, 4),
        "test_true_nll_nats": round(true_nll, 4),
        "test_nll_gap_nats": round(nll_ours - true_nll, 4),
        "normflows_test_nll_gap_nats": round(nll_theirs - true_nll, 4),
        "steps": steps["ours"], "normflows_steps": steps["normflows"],
        "parameters": count(ours), "normflows_parameters": count(theirs),
    }
    print(metrics, flush=True)
    write_result(
        "realnvp2d", f"toy2d:{toy}", "vs-normflows",
        config={"ours": {"num_layers": 8, "hidden": 64, "actnorm": True},
                "normflows": {"version": normflows.__version__, "layers": 8, "hidden": 45,
                              "separate_s_t_nets": True},
                "batch_size": args.batch_size, "lr": 2e-3,
                "budget_s_each": args.budget_s},
        metrics=metrics,
        published={"note": "peer library measured in the same run; no published figure"},
        wall_time_s=wall.seconds,
        notes="step_time_ratio = ours / normflows (median step time, interleaved steps); "
              "test NLL after equal wall time (budget_s_each of step time each)",
    )


if __name__ == "__main__":
    main()
