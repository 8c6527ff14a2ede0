"""CycleGAN: after a short training F(G(x)) ~ x and G(F(y)) ~ y on held-out images (errors
below a stated bound and far below an untrained pair's); the image history buffer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import perceptzoo
from perceptzoo.data import printed_digits
from perceptzoo.translation.cyclegan import ImageHistory


@pytest.fixture
def fonts():
    if not printed_digits.font_paths():
        pytest.skip("no DejaVu or Liberation font installed (Debian: fonts-dejavu-core "
                    "fonts-liberation); printed digits cannot be rendered")


def test_history_buffer_fills_then_mixes_old_and_new():
    torch.manual_seed(0)
    pool = ImageHistory(4, (1, 2, 2))
    first = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    assert torch.equal(pool.query(first), first)             # filling: the fakes themselves
    assert int(pool.count) == 4
    new = torch.arange(100.0, 300.0).view(200, 1, 1, 1).expand(200, 1, 2, 2)
    shown = pool.query(new)
    swapped = (shown != new).flatten(1).any(1)
    assert 60 < int(swapped.sum()) < 140                     # about half swapped for stored ones
    assert set(shown[swapped, 0, 0, 0].tolist()) <= set(range(0, 300))
    assert (pool.images >= 100).all()                        # every first image replaced
    assert int(pool.count) == 4                              # and the pool never grows


def test_cycle_errors_after_short_training(fonts, shared_data):
    from perceptzoo import data

    torch.manual_seed(0)
    mnist = data.load("mnist", "train").x
    x_train, x_test = mnist[:512], mnist[-64:]
    rng = np.random.default_rng(0)
    y_train = torch.from_numpy(printed_digits.render(rng.integers(0, 10, 512), seed=10))
    y_test = torch.from_numpy(printed_digits.render(rng.integers(0, 10, 64), seed=11))
    model = perceptzoo.build("cyclegan", dataset="mnist", channels=8, num_blocks=1,
                             d_channels=8, pool_size=8)
    model.domain_y = y_train
    untrained = model.cycle_errors(x_test, y_test)
    opts = model.configure_optimizers(SimpleNamespace(lr=2e-3))
    for _ in range(60):
        idx = torch.randint(len(x_train), (8,))
        model.train_step((x_train[idx], None), opts)
    trained = model.cycle_errors(x_test, y_test)
    bound = 0.12  # mean |F(G(x)) - x| per pixel in [0, 1]
    for before, after in zip(untrained, trained):
        assert after < bound, (untrained, trained)
        assert after < 0.5 * before, (untrained, trained)
