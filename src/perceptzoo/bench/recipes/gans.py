"""GANs: sample quality on MNIST, Fashion-MNIST and digits (Frechet distance, precision,
recall in the project classifier's features, beside the real-vs-real floor at the same size:
10,000 samples in the full suite, as many as the training split holds on the digits, 1,000 in
the quick one) and the 2D toys (MMD).

Every image GAN has an MNIST and a Fashion-MNIST row: the MLP GAN, DCGAN, WGAN with weight
clipping, WGAN-GP, the unrolled GAN, the progressive GAN and the StyleGAN-style generator (the
last two also on the 8x8 digits, beside a DCGAN). The progressive and style-based generators
grow 7x7 -> 14x14 -> 28x28 on MNIST (see the comment above their recipes).

The papers report no MNIST sample-quality figure (Goodfellow et al. 2014 give a Parzen
log-likelihood, the rest Inception/FID scores on natural images), so no recipe carries a
published figure. Mode coverage on the 8-Gaussian ring and the 25-Gaussian grid is a recipe per
model and toy whose study (`perceptzoo.gans.mode_study`) trains and scores 3 seeds. The DCGAN
peer comparison, inversion and StyleFlow edits are study scripts
(`benchmarks/gan_peer_dcgan.py`, `gan_inversion.py`, `gan_styleflow.py`).
Steps below are what fit the budget on one shared CPU thread when measured.
"""

from __future__ import annotations

from perceptzoo.bench.recipe import Recipe
from perceptzoo.gans.mode_study import mode_study

_CONSTANT = {"schedule": "constant", "grad_clip": None}

#: Mode coverage on the ring of 8 and the grid of 25 Gaussians, 3 seeds each (mode_study trains
#: seeds 1 and 2 beside the harness's seed 0; `minutes` covers all three). The GAN and the
#: unrolled GAN share Metz et al.'s 2D setting as the authors' notebook has it
#: (github.com/poolio/unrolled_gan): z ~ N(0, I_256), G 2 x 128 ReLU, D 1 x 128 (LeakyReLU here)
#: on x / 4, the minimax losses, Adam beta1 0.5 -- the GAN is the unrolled GAN at K = 0. Batch
#: 256 (theirs 512); both networks at lr 1e-3 (notebook: D 1e-4, G 1e-3), since 1,000 steps fit
#: the CPU budget, not their 25,000, and with D at 1e-4 five unrolled steps hardly move D within
#: 1,000 steps (measured: K = 5 collapsed like K = 0). WGAN-GP: Gulrajani et al.'s toy setting
#: (MLPs 2 x 128, lambda 10, n_critic 5, Adam 1e-4, betas (0, 0.9)), 128 points per critic step.
_MODE_STEPS = 1000
_TOY_GAN = {"latent_dim": 256, "hidden_g": [128, 128], "hidden_d": [128], "input_scale": 0.25,
            "generator_loss": "minimax"}
_MODE_MODELS = [
    ("gan", {**_TOY_GAN, "k": 1},
     {"steps": _MODE_STEPS, "batch_size": 256, "lr": 1e-3}, 2,
     "Metz et al.'s 2D GAN (the unrolled GAN at K = 0), lr 1e-3 for both networks"),
    ("unrolled_gan", {**_TOY_GAN, "unroll_steps": 5},
     {"steps": _MODE_STEPS, "batch_size": 256, "lr": 1e-3}, 6,
     "Metz et al.'s 2D setting, K = 5 unrolled Adam steps, lr 1e-3 for both networks"),
    ("wgan_gp", {"latent_dim": 256, "hidden": [128, 128], "n_critic": 5},
     {"steps": _MODE_STEPS, "batch_size": 640, "lr": 1e-4}, 6,
     "Gulrajani et al.'s toy setting, 128 points per critic step"),
]
_METZ_NOTE = ("; Metz et al. 2017 show the ring as figures (the GAN visits one mode at a time, "
              "the unrolled GAN covers all 8), no table of counts: figure number and their "
              "paper's appendix not verified here (only the abstract and the authors' notebook "
              "were reachable); their ring has std 0.02 (ours 0.2, grid 0.1), 25k steps")
#: The grid trains the GAN and the unrolled GAN 3,000 steps. At 1,000 the unrolled GAN's 25/25
#: modes meant nothing: its samples filled the square [-2.5, 2.5]^2 almost evenly (offset from
#: the nearest centre: std 0.30 per axis; 0.29 for a uniform cell, 0.1 for the data), with D at
#: log 4 and D(x) = D(G(z)) = 0.50 at step 1000 -- D could not tell the blob from the grid.
#: Its high-quality fraction 0.24 is the data-matched Gaussian's (mode_study's baseline: 25/25
#: modes, 0.25; uniform on the square 0.29). Probes (2,500 samples, recipe setting, seeds 0/1):
#: high-quality 0.26/0.25 at step 1000, 0.31/0.30 at 2000, 0.36/0.34 at 2500, -/0.37 at 3000,
#: -/0.37 at 4000 -- it sharpens slowly and is budget-bound, not broken. D's capacity is the
#: larger lever: D 2 x 128 gave 0.34 at 1000 and 0.45 at 2000 (seed 0; 4x the CPU per step;
#: not the notebook's D, so not taken); D on x unscaled (input_scale 1) 0.26/0.29 at 1000/2000
#: (no help); the notebook's D lr 1e-4 collapsed to 1-2 modes (2000 steps); K = 0 covers 3-4.
#: The literature's grid is sharper: PacGAN's code (github.com/fjxmlzn/PacGAN, 2DGrid config)
#: has means {-4, -2, 0, 2, 4}^2 and std 0.05, std / spacing 0.025 against our 0.1, where a
#: blob would score ~2 % high-quality samples, not 25 %. Their and VEEGAN's (Srivastava et al.
#: 2017, Table 1) unrolled-GAN grid figures are in tables we could not read (an image; the
#: paper text was not reachable): not verified, not quoted.
_GRID_STEPS = {"gan": 3000, "unrolled_gan": 3000}
_GRID_NOTE = ("; 3,000 steps on the grid: at 1,000 the unrolled GAN's samples were a blob over "
              "the square, as good as mode_study's Gaussian baseline (high-quality 0.24 vs "
              "0.25, both 25/25 modes); probes and the literature's sharper grid: "
              "recipes/gans.py above _GRID_STEPS")


def _mode_recipe(toy: str, model: str, config: dict, train: dict, minutes: float,
                 notes: str) -> Recipe:
    steps = _GRID_STEPS.get(model, train["steps"]) if toy == "25gaussians" else train["steps"]
    grid_note = _GRID_NOTE if steps != train["steps"] else ""
    return Recipe(
        name=f"{model}-toy2d_{toy}-modes", model=model, dataset=f"toy2d:{toy}",
        task="toy2d_modes", figure="mode_recall", model_config=dict(config),
        train={**train, "steps": steps, "eval_every": steps, "checkpoint_every": 250,
               **_CONSTANT},
        evaluate={"num_samples": 2000}, minutes=minutes * steps / train["steps"],
        study=mode_study,
        notes=notes + (_METZ_NOTE if model != "wgan_gp" else "") + grid_note)


#: the image GANs' networks, each shared by its MNIST, Fashion-MNIST (and digits) recipes
_MLP_GAN = {"latent_dim": 100, "hidden_g": [256, 512], "hidden_d": [512, 256]}
_DCGAN = {"latent_dim": 100, "channels": 32}
_WGAN_GP = {**_DCGAN, "n_critic": 5}
_WGAN = {**_WGAN_GP, "clip_value": 0.01}
#: the unrolled GAN on images: DCGAN's networks (D without normalisation) and non-saturating
#: loss with K = 5 unrolled discriminator steps; its ablation, the same at K = 0
_UNROLLED_CONV = {**_DCGAN, "arch": "conv", "unroll_steps": 5,
                  "generator_loss": "non_saturating"}
_UNROLLED_CONV_K0 = {**_UNROLLED_CONV, "unroll_steps": 0}
_NO_UNROLLING = "K = 0: no unrolled discriminator steps (the unrolled GAN's one idea)"
_PROGRESSIVE = {"latent_dim": 64, "stage_steps": 50, "d_lr_scale": 4.0}
_STYLEGAN = {"latent_dim": 64, "w_dim": 64, "r1_gamma": 10.0, "r1_every": 16}


def _image_gan(model: str, dataset: str, config: dict, steps: int, batch_size: int, lr: float,
               minutes: float, notes: str, variant: str = "", ablation: str = "") -> Recipe:
    """A full-suite image GAN recipe: constant lr, scored once at the end of training."""
    return Recipe(
        name=f"{model}-{dataset}" + (f"-{variant}" if variant else ""), model=model,
        dataset=dataset, variant=variant,
        task=f"{dataset}_sample_quality", model_config=dict(config),
        train={"steps": steps, "batch_size": batch_size, "lr": lr, "eval_every": steps,
               **_CONSTANT},
        suites=("full",), minutes=minutes, notes=notes, ablation=ablation)

RECIPES: list[Recipe] = [
    # -- quick suite ----------------------------------------------------------------------------
    Recipe(
        name="dcgan-digits-quick", model="dcgan", dataset="digits",
        task="digits_sample_quality", variant="quick",
        model_config={"latent_dim": 32, "channels": 32},
        train={"steps": 300, "batch_size": 64, "lr": 2e-4, "eval_every": 300, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("quick",), minutes=1.0,
        notes="quick suite: DCGAN on the embedded 8x8 digits",
    ),
    Recipe(
        name="gan-toy2d_8gaussians-quick", model="gan", dataset="toy2d:8gaussians",
        task="toy2d", variant="quick",
        model_config={"latent_dim": 64, "hidden_g": [128, 128], "hidden_d": [128]},
        train={"steps": 500, "batch_size": 256, "lr": 2e-4, "eval_every": 500, **_CONSTANT},
        evaluate={"num_samples": 2000}, suites=("quick",), minutes=0.5,
        notes="quick suite: the non-saturating GAN on the ring of 8 Gaussians",
    ),
    # -- full suite: MNIST sample quality -----------------------------------------------------
    _image_gan("gan", "mnist", _MLP_GAN, 3000, 64, 2e-4, 6,
               "MLP generator and discriminator (Goodfellow et al. 2014, non-saturating loss)"),
    _image_gan("unrolled_gan", "mnist", _UNROLLED_CONV, 5000, 64, 2e-4, 45,
               "dcgan-mnist's networks, losses and 5000 steps of 64 with K = 5 unrolled "
               "discriminator steps, D without batch norm (with it, or with layer norm, G's "
               "samples went flat grey: unrolled_gan.py). A step costs about 7 of DCGAN's "
               "(0.43 s against 0.06 s on one thread). Metz et al.'s MNIST experiments use conv "
               "nets; with gan-mnist's MLPs instead (2000 steps) D won throughout (D(x) ~ 0.98, "
               "D(G(z)) ~ 0.03 from step 200) and FD was 439.5 at 10,000 samples, recall 0"),
    _image_gan("unrolled_gan", "mnist", _UNROLLED_CONV_K0, 5000, 64, 2e-4,
               10, "the ablation of unrolled_gan-mnist: the same networks (D without batch "
               "norm), losses and steps at K = 0, no unrolling", variant="k0",
               ablation=_NO_UNROLLING),
    _image_gan("dcgan", "mnist", _DCGAN, 5000, 64, 2e-4, 15,
               "5000 steps of 64 (6.4 epochs); an earlier 650-step budget (sized under heavy "
               "load) gave FD 176 in 78 s of training"),
    _image_gan("wgan_gp", "mnist", _WGAN_GP, 2000, 160, 1e-4, 15,
               "n_critic 5 x 32 images per critic step, 2000 generator steps; an earlier "
               "250-step budget (sized under heavy load) gave FD 643 in 77 s of training"),
    _image_gan("wgan", "mnist", _WGAN, 1000, 160, 5e-5, 8,
               "weight clipping (Arjovsky et al. 2017, Algorithm 1: RMSProp lr 5e-5, c 0.01, "
               "n_critic 5; their critic keeps batch norm) on the wgan_gp-mnist networks, "
               "n_critic 5 x 32 images per critic step, 1000 generator steps (the paper: "
               "~100k, with 100 critic steps early on, not done here)"),
    # -- full suite: Fashion-MNIST sample quality -------------------------------------------
    _image_gan("dcgan", "fashion_mnist", _DCGAN, 1200, 64, 2e-4, 15,
               "the dcgan-mnist setting on Fashion-MNIST (Radford et al. 2016: Adam 2e-4, "
               "beta1 0.5, batch norm, N(0, 0.02) init); steps sized to ~15 CPU-minutes"),
    _image_gan("gan", "fashion_mnist", _MLP_GAN, 3000, 64, 2e-4, 6,
               "the gan-mnist setting on Fashion-MNIST"),
    _image_gan("unrolled_gan", "fashion_mnist", _UNROLLED_CONV, 1200, 64, 2e-4, 15,
               "the unrolled_gan-mnist setting on Fashion-MNIST at dcgan-fashion_mnist's 1200 "
               "steps. With gan-mnist's MLPs (2000 steps) G collapsed to one noisy garment-like "
               "image: FD 436.9, recall 0"),
    _image_gan("unrolled_gan", "fashion_mnist", _UNROLLED_CONV_K0, 1200, 64,
               2e-4, 5, "the ablation of unrolled_gan-fashion_mnist: the same networks (D "
               "without batch norm), losses and steps at K = 0, no unrolling", variant="k0",
               ablation=_NO_UNROLLING),
    # the three at mnist's 5000 steps: at 1200 the unrolled GAN trailed DCGAN (102.7 vs 45.4)
    *[_image_gan(model, "fashion_mnist", config, 5000, 64, 2e-4, minutes,
                 f"{base} at 5000 steps of 64 (the MNIST recipes' length), not 1200",
                 variant="-".join(v for v in (variant, "5000steps") if v),
                 ablation=_NO_UNROLLING if config is _UNROLLED_CONV_K0 else "")
      for model, config, variant, minutes, base in (
          ("unrolled_gan", _UNROLLED_CONV, "", 45, "unrolled_gan-fashion_mnist"),
          ("unrolled_gan", _UNROLLED_CONV_K0, "k0", 10, "unrolled_gan-fashion_mnist-k0"),
          ("dcgan", _DCGAN, "", 15, "dcgan-fashion_mnist"))],
    _image_gan("wgan_gp", "fashion_mnist", _WGAN_GP, 1000, 160, 1e-4, 10,
               "the wgan_gp-mnist setting on Fashion-MNIST at half its 2000 generator steps"),
    _image_gan("wgan", "fashion_mnist", _WGAN, 1000, 160, 5e-5, 8,
               "the wgan-mnist setting (weight clipping) on Fashion-MNIST, 1000 generator "
               "steps"),
    # -- MNIST and Fashion-MNIST: the progressive and style-based generators -----------------
    # Both grow by factors of 2 from a base of side / 4: 7x7 -> 14x14 -> 28x28 on MNIST (the
    # papers start at 4x4 and reach 2^k: 28 is no doubling of 4, and padding to 32 would add a
    # stage and a blank border G must learn and the FD crops away). The architecture is the
    # digits one (2x2 -> 4x4 -> 8x8) at a 7x7 base; a side that is not a multiple of 4 is
    # refused with a UserError (tests/gans/test_progressive_gan.py, test_stylegan.py).
    # The 3x3 convolutions at 28x28 cost ~5x the DCGAN's per image on one thread, so these see
    # fewer images than dcgan-mnist (5000 x 64) in ~10 CPU-minutes; channels 16 (300k / 200k
    # parameters, the DCGAN's 384k) rather than the digits recipes' 32 (860k / 650k, 2.5x the
    # time per step), trading width for images seen.
    *[_image_gan(
        "progressive_gan", ds, {**_PROGRESSIVE, "channels": 16}, steps, 32, 1e-3, minutes,
        f"the progressive_gan-digits schedule at 7x7 -> 14x14 -> 28x28: 7x7 for 50 steps, "
        f"14x14 faded in over 50 and stabilised 50, 28x28 faded in over 50 and stabilised "
        f"{steps - 200} of {steps} steps of 32 ({steps * 32 // 1000}k images); critic at 4x "
        f"G's lr as on digits" + extra)
      for ds, steps, minutes, extra in (
          ("mnist", 3000, 18, ""),
          ("fashion_mnist", 3000, 18,
           "; 1500 steps (48k images, fewer than dcgan-fashion_mnist's 77k) gave FD 87.3, "
           "precision 0.46, recall 0.185 in 300 s (4.0 CPU-min), blotchy garments"))],
    *[_image_gan(
        "stylegan", ds, {**_STYLEGAN, "channels": 16}, steps, 32, 1e-3, minutes,
        f"the stylegan-digits training (equalised lr, Adam 1e-3 betas (0, 0.99), mapping at "
        f"0.01x, R1 gamma 10 every 16 steps, EMA with ramp-up, sqrt(2) gain) with a 7x7 "
        f"constant grown to 28x28; {steps} steps of 32 ({steps * 32 // 1000}k images)")
      for ds, steps, minutes in (("mnist", 3000, 18), ("fashion_mnist", 1500, 10))],
    # -- digits: DCGAN beside the style-based and progressive generators -----------------------
    _image_gan("dcgan", "digits", _DCGAN, 1000, 64, 2e-4, 5,
               "the DCGAN of the MNIST recipe on the 8x8 digits, 1000 steps: the reference the "
               "StyleGAN and progressive GAN recipes are compared with at the same floor"),
    _image_gan("stylegan", "digits", {**_STYLEGAN, "channels": 32}, 1500, 32, 1e-3, 12,
               "Karras et al. 2019/2020 training: equalised lr, Adam 1e-3 betas (0, 0.99), "
               "mapping at 0.01x, R1 gamma 10 lazily every 16 steps, EMA of G with ramp-up; "
               "sqrt(2) gain after each LeakyReLU as in StyleGAN2's code (a 400-step probe "
               "before that gain was added: FD 151 with gamma 10, 145 with gamma 1)"),
    _image_gan("progressive_gan", "digits", {**_PROGRESSIVE, "channels": 32}, 2000, 32, 1e-3,
               10,
               "64k images, as many as dcgan-digits (1000 x 64); 2x2 for 50 steps, 4x4 faded "
               "in over 50 and stabilised 50, 8x8 faded in over 50 and stabilised 1800 (the "
               "800-step recipe before, stages of 125, left 300 stabilised 8x8 steps: FD 80.5/"
               "88.9 at seeds 0/1, 56.2/76.5 with stages of 50 at 800 steps); the critic at 4x "
               "G's lr (4e-3; the paper: equal rates, which collapsed here to FD 582, recall 0, "
               "on this schedule too: the critic fell behind G, see gans/progressive_gan.py)"),
    # -- 2D toys -----------------------------------------------------------------------------
    # -- 2D toys: mode coverage over 3 seeds (gans/mode_study.py) ----------------------------
    *[_mode_recipe(toy, *entry) for toy in ("8gaussians", "25gaussians")
      for entry in _MODE_MODELS],
]
