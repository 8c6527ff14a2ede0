"""Voxel 3D-GAN and PlatonicGAN: outputs in [0, 1], each update touches only its own network,
resolutions that are not powers of two are refused."""

import pytest
import torch

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.errors import UserError


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters())]


@pytest.mark.parametrize("name,shape", [("voxel_gan", (1, 8, 8, 8)),
                                        ("platonic_gan", (1, 8, 8))])
def test_generator_and_discriminator_updates_touch_only_their_own_parameters(name, shape):
    torch.manual_seed(0)
    model = perceptzoo.build(name, data_shape=shape, latent_dim=8, channels=4)
    if name == "voxel_gan":
        model.cfg.d_accuracy_threshold = 2.0  # always step D in this test
    opt_g, opt_d = model.configure_optimizers(TrainConfig(lr=1e-2))
    real = (torch.rand(6, *shape) > 0.5).to(torch.uint8)
    g0, d0 = _snapshot(model.generator), _snapshot(model.discriminator)
    # D's update alone: G unchanged
    model.train_step((real, None), [torch.optim.SGD(model.generator.parameters(), lr=0.0),
                                    opt_d])
    assert not any(_changed(g0, model.generator)) and any(_changed(d0, model.discriminator))
    # G's update alone: D unchanged
    d1 = _snapshot(model.discriminator)
    model.train_step((real, None), [opt_g, torch.optim.SGD(model.discriminator.parameters(),
                                                           lr=0.0)])
    assert not any(_changed(d1, model.discriminator)) and any(_changed(g0, model.generator))


def test_generator_steps_leave_no_gradient_on_the_discriminator():
    model = perceptzoo.build("voxel_gan", data_shape=(1, 8, 8, 8), latent_dim=8, channels=4)
    opt_g, opt_d = model.configure_optimizers(TrainConfig(lr=1e-3))
    model.cfg.d_accuracy_threshold = 0.0  # never step D: only G's step runs
    model.train_step(((torch.rand(4, 1, 8, 8, 8) > 0.5).float(), None), [opt_g, opt_d])
    assert all(p.grad is None for p in model.discriminator.parameters())


def test_voxel_outputs_lie_in_the_unit_interval():
    model = perceptzoo.build("voxel_gan", data_shape=(1, 16, 16, 16), latent_dim=8, channels=4)
    with torch.no_grad():
        v = model.generator(torch.randn(4, 8) * 10)
    assert v.shape == (4, 1, 16, 16, 16) and v.min() >= 0 and v.max() <= 1
    s = model.sample(3)
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    p = perceptzoo.build("platonic_gan", data_shape=(1, 16, 16), latent_dim=8, channels=4)
    v = p.generate_volumes(2)
    assert v.min() >= 0 and v.max() <= 1
    images = p.render(v)
    assert images.shape == (2, 1, 16, 16) and images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("name,shape", [("voxel_gan", (1, 12, 12, 12)),
                                        ("platonic_gan", (1, 24, 24))])
def test_a_resolution_that_is_not_a_power_of_two_is_refused(name, shape):
    with pytest.raises(UserError, match="power of two"):
        perceptzoo.build(name, data_shape=shape)
