"""Train the per-dataset feature classifiers that Frechet distance and precision/recall use.

    python benchmarks/train_classifiers.py [digits mnist fashion_mnist]

Writes src/perceptzoo/metrics/weights/<dataset>.safetensors (shipped in the package; metadata
holds the test accuracy and the training settings) and benchmarks/results/classifier-<dataset>.json.
Training uses the train split (valid for model selection is not needed at this size); the test
accuracy is on the test split.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from common import Timer, data_dir, write_result
from safetensors.torch import save_model

from perceptzoo import data
from perceptzoo.io import atomic_write
from perceptzoo.metrics.classifier import FeatureClassifier, weights_path

SETTINGS = {  # epochs, batch size, lr
    "digits": (60, 64, 2e-3),
    "mnist": (4, 128, 2e-3),
    "fashion_mnist": (6, 128, 2e-3),
}
PUBLISHED = {  # not the same network: a reference point for a small CNN's accuracy
    "mnist": None,
    "fashion_mnist": None,
}


def train(name: str) -> None:
    torch.manual_seed(0)
    epochs, batch_size, lr = SETTINGS[name]
    train_set, test_set = data.load(name, "train"), data.load(name, "test")
    info = train_set.info
    net = FeatureClassifier(info.data_shape[0], info.num_classes, info.num_levels)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(train_set) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    g = torch.Generator().manual_seed(0)
    with Timer() as timer:
        net.train()
        for _ in range(epochs):
            perm = torch.randperm(len(train_set), generator=g)
            for i in range(len(train_set) // batch_size):
                idx = perm[i * batch_size : (i + 1) * batch_size]
                x, y = train_set.x[idx], train_set.y[idx]
                if name == "digits":  # small data: random 1-pixel shifts as augmentation
                    dx, dy = torch.randint(-1, 2, (2,), generator=g).tolist()
                    x = torch.roll(x, (dx, dy), (2, 3))
                loss = F.cross_entropy(net(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(test_set.x[i : i + 1000]).argmax(1)
                              for i in range(0, len(test_set), 1000)])
        accuracy = float((pred == test_set.y).float().mean())
    meta = {"dataset": name, "in_channels": str(info.data_shape[0]),
            "num_classes": str(info.num_classes), "num_levels": str(info.num_levels),
            "test_accuracy": f"{accuracy:.4f}", "epochs": str(epochs)}
    atomic_write(weights_path(name), lambda tmp: save_model(net, tmp, metadata=meta))
    write_result("classifier", name, None,
                 config={"script": "benchmarks/train_classifiers.py", "epochs": epochs,
                         "batch_size": batch_size, "lr": lr, "optimizer": "AdamW one-cycle"},
                 metrics={"test_accuracy": accuracy}, wall_time_s=timer.seconds,
                 notes="feature network for Frechet distance and precision/recall; "
                       "features are its 128 penultimate activations")
    print(f"{name}: test accuracy {accuracy:.4f} in {timer.seconds:.0f} s")


if __name__ == "__main__":
    torch.set_num_threads(1)
    data_dir()
    for name in sys.argv[1:] or list(SETTINGS):
        train(name)
