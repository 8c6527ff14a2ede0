"""A small 3D convolutional classifier of the voxel shapes whose penultimate features score
voxel generators: a Fréchet distance between generated and held-out volumes in its 64-d
feature space (computed with the project's one `metrics.frechet.frechet_distance`), the 3D
analogue of FID (Heusel et al. 2017).

One classifier per grid resolution (16^3 and 32^3, so a 32^3 generator is scored at its own
resolution), each telling apart seven classes (`CLASSES`): the catalogue's four primitive
kinds (sphere, box, torus, capsule) and the three training meshes of the "+real" datasets
(armadillo, dragon, cow), so its features have seen real shapes. Training data
(`training_set`): the first 1,024 shapes of the train split's primitive stream
(`data.voxels.primitives`: the 256 train shapes and more of the same stream, never a valid or
test shape) and 128 random placements (rotation and scale, `data.voxels.placed_meshes`) of
each training mesh; the held-out meshes (bunny, spot) are never shown. Random flips and axis
permutations augment it (a class does not change under them). `fit(resolution)` trains it
deterministically (seeded, one thread) and `python -m perceptzoo.gans3d.classifier` writes
the shipped weights `gans3d/weights/voxel_classifier{16,32}.safetensors` (under 1 MB each;
the held-out accuracy is in their metadata, `heldout_accuracy`, on `heldout_set`: 1,000
primitives of the test and valid streams and 96 new placements of the training meshes, all
unseen in training: 16^3 0.964 (primitives 0.961, meshes 1.0; 3,000 steps, 66 CPU-s), 32^3
0.974 (primitives 0.971, meshes 1.0; 1,500 steps, 215 CPU-s), on one shared thread, data
included; a second run of the CLI reproduced the 32^3 weights bit for bit). Most errors are
short capsules taken for boxes and back.

Its 2-D sibling for the 3D-aware image generators (GRAF, GIRAFFE, HoloGAN, EG3D), the view
classifier of 16 x 16 silhouettes, is `gans3d.view_classifier`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.errors import UserError

#: grid sides a voxel classifier ships for
RESOLUTIONS = (16, 32)


def weights_path(resolution: int) -> Path:
    """Where the voxel classifier of `resolution`^3 grids ships."""
    return Path(__file__).parent / "weights" / f"voxel_classifier{resolution}.safetensors"


WEIGHTS = weights_path(16)


def _classes() -> tuple[str, ...]:
    from perceptzoo.data.shapes import PRIMITIVES, REAL_TRAIN

    return (*PRIMITIVES, *REAL_TRAIN)


#: the voxel classifier's classes: the primitive kinds, then the training meshes by name
CLASSES = _classes()
#: training data of the shipped weights (module docstring)
TRAIN_PRIMITIVES, TRAIN_MESH_COPIES, MESH_SEED = 1024, 128, 1_000_003
#: seed of the held-out placements of the training meshes (`heldout_set`)
HELDOUT_MESH_SEED = 1_000_033
#: training of the shipped weights: Adam steps at batch 64, lr 1e-3 halved at 2/3 of them
#: (16^3 at 1,500 steps: held-out primitives 0.928, at 3,000: 0.959; 32^3 at 1,500: 0.965)
STEPS = {16: 3000, 32: 1500}


class VoxelClassifier(nn.Module):
    """(B, 1, N, N, N) in [0, 1] -> logits (B, 7); `features` gives (B, 64). Stride-2 4^3
    convolutions halve the grid down to 4^3 (channels doubling to 32 there), then a linear
    layer to the 64 features."""

    def __init__(self, resolution: int = 16, num_classes: int = len(CLASSES)):
        super().__init__()
        from perceptzoo.data.voxels import check_resolution

        check_resolution(resolution, "the voxel classifier")
        if resolution < 8:
            raise UserError(f"the voxel classifier takes grids of 8^3 or more, got "
                            f"{resolution}^3")
        self.resolution = resolution
        levels = resolution.bit_length() - 3                    # N -> 4 in stride-2 halvings
        widths = [1] + [32 >> (levels - 1 - i) for i in range(levels)]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv3d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers, nn.Flatten(1), nn.Linear(32 * 64, 64), nn.ReLU())
        self.head = nn.Linear(64, num_classes)

    def features(self, volumes: torch.Tensor, batch: int = 250) -> torch.Tensor:
        n = self.resolution
        if volumes.dim() != 5 or volumes.shape[1:] != (1, n, n, n):
            raise UserError(f"this voxel classifier takes (B, 1, {n}, {n}, {n}) volumes, got "
                            f"{tuple(volumes.shape)}; load the one of their resolution "
                            f"(`classifier.load({volumes.shape[-1]})`)")
        return torch.cat([self.body(volumes[i:i + batch].float())
                          for i in range(0, len(volumes), batch)])

    def forward(self, volumes: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(volumes))


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random flip of each axis and a random permutation of the axes (one per batch)."""
    dims = [d + 2 for d in torch.randperm(3, generator=generator).tolist()]
    x = x.permute(0, 1, *dims)
    flips = [d + 2 for d in range(3) if torch.rand(1, generator=generator) < 0.5]
    return x.flip(flips) if flips else x


def labels(shapes) -> torch.Tensor:
    """(S,) class indices (`CLASSES`) of primitives and placed training meshes."""
    from perceptzoo.data.voxels import PlacedMesh

    names = [s.name if isinstance(s, PlacedMesh) else s.kind for s in shapes]
    unknown = sorted({n for n in names if n not in CLASSES})
    if unknown:
        raise UserError(f"the voxel classifier has no class for {', '.join(unknown)} (its "
                        f"classes: {', '.join(CLASSES)})")
    return torch.tensor([CLASSES.index(n) for n in names])


def training_set(resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(volumes (S, 1, N, N, N) uint8, classes (S,)) the shipped classifiers train on (module
    docstring); needs the shared meshes."""
    from perceptzoo.data import voxels
    from perceptzoo.data.shapes import REAL_TRAIN

    shapes = (voxels.primitives("train", TRAIN_PRIMITIVES)
              + voxels.placed_meshes(REAL_TRAIN, TRAIN_MESH_COPIES, MESH_SEED))
    return voxels.voxelize_many(shapes, resolution), labels(shapes)


def heldout_set(resolution: int, num_primitives: int = 1000, mesh_copies: int = 32
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(volumes, classes) of shapes no classifier trained on: the first num_primitives / 2
    shapes of the test and of the valid primitive streams (`data.voxels.primitives`: the
    test and valid splits first) and `mesh_copies` new placements of each training mesh."""
    from perceptzoo.data import voxels
    from perceptzoo.data.shapes import REAL_TRAIN

    half = num_primitives // 2
    shapes = voxels.primitives("test", half) + voxels.primitives("valid", num_primitives - half)
    if mesh_copies:
        shapes += voxels.placed_meshes(REAL_TRAIN, mesh_copies, HELDOUT_MESH_SEED)
    return voxels.voxelize_many(shapes, resolution), labels(shapes)


@torch.no_grad()
def accuracy(model: VoxelClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of volumes x whose argmax class is y."""
    return float((model.head(model.features(x)).argmax(1) == y).float().mean())


def train(x: torch.Tensor, y: torch.Tensor, steps: int = 1500, seed: int = 0,
          num_classes: int = len(CLASSES)) -> VoxelClassifier:
    """Fit a classifier on volumes x (N, 1, R, R, R) with classes y (N,): Adam at batch 64,
    lr 1e-3 halved after 2/3 of the steps, augmented (`augment`); deterministic for a seed on
    one thread."""
    return fit_supervised(lambda: VoxelClassifier(x.shape[-1], num_classes), x, y, augment,
                          steps, seed)


def fit_supervised(make_model: Callable[[], nn.Module], x: torch.Tensor, y: torch.Tensor,
                   augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
                   steps: int, seed: int) -> nn.Module:
    """The training loop of the voxel and view classifiers: the model built after seeding
    torch with `seed`, Adam at batch 64, lr 1e-3 halved after 2/3 of the steps, each batch
    drawn and augmented with one generator seeded with `seed`; deterministic on one thread."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(steps):
        if i == (2 * steps) // 3:
            for group in opt.param_groups:
                group["lr"] = 5e-4
        idx = torch.randint(len(x), (64,), generator=g)
        loss = F.cross_entropy(model(augment(x[idx].float(), g)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def fit(resolution: int, steps: int | None = None, seed: int = 0
        ) -> tuple[VoxelClassifier, dict[str, str]]:
    """The shipped classifier of `resolution`^3 grids, trained from scratch on `training_set`
    (one thread, deterministic), and its metadata: held-out accuracy overall, on primitives
    and on the training meshes' new placements (`heldout_set`), steps, seed, classes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x, y = training_set(resolution)
        steps = STEPS.get(resolution, 3000) if steps is None else steps
        model = train(x, y, steps, seed)
        hx, hy = heldout_set(resolution)
    finally:
        torch.set_num_threads(threads)
    mesh = hy >= 4
    meta = {"resolution": str(resolution), "classes": ",".join(CLASSES), "steps": str(steps),
            "seed": str(seed), "train_shapes": str(len(x)),
            "heldout_accuracy": f"{accuracy(model, hx, hy):.4f}",
            "heldout_accuracy_primitives": f"{accuracy(model, hx[~mesh], hy[~mesh]):.4f}",
            "heldout_accuracy_meshes": f"{accuracy(model, hx[mesh], hy[mesh]):.4f}",
            "heldout_shapes": str(len(hx))}
    return model, meta


def save(model: nn.Module, path: Path = WEIGHTS, metadata: dict[str, str] | None = None
         ) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata=metadata)


def metadata(resolution: int = 16) -> dict[str, str]:
    """The metadata the shipped weights of `resolution` carry (`fit`: accuracies, steps)."""
    from safetensors import safe_open

    with safe_open(str(weights_path(resolution)), "pt") as f:
        return dict(f.metadata() or {})


def load(resolution: int = 16, path: Path | None = None) -> VoxelClassifier:
    """The shipped voxel classifier of `resolution`^3 grids (or the weights at `path`)."""
    from safetensors.torch import load_file

    if resolution not in RESOLUTIONS and path is None:
        raise UserError(f"no voxel classifier ships for {resolution}^3 grids (only "
                        f"{', '.join(f'{r}^3' for r in RESOLUTIONS)}); train one with "
                        f"`python -m perceptzoo.gans3d.classifier --resolution {resolution}`")
    path = Path(path) if path is not None else weights_path(resolution)
    if not path.exists():
        raise UserError(f"no voxel classifier weights at {path}; train them with "
                        f"`python -m perceptzoo.gans3d.classifier --resolution {resolution}`")
    state = load_file(str(path))
    model = VoxelClassifier(resolution, state["head.weight"].shape[0])
    model.load_state_dict(state)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    """`python -m perceptzoo.gans3d.classifier [--resolution 16 32] [--steps N]`: train the
    voxel classifiers from scratch (`fit`) and write the shipped weights."""
    import argparse
    import time

    p = argparse.ArgumentParser(description="train the voxel classifiers whose features score "
                                "the voxel generators (writes gans3d/weights)")
    p.add_argument("--resolution", type=int, nargs="+", default=list(RESOLUTIONS))
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for r in args.resolution:
        start, cpu = time.time(), time.process_time()
        model, meta = fit(r, args.steps, args.seed)
        save(model, weights_path(r), meta)
        print(f"{r}^3: {meta} -> {weights_path(r)} ({time.time() - start:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
