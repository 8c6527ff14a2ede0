"""The procedural sprites: every factor combination once, factors recoverable from the images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perceptzoo import data
from perceptzoo.data import sprites
from perceptzoo.errors import UserError


def test_splits_partition_the_factor_grid():
    splits = [data.load("sprites", s) for s in ("train", "valid", "test")]
    assert [len(s) for s in splits] == [9216, 1152, 1152]
    codes = torch.cat([s.y for s in splits]) @ torch.tensor([3840, 640, 64, 8, 1])
    assert sorted(codes.tolist()) == list(range(sprites.NUM_IMAGES))
    assert data.info("sprites").num_levels == 2
    x = splits[0].x
    assert x.dtype == torch.uint8 and set(x.unique().tolist()) == {0, 1}


def test_factors_move_the_sprite_as_labelled():
    base = np.array([1, 5, 0, 3, 3])
    area = [sprites.render(np.r_[base[:1], s, base[2:]][None]).sum().item() for s in range(6)]
    assert area == sorted(area) and area[0] < area[-1]  # scale grows the sprite
    cols = []
    for px in range(8):
        img = sprites.render(np.r_[base[:3], px, base[4]][None])[0, 0].float()
        cols.append((img.sum(0) * torch.arange(32)).sum() / img.sum())
    assert all(b > a for a, b in zip(cols, cols[1:]))  # x moves right
    rows = []
    for py in range(8):
        img = sprites.render(np.r_[base[:4], py][None])[0, 0].float()
        rows.append((img.sum(1) * torch.arange(32)).sum() / img.sum())
    assert all(b < a for a, b in zip(rows, rows[1:]))  # y moves up (row index falls)
    shapes = [sprites.render(np.r_[s, base[1:]][None]) for s in range(3)]
    assert not torch.equal(shapes[0], shapes[1]) and not torch.equal(shapes[1], shapes[2])


def test_bad_factors_and_split():
    with pytest.raises(UserError, match="factor indices"):
        sprites.render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(UserError, match="unknown split"):
        sprites.load("holdout")
