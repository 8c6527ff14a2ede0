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
