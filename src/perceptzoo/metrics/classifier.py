"""The project's own feature network per dataset, for Frechet distance and precision/recall.

A small CNN (two conv blocks, a 128-unit penultimate layer) trained on the dataset's train
split by `benchmarks/train_classifiers.py`; its weights ship in the package as
`metrics/weights/<dataset>.safetensors` (with the test accuracy in the file's metadata), so
scoring needs no network. Features are the 128 penultimate activations.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_model
from torch import nn

from perceptzoo.errors import UserError

WEIGHTS_DIR = Path(__file__).parent / "weights"
FEATURE_DIM = 128


class FeatureClassifier(nn.Module):
    """Input: (B, C, H, W) integer levels 0..num_levels-1 (or floats in that range)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, num_levels: int = 256):
        super().__init__()
        self.num_levels = num_levels
        self.conv1 = nn.Conv2d(in_channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(64 * 16, FEATURE_DIM)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float() / (self.num_levels - 1) - 0.5
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(h, 2) if h.shape[-1] >= 16 else h
        h = F.relu(self.conv2(h))
        h = self.pool(h).flatten(1)
        return F.relu(self.fc(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def weights_path(dataset: str) -> Path:
    return WEIGHTS_DIR / f"{dataset}.safetensors"


def has_classifier(dataset: str) -> bool:
    return weights_path(dataset).exists()


@lru_cache(maxsize=8)
def load_classifier(dataset: str) -> FeatureClassifier:
    """The shipped classifier for `dataset`, in eval mode."""
    path = weights_path(dataset)
    if not path.exists():
        raise UserError(f"no feature classifier ships for {dataset!r}; train one with "
                        "`python benchmarks/train_classifiers.py`")
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    model = FeatureClassifier(int(meta.get("in_channels", 1)), int(meta.get("num_classes", 10)),
                              int(meta.get("num_levels", 256)))
    load_model(model, str(path))
    return model.eval()


@torch.no_grad()
def features(dataset: str, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Penultimate features (N, 128) of images x in the dataset's levels."""
    net = load_classifier(dataset)
    return torch.cat([net.features(x[i : i + batch_size].cpu())
                      for i in range(0, len(x), batch_size)])
