"""DCGAN: the architecture guidelines of Radford et al. (2016, sec. 3) hold on the built nets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import perceptzoo


@pytest.mark.parametrize("dataset,side", [("digits", 8), ("mnist", 28)])
def test_architecture_rules(dataset, side, shared_data):
    model = perceptzoo.build("dcgan", dataset=dataset, channels=16, latent_dim=20)
    g, d = list(model.generator.modules()), list(model.discriminator.modules())
    # no fully connected hidden layers, no pooling
    for m in g + d:
        assert not isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d))
    # fractionally strided convolutions in G, strided convolutions in D
    g_convs = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    d_convs = [m for m in d if isinstance(m, nn.Conv2d)]
    assert sum(c.stride == (2, 2) for c in g_convs) == 2
    assert sum(c.stride == (2, 2) for c in d_convs) == 2
    # batch norm everywhere except G's output and D's input layer
    g_layers = [m for m in model.generator if not isinstance(m, nn.Unflatten)]
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g) == 2
    d_layers = list(model.discriminator)
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d) == 1
    # ReLU in G, LeakyReLU(0.2) in D
    assert all(not isinstance(m, nn.LeakyReLU) for m in g)
    assert any(isinstance(m, nn.ReLU) for m in g)
    assert all(m.negative_slope == 0.2 for m in d if isinstance(m, nn.LeakyReLU))
    assert not any(type(m) is nn.ReLU for m in d)
    # N(0, 0.02) weights
    w = torch.cat([c.weight.flatten() for c in g_convs + d_convs])
    assert w.std().item() == pytest.approx(0.02, rel=0.1)
    # shapes and data space
    s = model.eval().sample(4)
    assert s.shape == (4, 1, side, side) and s.min() >= 0 and s.max() <= 255
    with torch.no_grad():
        assert model.discriminator(model.model_space(s)).shape == (4,)
