"""The translation data: paired edges, printed digits from installed fonts, moving digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perceptzoo.data import moving_digits, printed_digits
from perceptzoo.data.paired import check_pair, pairs
from perceptzoo.errors import UserError


def test_pairs_are_edges_of_the_digits_and_sizes_must_match():
    x = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    x[:, :, 10:18, 10:18] = 255
    source, target = pairs(x)
    assert source.shape == target.shape and set(source.unique().tolist()) == {0, 1}
    assert source[0, 0, 14, 14] == 0 and source[0, 0, 10, 14] == 1   # inside flat, border edge
    with pytest.raises(UserError, match="same size"):
        check_pair(source, target[:, :, :20])


def test_printed_digits_are_seeded_and_mnist_normalised():
    if not printed_digits.font_paths():
        pytest.skip("no DejaVu or Liberation font installed (Debian: fonts-dejavu-core "
                    "fonts-liberation)")
    labels = np.arange(10)
    a, b = printed_digits.render(labels, seed=3), printed_digits.render(labels, seed=3)
    assert a.shape == (10, 1, 28, 28) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, printed_digits.render(labels, seed=4))
    ink = a[:, 0].astype(float)
    ys, xs = np.mgrid[:28, :28]
    cy = (ink * ys).sum((1, 2)) / ink.sum((1, 2))
    cx = (ink * xs).sum((1, 2)) / ink.sum((1, 2))
    assert np.abs(cy - 13.5).max() < 1.5 and np.abs(cx - 13.5).max() < 1.5
    for img in ink:                                                  # fits 20x20, as MNIST
        rows, cols = np.nonzero(img)
        assert rows.max() - rows.min() < 20 and cols.max() - cols.min() < 20


def test_moving_digits_stay_in_the_frame_and_move_each_frame():
    digits = np.zeros((5, 28, 28), dtype=np.uint8)
    digits[:, 6:22, 8:20] = 200                                      # ink inside the 20x20 box
    videos = moving_digits.bounce(digits, seed=0)
    assert videos.shape == (5, moving_digits.NUM_FRAMES, 1, 28, 28)
    mass = videos.reshape(5, moving_digits.NUM_FRAMES, -1).sum(-1)
    assert (mass == mass[:, :1]).all()                               # never leaves the frame
    assert (np.abs(np.diff(videos.astype(int), axis=1)).sum((2, 3, 4)) > 0).all()
    v = torch.from_numpy(videos)
    assert torch.equal(moving_digits.frames(moving_digits.strip(v)), v)
    with pytest.raises(UserError, match="frames"):
        moving_digits.frames(torch.zeros(1, 1, 28, 30))
