"""GANs: sample quality on MNIST and digits (Frechet distance, precision, recall in the
project classifier's features) and the 2D toys (MMD).

The papers report no MNIST sample-quality figure (Goodfellow et al. 2014 give a Parzen
log-likelihood, the rest Inception/FID scores on natural images), so no recipe carries a
published figure. The mode-coverage study (8-Gaussian ring, 25-Gaussian grid, 3 seeds),
the DCGAN peer comparison, inversion and StyleFlow edits are study scripts
(`benchmarks/gan_modes.py`, `gan_peer_dcgan.py`, `gan_inversion.py`, `gan_styleflow.py`).
Steps below are what fit the budget on one shared CPU thread when measured.
"""

from __future__ import annotations

from perceptzoo.bench.recipe import Recipe

_CONSTANT = {"schedule": "constant", "grad_clip": None}

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
    Recipe(
        name="gan-mnist", model="gan", dataset="mnist", task="mnist_sample_quality",
        model_config={"latent_dim": 100, "hidden_g": [256, 512], "hidden_d": [512, 256]},
        train={"steps": 3000, "batch_size": 64, "lr": 2e-4, "eval_every": 3000, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=6,
        notes="MLP generator and discriminator (Goodfellow et al. 2014, non-saturating loss)",
    ),
    Recipe(
        name="dcgan-mnist", model="dcgan", dataset="mnist", task="mnist_sample_quality",
        model_config={"latent_dim": 100, "channels": 32},
        train={"steps": 650, "batch_size": 64, "lr": 2e-4, "eval_every": 650, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=12,
        notes="650 steps: what 12 min of one shared CPU thread gave (benchmarks/gan_mnist.py)",
    ),
    Recipe(
        name="wgan_gp-mnist", model="wgan_gp", dataset="mnist", task="mnist_sample_quality",
        model_config={"latent_dim": 100, "channels": 32, "n_critic": 5},
        train={"steps": 250, "batch_size": 160, "lr": 1e-4, "eval_every": 250, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=12,
        notes="n_critic 5 x 32 images per critic step; 250 generator steps fit 12 min",
    ),
    # -- digits: the style-based and progressive generators -----------------------------------
    Recipe(
        name="stylegan-digits", model="stylegan", dataset="digits",
        task="digits_sample_quality",
        model_config={"latent_dim": 64, "w_dim": 64, "channels": 32},
        train={"steps": 900, "batch_size": 32, "lr": 2e-3, "eval_every": 900, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=8,
        notes="900 steps: what 8 min of one shared CPU thread gave (benchmarks/gan_mnist.py)",
    ),
    Recipe(
        name="progressive_gan-digits", model="progressive_gan", dataset="digits",
        task="digits_sample_quality",
        model_config={"latent_dim": 64, "channels": 32, "stage_steps": 100},
        train={"steps": 500, "batch_size": 32, "lr": 1e-3, "eval_every": 500, **_CONSTANT},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=2,
        notes="stage_steps = steps / 5: 2x2, then 4x4 and 8x8 each faded in; the recorded "
              "result is a 50-step run (1.7 min on a CPU at load 30), this recipe's 500 steps "
              "were not run",
    ),
    # -- 2D toys -----------------------------------------------------------------------------
    Recipe(
        name="unrolled_gan-toy2d_8gaussians", model="unrolled_gan", dataset="toy2d:8gaussians",
        task="toy2d",
        model_config={"latent_dim": 256, "hidden_g": [128, 128], "hidden_d": [128],
                      "unroll_steps": 5},
        train={"steps": 1500, "batch_size": 256, "lr": 1e-4, "eval_every": 1500, **_CONSTANT},
        evaluate={"num_samples": 2000}, suites=("full",), minutes=8,
        notes="Metz et al. 2017's 2D setting; modes covered: benchmarks/gan_modes.py",
    ),
    Recipe(
        name="wgan_gp-toy2d_25gaussians", model="wgan_gp", dataset="toy2d:25gaussians",
        task="toy2d", model_config={"latent_dim": 256, "hidden": [128, 128], "n_critic": 5},
        train={"steps": 1500, "batch_size": 640, "lr": 1e-4, "eval_every": 1500, **_CONSTANT},
        evaluate={"num_samples": 2000}, suites=("full",), minutes=10,
    ),
]
