"""StyleGAN-style generator: demodulation, style mixing coarse vs fine, truncation."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.errors import UserError
from perceptzoo.gans.stylegan import ModulatedConv2d, StyleGenerator


def _model(**kw):
    torch.manual_seed(0)
    return perceptzoo.build("stylegan", dataset="digits", latent_dim=16, w_dim=16, channels=8,
                            mapping_layers=2, **kw)


def test_demodulation_makes_the_layer_invariant_to_the_style_scale():
    """w'' = w' / ||w'||: scaling every style by c leaves the demodulated output unchanged and
    scales the plain modulated output by c (StyleGAN2 eq. 3)."""
    torch.manual_seed(0)
    x, w = torch.randn(3, 4, 6, 6), torch.randn(3, 5)
    for demod in (True, False):
        conv = ModulatedConv2d(4, 6, 5, demodulate=demod)
        out = conv(x, w)
        with torch.no_grad():
            conv.affine.weight *= 3
            conv.affine.bias *= 3
        scaled = conv(x, w)
        if demod:
            assert torch.allclose(out, scaled, atol=1e-5)
        else:
            assert torch.allclose(3 * out, scaled, atol=1e-5)
    # per example: each example's output depends on its own w only
    conv = ModulatedConv2d(4, 6, 5)
    w2 = w.clone()
    w2[1] += 1
    a, b = conv(x, w), conv(x, w2)
    assert torch.allclose(a[[0, 2]], b[[0, 2]]) and not torch.allclose(a[1], b[1])


def test_style_mixing_coarse_layers_change_more_than_fine():
    """Swapping w at the coarse (s x s) layers moves the image more than at the fine
    (4s x 4s) ones: mean squared change over 64 pairs, measured."""
    model = _model()
    net = model.generator
    with torch.no_grad():  # styles away from 1, as after training, so layers differ
        for m in net.modules():
            if isinstance(m, ModulatedConv2d):
                m.affine.weight.normal_(0, 1.0)
        z1, z2 = torch.randn(64, 16), torch.randn(64, 16)
        wa, wb = model.mapped(z1), model.mapped(z2)
        base = net.synthesize(wa, "none")
        change = {k: (net.synthesize(model.mix(wa, wb, k), "none") - base).pow(2).mean().item()
                  for k in StyleGenerator.LAYERS}
        everything = (net.synthesize(wb, "none") - base).pow(2).mean().item()
    assert change["coarse"] > 2 * change["fine"] > 0
    assert change["coarse"] <= everything * 1.5
    with pytest.raises(UserError, match="coarse"):
        model.mix(wa, wb, "everything")


def test_truncation_psi_zero_gives_the_mean_w_image():
    model = _model()
    net = model.generator_ema
    with torch.no_grad():
        net.w_avg.normal_()
        z = torch.randn(5, 16)
        images = model.generate(z, truncation_psi=0.0, noise="none")
        mean_image = net.synthesize(net.w_avg.expand(1, net.num_ws, -1), "none")
        assert torch.allclose(images, mean_image.expand_as(images), atol=1e-6)
        full = model.generate(z, truncation_psi=1.0, noise="none")
        assert not torch.allclose(full[0], full[1])
        half = model.generate(z, truncation_psi=0.5, noise="none")
        # truncation pulls the images toward the mean-w image
        assert (half - mean_image).abs().mean() < (full - mean_image).abs().mean()
    for psi in (-0.1, 1.5):
        with pytest.raises(UserError, match="psi"):
            model.sample(2, truncation_psi=psi)
        with pytest.raises(UserError, match="psi"):
            _model(truncation_psi=psi)


def test_train_step_updates_ema_and_w_avg_and_samples_levels():
    model = _model(mixing_prob=1.0)
    opts = model.configure_optimizers(TrainConfig(lr=1e-3))
    assert opts[0].param_groups[1]["lr"] == pytest.approx(1e-5)  # the mapping's lower lr
    before = model.generator_ema.const.clone()
    from perceptzoo import data

    metrics = model.train_step((data.load("digits", "train").x[:16], None), opts)
    assert {"loss_d", "loss_g", "r1"} <= set(metrics)
    assert model.generator.w_avg.abs().sum() > 0
    assert not torch.equal(before, model.generator_ema.const)
    assert not torch.equal(model.generator_ema.const, model.generator.const)  # an average
    s = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert s.shape == (4, 1, 8, 8) and torch.equal(s, s.round()) and 0 <= s.min() <= s.max() <= 16


def test_equalised_learning_rate_and_lazy_r1():
    """Every weight of G and D is stored N(0, 1) and scaled at run time by gain/sqrt(fan_in)
    (so Adam moves every layer at the same relative rate); R1 runs on every r1_every-th D step
    only, with r1_every times the weight."""
    from perceptzoo.gans.stylegan import EqualLinear

    model = _model(r1_every=4)
    layer = model.generator.mapping[0]
    assert isinstance(layer, EqualLinear)
    assert 0.8 < float(layer.weight.std()) < 1.2
    assert layer.scale == pytest.approx(2 ** 0.5 / 16 ** 0.5)
    convs = [m for m in model.generator.modules() if isinstance(m, ModulatedConv2d)]
    assert all(0.7 < float(c.weight.std()) < 1.3 for c in convs if c.weight.numel() >= 200)
    opts = model.configure_optimizers(TrainConfig(lr=1e-3))
    x = torch.randint(0, 17, (8, 1, 8, 8))
    had_r1 = ["r1" in model.train_step((x, None), opts) for _ in range(8)]
    assert had_r1 == [True, False, False, False] * 2
    with pytest.raises(UserError, match="r1_every"):
        _model(r1_every=0)


def test_ema_ramp_up_keeps_a_short_runs_average_recent():
    from perceptzoo.nn.gan_losses import ema_decay_with_rampup

    assert ema_decay_with_rampup(0.999, 1) < 1e-6            # the first step: a copy
    early, late = ema_decay_with_rampup(0.999, 200), ema_decay_with_rampup(0.999, 100_000)
    assert early == pytest.approx(0.5 ** (1 / 10))            # half-life 0.05 x 200 steps
    assert late == pytest.approx(0.999)                       # the configured decay
    assert ema_decay_with_rampup(0.999, 5, rampup=0.0) == 0.999


def test_a_style_layer_keeps_the_second_moment_of_its_input():
    """Demodulation gives each output channel unit weight norm, so a unit-variance input keeps
    its second moment through the convolution; LeakyReLU(0.2) then keeps (1 + 0.2^2) / 2 of it
    and StyleGAN2's gain sqrt(2) restores it: E out^2 = 1.04 (without the gain 0.52, and the
    activations' RMS halved layer after layer through the generator)."""
    from perceptzoo.gans.stylegan import StyleLayer

    torch.manual_seed(0)
    layer = StyleLayer(64, 64, 16)
    x, w = torch.randn(8, 64, 32, 32), torch.randn(8, 16)
    with torch.no_grad():
        second_moment = layer(x, w, None).pow(2).mean().item()
    assert second_moment == pytest.approx(1.04, rel=0.1)


def test_mnist_synthesis_grows_a_7x7_constant_to_28x28_and_odd_sides_are_refused():
    from perceptzoo.gans.stylegan import StyleGAN, StyleGANConfig

    torch.manual_seed(0)
    model = StyleGAN(StyleGANConfig(data_shape=(1, 28, 28), num_levels=256, latent_dim=8,
                                    w_dim=8, mapping_layers=1, channels=4))
    assert model.generator.const.shape[-2:] == (7, 7)
    img = model.generator(model.latent(2))
    assert img.shape == (2, 1, 28, 28) and model.discriminator(img).shape == (2,)
    s = model.sample(3)
    assert s.shape == (3, 1, 28, 28) and 0 <= s.min() <= s.max() <= 255
    with pytest.raises(UserError, match="divisible by 4"):
        StyleGAN(StyleGANConfig(data_shape=(1, 30, 30), num_levels=256))
