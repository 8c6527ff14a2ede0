"""Training FLOPs per example and this machine's dense-matmul peak, for throughput figures.

`training_flops_per_example(loss_fn, batch, batch_size)` counts the floating-point operations of
one forward and backward pass of the loss with `torch.utils.flop_counter.FlopCounterMode`
(matmuls, convolutions, attention: the ops that dominate; elementwise ops are not counted, as
in the usual 6 N D estimate of Kaplan et al. 2020, "Scaling Laws for Neural Language Models",
sec. 2.1), divided by the batch size. `matmul_peak_gflops()` measures the machine's achievable
dense float32 matmul rate (2 n^3 FLOPs per n x n product, best of a few repeats), so an
achieved rate reads as a fraction of what this machine can do *now* (it is shared).

    >>> import torch
    >>> lin = torch.nn.Linear(4, 3)
    >>> training_flops_per_example(lambda: lin(torch.ones(2, 4)).sum(), 2)
    48.0
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from perceptzoo.errors import UserError


def training_flops_per_example(step_fn: Callable[[], object], batch_size: int) -> float:
    """FLOPs of `step_fn()` per example of a `batch_size` batch; if it returns a loss tensor
    that needs a gradient, its backward is counted too (a whole training step, such as
    `Trainer.train_one_step(batch)` or a GAN's own `train_step`, may do its backward inside)."""
    if batch_size <= 0:
        raise UserError(f"batch size must be positive, got {batch_size}")
    with FlopCounterMode(display=False) as counter:
        out = step_fn()
        if isinstance(out, torch.Tensor) and out.requires_grad:
            out.backward()
    return counter.get_total_flops() / batch_size


def matmul_peak_gflops(n: int = 1024, repeats: int = 5, dtype: torch.dtype = torch.float32,
                       device: str | torch.device = "cpu") -> float:
    """Best achieved GFLOP/s of an (n, n) @ (n, n) product over `repeats` timed runs."""
    if n <= 0 or repeats <= 0:
        raise UserError(f"n and repeats must be positive, got n={n}, repeats={repeats}")
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    a @ b  # warm-up
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
