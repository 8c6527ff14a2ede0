"""Variational models: binarized-MNIST likelihood (ELBO, IWAE), MNIST sample quality, the
beta-VAE disentanglement sweep on sprites, the conditional VAE and M2.

The NLL of a VAE is the importance-weighted bound of its `log_prob` (Burda et al. 2016) with the
config's `num_eval_samples` (100 here: `perceptzoo eval` scores all 10,000 test images). The
paper's k=5000 figure over the full split took ~3 h on the shared CPU, so the study script
`benchmarks/vae_binarized_mnist.py` records IWAE-5000 on a label-stratified 500-image subset.
The sweeps and classifier-based figures are study scripts: `benchmarks/vae_beta_sprites.py`
(MIG and the beta-VAE metric against beta), `benchmarks/vae_conditional_mnist.py` (CVAE sample
accuracy, M2 with 100 labels).
"""

from __future__ import annotations

from perceptzoo.bench.recipe import Published, Recipe

_BURDA = dict(latent_dim=50, hidden_sizes=[200, 200], activation="tanh", num_eval_samples=100)
_COMPARABLE = ("Burda et al. resample the binarization every epoch and train ~3,280 epochs; "
               "we use the fixed Larochelle-Murray binarization and a CPU budget")

RECIPES: list[Recipe] = [
    Recipe(
        name="vae-digits-quick", model="vae", dataset="digits", task="digits_sample_quality",
        variant="quick", model_config={"latent_dim": 8, "hidden_sizes": [128]},
        train={"steps": 500, "batch_size": 64, "lr": 1e-3, "eval_every": 500},
        evaluate={"num_samples": 1000}, suites=("quick",), minutes=1.0,
        notes="quick suite: a small VAE with a discretized-logistic decoder on 8x8 digits",
    ),
    Recipe(
        name="vae-binarized_mnist", model="vae", dataset="binarized_mnist",
        task="binarized_mnist_nll", model_config=dict(_BURDA),
        train={"epochs": 20, "batch_size": 100, "lr": 1e-3, "grad_clip": 100.0,
               "eval_every": 2500, "eval_examples": 1000},
        evaluate={"split": "test", "num_samples": 0},
        published=Published({"test_nll_nats": 86.76},
                            "Burda et al. 2016, Table 1, MNIST, 1 stochastic layer, VAE k=1 "
                            "(quoted from a reproduction's README; the paper itself not read)",
                            comparable=_COMPARABLE),
        suites=("full",), minutes=20,
        notes="784-200-200-50 tanh, Bernoulli pixels; test NLL is IWAE-100",
    ),
    Recipe(
        name="vae-binarized_mnist-iwae5", model="vae", dataset="binarized_mnist",
        task="binarized_mnist_nll", variant="iwae5",
        model_config=dict(_BURDA, objective="iwae", num_train_samples=5),
        train={"epochs": 8, "batch_size": 100, "lr": 1e-3, "grad_clip": 100.0,
               "eval_every": 2000, "eval_examples": 1000},
        evaluate={"split": "test", "num_samples": 0},
        published=Published({"test_nll_nats": 85.54},
                            "Burda et al. 2016, Table 1, MNIST, 1 stochastic layer, IWAE k=5 "
                            "(quoted from a reproduction's README; the paper itself not read)",
                            comparable=_COMPARABLE),
        suites=("full",), minutes=25,
        notes="the IWAE objective with k=5 (each step decodes 5 samples per image)",
    ),
    Recipe(
        name="vae-mnist", model="vae", dataset="mnist", task="mnist_sample_quality",
        model_config={"latent_dim": 32, "hidden_sizes": [500, 500], "activation": "relu",
                      "decoder": "logistic", "num_eval_samples": 20},
        train={"steps": 5000, "batch_size": 100, "lr": 1e-3, "eval_every": 5000},
        evaluate={"num_samples": 1000}, suites=("full",), minutes=15,
        notes="discretized-logistic pixels on 256 levels; FD/precision/recall of 1,000 draws",
    ),
    Recipe(
        name="beta_vae-sprites-beta4", model="beta_vae", dataset="sprites", task="sprites",
        variant="beta4",
        model_config={"latent_dim": 10, "hidden_sizes": [512, 256], "beta": 4.0},
        train={"steps": 3000, "batch_size": 64, "lr": 5e-4, "eval_every": 3000},
        evaluate={"num_samples": 0}, suites=("full",), minutes=12,
        notes="one point of the beta sweep (benchmarks/vae_beta_sprites.py scores MIG)",
    ),
    Recipe(
        name="cvae-mnist", model="cvae", dataset="mnist", task="mnist_conditional",
        model_config={"latent_dim": 20, "hidden_sizes": [500], "activation": "relu"},
        train={"steps": 3000, "batch_size": 100, "lr": 1e-3, "eval_every": 3000,
               "eval_examples": 500},
        evaluate={"num_samples": 0}, suites=("full",), minutes=15,
        notes="conditional-sample accuracy: benchmarks/vae_conditional_mnist.py cvae",
    ),
    Recipe(
        name="m2-mnist-100labels", model="m2", dataset="mnist", task="mnist_semi_supervised",
        variant="100labels", model_config={"num_labels": 100},
        train={"steps": 1200, "batch_size": 100, "lr": 1e-3, "eval_every": 1200,
               "eval_examples": 200},
        evaluate={"num_samples": 0},
        published=Published({"test_error": 0.1197},
                            "Kingma et al. 2014, Table 1, M2, 100 labels (11.97 +- 1.71 %)",
                            comparable="theirs trains for many GPU epochs"),
        suites=("full",), minutes=50,
        notes="test error of q(y|x): benchmarks/vae_conditional_mnist.py m2",
    ),
]
