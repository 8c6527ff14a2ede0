"""What the translation models share: data <-> model space, the edge sources, the held-out
sources `sample` translates when it is given none, checks of the input, the update skeleton
(a halved discriminator step, the generator's adversarial term with the discriminators frozen,
one network's optimiser step, Adam per network), and the base config and class of the paired
edges -> digits translators (`EdgesToDigitsConfig`, `EdgesToDigits`: Pix2Pix, BicycleGAN).

Images live in [-1, 1] inside the models (grey levels 0..L-1 outside); edge maps (binary, from
`perceptzoo.data.paired.edge_source`) map {0, 1} -> {-1, 1}.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.data.paired import edge_source
from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import gan_loss


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


# -- the update skeleton every translation model shares ------------------------------------------
def discriminator_step(optimizer: torch.optim.Optimizer,
                       judged: Sequence[tuple[nn.Module, torch.Tensor, torch.Tensor]],
                       mode: str = "lsgan") -> torch.Tensor:
    """One update of the discriminators: each (D, real, fake) adds l(D(real), real) +
    l(D(fake), fake) with the fakes detached; the sum is halved (Isola et al. 2017, sec. 3.3:
    "we divide the objective by 2 while optimizing D"). Returns the loss, detached."""
    loss = 0.5 * sum(gan_loss(d(real), True, mode) + gan_loss(d(fake.detach()), False, mode)
                     for d, real, fake in judged)
    step(optimizer, loss, *dict.fromkeys(d for d, _, _ in judged))
    return loss.detach()


def generator_gan_loss(judged: Sequence[tuple[nn.Module, torch.Tensor]],
                       mode: str = "lsgan") -> torch.Tensor:
    """sum over (D, fake) of l(D(fake), real): the generator's adversarial term (call it inside
    `frozen(<the discriminators>)`, so only the generator's parameters take its gradient)."""
    return sum(gan_loss(d(fake), True, mode) for d, fake in judged)


def adam(cfg, train_cfg, *groups: nn.Module | Sequence[nn.Module]) -> list[torch.optim.Optimizer]:
    """One Adam per group (a module or several), at the train lr, betas (cfg.beta1, cfg.beta2)
    (0.5, 0.999 in all four papers)."""
    out = []
    for g in groups:
        modules = [g] if isinstance(g, nn.Module) else list(g)
        params = [p for m in modules for p in m.parameters()]
        out.append(torch.optim.Adam(params, lr=train_cfg.lr, betas=(cfg.beta1, cfg.beta2)))
    return out


# -- edges -> digits: what Pix2Pix and BicycleGAN share ------------------------------------------
@dataclass
class EdgesToDigitsConfig:
    """The fields of a paired edges -> digits translator (Pix2Pix, BicycleGAN)."""

    data_shape: tuple[int, ...] = (1, 28, 28)
    """per-example shape (C, H, W), H and W divisible by 2^num_down; filled from the dataset"""
    num_levels: int | None = 256
    channels: int = 32
    """U-Net channels of the first encoder layer (doubling per level, at most 8x)"""
    num_down: int = 2
    """U-Net down-samplings (28 -> 14 -> 7)"""
    d_channels: int = 32
    d_layers: int = 2
    """strided layers of the PatchGAN (2 at 28x28: 5x5 patches)"""
    lambda_l1: float = 100.0
    """weight of || B - G(A, .) ||_1"""
    beta1: float = 0.5
    beta2: float = 0.999
    source_dataset: str = "mnist"
    """whose test digits' edge maps `sample` translates when it is given no cond"""


class EdgesToDigits(nn.Module):
    """Base of a paired edges -> digits translator: the batch's digits are the targets B and
    their edge maps the sources A (`perceptzoo.data.paired`); `sources` gives what `sample`
    translates (the edge maps in `cond`, or those of held-out test digits)."""

    who = "translator"

    def __init__(self, cfg: EdgesToDigitsConfig):
        super().__init__()
        if cfg.num_levels is None or cfg.lambda_l1 < 0:
            raise UserError(f"{self.who} needs grey-level images and lambda_l1 >= 0")
        self.cfg = cfg

    def pairs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Digits (B, 1, H, W) in levels -> (edge maps A, digits B), both in [-1, 1]."""
        return (edges_in_model_space(x, self.cfg.num_levels),
                to_model_space(x, self.cfg.num_levels))

    def sources(self, num_samples: int, cond: torch.Tensor | None,
                generator: torch.Generator | None) -> torch.Tensor:
        """Edge maps in [-1, 1] on the model's device: `cond` (B, C, H, W) in {0, 1}, checked,
        or the edges of `num_samples` held-out `source_dataset` test digits."""
        device = next(self.parameters()).device
        if cond is None:
            x = held_out(self.cfg.source_dataset, num_samples, generator).to(device)
            return edges_in_model_space(x, self.cfg.num_levels)
        check_images(cond, tuple(self.cfg.data_shape), f"{self.who}'s cond (edge maps)")
        check_count(num_samples, cond)
        return cond.to(device).float() * 2 - 1

    def check_data(self, info) -> None:
        check_grey_images(info, self.who, tuple(self.cfg.data_shape))
