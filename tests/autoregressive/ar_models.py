"""Tiny configurations of every autoregressive model, shared by the family's tests."""

from __future__ import annotations

import torch

import perceptzoo

# name -> small config for a (1, 3, 4) binary input (12 dims: enumerable)
TINY = {
    "tabular": {},
    "fvsbn": {},
    "nade": {"hidden_size": 16},
    "made": {"hidden_sizes": (24,)},
    "pixelcnn": {"hidden_channels": 8, "num_blocks": 2},
    "gated_pixelcnn": {"hidden_channels": 8, "num_layers": 2, "num_classes": None},
    "pixelrnn": {"hidden_channels": 8, "num_layers": 1},
    "transformer": {"embed_dim": 16, "num_heads": 2, "num_layers": 2},
    "wavenet": {"dilations": (1, 2, 4), "residual_channels": 8, "skip_channels": 8,
                "num_classes": None},
}
IMAGE_MODELS = ("pixelcnn", "gated_pixelcnn", "pixelrnn", "transformer")


def build_tiny(name: str, data_shape=(1, 3, 4), num_levels: int = 2, seed: int = 0, **extra):
    """A tiny float64 model with perturbed weights: no conditional trivially flat."""
    torch.manual_seed(seed)
    cfg = dict(TINY[name])
    if name == "wavenet":
        data_shape = (1, 1, int(torch.tensor(data_shape).prod()))
    cfg.update(extra)
    model = perceptzoo.build(name, data_shape=data_shape, num_levels=num_levels, **cfg)
    model = model.double()
    with torch.no_grad():
        if name == "tabular":
            model.counts.copy_(torch.rand_like(model.counts) * 5)
        elif name in ("fvsbn", "nade"):  # zero-initialised biases/weights: perturb everything
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.5)
        else:  # biases start at zero in many layers: perturb those
            for n, p in model.named_parameters():
                if n.endswith("bias"):
                    p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


def conditionals(model, x: torch.Tensor) -> torch.Tensor:
    """(B, D, P) per-dimension parameters: every family member has `conditionals`."""
    return model.conditionals(x)
