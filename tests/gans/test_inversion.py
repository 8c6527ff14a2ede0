"""GAN inversion: recovers G's own images (PSNR bound), inpaints, segments, refuses bad shapes."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.gans.common import to_data_space
from perceptzoo.gans.inversion import (
    Inverter,
    encode,
    iou,
    psnr,
    train_encoder,
    with_stroke_mask,
)

#: 17 grey levels quantise the target: the ceiling is 10 log10(4 / ((2/16)^2 / 12)) = 34.9 dB
PSNR_BOUND_DB = 30.0


def _generator(**kw):
    """An untrained MLP generator whose last layer is scaled up so its images span the grey
    range (PSNR between two random latents' images is ~5-13 dB), like a trained one's."""
    torch.manual_seed(0)
    g = perceptzoo.build("gan", dataset="digits", latent_dim=8, hidden_g=(64,), **kw)
    with torch.no_grad():
        g.generator[0][-2].weight.mul_(6)
    return g


def test_inversion_recovers_the_generators_own_images():
    g = _generator()
    z = torch.randn(8, 8)
    with torch.no_grad():
        x = to_data_space(g.generate(z), 17)
    out = Inverter(g).invert(x, steps=200, generator=torch.Generator().manual_seed(1))
    assert out["psnr_db"].min() > PSNR_BOUND_DB
    assert (out["latent"] - z).norm(dim=1).max() < 0.5  # and z itself, up to quantisation
    # the reconstruction in grey levels is as close (rounding can only land on x's levels)
    assert psnr(g.model_space(out["reconstruction"]), g.model_space(x)).min() > PSNR_BOUND_DB
    # a random latent is far worse: the bound is not trivial
    with torch.no_grad():
        random = to_data_space(g.generate(torch.randn(8, 8)), 17)
    assert psnr(g.model_space(random), g.model_space(x)).max() < PSNR_BOUND_DB - 10


def test_inpainting_fits_the_known_pixels_only():
    g = _generator()
    with torch.no_grad():
        x = to_data_space(g.generate(torch.randn(4, 8)), 17)
    known = torch.ones(1, 1, 8, 8)
    known[..., 4:, :] = 0  # the bottom half is missing
    damaged = x.clone()
    damaged[..., 4:, :] = 0
    out = Inverter(g).inpaint(damaged, known, steps=200,
                              generator=torch.Generator().manual_seed(1))
    assert torch.equal(out["inpainted"][..., :4, :], x[..., :4, :])
    filled = psnr(g.model_space(out["inpainted"]), g.model_space(x))
    blank = psnr(g.model_space(damaged), g.model_space(x))
    assert (filled > blank + 5).all()


def test_segmentation_reads_the_mask_channel_of_the_inverted_pair():
    g = _generator(data_shape=(2, 8, 8), num_levels=17)
    with torch.no_grad():
        pairs = to_data_space(g.generate(torch.randn(6, 8)), 17)
    out = Inverter(g).segment(pairs[:, :1], steps=200, generator=torch.Generator().manual_seed(1))
    assert out["mask"].shape == (6, 1, 8, 8)
    assert iou(out["mask"], pairs[:, 1:] >= 8).mean() > 0.9


def test_encoder_gives_a_better_start_than_a_random_latent():
    g = _generator()
    inv = Inverter(g)
    encoder = train_encoder(inv, steps=150, batch_size=64,
                            generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = to_data_space(g.generate(torch.randn(16, 8)), 17)
        guess = g.generate(encode(encoder, inv, x))
        random = g.generate(torch.randn(16, 8))
    assert psnr(guess, g.model_space(x)).mean() > psnr(random, g.model_space(x)).mean() + 3


def test_helpers():
    x = torch.tensor([[[[0.0, 255.0], [127.0, 128.0]]]])
    assert with_stroke_mask(x, 256)[0, 1].tolist() == [[0.0, 255.0], [0.0, 255.0]]
    a = torch.tensor([[1, 1, 0, 0]], dtype=torch.bool)
    assert iou(a, torch.tensor([[1, 0, 1, 0]], dtype=torch.bool)).item() == pytest.approx(1 / 3)
    assert iou(torch.zeros(1, 4), torch.zeros(1, 4)).item() == 1.0


def test_bad_input_is_a_user_error():
    inv = Inverter(_generator())
    with pytest.raises(UserError, match="shape"):
        inv.invert(torch.zeros(2, 1, 28, 28))
    with pytest.raises(UserError, match="shape"):
        inv.invert(torch.zeros(1, 8, 8))
    with pytest.raises(UserError, match="mask"):
        inv.invert(torch.zeros(2, 1, 8, 8), mask=torch.ones(3, 1, 8, 8))
    with pytest.raises(UserError, match="StyleGAN"):
        Inverter(_generator(), space="w")
    with pytest.raises(UserError, match="2 channels"):
        inv.segment(torch.zeros(2, 1, 8, 8))
