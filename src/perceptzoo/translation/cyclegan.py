"""CycleGAN: unpaired image-to-image translation with cycle-consistent adversarial networks
(Zhu, Park, Isola & Efros, ICCV 2017).

Two generators G: X -> Y and F: Y -> X and two discriminators D_Y (tells y from G(x)) and D_X
(tells x from F(y)), trained on images of X and of Y that are *not* paired. The full objective
(eq. 3), with the least-squares adversarial loss of sec. 4 (Mao et al. 2017):

    L = L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda L_cyc(G, F) + lambda_id L_identity(G, F)
    L_GAN(G, D_Y):  D_Y minimises E (D_Y(y) - 1)^2 + E D_Y(G(x))^2, G minimises E (D_Y(G(x)) - 1)^2
    L_cyc = E || F(G(x)) - x ||_1 + E || G(F(y)) - y ||_1                        (eq. 2)
    L_identity = E || G(y) - y ||_1 + E || F(x) - x ||_1    (sec. 5.2, weight 0.5 lambda)

lambda = 10. The discriminators are updated on a history of 50 generated images rather than
the latest ones (sec. 4, Shrivastava et al. 2017): each new fake replaces a random stored one
with probability 1/2 and the stored one is shown instead. D's objective is halved. Generators are
the paper's ResNet generator (c7s1-k, d2k, d4k, R blocks, u2k, uk, c7s1-1) with instance norm,
shrunk to 28x28 (two down-samplings, 28 -> 7); discriminators are PatchGANs.

Domains here: X = handwritten MNIST digits (the training dataset, `mnist`), Y = printed digits
rendered from installed fonts (`perceptzoo.data.printed_digits`, drawn by the model itself;
nothing pairs them). `sample(n, cond=y)` translates printed digits y to handwriting, F(y);
`sample(n)` translates held-out printed test digits; `translate(images, "x_to_y" | "y_to_x")`
either way.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("cyclegan", dataset="mnist", channels=8, d_channels=8)
    >>> model.translate(torch.zeros(2, 1, 28, 28), "x_to_y").shape
    torch.Size([2, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import PatchGAN, gan_loss
from perceptzoo.translation.common import (
    adam,
    check_count,
    check_grey_images,
    check_images,
    finite,
    frozen,
    held_out,
    step,
    to_data_space,
    to_model_space,
)


class ResidualBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c, affine=True),
            nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3),
            nn.InstanceNorm2d(c, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def resnet_generator(c: int, k: int, num_blocks: int) -> nn.Sequential:
    """(B, c, H, W) -> (B, c, H, W) in [-1, 1]: c7s1-k, d2k, d4k, R4k x num_blocks, u2k, uk,
    c7s1-c (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016), H divisible by 4."""

    def norm_relu(n: int) -> list[nn.Module]:
        return [nn.InstanceNorm2d(n, affine=True), nn.ReLU(True)]

    return nn.Sequential(
        nn.ReflectionPad2d(3), nn.Conv2d(c, k, 7), *norm_relu(k),               # (B, k, H, W)
        nn.Conv2d(k, 2 * k, 3, 2, 1), *norm_relu(2 * k),                         # (B, 2k, H/2, W/2)
        nn.Conv2d(2 * k, 4 * k, 3, 2, 1), *norm_relu(4 * k),                     # (B, 4k, H/4, W/4)
        *[ResidualBlock(4 * k) for _ in range(num_blocks)],
        nn.ConvTranspose2d(4 * k, 2 * k, 3, 2, 1, output_padding=1), *norm_relu(2 * k),
        nn.ConvTranspose2d(2 * k, k, 3, 2, 1, output_padding=1), *norm_relu(k),  # (B, k, H, W)
        nn.ReflectionPad2d(3), nn.Conv2d(k, c, 7), nn.Tanh(),
    )


class ImageHistory(nn.Module):
    """The pool of the last `size` generated images D is shown (Shrivastava et al. 2017).
    Kept in buffers so a checkpoint carries it; the choices use the seeded global RNG."""

    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """Fakes (B, ...) -> what D sees: while the pool fills, the fakes themselves; then each
        with probability 1/2 swapped for a random stored image (which the fake replaces)."""
        if self.size == 0:
            return fakes.detach()
        out = []
        for img in fakes.detach():
            n = int(self.count)
            if n < self.size:
                self.images[n] = img
                self.count += 1
                out.append(img)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i].clone())
                self.images[i] = img
            else:
                out.append(img)
        return torch.stack(out)


class CycleGAN(nn.Module):
    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        if cfg.num_levels is None:
            raise UserError("cyclegan translates grey-level images (mnist <-> printed digits)")
        if cfg.data_shape[-1] % 4 or cfg.data_shape[-2] % 4:
            raise UserError(f"cyclegan's generators need sides divisible by 4, got "
                            f"{tuple(cfg.data_shape)}")
        self.cfg = cfg
        c = cfg.data_shape[0]
        self.G = resnet_generator(c, cfg.channels, cfg.num_blocks)  # X -> Y
        self.F = resnet_generator(c, cfg.channels, cfg.num_blocks)  # Y -> X
        self.D_X = PatchGAN(c, cfg.d_channels, cfg.d_layers)
        self.D_Y = PatchGAN(c, cfg.d_channels, cfg.d_layers)
        self.history_x = ImageHistory(cfg.pool_size, tuple(cfg.data_shape))  # fakes F(y)
        self.history_y = ImageHistory(cfg.pool_size, tuple(cfg.data_shape))  # fakes G(x)
        self.domain_y: torch.Tensor | None = None
        """the Y-domain training images (levels); the printed_digits train split when unset"""

    # -- the unpaired Y batches -------------------------------------------------------------
    def y_batch(self, n: int, device) -> torch.Tensor:
        """n Y-domain images in model space, drawn with the seeded global RNG."""
        if self.domain_y is None:
            from perceptzoo import data

            self.domain_y = data.load(self.cfg.domain_y, "train").x
        idx = torch.randint(len(self.domain_y), (n,))
        return to_model_space(self.domain_y[idx].to(device), self.cfg.num_levels)

    # -- training -------------------------------------------------------------------------------
    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        x = to_model_space(batch[0], self.cfg.num_levels)
        y = self.y_batch(len(x), x.device)
        lam, lam_id = self.cfg.lambda_cycle, self.cfg.lambda_identity * self.cfg.lambda_cycle
        # generators: adversarial (least squares) + cycle (eq. 2) + identity
        with frozen(self.D_X, self.D_Y):
            fake_y, fake_x = self.G(x), self.F(y)
            loss_gan = (gan_loss(self.D_Y(fake_y), True, "lsgan")
                        + gan_loss(self.D_X(fake_x), True, "lsgan"))
            cycle_x = (self.F(fake_y) - x).abs().mean()   # || F(G(x)) - x ||_1
            cycle_y = (self.G(fake_x) - y).abs().mean()   # || G(F(y)) - y ||_1
            loss_id = ((self.G(y) - y).abs().mean() + (self.F(x) - x).abs().mean()
                       if lam_id > 0 else torch.zeros((), device=x.device))
            loss_g = loss_gan + lam * (cycle_x + cycle_y) + lam_id * loss_id
            step(opt_g, loss_g, self.G, self.F)
        # discriminators on real images and on fakes from the history pools, halved
        loss_d_y = 0.5 * (gan_loss(self.D_Y(y), True, "lsgan")
                          + gan_loss(self.D_Y(self.history_y.query(fake_y)), False, "lsgan"))
        loss_d_x = 0.5 * (gan_loss(self.D_X(x), True, "lsgan")
                          + gan_loss(self.D_X(self.history_x.query(fake_x)), False, "lsgan"))
        step(opt_d, loss_d_x + loss_d_y, self.D_X, self.D_Y)
        return finite({"loss": loss_g.detach(), "loss_g_gan": loss_gan.detach(),
                       "cycle_x": cycle_x.detach(), "cycle_y": cycle_y.detach(),
                       "identity": loss_id.detach(), "loss_d_x": loss_d_x.detach(),
                       "loss_d_y": loss_d_y.detach()}, "cyclegan")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[generators G and F together, discriminators D_X and D_Y together]: Adam (0.5, 0.999)."""
        return adam(self.cfg, train_cfg, [self.G, self.F], [self.D_X, self.D_Y])

    def check_data(self, info) -> None:
        check_grey_images(info, "cyclegan", tuple(self.cfg.data_shape))

    # -- translation ------------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "x_to_y") -> torch.Tensor:
        """Images (B, C, H, W) in grey levels translated by G (x_to_y: handwritten -> printed)
        or F (y_to_x: printed -> handwritten), in grey levels."""
        check_images(images, tuple(self.cfg.data_shape), "cyclegan's input")
        net = {"x_to_y": self.G, "y_to_x": self.F}.get(direction)
        if net is None:
            raise UserError(f"unknown direction {direction!r}; use x_to_y or y_to_x")
        device = next(self.parameters()).device
        out = net(to_model_space(images.to(device), self.cfg.num_levels))
        return to_data_space(out, self.cfg.num_levels)

    @torch.no_grad()
    def cycle_errors(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """(mean |F(G(x)) - x|, mean |G(F(y)) - y|) per pixel, grey levels scaled to [0, 1]."""
        scale = self.cfg.num_levels - 1
        x_rec = self.translate(self.translate(x, "x_to_y"), "y_to_x")
        y_rec = self.translate(self.translate(y, "y_to_x"), "x_to_y")
        return (float((x_rec.cpu() - x.float()).abs().mean() / scale),
                float((y_rec.cpu() - y.float()).abs().mean() / scale))

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """F(y): printed digits `cond` (B, C, H, W) in grey levels, or `num_samples` held-out
        printed test digits, translated to handwriting (grey levels)."""
        if cond is None:
            cond = held_out(self.cfg.domain_y, num_samples, generator)
        else:
            check_count(num_samples, cond)
        return self.translate(cond, "y_to_x")


@dataclass
class CycleGANConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """per-example shape (C, H, W), sides divisible by 4; filled from the dataset (domain X)"""
    num_levels: int | None = 256
    channels: int = 16
    """k of the ResNet generator (c7s1-k, d2k, d4k, ...)"""
    num_blocks: int = 3
    """residual blocks at the 7x7 bottleneck (6 at 128x128, 9 at 256x256 in the paper)"""
    d_channels: int = 32
    d_layers: int = 2
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    """identity weight as a fraction of lambda_cycle (sec. 5.2: 0.5 lambda)"""
    pool_size: int = 50
    """image history buffer per discriminator (0 turns it off)"""
    beta1: float = 0.5
    beta2: float = 0.999
    domain_y: str = "printed_digits"
    """the dataset of the unpaired Y domain (its train split trains, its test split samples)"""

    @classmethod
    def tiny(cls) -> CycleGANConfig:
        return cls(channels=4, num_blocks=1, d_channels=8, pool_size=4)


register("cyclegan", CycleGANConfig, family="translation", runner="trainer",
         default_dataset="mnist", train_defaults={"lr": 2e-4, "batch_size": 16,
                                                  "schedule": "linear", "grad_clip": None}
         )(CycleGAN)
