"""3D generators on procedural primitives and real meshes (`perceptzoo.data.voxels`): the voxel
3D-GAN on occupancy grids, PlatonicGAN on silhouettes only. Ranked by the Fréchet distance in
the voxel classifier's features (`perceptzoo.gans3d.scores.study`: also IoU to the nearest
training shape, the real-vs-real floor and a turntable GIF in the run folder). The papers report
ShapeNet/ModelNet figures at 64^3 only, so no recipe carries a published figure. CPU budget: 800
steps at batch 32 took about 10 minutes on one shared thread; the GPU recipes train 32^3 grids
longer.

The FD follows the project's protocol (`scores.NUM_SAMPLES`): 10,000 generated volumes against
10,000 held-out shapes (the test split and more of its seeded stream), beside the real-vs-real
floor of 10,000 other held-out shapes (the valid split and more of its stream) against the
same 10,000; on the "+real" datasets both sets hold held-out mesh placements (bunny, spot) in the
train split's proportion of meshes (27 %), and a third figure gives the training distribution's
own distance to that reference. The features are those of a classifier of the run's
resolution (`gans3d.classifier`: voxel_classifier16 / voxel_classifier32, trained on
primitives and placements of the training meshes armadillo, dragon, cow), so 32^3 recipes are
scored at 32^3, no downsampling. (Until the re-scoring of these runs the FD came from 128
samples against 128 held-out shapes, in a 16^3 classifier of primitives only, 32^3 grids 2x
downsampled; the trained runs were kept and re-scored with `perceptzoo bench NAME --eval-only`.)

At 32^3 (voxels32, voxel_views32) one generator step costs about 8 times a 16^3 one (measured
on one thread: 0.57 CPU-s for voxel_gan, 0.38 for platonic_gan at batch 32), so those recipes
train 600 / 900 steps (measured: 5.4 and 6.9 CPU-minutes; the machine was shared by two other
benchmark streams at load ~8, so wall time was 21 and 27 minutes). IoU at 32^3 too.
The "+real" recipes train on the catalogue with real meshes mixed in (`data.voxels`: armadillo,
dragon and cow at 32 random rotations and scales each; bunny and spot held out) and add
figures on whether the meshes were learned (`scores.score`).

The platonic_gan-voxel_views16-{absorption,sparse,hull,absorption_slow_d} variants are the
runs that chose PlatonicGAN's settings (trained by a retired study script with exactly these
configurations, then adopted as recipes and re-scored through the harness).

The 3D-aware image generators (GRAF, GIRAFFE, the EG3D tri-plane generator, HoloGAN) train on the
voxel_views16 silhouettes (300 steps at batch 16); all four also on the 32 x 32 silhouettes
(voxel_views32, issue 19's size) and on the +real silhouettes, and GRAF on the +real shaded
views (`voxel_views16+real:shaded`, Lambertian renders of the same shapes at the same poses;
HoloGAN and GIRAFFE refuse shaded data). They are ranked by the Fréchet distance of 10,000
renders against views of 10,000 held-out shapes of the run's dataset in the features of the
view classifier of its image size (`gans3d.view_classifier`, 16 x 16 or 32 x 32: 4 primitive
kinds + armadillo, dragon, cow), beside its real-vs-real floor
(`perceptzoo.gans3d.scores.study_views`: also the view-consistency error, the identity
agreement across poses and a turntable GIF); a shaded run is scored on its renders'
silhouettes, so by shape only. The papers report FID on 64-512 px photographs only: no
comparable published figure.
"""

from __future__ import annotations

from dataclasses import replace

from perceptzoo.bench.recipe import Recipe
from perceptzoo.gans3d.scores import study, study_views

_CONSTANT = {"schedule": "constant", "grad_clip": None}
FIGURE = "frechet_distance_voxel_classifier"
VIEW_FIGURE = "frechet_distance_view_classifier"
_VIEWS_TRAIN = {"steps": 300, "batch_size": 16, "lr": 5e-4, "eval_every": 300,
                "num_samples": 0, **_CONSTANT}


def _views16(model: str, model_config: dict, notes: str, **train) -> Recipe:
    """A 3D-aware generator's recipe on the voxel_views16 silhouettes (`_VIEWS_TRAIN` with
    `train`'s changes)."""
    return Recipe(name=f"{model}-voxel_views16", model=model, dataset="voxel_views16",
                  task="gans3d_renders", model_config=model_config,
                  train={**_VIEWS_TRAIN, **train}, evaluate={"num_samples": 0}, minutes=8.0,
                  study=study_views, figure=VIEW_FIGURE, notes=notes)


#: the 3D-aware generators' recipes on voxel_views16; `_on` trains each the same way on another
#: view dataset
_GRAF = _views16("graf", {"channels": 16},
                 "Schwarz et al. 2020 at 16x16 (whole-image patch), one grey channel")
_EG3D = _views16(
    "eg3d", {"channels": 32},
    "Chan et al. 2022 tri-planes 32x32x16 at 16x16 renders (no super-resolution at this size); "
    "D not pose-conditioned (unlabelled views), so no generator pose conditioning (with it "
    "the camera replaced z as the latent: issue 19)")
_HOLOGAN = _views16(
    "hologan", {"channels": 16},
    "Nguyen-Phuoc et al. 2019: 16^3 feature volume, rigid rotation, projection unit, identity "
    "regulariser, R1 gamma 10 on D (without it G ignored z: issue 19); no style discriminator",
    lr=2e-4)
_GIRAFFE = _views16(
    "giraffe", {"channels": 16, "background": False},
    "Niemeyer & Geiger 2021: one object field (no background field: the views' background is "
    "empty), feature image 8x8, neural renderer to 16x16, R1 gamma 10")


def _on(base: Recipe, dataset: str, notes: str, variant: str = "", **changes) -> Recipe:
    """`base` (a voxel_views16 recipe) trained with its settings on another view dataset (and
    `changes`: a longer training, another budget), named model-dataset[-variant]."""
    name = "-".join(p for p in (base.model, dataset.split(":")[0], variant) if p)
    return replace(base, name=name, dataset=dataset, variant=variant, notes=notes, **changes)


_PLUS_REAL = "on the +real silhouettes; FD against views of held-out shapes of the same mix"
_LONGER = {"train": {**_VIEWS_TRAIN, "steps": 900, "eval_every": 900}}

RECIPES: list[Recipe] = [
    Recipe(
        name="voxel_gan-voxels16", model="voxel_gan", dataset="voxels16", task="gans3d_voxels",
        model_config={"channels": 16, "latent_dim": 64},
        train={"steps": 800, "batch_size": 32, "lr": 1e-3, "eval_every": 800,
               "num_samples": 0, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=12.0, study=study, figure=FIGURE,
        notes="Wu et al. 2016 at 16^3 on random primitives",
    ),
    Recipe(
        name="platonic_gan-voxel_views16", model="platonic_gan", dataset="voxel_views16",
        task="gans3d_views",
        model_config={"channels": 16, "latent_dim": 64, "projection": "visual_hull",
                      "init_occupancy": 0.05, "d_lr_scale": 0.1},
        train={"steps": 1200, "batch_size": 32, "lr": 2e-4, "eval_every": 1200, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=6.0, study=study, figure=FIGURE,
        notes="Henzler et al. 2019: 16^3 volumes learned from one silhouette per shape; "
              "with D at G's rate either projection collapses to empty volumes (absorption "
              "at D 0.1x trains like the hull: study variant absorption_slow_d)",
    ),
    Recipe(
        name="voxel_gan-voxels32", model="voxel_gan", dataset="voxels32", task="gans3d_voxels",
        model_config={"channels": 16, "latent_dim": 64},
        train={"steps": 600, "batch_size": 32, "lr": 1e-3, "eval_every": 600,
               "num_samples": 0, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=8.0, study=study, figure=FIGURE,
        notes="Wu et al. 2016 at 32^3 on random primitives, 600 steps (CPU budget: 16^3 had "
              "800); FD at 32^3 in the 32^3 classifier's features (no downsampling)",
    ),
    Recipe(
        name="voxel_gan-voxels16+real", model="voxel_gan", dataset="voxels16+real",
        task="gans3d_voxels", model_config={"channels": 16, "latent_dim": 64},
        train={"steps": 800, "batch_size": 32, "lr": 1e-3, "eval_every": 800,
               "num_samples": 0, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=3.0, study=study, figure=FIGURE,
        notes="Wu et al. 2016 at 16^3 on the catalogue with 3 real meshes mixed in at random "
              "rotations/scales (27 % of train); FD against held-out primitives and "
              "held-out meshes (bunny, spot) in the same mix",
    ),
    Recipe(
        name="platonic_gan-voxel_views32", model="platonic_gan", dataset="voxel_views32",
        task="gans3d_views",
        model_config={"channels": 16, "latent_dim": 64, "projection": "visual_hull",
                      "init_occupancy": 0.025, "d_lr_scale": 0.1},
        train={"steps": 900, "batch_size": 32, "lr": 2e-4, "eval_every": 900, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=8.0, study=study, figure=FIGURE,
        notes="Henzler et al. 2019 at 32^3 from one 32x32 silhouette per shape, 900 steps "
              "(CPU budget: 16^3 had 1200); init occupancy halved so a first ray of 32 voxels "
              "renders as 16 did at 16^3; FD at 32^3 in the 32^3 classifier's features "
              "(no downsampling)",
    ),
    Recipe(
        name="platonic_gan-voxel_views16+real", model="platonic_gan",
        dataset="voxel_views16+real", task="gans3d_views",
        model_config={"channels": 16, "latent_dim": 64, "projection": "visual_hull",
                      "init_occupancy": 0.05, "d_lr_scale": 0.1},
        train={"steps": 1200, "batch_size": 32, "lr": 2e-4, "eval_every": 1200, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=4.0, study=study, figure=FIGURE,
        notes="Henzler et al. 2019 at 16^3 from one silhouette per shape of the catalogue "
              "with 3 real meshes mixed in (platonic_gan-voxel_views16's settings); scored "
              "against voxels16+real's held-out mix (primitives and bunny/spot placements)",
    ),
    *[Recipe(
        name=f"platonic_gan-voxel_views16-{variant}", model="platonic_gan",
        dataset="voxel_views16", task="gans3d_views", variant=variant,
        model_config={"channels": 16, "latent_dim": 64, **model},
        train={"steps": steps, "batch_size": 32, "lr": 2e-4, "eval_every": 100000,
               "checkpoint_every": 200, "num_samples": 0, **_CONSTANT},
        evaluate={"num_samples": 0}, minutes=minutes, study=study, figure=FIGURE,
        notes=notes) for variant, model, steps, minutes, notes in (
        ("absorption", {"projection": "absorption", "d_lr_scale": 1.0, "init_occupancy": 0.5},
         800, 12.0, "PlatonicGAN's absorption projection with D at G's rate from a half-full "
         "start: D wins at once and every volume comes out empty"),
        ("sparse", {"projection": "absorption", "d_lr_scale": 0.5, "init_occupancy": 0.05},
         600, 6.0, "absorption from a sparse start (occupancy 0.05), D at half G's rate: "
         "still empty volumes"),
        ("hull", {"projection": "visual_hull", "d_lr_scale": 0.1, "init_occupancy": 0.05},
         300, 2.0, "visual hull, D at 0.1x, 300 steps (the recipe's settings, a quarter of "
         "its steps)"),
        ("absorption_slow_d", {"projection": "absorption", "d_lr_scale": 0.1,
                               "init_occupancy": 0.05},
         300, 2.0, "absorption with the hull run's slower D (0.1x), 300 steps: it trains "
         "like the hull, so the collapse was D's rate, not the projection"))],
    _GRAF, _EG3D, _HOLOGAN, _GIRAFFE,
    # the four at 32 x 32 (issue 19's size), each with its voxel_views16 settings; EG3D renders
    # at 16 x 16 and its super-resolution module doubles that, as the paper's 2-4x
    _on(_GRAF, "voxel_views32", "GRAF (graf-voxel_views16's settings) at 32x32 (whole-image "
        "patch); FD in the 32x32 view classifier's features", minutes=45.0),
    _on(_EG3D, "voxel_views32", "EG3D (eg3d-voxel_views16's settings) at 32x32: volume "
        "rendering of 16x16 feature images, super-resolution to 32x32, D sees both (dual "
        "discrimination)", minutes=30.0,
        model_config={**_EG3D.model_config, "render_resolution": 16}),
    _on(_HOLOGAN, "voxel_views32", "HoloGAN (hologan-voxel_views16's settings) at 32x32",
        minutes=45.0),
    _on(_GIRAFFE, "voxel_views32", "GIRAFFE (giraffe-voxel_views16's settings) at 32x32: 8x8 "
        "feature image, neural renderer to 32x32 (4x, as the paper's 16 -> 64)", minutes=20.0),
    _on(_GRAF, "voxel_views32", "graf-voxel_views32 trained 3x longer (900 steps): at 300 its "
        "renders are blobs", variant="900steps", minutes=75.0, **_LONGER),
    _on(_EG3D, "voxel_views16", "EG3D with GRAF's discriminator settings (R1 gamma 10, D at "
        "0.2x lr): the generators compared with one training game", variant="graf_d",
        model_config={**_EG3D.model_config, "r1_gamma": 10.0, "d_lr_scale": 0.2}),
    _on(_GRAF, "voxel_views16+real", "GRAF (graf-voxel_views16's settings) on silhouettes of "
        "the catalogue with 3 real meshes mixed in (armadillo, dragon, cow at random "
        "rotations/scales, 27 % of train; bunny and spot held out); FD against views of "
        "10,000 held-out shapes of the same mix (new primitives, new placements of the "
        "training meshes) in the 7-class view classifier's features"),
    _on(_GRAF, "voxel_views16+real:shaded", "GRAF on the Lambertian-shaded grey views (256 "
        "levels) of the same shapes and poses: its one grey channel carries the shading under "
        "the fixed world light; FD on the silhouettes of its renders (pixels above half the "
        "ambient level)", variant="shaded"),
    _on(_EG3D, "voxel_views16+real", f"EG3D (eg3d-voxel_views16's settings) {_PLUS_REAL}"),
    _on(_HOLOGAN, "voxel_views16+real",
        f"HoloGAN (hologan-voxel_views16's settings) {_PLUS_REAL}"),
    _on(_GIRAFFE, "voxel_views16+real",
        f"GIRAFFE (giraffe-voxel_views16's settings) {_PLUS_REAL}"),
    _on(_GRAF, "voxel_views16+real", "graf-voxel_views16+real trained 3x longer (900 steps): "
        "does the FD of renders fall with training on the +real views", variant="900steps",
        minutes=15.0, **_LONGER),
]
