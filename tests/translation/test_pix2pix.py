"""Pix2Pix: the discriminator judges the (source, target) pair; the L1 term vanishes for a
perfect generator; dropout is the noise and is seeded; bad input is a clear error."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

import perceptzoo
from perceptzoo.data.paired import check_pair, edge_source
from perceptzoo.errors import UserError
from perceptzoo.translation.common import to_model_space


def _model():
    torch.manual_seed(0)
    return perceptzoo.build("pix2pix", dataset="mnist", channels=8, d_channels=8)


def _digits(n=4):
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i in range(n):  # a bright bar per image at a different place: distinct edges
        r, c = torch.randint(4, 18, (2,), generator=g).tolist()
        x[i, 0, r:r + 6, c:c + 3] = 255
    return x


def test_discriminator_sees_the_pair():
    model = _model()
    x = _digits()
    source = edge_source(x).float() * 2 - 1
    target = to_model_space(x, 256)
    base = model.discriminate(source, target)
    other_source = torch.roll(source, 1, 0)  # the same targets, other sources
    assert not torch.allclose(base, model.discriminate(other_source, target))
    other_target = torch.roll(target, 1, 0)  # the same sources, other targets
    assert not torch.allclose(base, model.discriminate(source, other_target))
    # the first layer reads 2 channels: source and target concatenated
    assert model.discriminator.net[0].in_channels == 2


class _Perfect(nn.Module):
    """A generator that returns the true target of each source it was shown."""

    def __init__(self, source, target):
        super().__init__()
        self.source, self.target = source, target
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, s, generator=None):
        assert torch.equal(s, self.source)
        return self.target + 0 * self.w


def test_l1_term_is_zero_for_a_perfect_generator_and_positive_otherwise():
    model = _model()
    x = _digits()
    target = to_model_space(x, 256)
    source = edge_source(x).float() * 2 - 1
    assert model.l1_loss(target, target) == 0
    metrics = model.train_step((x, None), model.configure_optimizers(SimpleNamespace(lr=1e-4)))
    assert metrics["l1"] > 0.01                       # an untrained U-Net is not perfect
    model.generator = _Perfect(source, target)
    metrics = model.train_step((x, None), model.configure_optimizers(SimpleNamespace(lr=1e-4)))
    assert metrics["l1"] == 0


def test_dropout_is_the_noise_and_is_seeded():
    model = _model()
    edges = edge_source(_digits())
    a = model.sample(4, cond=edges, generator=torch.Generator().manual_seed(1))
    b = model.sample(4, cond=edges, generator=torch.Generator().manual_seed(1))
    c = model.sample(4, cond=edges, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (4, 1, 28, 28) and 0 <= a.min() and a.max() <= 255


def test_a_pair_of_different_sizes_is_a_clear_error():
    model = _model()
    with pytest.raises(UserError, match="same size"):
        model.discriminate(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 24, 24))
    with pytest.raises(UserError, match="shape"):
        model.sample(2, cond=torch.zeros(2, 1, 32, 32))
    with pytest.raises(UserError, match="num_samples=2"):
        model.sample(3, cond=torch.zeros(2, 1, 28, 28))
    with pytest.raises(UserError, match="same size"):
        check_pair(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 14, 14))
