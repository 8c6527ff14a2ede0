"""What the translation models share: data <-> model space, the edge sources, the held-out
sources `sample` translates when it is given none, checks of the input, and the update helpers
(one network's optimiser step with the others frozen).

Images live in [-1, 1] inside the models (grey levels 0..L-1 outside); edge maps (binary, from
`perceptzoo.data.paired.edge_source`) map {0, 1} -> {-1, 1}.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from perceptzoo.data.paired import edge_source
from perceptzoo.errors import UserError


def to_model_space(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Grey levels 0..L-1 -> floats in [-1, 1]."""
    return x.float() / (num_levels - 1) * 2 - 1


def to_data_space(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """[-1, 1] -> grey levels 0..L-1 (rounded, as floats)."""
    return ((x + 1) / 2 * (num_levels - 1)).round().clamp(0, num_levels - 1)


def edges_in_model_space(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Digits (B, 1, H, W) in levels -> their edge maps in {-1, 1} (the paired source)."""
    return edge_source(x, num_levels).float() * 2 - 1


def check_images(x: torch.Tensor, shape: tuple[int, ...], what: str) -> None:
    """Refuse a batch whose images are not of `shape` (a pair of images of different sizes)."""
    if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        raise UserError(f"{what} must be a batch of images of shape {tuple(shape)} (the size "
                        f"the model translates), got {tuple(x.shape)}; a source and its "
                        "translation are the same size, so resize or crop the input")


def check_count(num_samples: int, cond: torch.Tensor) -> None:
    if num_samples != len(cond):
        raise UserError(f"sample translates each of the {len(cond)} images in cond once; ask "
                        f"for num_samples={len(cond)}, not {num_samples}")


_HELD_OUT: dict[tuple[str, str], torch.Tensor] = {}


def held_out(dataset: str, num_samples: int, generator: torch.Generator | None,
             split: str = "test") -> torch.Tensor:
    """`num_samples` images (data levels) drawn with `generator` from `dataset`'s held-out
    split: what `sample(n)` translates when it is given no source."""
    from perceptzoo import data

    key = (dataset, split)
    if key not in _HELD_OUT:
        _HELD_OUT[key] = data.load(dataset, split).x
    x = _HELD_OUT[key]
    device = generator.device if generator is not None else torch.device("cpu")
    idx = torch.randint(len(x), (num_samples,), generator=generator, device=device).cpu()
    return x[idx]


@contextlib.contextmanager
def frozen(*modules: nn.Module):
    """Inside the block the modules' parameters take no gradient (another network's step)."""
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, *modules: nn.Module) -> None:
    """zero_grad, backward, average the gradients of `modules` over torchrun ranks, step.
    (Other optimisers whose parameters the loss reaches are stepped by the caller after it.)"""
    import torch.distributed as dist

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        for m in modules:
            for p in m.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= dist.get_world_size()
    optimizer.step()


def finite(metrics: dict[str, torch.Tensor | float], where: str) -> dict[str, float]:
    out = {k: float(v) for k, v in metrics.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"{where}: {bad} not finite; lower the learning rate (train.lr)")
    return out


def check_grey_images(info, who: str, shape: tuple[int, ...] | None = None) -> None:
    """A translation model here takes one-channel grey images with levels."""
    if info.num_levels is None or len(info.data_shape) != 3 or info.data_shape[0] != 1:
        raise UserError(f"{who} translates one-channel grey images (mnist, printed_digits), "
                        f"not {info.name} {tuple(info.data_shape)}")
    if shape is not None and tuple(info.data_shape) != tuple(shape):
        raise UserError(f"this {who} was built for images of shape {tuple(shape)}, not "
                        f"{info.name} {tuple(info.data_shape)}; train it on that dataset")
