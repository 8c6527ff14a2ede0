"""Samples are written in the form their data takes: PNG grids, scatter plots, WAV audio."""

from __future__ import annotations

import wave

import torch
from PIL import Image

from perceptzoo import data
from perceptzoo.viz.images import save_samples


def test_images_points_and_audio(tmp_path):
    grid = save_samples(torch.randint(0, 17, (4, 1, 8, 8)), tmp_path / "a.png", data.info("digits"))
    assert Image.open(grid).size[0] > 8
    points = save_samples(torch.randn(100, 2), tmp_path / "b.png", data.info("toy2d:moons"))
    assert Image.open(points).size == (400, 400)
    info = data.info("fsdd")
    codes = torch.randint(0, 256, (3, *info.data_shape))
    wav = save_samples(codes, tmp_path / "c.png", info)
    assert wav.suffix == ".wav"
    with wave.open(str(wav)) as f:
        assert f.getframerate() == info.sample_rate
        assert f.getnframes() == 3 * (info.data_shape[-1] + info.sample_rate // 10)


def test_volumes_are_drawn_as_their_three_axis_projections(tmp_path):
    from PIL import Image

    from perceptzoo import data
    from perceptzoo.viz.images import save_samples, volume_projections

    cube = torch.zeros(1, 1, 4, 6, 8)
    cube[0, 0, 1:3, 2:4, 5:7] = 1  # a box at known depth, row, column
    views = volume_projections(cube)
    assert views.shape == (1, 1, 6, 8 + 1 + 8 + 1 + 6 + 1)
    front = views[0, 0, :, :8]  # max over depth: rows 2:4, columns 5:7
    assert front.sum() == 4 and front[2:4, 5:7].all()
    written = save_samples(torch.rand(4, 1, 16, 16, 16).round(), tmp_path / "v.png",
                           data.info("voxels16"))
    assert Image.open(written).size[0] > Image.open(written).size[1]
