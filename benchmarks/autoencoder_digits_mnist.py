"""Autoencoders measured: the linear AE against PCA on digits; inpainting on MNIST.

    python benchmarks/autoencoder_digits_mnist.py linear [--steps 3000]
    python benchmarks/autoencoder_digits_mnist.py inpainting [--steps 3000]

linear: for k in 2, 5, 10, 20, a linear autoencoder is trained through the runner on the
digits train split (Adam, batch 128, cosine schedule) and its test reconstruction MSE (pixels
in [0, 1]) is set beside PCA's at the same k, fitted in closed form on the same train split;
also the largest principal angle between the decoder's span and the top-k principal subspace.
Writes benchmarks/results/linear_ae-digits.json.

inpainting: the inpainting autoencoder (784x2 -> 512 -> 256 -> 128 and back) is trained on
MNIST with a random 12 x 12 square hidden per image; on the 10,000 test images, each with a
fixed random square, the MSE on the hidden pixels (in [0, 1] units) is set beside the mean
training image's. Writes benchmarks/results/inpainting_ae-mnist.json and a figure
(benchmarks/figures/vae/mnist-inpainting.png: masked input, filled in, original).
"""

from __future__ import annotations

import argparse

import torch
from common import RESULTS, WORK, data_dir, logged_train_seconds, write_result

from perceptzoo import data
from perceptzoo.autoencoders.linear import pca, pca_reconstruct, principal_angles
from perceptzoo.core import runner
from perceptzoo.core.runs import RunDir
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = RESULTS.parent / "figures" / "vae"


def linear(steps: int) -> None:
    train_x, test_x = data.load("digits", "train").x, data.load("digits", "test").x
    metrics, seconds, configs = {}, 0.0, {}
    for k in (2, 5, 10, 20):
        run = WORK / f"linear_ae-digits-k{k}"
        if not (run / "config.json").exists():
            runner.train("linear_ae", dataset="digits", out=run,
                         train_config={"steps": steps, "batch_size": 128, "lr": 1e-2,
                                       "progress": False, "eval_every": steps, "seed": 0},
                         model_overrides={"num_components": k})
        elif not (run / "model.safetensors").exists():
            runner.resume(run)
        model = runner.load(run)
        with torch.no_grad():
            v_train, v_test = model.inputs(train_x), model.inputs(test_x)
            mean, components, _ = pca(v_train, k)
            pca_mse = (pca_reconstruct(v_test, mean, components) - v_test).pow(2).mean().item()
            ae_mse = model.reconstruction_error(test_x).mean().item()
            angle = principal_angles(model.decoder.weight, components.T).max().item()
        metrics[f"k{k}_test_mse"] = round(ae_mse, 6)
        metrics[f"k{k}_pca_test_mse"] = round(pca_mse, 6)
        metrics[f"k{k}_ratio"] = round(ae_mse / pca_mse, 4)
        metrics[f"k{k}_largest_principal_angle_rad"] = round(angle, 4)
        seconds += logged_train_seconds(run)
        configs[f"k{k}"] = runner.read_config(RunDir(run))
        print(k, ae_mse, pca_mse, angle, flush=True)
    write_result("linear_ae", "digits", None, config=configs, metrics=metrics,
                 published={"source": "no published figure: PCA (closed form, SVD of the "
                                      "centred train split) is the reference"},
                 wall_time_s=seconds,
                 notes="MSE per pixel with levels scaled to [0, 1], on the digits test split; "
                       "PCA fitted on the train split; the AE trained by Adam through the runner")


def inpainting(steps: int) -> None:
    run = WORK / "inpainting_ae-mnist"
    if not (run / "config.json").exists():
        runner.train("inpainting_ae", dataset="mnist", out=run,
                     train_config={"steps": steps, "batch_size": 100, "lr": 1e-3,
                                   "progress": False, "eval_every": steps, "seed": 0,
                                   "eval_examples": 500},
                     model_overrides={"block_size": 12})
    elif not (run / "model.safetensors").exists():
        runner.resume(run)
    model = runner.load(run)
    train_x, test = data.load("mnist", "train").x, data.load("mnist", "test")
    mask = model.block_mask(len(test.x), generator=torch.Generator().manual_seed(0))
    filled = torch.cat([model.inpaint(test.x[i : i + 1000], mask[i : i + 1000])
                        for i in range(0, len(test.x), 1000)])
    scale = 255.0
    truth = test.x.float()
    mean_image = train_x.float().mean(0, keepdim=True).expand_as(truth)
    model_mse = ((filled - truth) / scale)[mask].pow(2).mean().item()
    mean_mse = ((mean_image - truth) / scale)[mask].pow(2).mean().item()
    shown = torch.arange(0, 10000, 1000)
    grid = torch.cat([truth[shown].masked_fill(mask[shown], 128.0), filled[shown],
                      truth[shown]])
    FIGURES.mkdir(parents=True, exist_ok=True)
    save_grid(to_uint8(grid, 256), FIGURES / "mnist-inpainting.png", nrow=10)
    metrics = {"test_masked_mse": round(model_mse, 5), "mean_image_masked_mse": round(mean_mse, 5),
               "ratio": round(model_mse / mean_mse, 4), "block_size": 12}
    print(metrics, flush=True)
    write_result("inpainting_ae", "mnist", None, config=runner.read_config(RunDir(run)),
                 metrics=metrics,
                 published={"source": "no published figure; the baseline is the mean "
                                      "training image"},
                 wall_time_s=logged_train_seconds(run),
                 notes="MSE on the hidden 12x12 square (pixels in [0, 1]) of each of the "
                       "10,000 MNIST test images, one fixed random square per image (seed 0); "
                       "known pixels are returned unchanged by inpaint()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", choices=["linear", "inpainting"])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data_dir()
    (linear if args.which == "linear" else inpainting)(args.steps)


if __name__ == "__main__":
    main()
