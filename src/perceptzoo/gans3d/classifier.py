"""A small 3D convolutional classifier of the shape catalogue (primitive kind: sphere, box,
torus, capsule) whose penultimate features score voxel generators: a Fréchet distance between
generated and held-out volumes in its 64-d feature space (computed with the project's one
`metrics.frechet.frechet_distance`), the 3D analogue of FID (Heusel et al. 2017).

It is trained by `benchmarks/gans3d_study.py` on voxels16 (train split, random flips and axis
permutations as augmentation; a primitive's kind does not change under them) and its weights
ship as `gans3d/weights/voxel_classifier16.safetensors` (about 650 KB; test accuracy 0.95
on the 64 test shapes).

`ViewClassifier` is its 2-D sibling for the 3D-aware image generators (GRAF, EG3D, HoloGAN):
the same four kinds from one 16 x 16 silhouette, trained on exact silhouettes of the train
shapes at several random poses (`view_sets`); a Fréchet distance between rendered and held-out
silhouettes in its 64-d features is the FD of renders (weights
`gans3d/weights/view_classifier16.safetensors`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError

WEIGHTS = Path(__file__).parent / "weights" / "voxel_classifier16.safetensors"
VIEW_WEIGHTS = Path(__file__).parent / "weights" / "view_classifier16.safetensors"


class VoxelClassifier(nn.Module):
    """(B, 1, 16, 16, 16) in [0, 1] -> logits (B, 4); `features` gives (B, 64)."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2),     # (B, 16, 8, 8, 8)
            nn.Conv3d(16, 32, 4, 2, 1), nn.LeakyReLU(0.2),    # (B, 32, 4, 4, 4)
            nn.Flatten(1), nn.Linear(32 * 64, 64), nn.ReLU())  # (B, 64)
        self.head = nn.Linear(64, num_classes)

    def features(self, volumes: torch.Tensor) -> torch.Tensor:
        if volumes.shape[1:] != (1, 16, 16, 16):
            raise UserError(f"the voxel classifier takes (B, 1, 16, 16, 16) volumes, got "
                            f"{tuple(volumes.shape)}")
        return self.body(volumes.float())

    def forward(self, volumes: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(volumes))


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random flip of each axis and a random permutation of the axes (one per batch)."""
    dims = [d + 2 for d in torch.randperm(3, generator=generator).tolist()]
    x = x.permute(0, 1, *dims)
    flips = [d + 2 for d in range(3) if torch.rand(1, generator=generator) < 0.5]
    return x.flip(flips) if flips else x


def train(x: torch.Tensor, y: torch.Tensor, steps: int = 600, seed: int = 0) -> VoxelClassifier:
    """Fit a classifier on volumes x (N, 1, 16, 16, 16) with kinds y (N,)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = VoxelClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(len(x), (64,), generator=g)
        loss = F.cross_entropy(model(augment(x[idx].float(), g)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


class ViewClassifier(nn.Module):
    """(B, 1, 16, 16) silhouettes in [0, 1] -> logits (B, 4); `features` gives (B, 64)."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1), nn.LeakyReLU(0.2), nn.MaxPool2d(2),    # (B, 32, 8, 8)
            nn.Conv2d(32, 64, 3, 1, 1), nn.LeakyReLU(0.2), nn.MaxPool2d(2),   # (B, 64, 4, 4)
            nn.Flatten(1), nn.Linear(64 * 16, 64), nn.ReLU())                  # (B, 64)
        self.head = nn.Linear(64, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1:] != (1, 16, 16):
            raise UserError(f"the view classifier takes (B, 1, 16, 16) silhouettes, got "
                            f"{tuple(images.shape)}")
        return self.body(images.float())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def view_sets(split: str, views_per_shape: int, seed: int, n: int = 16
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact silhouettes (S * K, 1, n, n) uint8 of the split's S shapes, K random poses each
    from the data's pose prior, and their kinds (S * K,)."""
    from perceptzoo.data import voxels
    from perceptzoo.data.shapes import PRIMITIVES

    prims = voxels._primitives(split)  # the split's shapes (the datasets' own source)
    poses = voxels.random_poses(len(prims) * views_per_shape,
                                torch.Generator().manual_seed(seed))
    x = torch.stack([voxels.silhouette(prims[i // views_per_shape], r, n)
                     for i, r in enumerate(poses)])[:, None]
    y = torch.tensor([PRIMITIVES.index(prims[i // views_per_shape].kind)
                      for i in range(len(poses))])
    return x, y


def train_views(x: torch.Tensor, y: torch.Tensor, steps: int = 800, seed: int = 0
                ) -> ViewClassifier:
    """Fit a view classifier on silhouettes x (N, 1, 16, 16) with kinds y (N,); random flips
    and transposes as augmentation (a kind does not change under them)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = ViewClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(len(x), (64,), generator=g)
        xb = x[idx].float()
        if torch.rand(1, generator=g) < 0.5:
            xb = xb.transpose(2, 3)
        flips = [d for d in (2, 3) if torch.rand(1, generator=g) < 0.5]
        xb = xb.flip(flips) if flips else xb
        loss = F.cross_entropy(model(xb), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def load_views(path: Path = VIEW_WEIGHTS) -> ViewClassifier:
    from safetensors.torch import load_file

    if not Path(path).exists():
        raise UserError(f"no view classifier weights at {path}; train them with "
                        "`python benchmarks/gans3d_view_classifier.py`")
    model = ViewClassifier()
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def save(model: nn.Module, path: Path = WEIGHTS) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def load(path: Path = WEIGHTS) -> VoxelClassifier:
    from safetensors.torch import load_file

    if not Path(path).exists():
        raise UserError(f"no voxel classifier weights at {path}; run "
                        "benchmarks/gans3d_study.py to train them")
    model = VoxelClassifier()
    model.load_state_dict(load_file(str(path)))
    return model.eval()
