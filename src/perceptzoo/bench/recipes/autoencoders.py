"""Autoencoders: the linear AE against PCA (digits) and inpainting (MNIST).

Neither has a published figure: PCA in closed form is the linear AE's reference, the mean
training image the inpainting baseline. Both comparisons are computed by the study script
`benchmarks/autoencoder_digits_mnist.py` (linear | inpainting); the recipes train the models.
"""

from __future__ import annotations

from perceptzoo.bench.recipe import Recipe

RECIPES: list[Recipe] = [
    Recipe(
        name="linear_ae-digits-k10", model="linear_ae", dataset="digits", task="autoencoders",
        variant="k10", model_config={"num_components": 10},
        train={"steps": 3000, "batch_size": 128, "lr": 1e-2, "eval_every": 3000},
        evaluate={"num_samples": 0}, suites=("quick", "full"), minutes=1.0,
        notes="eval reports reconstruction_mse beside pca_mse_same_data and the largest "
              "principal angle (extra_metrics)",
    ),
    Recipe(
        name="denoising_ae-mnist", model="denoising_ae", dataset="mnist", task="autoencoders",
        model_config={"hidden_sizes": [512], "code_size": 128, "corruption": "salt_pepper",
                      "noise": 0.2},
        train={"steps": 3000, "batch_size": 100, "lr": 1e-3, "eval_every": 3000},
        evaluate={"num_samples": 0}, suites=("full",), minutes=8,
    ),
    Recipe(
        name="inpainting_ae-mnist", model="inpainting_ae", dataset="mnist", task="autoencoders",
        model_config={"block_size": 12},
        train={"steps": 2000, "batch_size": 100, "lr": 1e-3, "eval_every": 2000,
               "eval_examples": 500},
        evaluate={"num_samples": 0}, suites=("full",), minutes=10,
        notes="masked-region MSE against the mean image: benchmarks/autoencoder_digits_mnist.py",
    ),
]
