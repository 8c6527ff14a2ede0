"""Peer comparison: our DCGAN against the PyTorch examples' DCGAN, re-typed, in one process.

The peer is `pytorch/examples/dcgan/main.py` (netG/netD as `nn.Sequential` in `self.main`,
its `weights_init`, `nn.BCELoss` on a sigmoid D with real/fake label tensors, one
`netG(noise)` whose output feeds the D step detached and the G step attached, Adam lr 2e-4
beta1 0.5), re-typed here with its layers sized for 28x28 MNIST exactly as ours are
(ngf = ndf = 32, nz = 100: a 7x7 projection and two stride-2 layers instead of the example's
four for 64x64). Equal parameter counts are checked.

Both train on the same batches, interleaved in chunks of 25 steps (ours, theirs, ours, ...)
so the shared machine's load hits both alike, until each has used BUDGET_S seconds of its own
step time; time per step ratio = ours / theirs. Then 1,000 samples each are scored against
1,000 test images (FD, precision, recall in the project classifier's features).

    .venv/bin/python benchmarks/gan_peer_dcgan.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from common import data_dir, write_result
from torch import nn

import perceptzoo
from perceptzoo import data
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.metrics import classifier
from perceptzoo.metrics.frechet import frechet_distance, precision_recall, reference_subset
from perceptzoo.viz.images import save_grid, to_uint8

BUDGET_S = float(sys.argv[1]) if len(sys.argv) > 1 else 420.0
CHUNK = 25
BATCH = 64
NZ, NGF, NDF, NC = 100, 32, 32, 1
NUM_SAMPLES = 1000
FIGURES = Path(__file__).resolve().parent / "figures" / "gans"


# -- the peer, re-typed from pytorch/examples dcgan/main.py ---------------------------------------
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 2, 7, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, 1, 7, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


class Peer:
    def __init__(self):
        self.netG, self.netD = Generator(), Discriminator()
        self.netG.apply(weights_init)
        self.netD.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real_cpu):
        real_label, fake_label = 1.0, 0.0
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        self.netD.zero_grad()
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = self.netD(real_cpu)
        errD_real = self.criterion(output, label)
        errD_real.backward()
        noise = torch.randn(batch_size, NZ, 1, 1)
        fake = self.netG(noise)
        label.fill_(fake_label)
        output = self.netD(fake.detach())
        errD_fake = self.criterion(output, label)
        errD_fake.backward()
        self.optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        self.netG.zero_grad()
        label.fill_(real_label)
        output = self.netD(fake)
        errG = self.criterion(output, label)
        errG.backward()
        self.optimizerG.step()
        return float(errD_real + errD_fake), float(errG)


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    torch.manual_seed(0)
    ours = perceptzoo.build("dcgan", dataset="mnist", latent_dim=NZ, channels=NGF)
    opts = ours.configure_optimizers(TrainConfig(lr=2e-4))
    torch.manual_seed(0)
    peer = Peer()
    n_ours = sum(p.numel() for p in ours.parameters())
    n_peer = sum(p.numel() for p in peer.netG.parameters()) + sum(
        p.numel() for p in peer.netD.parameters())
    assert n_ours == n_peer, (n_ours, n_peer)
    train = data.load("mnist", "train").x
    g = torch.Generator().manual_seed(0)
    used = {"ours": 0.0, "peer": 0.0}
    steps = {"ours": 0, "peer": 0}
    ours.train()
    while min(used.values()) < BUDGET_S:
        for who in ("ours", "peer"):
            if used[who] >= BUDGET_S:
                continue
            batches = [train[torch.randint(0, len(train), (BATCH,), generator=g)]
                       for _ in range(CHUNK)]
            start = time.time()
            for x in batches:
                if who == "ours":
                    ours.train_step((x, None), opts)
                else:
                    peer.step(x.float() / 255 * 2 - 1)
            used[who] += time.time() - start
            steps[who] += CHUNK
        print(steps, {k: round(v) for k, v in used.items()}, flush=True)
    per_step = {k: used[k] / steps[k] for k in used}
    test_x = data.load("mnist", "test").x
    test = test_x[reference_subset(len(test_x), NUM_SAMPLES)]
    f_real = classifier.features("mnist", test)
    ours.eval()
    peer.netG.eval()
    with torch.no_grad():
        s_ours = ours.sample(NUM_SAMPLES, generator=torch.Generator().manual_seed(1))
        z = torch.randn(NUM_SAMPLES, NZ, 1, 1, generator=torch.Generator().manual_seed(1))
        s_peer = ((peer.netG(z) + 1) / 2 * 255).round().clamp(0, 255)
    metrics = {}
    for who, s in (("ours", s_ours), ("peer", s_peer)):
        f = classifier.features("mnist", s)
        p, r = precision_recall(f_real, f)
        metrics[f"{who}_frechet_distance"] = round(frechet_distance(f_real, f), 3)
        metrics[f"{who}_precision"], metrics[f"{who}_recall"] = round(p, 4), round(r, 4)
        metrics[f"{who}_steps"] = steps[who]
        metrics[f"{who}_s_per_step"] = round(per_step[who], 4)
        FIGURES.mkdir(parents=True, exist_ok=True)
        save_grid(to_uint8(s[:64], 256), FIGURES / f"dcgan_mnist_peer_{who}.png", scale=2)
    metrics["s_per_step_ratio"] = round(per_step["ours"] / per_step["peer"], 3)
    metrics["frechet_distance_ratio"] = round(metrics["ours_frechet_distance"]
                                              / metrics["peer_frechet_distance"], 3)
    print(metrics, flush=True)
    write_result("dcgan", "mnist", "peer-pytorch-examples", config={
        "latent_dim": NZ, "channels": NGF, "batch_size": BATCH, "lr": 2e-4, "betas": [0.5, 0.999],
        "budget_s_each": BUDGET_S, "parameters_each": n_ours, "num_samples": NUM_SAMPLES},
        metrics=metrics, wall_time_s=sum(used.values()),
        published={"note": "peer: pytorch/examples dcgan/main.py re-typed (28x28 layers)",
                   "source": "github.com/pytorch/examples/blob/main/dcgan/main.py"},
        notes="ratio = ours / peer (time per step; FD after equal step-time budgets). Ours "
              "draws a fresh z for the generator step (two G forwards per step, as Goodfellow "
              "et al.'s Algorithm 1); the example reuses the D step's G(z) (one G forward).")


if __name__ == "__main__":
    main()
