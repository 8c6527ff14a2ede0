"""The gans3d figures: IoU to the nearest shape, turntables as real GIFs."""

import torch
from PIL import Image

from perceptzoo.gans3d.scores import iou_to_nearest, turntable


def test_iou_to_nearest_is_one_for_a_training_shape_and_exact_otherwise():
    a = torch.zeros(2, 1, 4, 4, 4, dtype=torch.uint8)
    a[0, :, :2] = 1                    # half the grid
    a[1, :, :1] = 1                    # a quarter
    b = a[:1].clone()
    iou = iou_to_nearest(a, b)
    torch.testing.assert_close(iou, torch.tensor([1.0, 0.5]))


def test_turntable_writes_a_gif(tmp_path):
    v = torch.zeros(2, 1, 8, 8, 8)
    v[:, :, 2:6, 2:5, 3:6] = 1
    path = turntable(v, tmp_path / "t.gif", frames=4)
    assert path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(path) as img:
        assert img.n_frames == 4
