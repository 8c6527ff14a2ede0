"""Figures of the 3D generators: IoU of each generated shape to its nearest training shape, a
Fréchet distance in the voxel classifier's features (`gans3d.classifier`, with the project's
one `metrics.frechet.frechet_distance`) beside its real-vs-real floor at the same size, and
turntable GIFs (absorption-only renders of the volumes turning about z).

`study(run_dir)` is the bench recipes' extra figures for a voxel_gan or platonic_gan run
(`perceptzoo.bench.recipes.gans3d`), scored against the voxel dataset of the run's data
(`voxel_dataset`: voxels16 for voxel_views16, voxels32+real for voxel_views32+real, ...),
at the run's own resolution: the classifier of that resolution (16^3 or 32^3, no
downsampling) gives the features, and IoU is measured there too.

The Fréchet distance follows the project's protocol for the full suite (`NUM_SAMPLES` = 10,000):
10,000 generated volumes against 10,000 held-out real shapes (`reference_sets`, "heldout"), and
the real-vs-real floor is a second, disjoint set of 10,000 held-out shapes against the same
reference ("floor"). (At 1,000, the size until session 11, voxel_gan-voxels16 scored 2,905
against a floor of 88.7; at 10,000, 3,036 against 4.6.) The held-out shapes continue the valid
and test splits' seeded primitive streams (`data.voxels.primitives`: the reference is the 64
test shapes and 9,936 more of the test stream, the floor set the 64 valid shapes and 9,936 more
of the valid stream), so neither meets a training shape (the train stream has its own seed). On
a "+real" dataset both sets hold real meshes in the proportion the dataset's train split has
them (96 of 352, 27 %): about 7,273 primitives and 2,727 random placements (rotation and scale,
`data.voxels.placed_meshes`) of the held-out meshes (bunny, spot; new placements, seeded
differently in the two sets), so the figure asks for shapes the generator never saw, the same
test as the dataset's test split. Beside it, the distance of a third set from the training
distribution (the floor set's primitives with about 2,727 new placements of the training meshes
armadillo, dragon, cow) to the same reference
(`frechet_distance_training_distribution_vs_heldout`) is what a perfect model of the training
data would score; and whether the real meshes were learned: the fraction of generated shapes
whose nearest training shape is a real mesh (beside the same for that third set, and the meshes'
share of the train split) and the IoU of the held-out mesh placements to their nearest training
shape. The classifier's classes include the training meshes, so its features have seen real
shapes (never bunny or spot).

The 3D-aware image generators (graf, eg3d, giraffe, hologan) are scored on their renders by
`study_views(run_dir)`, against the view dataset of the run (`view_reference`): a Fréchet
distance in the features of the view classifier of the run's image size
(`gans3d.view_classifier`, 16 x 16 or 32 x 32: seven classes, the primitive kinds and the
training meshes; every silhouette below is at that size) between `NUM_VIEW_SAMPLES` = 10,000
binarised renders at random poses and exact silhouettes of 10,000 held-out shapes, each at its
own random pose from the data's pose prior, beside the floor of 10,000 more held-out shapes
against the same reference. The shapes continue the seeded primitive streams as the voxel sets
do (`view_reference_shapes`): the reference is the test stream's first 10,000 primitives, the
floor the valid stream's, so neither meets a training shape and each view is of a different
shape. On a "+real" view dataset both sets are the training distribution: 27 % of them (the train
split's share) are new placements of the training meshes (armadillo, dragon, cow; seeded
differently in the two sets), the rest primitives. (Until session 12 the reference was 1,000 of
1,024 views of the 128 valid and test primitives at 8 poses each, or of the valid split at 12,
and the floor was views of the train shapes.) A shaded run (`:shaded` data) is scored on the
silhouettes of its renders (a pixel brighter than half the shading's ambient level,
`SHADED_THRESHOLD`): that FD says whether the shapes are right, not the shading; beside it a
second FD compares the grey renders with shaded renders of the same reference shapes in a
shaded-view classifier's features (`shaded_frechet`), so the shading counts too. Beside them: the
view-consistency error (`common.view_consistency_error`) of 32 latents between poses 6 degrees
apart where the model renders depth; the identity agreement (how often the view classifier
gives one latent's renders at two poses 90 degrees apart the same class, beside the same for
two different latents); the diversity across latents at one pose (`latent_diversity`: pixel std
and mean pairwise feature distance, beside the same for real silhouettes of the reference
shapes); and a turntable GIF of renders.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import torch
from PIL import Image

from perceptzoo.data import voxels
from perceptzoo.data.shapes import PRIMITIVES, REAL_HELDOUT, REAL_TRAIN
from perceptzoo.errors import UserError
from perceptzoo.gans3d import classifier
from perceptzoo.gans3d.common import camera, view_consistency_error
from perceptzoo.gans3d.projection import camera_rotation, project
from perceptzoo.metrics.frechet import frechet_distance


def iou_to_nearest(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(Na,) max over j of IoU(a_i, b_j) for binary volumes a (Na, ...), b (Nb, ...)."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    inter = a @ b.T
    union = a.sum(1, keepdim=True) + b.sum(1)[None] - inter
    return (inter / union.clamp(min=1)).amax(1)


def turntable(volumes: torch.Tensor, path: str | Path, frames: int = 24, scale: int = 4,
              elevation_deg: float = 20.0) -> Path:
    """A GIF (real GIF bytes, Pillow) of volumes (K, 1, n, n, n) side by side turning about z,
    each frame the absorption-only projection (dark = opaque)."""
    images = []
    for i in range(frames):
        az, el = 2 * math.pi * i / frames, math.radians(elevation_deg)
        r = camera_rotation((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az),
                             math.sin(el)))
        img = project(volumes.float(), r[None], "absorption")[:, 0]  # (K, n, n)
        strip = torch.cat(list(img), 1)
        frame = ((1 - strip).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        images.append(Image.fromarray(frame, "L").resize(
            (frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST))
    path = Path(path)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=80,
                   loop=0)
    return path


def generated_volumes(model, num: int, seed: int = 0, batch: int = 100) -> torch.Tensor:
    """Binary volumes (num, 1, n, n, n) uint8 of a voxel_gan or platonic_gan, drawn `batch` at a
    time (one seeded generator)."""
    g = torch.Generator().manual_seed(seed)
    draw = model.generate_volumes if hasattr(model, "generate_volumes") else model.generate
    return drawn(lambda k: (draw(k, g).cpu() > 0.5).to(torch.uint8), num, batch, "volumes")


def drawn(draw, num: int, batch: int, desc: str) -> torch.Tensor:
    """torch.cat of draw(k) over batches of at most `batch`, `num` in all, without gradients,
    with a progress bar from 1,000 on (the full suite's figures draw 10,000)."""
    from perceptzoo.core.trainer import progress_bar

    out = []
    with progress_bar(num, desc, disable=num < 1000) as bar, torch.no_grad():
        for start in range(0, num, batch):
            out.append(draw(min(batch, num - start)))
            bar.update(len(out[-1]))
    return torch.cat(out)


def nearest(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(IoU, index) of each a_i's nearest b_j by IoU (binary volumes, as `iou_to_nearest`)."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    inter = a @ b.T
    union = a.sum(1, keepdim=True) + b.sum(1)[None] - inter
    return (inter / union.clamp(min=1)).max(1)


def voxel_dataset(dataset: str) -> str:
    """The voxel dataset a run's data belongs to: voxel_views32+real -> voxels32+real."""
    name = dataset.replace("voxel_views", "voxels", 1)
    if name not in voxels.INFOS or not name.startswith("voxels"):
        raise UserError(f"the voxel scores are for the voxel datasets ({', '.join(voxels.INFOS)})"
                        f", got {dataset!r}")
    return name


#: generated volumes and held-out real shapes in each Fréchet distance (module docstring)
NUM_SAMPLES = 10_000
#: seeds of the real-mesh placements of the reference sets of the "+real" datasets (apart from
#: every seed of `data.voxels`' splits and the classifier's training placements)
MESH_SEEDS = {"heldout": 2_000_003, "floor": 2_000_033, "training": 2_000_039}


def mesh_fraction(dataset: str) -> float:
    """The real meshes' share of a voxel dataset's train split (0 without real meshes)."""
    name = voxel_dataset(dataset)
    if not voxels.is_real(name):
        return 0.0
    meshes = len(REAL_TRAIN) * voxels.REAL_COPIES["train"]
    return meshes / voxels.INFOS[name].split_sizes["train"]


def _classes(shapes) -> torch.Tensor:
    """(S,) the voxel classifier's class of each shape, -1 for a mesh it has no class for."""
    return torch.tensor([classifier.CLASSES.index(getattr(s, "name", s.kind))
                         if getattr(s, "name", s.kind) in classifier.CLASSES else -1
                         for s in shapes])


@lru_cache(maxsize=4)
def reference_sets(dataset: str, num: int = NUM_SAMPLES
                   ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{set: (volumes (num, 1, N, N, N) uint8, classifier classes (num,), -1 for a held-out
    mesh)} of held-out real shapes at the dataset's resolution (module docstring): "heldout"
    (the reference), "floor" (disjoint from it, the same mix) and, on a "+real" dataset,
    "training" (the floor set's primitives with new placements of the training meshes)."""
    name = voxel_dataset(dataset)
    n = voxels.INFOS[name].data_shape[-1]
    k = round(num * mesh_fraction(name))
    shapes = {"heldout": held_out_shapes("test", num, k, REAL_HELDOUT, MESH_SEEDS["heldout"]),
              "floor": held_out_shapes("valid", num, k, REAL_HELDOUT, MESH_SEEDS["floor"])}
    if k:
        shapes["training"] = held_out_shapes("valid", num, k, REAL_TRAIN, MESH_SEEDS["training"])
    return {key: (voxels.voxelize_many(s, n), _classes(s)) for key, s in shapes.items()}


def held_out_shapes(split: str, num: int, num_meshes: int, meshes: tuple[str, ...], seed: int
                    ) -> tuple:
    """`num` shapes no training split holds: the first num - num_meshes draws of the valid or
    test split's primitive stream, then `num_meshes` new placements (seeded) of `meshes`, an
    equal share of each."""
    k = num_meshes
    placed = voxels.placed_meshes(meshes, -(-k // len(meshes)), seed)[:k] if k else ()
    return voxels.primitives(split, num - k) + placed


def score(model, num: int = NUM_SAMPLES, clf: classifier.VoxelClassifier | None = None,
          dataset: str = "voxels16") -> dict[str, float]:
    """IoU-to-nearest and FD (with floors) of `num` generated volumes against `num` held-out
    shapes of the voxel dataset, and the floor of `num` more held-out shapes against the same
    reference (module docstring), in the features of the voxel classifier of the dataset's
    resolution (or `clf`)."""
    name = voxel_dataset(dataset)
    real = voxels.is_real(name)
    train_ds = voxels.load(name, "train")
    train = train_ds.x
    n = train.shape[-1]
    vols = generated_volumes(model, num)
    if vols.shape[1:] != train.shape[1:]:
        raise UserError(f"the model generates {tuple(vols.shape[1:])} volumes but {name} holds "
                        f"{tuple(train.shape[1:])}: score it against its own resolution")
    clf = clf or classifier.load(n)
    refs = reference_sets(name, num)
    held, held_cls = refs["heldout"]
    with torch.no_grad():
        feats = {key: clf.features(x) for key, (x, _) in refs.items()}
        fd = frechet_distance(clf.features(vols), feats["heldout"])
        floor = frechet_distance(feats["floor"], feats["heldout"])
        # accuracy on every labelled held-out shape once (training shares floor's primitives)
        x = torch.cat([held, refs["floor"][0]] + ([refs["training"][0]] if real else []))
        y = torch.cat([held_cls, refs["floor"][1]]
                      + ([refs["training"][1].where(refs["training"][1] >= len(PRIMITIVES), -1)]
                         if real else []))
        labelled = y >= 0
        accuracy = classifier.accuracy(clf, x[labelled], y[labelled])
    occupied = vols.flatten(1).float().mean(1)
    iou, idx = nearest(vols, train)
    out = {"iou_to_nearest_train_mean": round(iou.mean().item(), 4),
           "iou_to_nearest_train_heldout_real_mean":
               round(iou_to_nearest(held, train).mean().item(), 4),
           "frechet_distance_voxel_classifier": round(fd, 3),
           "frechet_distance_real_vs_real_floor": round(floor, 3),
           "empty_samples_fraction": round((occupied == 0).float().mean().item(), 3),
           "num_samples": num, "num_heldout_real": len(held),
           "num_floor_real": len(refs["floor"][0]),
           "voxel_resolution": n, "classifier_resolution": clf.resolution,
           "voxel_classifier_heldout_accuracy": round(accuracy, 4),
           "voxel_classifier_heldout_shapes": int(labelled.sum())}
    if real:
        is_mesh = train_ds.y == voxels.KINDS.index("mesh")
        seen, seen_cls = refs["training"]
        held_meshes = held[held_cls < 0]
        out.update({
            "reference_real_mesh_fraction": round(len(held_meshes) / len(held), 3),
            "frechet_distance_training_distribution_vs_heldout": round(
                frechet_distance(feats["training"], feats["heldout"]), 3),
            "nearest_train_is_real_mesh_fraction": round(is_mesh[idx].float().mean().item(), 3),
            "nearest_train_is_real_mesh_fraction_heldout_real":
                round(is_mesh[nearest(seen, train)[1]].float().mean().item(), 3),
            "train_real_mesh_fraction": round(is_mesh.float().mean().item(), 3),
            "iou_to_nearest_train_heldout_meshes_mean":
                round(iou_to_nearest(held_meshes, train).mean().item(), 4),
            "iou_generated_to_nearest_real_mesh_mean":
                round(iou_to_nearest(vols, train[is_mesh]).mean().item(), 4),
            "iou_heldout_real_to_nearest_real_mesh_mean":
                round(iou_to_nearest(seen, train[is_mesh]).mean().item(), 4)})
    return out


def study(run_dir) -> dict[str, float]:
    """The bench harness's extra figures for a run folder, and its turntable GIF there."""
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    model = runner.load(run_dir)
    dataset = runner.read_config(RunDir(run_dir))["dataset"]
    turntable(generated_volumes(model, 6, seed=1), Path(run_dir) / "turntable.gif")
    return score(model, dataset=dataset)


# -- 3D-aware image generators ----------------------------------------------------------------
#: renders and held-out silhouettes in each Fréchet distance of the view generators
NUM_VIEW_SAMPLES = 10_000
#: seeds of the view reference sets' mesh placements and poses (apart from every seed of
#: `data.voxels`' splits, the view classifier's and `MESH_SEEDS`)
VIEW_SEEDS = {"heldout": 2_000_081, "floor": 2_000_083}
#: a shaded render's silhouette: pixels above half the shading's ambient level (the darkest lit
#: pixel of the data is `data.voxels.AMBIENT`, the background 0)
SHADED_THRESHOLD = voxels.AMBIENT / 2


def latents(model, num: int, generator: torch.Generator) -> torch.Tensor:
    """(num, D) latents of a graf / eg3d / hologan (graf's shape and appearance codes side by
    side), the input of the models' `render_views(z (1, D), c2w (K, 3, 4))`."""
    z = model.latent(num, generator)
    return torch.cat(z, 1) if isinstance(z, tuple) else z


def orbit(num: int, elevation: float = 0.3, offset_deg: float = 0.0) -> torch.Tensor:
    """(num, 3, 4) cameras evenly spaced in azimuth (plus an offset), z up."""
    out = []
    for i in range(num):
        az = 2 * math.pi * i / num + math.radians(offset_deg)
        out.append(camera((math.cos(az), math.sin(az), elevation)))
    return torch.stack(out)


def view_dataset(dataset: str) -> tuple[bool, bool, int]:
    """(real, shaded, image side n) of a view dataset the view scores take (voxel_views16,
    voxel_views32, their +real and :shaded variants: a view classifier ships for each side);
    a UserError for any other."""
    from perceptzoo.gans3d.view_classifier import RESOLUTIONS

    if dataset not in voxels.INFOS or not dataset.startswith("voxel_views") or (
            voxels.INFOS[dataset].data_shape[-1] not in RESOLUTIONS):
        raise UserError(f"the view scores are for the view datasets of "
                        f"{' or '.join(f'{r} x {r}' for r in RESOLUTIONS)} silhouettes "
                        f"(voxel_views16, voxel_views32, their +real and :shaded variants), "
                        f"got {dataset!r}")
    n = voxels.INFOS[dataset].data_shape[-1]
    return voxels.is_real(dataset), voxels.is_shaded(dataset), n


def silhouettes_of(images: torch.Tensor, shaded: bool) -> torch.Tensor:
    """Binary silhouettes (floats) of grey renders in [0, 1]: above 0.5, or for a model of
    shaded views above `SHADED_THRESHOLD`."""
    return (images > (SHADED_THRESHOLD if shaded else 0.5)).float()


@lru_cache(maxsize=4)
def view_reference_shapes(real: bool, num: int = NUM_VIEW_SAMPLES) -> dict[str, tuple]:
    """{"heldout": shapes, "floor": shapes}: `num` held-out shapes each (`held_out_shapes`),
    the reference from the test split's stream, the floor from the valid split's; on a "+real"
    view dataset with new placements of the training meshes in the train split's proportion
    (module docstring)."""
    k = round(num * mesh_fraction("voxels16+real")) if real else 0
    return {key: held_out_shapes(split, num, k, REAL_TRAIN, VIEW_SEEDS[key])
            for key, split in (("heldout", "test"), ("floor", "valid"))}


@lru_cache(maxsize=4)
def _view_reference(real: bool, num: int, n: int, shaded: bool
                    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    from perceptzoo.gans3d.view_classifier import posed_views

    return {key: posed_views(shapes, VIEW_SEEDS[key], n, shaded)
            for key, shapes in view_reference_shapes(real, num).items()}


def view_reference(dataset: str = "voxel_views16", num: int = NUM_VIEW_SAMPLES,
                   shaded: bool = False) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{"heldout": (silhouettes (num, 1, n, n) uint8, classes), "floor": (...)}: the FD's
    reference and real-vs-real floor sets of a view dataset at its image side n, each shape at
    its own random pose (module docstring); with `shaded`, the shaded renders of the same
    shapes at the same poses (floats in [0, 1] at the data's 256 levels)."""
    real, _, n = view_dataset(dataset)
    return _view_reference(real, num, n, shaded)


def shaded_frechet(renders: torch.Tensor, dataset: str, clf=None) -> dict[str, float]:
    """The shading-aware figures of grey renders (N, 1, n, n) in [0, 1] of a model of a
    :shaded view dataset: the Fréchet distance in the shaded-view classifier's features
    (`view_classifier.load(n, shaded=True)`, trained on the shaded renders of the +real train
    split) against the shaded renders of the N reference shapes of `view_reference`, beside
    its real-vs-real floor (the N floor shapes' shaded renders) and a flat baseline (the floor
    shapes' exact silhouettes, uniformly bright: the right shapes with no shading). Where the
    silhouette FD says whether the shapes are right, this one says whether the shading is
    right too."""
    from perceptzoo.gans3d import view_classifier

    _, _, n = view_dataset(dataset)
    clf = clf or view_classifier.load(n, shaded=True)
    refs = view_reference(dataset, len(renders), shaded=True)
    with torch.no_grad():
        f_ref = clf.features(refs["heldout"][0])
        return {"frechet_distance_shaded_view_classifier": round(frechet_distance(
                    clf.features(renders.float()), f_ref), 3),
                "frechet_distance_shaded_real_vs_real_floor": round(frechet_distance(
                    clf.features(refs["floor"][0]), f_ref), 3),
                "frechet_distance_shaded_flat_silhouettes": round(frechet_distance(clf.features(
                    view_reference(dataset, len(renders))["floor"][0].float()), f_ref), 3)}


def view_turntable(model, path: str | Path, num_latents: int = 6, frames: int = 24,
                   scale: int = 4, seed: int = 1) -> Path:
    """A GIF of `num_latents` generated objects side by side, each rendered at `frames`
    azimuths (bright = object)."""
    z = latents(model, num_latents, torch.Generator().manual_seed(seed))
    cams = orbit(frames)
    with torch.no_grad():
        strips = torch.stack([model.render_views(z[i:i + 1], cams)["image"][:, 0]
                              for i in range(num_latents)], 1)      # (frames, K, n, n)
    images = []
    for frame in strips:
        row = (torch.cat(list(frame), 1).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        images.append(Image.fromarray(row, "L").resize((row.shape[1] * scale,
                                                        row.shape[0] * scale), Image.NEAREST))
    path = Path(path)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=80,
                   loop=0)
    return path


def fixed_pose_renders(model, num_latents: int, cams: torch.Tensor, seed: int = 3
                       ) -> torch.Tensor:
    """(P, L, 1, n, n) grey renders of L latents, each at the P cameras cams (P, 3, 4)."""
    z = latents(model, num_latents, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return torch.stack([model.render_views(z[i:i + 1], cams)["image"].cpu()
                            for i in range(num_latents)], 1)


def latent_diversity(model, num_latents: int = 64, clf=None, dataset: str = "voxel_views16"
                     ) -> dict[str, float]:
    """How much a 3D-aware generator's renders change with the latent at one pose (a
    generator that ignores z draws one object; issue 19): at each of 4 cameras (azimuths
    0, 90, 180, 270 degrees), L latents are rendered and scored by

    - the pixel std across latents of the grey renders, averaged over pixels and cameras;
    - the mean pairwise distance (over pairs of different latents) of the binarised renders
      (`silhouettes_of`) in the view classifier's 64-d features,

    each beside the same for the exact silhouettes of L held-out shapes (voxel_views16: the
    first L valid + test primitives; +real: a seeded L of the valid split) at the same
    rotations (c2w's rotation transposed, as `hologan.render_views`); for a shaded dataset
    the pixel std of the real views is that of their shaded renders."""
    from perceptzoo.gans3d import view_classifier

    real_data, shaded, n = view_dataset(dataset)
    clf = clf or view_classifier.load(n)
    cams = orbit(4)
    fake = fixed_pose_renders(model, num_latents, cams)                  # (P, L, 1, n, n)
    if fake.shape[-2:] != (n, n):
        raise UserError(f"the model renders {tuple(fake.shape[-2:])} images but {dataset} "
                        f"holds {n} x {n}: score it against its own dataset")
    if real_data:
        shapes = voxels.split_shapes("valid", True)
        pick = torch.randperm(len(shapes), generator=torch.Generator().manual_seed(0))
        shapes = tuple(shapes[int(i)] for i in pick[:num_latents])
    else:
        shapes = (voxels.split_shapes("valid") + voxels.split_shapes("test"))[:num_latents]
    rots = [c[:, :3].T.expand(len(shapes), 3, 3) for c in cams]
    if shaded:
        renders = [voxels.shaded_renders(shapes, r, n) for r in rots]
        grey = torch.stack([r["image"] for r in renders])[:, :, None]
        sil = torch.stack([r["mask"] for r in renders])[:, :, None].float()
    else:
        sil = torch.stack([voxels.silhouettes(shapes, r, n) for r in rots])[:, :, None].float()
        grey = sil
    out = {}
    with torch.no_grad():
        for key, x, binary in (("", fake, silhouettes_of(fake, shaded)), ("_real", grey, sil)):
            feats = torch.stack([clf.features(b) for b in binary])          # (P, L, 64)
            dist = torch.cdist(feats, feats)
            pairs = x.shape[1] * (x.shape[1] - 1)
            out[f"latent_diversity_pixel_std{key}"] = round(x.std(1).mean().item(), 4)
            out[f"latent_diversity_feature_distance{key}"] = round(
                (dist.sum() / (pairs * len(cams))).item(), 3)
    out["latent_diversity_num_latents"] = num_latents
    return out


def view_scores(model, num: int = NUM_VIEW_SAMPLES, num_latents: int = 32, clf=None,
                dataset: str = "voxel_views16") -> dict[str, float]:
    """FD of renders (with its floor), view consistency and identity agreement (module
    docstring) of a 3D-aware generator of the views of `dataset` (16 x 16 or 32 x 32), in the
    features of the view classifier of that side (or `clf`)."""
    from perceptzoo.gans3d import view_classifier

    _, shaded, n = view_dataset(dataset)
    with torch.no_grad():  # one render first: a model of another size fails before any work
        shape = tuple(model.sample(1, generator=torch.Generator().manual_seed(0)).shape[1:])
    if shape != (1, n, n):
        raise UserError(f"the model renders {shape} images but {dataset} holds (1, {n}, {n}): "
                        f"score it against its own dataset")
    clf = clf or view_classifier.load(n)
    refs = view_reference(dataset, num)
    ref_x, ref_y = refs["heldout"]
    levels = getattr(getattr(model, "cfg", None), "num_levels", 2) or 2
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        fake = drawn(lambda k: model.sample(k, generator=g).cpu(), num, 100,
                     "renders").float() / (levels - 1)
        f_ref = clf.features(ref_x.float())
        known = ref_y >= 0
        out = {"frechet_distance_view_classifier": round(frechet_distance(
                   clf.features(silhouettes_of(fake, shaded)), f_ref), 3),
               "frechet_distance_real_vs_real_floor": round(frechet_distance(
                   clf.features(refs["floor"][0].float()), f_ref), 3),
               "view_classifier_heldout_accuracy": round(
                   (clf(ref_x[known].float()).argmax(1) == ref_y[known]).float().mean().item(),
                   3),
               "frechet_num_samples": len(fake), "frechet_num_reference": len(ref_x),
               "view_classifier_classes": len(view_classifier.CLASSES)}
        if shaded:
            out["sample_foreground_mean_level"] = round(
                fake[fake > SHADED_THRESHOLD].mean().item() * (levels - 1), 1)
            if n in view_classifier.SHADED_RESOLUTIONS:
                out.update(shaded_frechet(fake, dataset))
        z = latents(model, num_latents, torch.Generator().manual_seed(1))
        errors, kinds = [], []
        for i in range(num_latents):
            cams = orbit(4, offset_deg=360.0 * i / num_latents)   # 0, 90, 180, 270 degrees
            views = model.render_views(z[i:i + 1], cams)
            kinds.append(clf(silhouettes_of(views["image"], shaded)).argmax(1))
            if "depth" in views:
                near = orbit(4, offset_deg=360.0 * i / num_latents + 6.0)[:1]
                moved = model.render_views(z[i:i + 1], near)
                first = {k: v[:1] for k, v in views.items()}
                if (first["opacity"] > 0.5).any():
                    errors.append(view_consistency_error(first, moved, cams[0], near[0]))
        kinds = torch.stack(kinds)                                  # (L, 4)
        same = (kinds[:, 0] == kinds[:, 1]).float().mean().item()
        other = (kinds[:, 0] == kinds.roll(1, 0)[:, 1]).float().mean().item()
    out.update({"identity_agreement_same_latent_90deg": round(same, 3),
                "identity_agreement_different_latents": round(other, 3),
                "num_latents": num_latents})
    out.update(latent_diversity(model, clf=clf, dataset=dataset))
    if errors:
        out.update({"view_consistency_error_mean": round(sum(errors) / len(errors), 4),
                    "view_consistency_latents_with_opaque_pixels": len(errors),
                    "pose_offset_deg": 6})
    return out


def study_views(run_dir) -> dict[str, float]:
    """The bench harness's extra figures for a graf / eg3d / giraffe / hologan run folder,
    scored against the run's dataset, and its turntable GIF there."""
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    model = runner.load(run_dir)
    dataset = runner.read_config(RunDir(run_dir))["dataset"]
    view_turntable(model, Path(run_dir) / "turntable.gif")
    return view_scores(model, dataset=dataset)
