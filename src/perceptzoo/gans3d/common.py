"""What the 3D generators share: the adversarial losses, one network's update with the other
frozen, and the 3D convolutional generator of Wu et al. (2016).

Losses (Goodfellow et al. 2014, D(x) = sigmoid(l(x))): the discriminator minimises
softplus(-l(x)) + softplus(l(G(z))), the generator the non-saturating softplus(-l(G(z))).
These few lines are written here, not imported from `perceptzoo.gans` (families are
independent; the import contract in pyproject.toml forbids it).
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.data.voxels import check_resolution


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(x) - E log(1 - D(G(z))) from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating: -E log D(G(z))."""
    return F.softplus(-fake_logits).mean()


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Inside the block `module`'s parameters take no gradient."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def finite(metrics: dict, where: str) -> dict[str, float]:
    out = {k: float(v) for k, v in metrics.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"{where}: {bad} not finite; lower the learning rate (train.lr)")
    return out


def voxel_generator(latent_dim: int, channels: int, resolution: int) -> nn.Module:
    """z (B, Q) -> occupancy (B, 1, N, N, N) in (0, 1): Wu et al. (2016) sec. 3.1.

    A 4^3 transposed convolution projects z to a 4^3 volume; stride-2 transposed convolutions
    (kernel 4) double the side up to N (a power of two, >= 8); batch norm and ReLU between,
    a sigmoid at the output. Channels halve at each doubling from channels * 2^(levels-1).
    """
    check_resolution(resolution, "the voxel generator")
    levels = int(math.log2(resolution)) - 2  # 4 -> N doublings
    if levels < 1:
        raise ValueError("resolution >= 8")
    widths = [channels * 2 ** (levels - 1 - i) for i in range(levels)]
    layers: list[nn.Module] = [nn.Unflatten(1, (latent_dim, 1, 1, 1)),
                               nn.ConvTranspose3d(latent_dim, widths[0], 4, 1, 0, bias=False),
                               nn.BatchNorm3d(widths[0]), nn.ReLU(True)]  # (B, w0, 4, 4, 4)
    for i in range(levels - 1):
        layers += [nn.ConvTranspose3d(widths[i], widths[i + 1], 4, 2, 1, bias=False),
                   nn.BatchNorm3d(widths[i + 1]), nn.ReLU(True)]
    layers += [nn.ConvTranspose3d(widths[-1], 1, 4, 2, 1), nn.Sigmoid()]  # (B, 1, N, N, N)
    return nn.Sequential(*layers)


def conv_discriminator(dims: int, resolution: int, channels: int) -> nn.Module:
    """(B, 1, N, ...) in [0, 1] (dims = 2 images or 3 volumes) -> logit (B,): stride-2
    convolutions (kernel 4) halve the side down to 4, LeakyReLU(0.2), batch norm after the
    first layer; a last convolution covers the 4^dims map (Wu et al. 2016's mirrored D)."""
    check_resolution(resolution, "the discriminator")
    conv = nn.Conv3d if dims == 3 else nn.Conv2d
    norm = nn.BatchNorm3d if dims == 3 else nn.BatchNorm2d
    levels = int(math.log2(resolution)) - 2
    layers: list[nn.Module] = []
    c_in = 1
    for i in range(levels):
        c_out = channels * 2**i
        layers.append(conv(c_in, c_out, 4, 2, 1, bias=i == 0))
        if i > 0:
            layers.append(norm(c_out))
        layers.append(nn.LeakyReLU(0.2, True))
        c_in = c_out
    layers += [conv(c_in, 1, 4, 1, 0), nn.Flatten(0)]
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02) (Radford et al. 2016 sec. 4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
