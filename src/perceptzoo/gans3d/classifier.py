"""A small 3D convolutional classifier of the shape catalogue (primitive kind: sphere, box,
torus, capsule) whose penultimate features score voxel generators: a Fréchet distance between
generated and held-out volumes in its 64-d feature space (computed with the project's one
`metrics.frechet.frechet_distance`), the 3D analogue of FID (Heusel et al. 2017).

It is trained by `benchmarks/gans3d_study.py` on voxels16 (train split, random flips and axis
permutations as augmentation; a primitive's kind does not change under them) and its weights
ship as `gans3d/weights/voxel_classifier16.safetensors` (about 650 KB; test accuracy 0.95
on the 64 test shapes).

Its 2-D sibling for the 3D-aware image generators (GRAF, GIRAFFE, HoloGAN, EG3D), the view
classifier of 16 x 16 silhouettes, is `gans3d.view_classifier`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError

WEIGHTS = Path(__file__).parent / "weights" / "voxel_classifier16.safetensors"


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
