"""The view classifiers: small 2-D convolutional classifiers of 16 x 16 and 32 x 32
silhouettes (`RESOLUTIONS`, one shipped weights file each) whose penultimate 64-d features
score the 3D-aware image generators (GRAF, GIRAFFE, HoloGAN, EG3D): the Fréchet distance
between rendered and held-out silhouettes in its features (computed with the project's one
`metrics.frechet.frechet_distance`; `gans3d.scores.view_scores`) is the FD of renders, the
2-D sibling of the voxel classifier (`gans3d.classifier`).

It tells apart seven classes (`CLASSES`, the voxel classifier's): the catalogue's four
primitive kinds (sphere, box, torus, capsule) and the three training meshes of the "+real"
datasets (armadillo, dragon, cow), so its features have seen real meshes and an FD on
voxel_views16+real means something for them. Training data (`training_set`): exact
silhouettes (`data.voxels.silhouettes`) of the voxel_views+real train split's shapes (the
256 catalogue primitives and 32 placements of each training mesh) at `VIEWS_PER_SHAPE` random
poses each from the data's pose prior, at the classifier's resolution; random flips and
transposes augment it (a class does not change under them). The held-out meshes (bunny,
spot) are never shown. `fit()` trains it deterministically (seeded, one thread) and
`python -m perceptzoo.gans3d.view_classifier` writes the shipped weights
`gans3d/weights/view_classifier{16,32}.safetensors` with their held-out accuracy in the
metadata (`metadata(n)`: on the valid split's primitives and new placements of the training
meshes, on the test split's primitives, and the fraction of the held-out meshes' views put
in a mesh class).

A third, the shaded-view classifier (`load(16, shaded=True)`,
`view_classifier16_shaded.safetensors`, `--shaded`), is the same network trained the same way
on the Lambertian renders of the same views at the :shaded datasets' 256 levels
(`posed_views(..., shaded=True)`); its features give the shading-aware FD of the runs on
shaded views (`gans3d.scores.shaded_frechet`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.gans3d.classifier import fit_supervised

#: image sides a view classifier ships for, the default, and those of the shaded-view classifier
RESOLUTIONS, RESOLUTION, SHADED_RESOLUTIONS = (16, 32), 16, (16,)


def weights_path(resolution: int, shaded: bool = False) -> Path:
    """Where the view classifier of `resolution` x `resolution` silhouettes (or shaded views)
    ships."""
    name = f"view_classifier{resolution}{'_shaded' if shaded else ''}.safetensors"
    return Path(__file__).parent / "weights" / name


WEIGHTS = weights_path(RESOLUTION)
#: poses per training shape, Adam steps (batch 64, lr 1e-3 halved at 2/3), seed
VIEWS_PER_SHAPE, STEPS, SEED = 16, 3000, 0
#: silhouettes built per call of `data.voxels.silhouettes` (memory: 2n^3 points each)
CHUNK = 512


def _classes() -> tuple[str, ...]:
    from perceptzoo.data.shapes import PRIMITIVES, REAL_TRAIN

    return (*PRIMITIVES, *REAL_TRAIN)


#: the classes: the primitive kinds, then the training meshes by name
CLASSES = _classes()


class ViewClassifier(nn.Module):
    """(B, 1, n, n) silhouettes in [0, 1] -> logits (B, 7); `features` gives (B, 64). 3 x 3
    convolutions, each followed by a 2 x 2 max-pool, halve the image down to 4 x 4 (32
    channels, then 64), then a linear layer to the 64 features: at 16 x 16 two stages, at
    32 x 32 three."""

    def __init__(self, num_classes: int = len(CLASSES), resolution: int = RESOLUTION):
        super().__init__()
        if resolution < 16 or resolution & (resolution - 1):
            raise UserError(f"a view classifier takes square images of a power of two from 16 "
                            f"on, got {resolution} x {resolution}")
        self.resolution = resolution
        layers: list[nn.Module] = []
        channels = 1
        for i in range(resolution.bit_length() - 3):      # 16 -> 2 stages, 32 -> 3
            out = 32 if i == 0 else 64
            layers += [nn.Conv2d(channels, out, 3, 1, 1), nn.LeakyReLU(0.2), nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers, nn.Flatten(1), nn.Linear(64 * 16, 64), nn.ReLU())
        self.head = nn.Linear(64, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        n = self.resolution
        if images.dim() != 4 or images.shape[1:] != (1, n, n):
            raise UserError(f"the view classifier of {n} x {n} silhouettes takes (B, 1, {n}, "
                            f"{n}), got {tuple(images.shape)}")
        return self.body(images.float())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def labels(shapes) -> torch.Tensor:
    """(S,) class indices (`CLASSES`) of primitives and placed meshes; -1 for a mesh outside
    the classes (the held-out bunny and spot)."""
    from perceptzoo.data.voxels import PlacedMesh

    names = [s.name if isinstance(s, PlacedMesh) else s.kind for s in shapes]
    return torch.tensor([CLASSES.index(n) if n in CLASSES else -1 for n in names])


def view_sets(split: str, views_per_shape: int, seed: int, n: int = RESOLUTION,
              real: bool = False, shaded: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact views (S * K, 1, n, n) of the split's S shapes (with `real`, of the
    voxel_views+real split's), K random poses each from the data's pose prior (shape i's views
    are rows i K .. i K + K - 1), as `posed_views`, and their classes (S * K,) (`labels`)."""
    from perceptzoo.data import voxels

    shapes = voxels.split_shapes(split, real)
    k = views_per_shape
    return posed_views(tuple(shapes[i // k] for i in range(len(shapes) * k)), seed, n, shaded)


def posed_views(shapes, seed: int, n: int = RESOLUTION, shaded: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Views (S, 1, n, n) of S shapes, each at its own random pose from the data's pose prior
    (seeded): exact silhouettes (uint8 0/1), or with `shaded` the Lambertian renders of the
    :shaded datasets at their 256 levels (floats in [0, 1]); and their classes (S,)
    (`labels`)."""
    from perceptzoo.data import voxels

    poses = voxels.random_poses(len(shapes), torch.Generator().manual_seed(seed))

    def views(part: tuple, rotations: torch.Tensor) -> torch.Tensor:
        if not shaded:
            return voxels.silhouettes(part, rotations, n)
        image = voxels.shaded_renders(part, rotations, n)["image"]
        return (image * (voxels.SHADED_LEVELS - 1)).round() / (voxels.SHADED_LEVELS - 1)

    x = torch.cat([views(tuple(shapes[i:i + CHUNK]), poses[i:i + CHUNK])
                   for i in range(0, len(shapes), CHUNK)])[:, None]
    return x, labels(shapes)


def training_set(n: int = RESOLUTION, shaded: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(views, classes) the shipped classifier of n x n silhouettes (or shaded views) trains
    on (module docstring); needs the shared meshes (a UserError naming the missing ones
    otherwise)."""
    return view_sets("train", VIEWS_PER_SHAPE, seed=1, n=n, real=True, shaded=shaded)


def train(x: torch.Tensor, y: torch.Tensor, steps: int = STEPS, seed: int = SEED
          ) -> ViewClassifier:
    """Fit a view classifier on silhouettes x (N, 1, n, n) with classes y (N,): Adam at batch
    64, lr 1e-3 halved after 2/3 of the steps; random flips and transposes as augmentation;
    deterministic for a seed on one thread."""
    n = x.shape[-1]
    return fit_supervised(lambda: ViewClassifier(resolution=n), x, y, augment, steps, seed)


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random transpose and a random flip of each image axis (one per batch)."""
    if torch.rand(1, generator=generator) < 0.5:
        x = x.transpose(2, 3)
    flips = [d for d in (2, 3) if torch.rand(1, generator=generator) < 0.5]
    return x.flip(flips) if flips else x


@torch.no_grad()
def accuracy(model: ViewClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of silhouettes x whose argmax class is y."""
    return float((model(x.float()).argmax(1) == y).float().mean())


def heldout_report(model: ViewClassifier, shaded: bool = False) -> dict[str, str]:
    """Held-out accuracy of a view classifier (module docstring), 4 poses per shape."""
    from perceptzoo.data.shapes import PRIMITIVES

    n = model.resolution
    vx, vy = view_sets("valid", 4, seed=3, n=n, real=True, shaded=shaded)
    tx, ty = view_sets("test", 4, seed=4, n=n, shaded=shaded)
    hx, _ = view_sets("test", 4, seed=5, n=n, real=True, shaded=shaded)  # bunny, spot only
    mesh = vy >= len(PRIMITIVES)
    with torch.no_grad():
        held_mesh = (model(hx.float()).argmax(1) >= len(PRIMITIVES)).float().mean()
    return {"valid_accuracy": f"{accuracy(model, vx, vy):.4f}",
            "valid_accuracy_primitives": f"{accuracy(model, vx[~mesh], vy[~mesh]):.4f}",
            "valid_accuracy_meshes": f"{accuracy(model, vx[mesh], vy[mesh]):.4f}",
            "test_accuracy_primitives": f"{accuracy(model, tx, ty):.4f}",
            "heldout_meshes_in_a_mesh_class": f"{float(held_mesh):.4f}",
            "valid_views": str(len(vx)), "test_views": str(len(tx))}


def fit(steps: int = STEPS, seed: int = SEED, resolution: int = RESOLUTION,
        shaded: bool = False) -> tuple[ViewClassifier, dict[str, str]]:
    """The shipped view classifier of `resolution` x `resolution` silhouettes (or shaded
    views), trained from scratch on `training_set` (one thread, deterministic), and its
    metadata (`heldout_report`, steps, seed, classes)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x, y = training_set(resolution, shaded)
        model = train(x, y, steps, seed)
        meta = {"resolution": str(resolution), "shaded": str(shaded),
                "classes": ",".join(CLASSES), "steps": str(steps), "seed": str(seed),
                "views_per_shape": str(VIEWS_PER_SHAPE), "train_views": str(len(x)),
                **heldout_report(model, shaded)}
    finally:
        torch.set_num_threads(threads)
    return model, meta


def save(model: ViewClassifier, path: Path = WEIGHTS,
         metadata: dict[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata=metadata)


def load(resolution: int = RESOLUTION, path: Path | None = None, shaded: bool = False
         ) -> ViewClassifier:
    """The shipped view classifier of `resolution` x `resolution` silhouettes, or with
    `shaded` of shaded views (16 x 16 only: `SHADED_RESOLUTIONS`), or the weights at `path`
    (at the resolution their metadata names, when it names one)."""
    from safetensors.torch import load_file

    flag = " --shaded" if shaded else ""
    train_it = f"`python -m perceptzoo.gans3d.view_classifier --resolution {resolution}{flag}`"
    shipped = SHADED_RESOLUTIONS if shaded else RESOLUTIONS
    if resolution not in shipped and path is None:
        kind = "shaded views" if shaded else "views"
        raise UserError(f"no view classifier ships for {resolution} x {resolution} {kind} "
                        f"(only {', '.join(str(r) for r in shipped)}); train one with "
                        f"{train_it}")
    path = Path(path) if path is not None else weights_path(resolution, shaded)
    if not path.exists():
        raise UserError(f"no view classifier weights at {path}; train them with {train_it}")
    state = load_file(str(path))
    resolution = int(_metadata_of(path).get("resolution", resolution))
    model = ViewClassifier(state["head.weight"].shape[0], resolution)
    model.load_state_dict(state)
    return model.eval()


def metadata(resolution: int = RESOLUTION, shaded: bool = False) -> dict[str, str]:
    """The metadata the shipped weights of `resolution` carry (`fit`: accuracies, steps)."""
    return _metadata_of(weights_path(resolution, shaded))


def _metadata_of(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return dict(f.metadata() or {})


def main(argv: list[str] | None = None) -> None:
    """`python -m perceptzoo.gans3d.view_classifier [--resolution 16 32] [--shaded]
    [--steps N] [--seed S]`: train the view classifiers (of shaded views with --shaded) from
    scratch (`fit`) and write the shipped weights."""
    import argparse
    import time

    p = argparse.ArgumentParser(description="train the view classifier whose features score "
                                "the 3D-aware generators (writes gans3d/weights)")
    p.add_argument("--resolution", type=int, nargs="+", default=list(RESOLUTIONS))
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--shaded", action="store_true", help="of shaded views, not silhouettes")
    args = p.parse_args(argv)
    for r in args.resolution:
        start, cpu = time.time(), time.process_time()
        model, meta = fit(args.steps, args.seed, r, args.shaded)
        path = weights_path(r, args.shaded)
        save(model, path, meta)
        print(f"{r} x {r}: {meta} -> {path} ({time.time() - start:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
