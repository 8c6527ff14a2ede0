"""Image and video translation: edges -> digits (Pix2Pix, BicycleGAN), handwritten <-> printed
digits (CycleGAN), edge video -> moving-digit video (vid2vid, reduced).

The harness's evaluation gives the Fréchet distance of `sample(n)` (translations of held-out
sources) in the MNIST classifier's features. The edges -> digits studies add, on 5000 MNIST
test digits' edge maps: L1 to the true digit, FD against 5000 *other* test digits beside
the real-vs-real floor at that size, the classifier's accuracy on the outputs, the diversity
(mean pairwise L1 of 10 translations of each of 100 edge maps) and a grid; BicycleGAN's adds
the latent regression error beside chance. CycleGAN's study gives cycle errors and the digit
kept both ways; vid2vid's the per-frame FD, temporal consistency (frame differences and the
warping error under the ground-truth motion of the moving digits) and a GIF.

The paired and unpaired studies store the translation protocol's Fréchet distance under the
harness's keys: translations of n test sources against n *other* test images, the floor the n
real images the sources came from against the same, at the same sizes (`_protocol_fd`; the two
sets are seeded random halves, `_halves`); the harness's generic
figure and floor (random test sources; train images) are not this protocol.

Published figures: none is comparable, and none is quoted. Isola et al. 2017 (Pix2Pix) score
256x256 photo tasks (FCN scores on Cityscapes, AMT studies), Zhu et al. 2017 (BicycleGAN) LPIPS
diversity and AMT fooling rates on photo tasks, Zhu et al. 2017 (CycleGAN) FCN scores and AMT,
Wang et al. 2018 (vid2vid) FID and human preference on street and face videos; no paper reports
MNIST or digit figures.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Recipe

#: the paired protocol's n: n test sources translated, scored against n other test images, so
#: the 10,000-image MNIST test split holds at most 5,000
N = 5000
#: CycleGAN's n: the printed digits' test split holds 2,000
N_UNPAIRED = 2000
#: vid2vid's: the moving digits' test split holds 1,000 videos
N_VIDEOS = 1000
FIGURES = Path(__file__).resolve().parents[4] / "benchmarks" / "figures" / "translation"


def _halves(n: int, size: int = 10_000):
    """Two disjoint sets of n indices into the MNIST test split, drawn at random (with
    `metrics.frechet.REFERENCE_SEED`, the seed of every fixed reference subset): the sources
    and the FD reference. Not test[:n] and test[n:2n]: MNIST's first 5,000 test digits
    come from one population of writers (NIST's SD-3) and the last 5,000 from another (SD-1),
    so at n = 5,000 the real-vs-real FD between those halves is 23.9; between these, 0.61."""
    import torch

    from perceptzoo.metrics.frechet import REFERENCE_SEED

    perm = torch.randperm(size, generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return perm[:n], perm[n:2 * n]


@lru_cache(maxsize=1)
def _test_pairs(n: int = N):
    """(edge maps, digits, labels, other digits): n MNIST test digits with their edge maps,
    and n other test digits (the FD reference), `_halves(n)`; built once per process (the
    BicycleGAN study reads them twice). Read-only."""
    from perceptzoo import data
    from perceptzoo.data.paired import edge_source

    test = data.load("mnist", "test")
    src, ref = _halves(n, len(test.x))
    x, y = test.x[src], test.y[src]
    return edge_source(x), x, y, test.x[ref]


def _accuracy(images, labels) -> float:
    import torch

    from perceptzoo.metrics import classifier

    net = classifier.load_classifier("mnist")
    with torch.no_grad():
        pred = torch.cat([net(images[i:i + 500].float()).argmax(1)
                          for i in range(0, len(images), 500)])
    return float((pred == labels).float().mean())


def _fd(images, reference) -> float:
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance

    return frechet_distance(classifier.features("mnist", reference),
                            classifier.features("mnist", images.float()))


def _protocol_fd(outputs, real, reference) -> dict[str, Any]:
    """The translation protocol's Fréchet distance, precision and recall: the n translations
    against n *other* real test images (`reference`, e.g. test[n:2n]), and the floor at the same
    sizes, the n real images the sources came from (`real`, test[:n]) against that reference.
    Stored under the harness's keys (frechet_distance, real_vs_real_frechet_distance, ...): they
    replace its generic figure (translations of randomly drawn test sources against a random
    test subset) and its floor (train images against that subset), which is not this protocol."""
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance, precision_recall

    f_ref = classifier.features("mnist", reference)
    out = {}
    for prefix, images in (("", outputs), ("real_vs_real_", real)):
        feats = classifier.features("mnist", images.float())
        precision, recall = precision_recall(f_ref, feats)
        out.update({f"{prefix}frechet_distance": round(frechet_distance(f_ref, feats), 3),
                    f"{prefix}precision": round(precision, 4), f"{prefix}recall": round(recall, 4)})
    return {**out, "frechet_num_samples": len(outputs), "frechet_num_reference": len(reference)}


def _diversity(outputs) -> float:
    """outputs (S, K, C, H, W) in grey levels: mean over sources of the mean pairwise L1 among
    the K outputs of one source, levels scaled to [0, 1]."""
    import torch

    o = outputs.float().flatten(2) / 255
    pairs = list(itertools.combinations(range(outputs.shape[1]), 2))
    return float(torch.stack([(o[:, i] - o[:, j]).abs().mean(1) for i, j in pairs], 1).mean())


def edges_to_digits(run: Path, name: str, rows: int = 1) -> dict[str, Any]:
    """The edges -> digits figures of a trained Pix2Pix or BicycleGAN (one translation per edge
    map, noise from a seeded generator) and a grid in benchmarks/figures/translation/<name>.png:
    row 1 sources, then `rows` rows of translations (each its own noise), last row targets."""
    import torch

    from perceptzoo.core import runner
    from perceptzoo.viz.images import save_grid

    model = runner.load(run)
    edges, digits, labels, other = _test_pairs()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        outputs = torch.cat([model.sample(250, cond=edges[i:i + 250], generator=g)
                             for i in range(0, len(edges), 250)])
        reps = torch.stack([model.sample(100, cond=edges[:100], generator=g) for _ in range(10)], 1)
    metrics = {
        "test_l1": round(float((outputs.float() - digits.float()).abs().mean() / 255), 5),
        **_protocol_fd(outputs, digits, other),
        "class_accuracy": round(_accuracy(outputs, labels), 4),
        "class_accuracy_real": round(_accuracy(digits, labels), 4),
        "diversity_l1": round(_diversity(reps), 5),
        "study_num_samples": N,
    }
    FIGURES.mkdir(parents=True, exist_ok=True)
    grid = [edges[:12] * 255, *[reps[:12, i].to(torch.uint8) for i in range(rows)], digits[:12]]
    save_grid(torch.cat(grid).numpy(), FIGURES / f"{name}.png", nrow=12)
    return metrics


def pix2pix_study(run: Path) -> dict[str, Any]:
    return edges_to_digits(run, "pix2pix_edges2digits", rows=1)


def pix2pix_small_study(run: Path) -> dict[str, Any]:
    return edges_to_digits(run, "pix2pix_edges2digits_small", rows=6)


def bicyclegan_study(run: Path) -> dict[str, Any]:
    """The edges -> digits figures with six z per source in the grid, and the latent regression
    error mean |mu(E(G(A, z))) - z| over the N sources beside chance (the same codes shuffled
    across sources) and the prior's mean |z|; the same error for the codes E gives real digits
    (each source given another test digit's code, the FD reference's) beside its chance, and those
    codes' mean and std per dimension (how far they are from filling N(0, I))."""
    import torch

    from perceptzoo.core import runner

    metrics = edges_to_digits(run, "bicyclegan_edges2digits", rows=6)
    model = runner.load(run)
    edges, _, _, others = _test_pairs()
    err, chance = model.latent_errors(edges, torch.Generator().manual_seed(1))
    codes = model.posterior_means(others).cpu()
    err_c, chance_c = model.latent_errors(edges, torch.Generator().manual_seed(1), z=codes)
    metrics.update(latent_regression_l1=round(err, 4), latent_regression_l1_chance=round(chance, 4),
                   latent_prior_l1=round(math.sqrt(2 / math.pi), 4),  # E|z|, z ~ N(0, 1)
                   latent_regression_l1_real_codes=round(err_c, 4),
                   latent_regression_l1_real_codes_chance=round(chance_c, 4),
                   real_code_mean=[round(v, 3) for v in codes.mean(0).tolist()],
                   real_code_std=[round(v, 3) for v in codes.std(0).tolist()])
    return metrics


def cyclegan_study(run: Path) -> dict[str, Any]:
    """X = n MNIST test digits, Y = printed_digits test[:n], n = N_UNPAIRED (all 2,000 printed
    test digits): cycle errors mean |F(G(x)) - x| and |G(F(y)) - y| per pixel in [0, 1] beside
    a freshly initialised pair (seed 0); the MNIST classifier's accuracy that a translation
    keeps the source's digit, both ways (beside its accuracy on the real images of each
    domain); FD of F(y) against n other MNIST test digits beside the printed-vs-handwritten FD
    (and as the recipe's frechet_distance, with its floor X against them, `_halves` and
    `_protocol_fd`); a grid, rows x, G(x), F(G(x)), y, F(y), G(F(y))."""
    import torch

    import perceptzoo
    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.viz.images import save_grid

    model = runner.load(run)
    mnist, printed = data.load("mnist", "test"), data.load("printed_digits", "test")
    n = N_UNPAIRED
    src, ref = _halves(n, len(mnist.x))
    x, x_labels, x_other = mnist.x[src], mnist.y[src], mnist.x[ref]
    y, y_labels = printed.x[:n], printed.y[:n]
    with torch.no_grad():
        g_x = torch.cat([model.translate(x[i:i + 250], "x_to_y") for i in range(0, n, 250)])
        f_y = torch.cat([model.translate(y[i:i + 250], "y_to_x") for i in range(0, n, 250)])
        cyc_x, cyc_y = model.cycle_errors(x, y)
        torch.manual_seed(0)
        untrained = perceptzoo.build("cyclegan", dataset="mnist", **{
            k: getattr(model.cfg, k) for k in ("channels", "num_blocks", "d_channels")})
        raw_x, raw_y = untrained.cycle_errors(x, y)
        k = 12
        rows = [x[:k], g_x[:k], model.translate(g_x[:k], "y_to_x"),
                y[:k], f_y[:k], model.translate(f_y[:k], "x_to_y")]
    FIGURES.mkdir(parents=True, exist_ok=True)
    save_grid(torch.cat([r.cpu().to(torch.uint8) for r in rows]).numpy(),
              FIGURES / "cyclegan_mnist_printed.png", nrow=k)
    return {
        "cycle_l1_x": round(cyc_x, 5), "cycle_l1_y": round(cyc_y, 5),
        "untrained_cycle_l1_x": round(raw_x, 5), "untrained_cycle_l1_y": round(raw_y, 5),
        "class_kept_x_to_y": round(_accuracy(g_x, x_labels), 4),
        "class_kept_y_to_x": round(_accuracy(f_y, y_labels), 4),
        "class_accuracy_real_x": round(_accuracy(x, x_labels), 4),
        "class_accuracy_real_y": round(_accuracy(y, y_labels), 4),
        "frechet_distance_printed_vs_handwritten": round(_fd(y, x_other), 3),
        **_protocol_fd(f_y, x, x_other),
        "study_num_samples": n,
    }


def _labels_of(video):
    """(B, T, 1, H, W) -> the MNIST classifier's digit for every frame, (B, T)."""
    import torch

    from perceptzoo.metrics import classifier

    net = classifier.load_classifier("mnist")
    flat = video.flatten(0, 1).float()
    with torch.no_grad():
        pred = torch.cat([net(flat[i:i + 500]).argmax(1) for i in range(0, len(flat), 500)])
    return pred.view(video.shape[:2])


def _write_gif(path: Path, src, out, tgt, scale: int = 3) -> None:
    """Videos (B, T, 1, H, W) in levels: one GIF, a row per video, source | output | target."""
    import io

    import numpy as np
    import torch
    from PIL import Image

    from perceptzoo.io import atomic_write

    pics = []
    for i in range(out.shape[1]):
        rows = [torch.cat([src[j, i, 0], out[j, i, 0], tgt[j, i, 0]], 1)
                for j in range(out.shape[0])]
        pic = torch.cat(rows, 0).clamp(0, 255).to(torch.uint8).numpy()
        img = Image.fromarray(np.ascontiguousarray(pic), "L")
        pics.append(img.resize((img.width * scale, img.height * scale), Image.NEAREST))
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=250, loop=0)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))


def vid2vid_frames(run: Path) -> dict[str, Any]:
    """On the 1000 held-out videos of 8 frames (the whole test split, N_VIDEOS): the per-frame
    FD of generated frame t against the real frame t (MNIST classifier features) and its mean,
    beside the floor real frame t+4 against real frame t; per-frame L1; temporal consistency:
    mean |x_t - x_{t-1}| generated and real, temporal_error_l1 =
    mean |(x~_t - x~_{t-1}) - (x_t - x_{t-1})| (frame differences, kept for comparison with
    earlier results); the warping error (`vid2vid.warping_error`: frame t-1 warped to t by the
    ground-truth motion, `vid2vid.rigid_flow`, then mean |.| where the warp is valid, grey
    levels / 255) of the generated videos and of the real ones (the floor: 0, the real digits
    move exactly by that flow; under zero flow it would be temporal_change_l1_real, the
    scale); the fraction of videos whose 8 frames the classifier gives one digit (generated
    and real); a GIF, rows source edges | output | target."""
    import torch

    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.data.moving_digits import frames
    from perceptzoo.data.paired import edge_source
    from perceptzoo.translation.vid2vid import rigid_flow, warping_error

    model = runner.load(run)
    test = data.load("moving_digits", "test")
    n = N_VIDEOS
    real = frames(test.x[:n])                                       # (n, T, 1, H, W)
    steps = real.shape[1]
    edges = edge_source(real.flatten(0, 1)).view_as(real)
    with torch.no_grad():
        out = torch.cat([model.translate(edges[i:i + 100]) for i in range(0, n, 100)]).cpu()
    fds = [round(_fd(out[:, t], real[:, t]), 3) for t in range(steps)]
    floor = [round(_fd(real[:, (t + steps // 2) % steps], real[:, t]), 3) for t in range(steps)]
    d_out = (out[:, 1:] - out[:, :-1]).float() / 255
    d_real = (real[:, 1:].float() - real[:, :-1].float()) / 255
    flows = rigid_flow(real)                                        # ground-truth motion
    warp_out = float(warping_error(out.float() / 255, flows).mean())
    warp_real = float(warping_error(real.float() / 255, flows).mean())
    lab_out, lab_real = _labels_of(out), _labels_of(real)
    FIGURES.mkdir(parents=True, exist_ok=True)
    _write_gif(FIGURES / "vid2vid_moving_digits.gif", edges[:6] * 255, out[:6],
               real[:6])
    return {
        "mean_frame_frechet_distance": round(sum(fds) / len(fds), 3),
        "per_frame_frechet_distance": fds,
        "per_frame_frechet_distance_real_floor": floor,
        "per_frame_l1": [round(float((out[:, t].float() - real[:, t].float()).abs().mean() / 255),
                               5) for t in range(steps)],
        "temporal_change_l1": round(float(d_out.abs().mean()), 5),
        "temporal_change_l1_real": round(float(d_real.abs().mean()), 5),
        "temporal_error_l1": round(float((d_out - d_real).abs().mean()), 5),
        "warping_error_l1": round(warp_out, 5),
        "warping_error_l1_real": round(warp_real, 5),
        "label_consistency": round(float((lab_out == lab_out[:, :1]).all(1).float().mean()), 4),
        "label_consistency_real": round(float((lab_real == lab_real[:, :1]).all(1)
                                              .float().mean()), 4),
        "class_accuracy": round(float((lab_out == test.y[:n, None]).float().mean()), 4),
        "num_videos": n, "num_frames": steps,
    }


_TRAIN = {"lr": 2e-4, "seed": 0, "eval_every": 100000, "checkpoint_every": 200}


def _recipe(model: str, dataset: str, variant: str, task: str, *, model_config: dict[str, Any],
            train: dict[str, Any], study, minutes: float, notes: str,
            figure: str = "frechet_distance", num_samples: int = N) -> Recipe:
    """A translation recipe named <model>-<dataset>-<variant>: `train` over the shared _TRAIN
    options, the harness's evaluation of `num_samples` samples (0: none), then `study`."""
    return Recipe(name=f"{model}-{dataset}-{variant}", model=model, dataset=dataset, task=task,
                  figure=figure, variant=variant, model_config=model_config,
                  train={**_TRAIN, **train}, evaluate={"num_samples": num_samples},
                  study=study, minutes=minutes, notes=notes)


RECIPES: list[Recipe] = [
    _recipe(
        "pix2pix", "mnist", "edges2digits", "translation_edges2digits",
        model_config={"channels": 32, "d_channels": 32},
        train={"steps": 1500, "batch_size": 32}, study=pix2pix_study, minutes=20.0,
        notes="U-Net + pair PatchGAN, cGAN + 100 L1; FD of translations of 5000 test edge "
        "maps against the other 5000 test digits; the study adds L1, class accuracy, dropout "
        "diversity and benchmarks/figures/translation/pix2pix_edges2digits.png"),
    _recipe(
        "pix2pix", "mnist", "edges2digits-small", "translation_edges2digits",
        model_config={"channels": 8, "d_channels": 16},
        train={"lr": 1e-3, "steps": 2000, "batch_size": 16}, study=pix2pix_small_study,
        minutes=15.0,
        notes="Pix2Pix at BicycleGAN's CPU size and schedule (G channels 8, D channels 16, "
        "2000 steps of 16 at lr 1e-3): the dropout-only diversity beside BicycleGAN's z "
        "diversity at the same budget; grid "
        "benchmarks/figures/translation/pix2pix_edges2digits_small.png"),
    _recipe(
        "bicyclegan", "mnist", "edges2digits", "translation_edges2digits",
        model_config={"channels": 8, "e_channels": 8, "d_channels": 16, "latent_dim": 1,
                      "lambda_kl": 0.1},
        train={"lr": 1e-3, "steps": 2000, "batch_size": 16}, study=bicyclegan_study,
        minutes=15.0,
        notes="cVAE-GAN + cLR-GAN (z at every G layer, conditional Ds, E without norm), "
        "z in R^1, lambda_KL 0.1; FD of translations of 5000 test edge maps with "
        "z ~ N(0, I) against the other 5000 test digits; the study adds L1, class accuracy, "
        "diversity "
        "(mean pairwise L1 of 10 z per edge map), the latent regression error for prior draws "
        "and for the codes E gives real digits, each beside chance, and "
        "benchmarks/figures/translation/bicyclegan_edges2digits.png (rows: sources, six z, "
        "targets). Shrunk for 2 shared CPU cores, against the paper's |z| = 8, lambda_KL = 0.01, "
        "lr 2e-4: an edge map leaves about one dimension of a digit open (its stroke), so with "
        "|z| = 2 the second dimension's code died (std 0.04 across digits, posterior sigma "
        "0.76) and prior draws in it were not recovered (ratio to chance 0.73-0.87 over "
        "steps 750-3000, latent loss flat from step 750); with |z| = 1 and lambda_KL 0.01 E's "
        "codes drifted to +-4 in 2 of 3 seeds (KL too weak to hold them in a short run); "
        "lambda_KL 0.1 keeps them centred (bicyclegan.py's docstring has the probes)"),
    _recipe(
        "cyclegan", "mnist", "printed_digits", "translation_unpaired",
        model_config={"channels": 8, "num_blocks": 2, "d_channels": 16},
        train={"steps": 4000, "batch_size": 8}, study=cyclegan_study, minutes=30.0,
        num_samples=N_UNPAIRED,
        notes="handwritten MNIST <-> printed digits (installed fonts), unpaired, 4000 steps of 8 "
        "(after 500, F(y) was further from MNIST than the printed digits themselves: FD 165.5 "
        "against 104.1, and the cycle losses still falling); FD of F(y) for "
        "the 2000 printed test digits y against 2000 MNIST test digits; the study adds "
        "cycle errors beside an untrained pair's, class kept both ways and "
        "benchmarks/figures/translation/cyclegan_mnist_printed.png"),
    _recipe(
        "vid2vid", "moving_digits", "edges2video", "translation_video",
        model_config={"channels": 16, "d_channels": 16},
        train={"steps": 600, "batch_size": 8}, study=vid2vid_frames, minutes=20.0,
        figure="mean_frame_frechet_distance", num_samples=0,
        notes="edge video -> digit video, reduced vid2vid with flow warping; the study gives "
        "per-frame FD, temporal consistency (frame differences, and the warping error under "
        "the digits' ground-truth motion beside the real videos') and "
        "benchmarks/figures/translation/vid2vid_moving_digits.gif"),
]
