"""vid2vid: frame t depends on earlier generated frames (gradient and perturbation tests) and
on no future source frame; a video shorter than the context is a clear error; the warping error
under the ground-truth motion is ~0 for a video that moves exactly by it and high for a
flickering one."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.translation.vid2vid import rigid_flow, warp, warping_error


def _model(**kw):
    torch.manual_seed(0)
    return perceptzoo.build("vid2vid", dataset="moving_digits", channels=4, d_channels=4, **kw)


def _sources(t=6):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(2, t, 1, 28, 28, generator=g) > 0.8).float() * 2 - 1


@pytest.mark.parametrize("use_flow", [True, False])
def test_frame_t_depends_on_earlier_generated_frames(use_flow):
    model = _model(use_flow=use_flow)
    sources = _sources()
    outputs, _ = model.roll_out(sources)
    t = 4
    for lag in (1, 2):  # the context L = 2 previous outputs
        (grad,) = torch.autograd.grad(outputs[t].sum(), outputs[t - lag], retain_graph=True)
        assert grad.abs().sum() > 0
    # perturbation: the same sources with another history give another frame
    window = sources[:, t - 2:t + 1]
    prev = torch.stack(outputs[t - 2:t], 1).detach()
    a, _ = model.next_frame(window, prev)
    b, _ = model.next_frame(window, prev + 0.5 * torch.randn_like(prev))
    assert not torch.allclose(a, b)


def test_no_future_source_frame_is_used():
    model = _model()
    sources = _sources()
    with torch.no_grad():
        base = model.generate_video(sources)
        for t in range(sources.shape[1] - 1):
            changed = sources.clone()
            changed[:, t + 1:] = -changed[:, t + 1:]
            out = model.generate_video(changed)
            assert torch.equal(out[:, :t + 1], base[:, :t + 1])
            assert not torch.equal(out[:, t + 1], base[:, t + 1])


def test_a_video_shorter_than_the_context_is_a_clear_error():
    model = _model()
    with pytest.raises(UserError, match="at least 3 frames"):
        model.translate(torch.zeros(1, 2, 1, 28, 28))
    with pytest.raises(UserError, match="shape"):
        model.sample(1, cond=torch.zeros(1, 1, 28, 28 * 5))


def test_zero_flow_warp_is_the_identity():
    x = torch.rand(2, 1, 8, 8)
    assert torch.allclose(warp(x, torch.zeros(2, 2, 8, 8)), x, atol=1e-6)
    shifted = warp(x, torch.ones(2, 2, 8, 8))  # out(p) = x(p + 1)
    assert torch.allclose(shifted[..., :-1, :-1], x[..., 1:, 1:], atol=1e-6)


def _rigid_video(shifts, side=28, box=12, seed=0):
    """One video (1, T, 1, side, side): a random box of ink on black, moved by `shifts`
    ((dx, dy) per frame, whole pixels), staying inside the frame."""
    g = torch.Generator().manual_seed(seed)
    patch = torch.rand(box, box, generator=g)
    x, y = 8, 8
    frames_ = []
    for dx, dy in [(0, 0), *shifts]:
        x, y = x + dx, y + dy
        frame = torch.zeros(1, side, side)
        frame[0, y:y + box, x:x + box] = patch
        frames_.append(frame)
    return torch.stack(frames_)[None]


SHIFTS = [(1, 0), (2, -1), (-2, 2), (0, 0), (-1, -2), (1, 1), (2, 0)]


def test_warping_error_is_zero_for_motion_by_the_flow_and_high_for_flicker():
    video = _rigid_video(SHIFTS)
    flows = rigid_flow(video)
    assert flows.shape == (1, 7, 2, 28, 28)
    # the backward flow of warp: minus the motion, at every pixel
    assert torch.equal(flows[0, :, :, 0, 0], -torch.tensor(SHIFTS, dtype=torch.float32))
    assert float(warping_error(video, flows)) < 1e-5
    # flicker: the same motion, every other frame at half brightness
    flicker = video.clone()
    flicker[:, 1::2] *= 0.5
    ink = float(video[video > 0].mean())                 # the ink's mean level, about 0.5
    assert float(warping_error(flicker, flows)) > 0.05 * ink
    # frames in the wrong order (motion other than the flow's) also score high
    shuffled = video[:, torch.tensor([0, 4, 1, 6, 2, 7, 3, 5])]
    assert float(warping_error(shuffled, flows)) > 0.05 * ink
    # ignoring the motion (zero flow) is the frame difference: high too
    assert float(warping_error(video, torch.zeros_like(flows))) > 0.05 * ink


def test_warping_error_reads_only_where_the_warp_is_valid():
    """A pixel whose source lies outside the frame is left out: a video whose incoming
    border is garbage still scores 0 under its flow."""
    video = _rigid_video([(2, 0)] * 3)
    flows = rigid_flow(video)
    noisy = video.clone()
    noisy[:, -1, :, :, :2] = 1.0   # the two columns a shift right by 2 brings in from outside
    assert float(warping_error(noisy, flows)) < 1e-5
    noisy[:, -1, :, :, 2] = 1.0    # a column that came from inside the frame counts
    assert float(warping_error(noisy, flows)) > 1e-3


def test_the_moving_digits_move_exactly_by_their_ground_truth_flow(shared_data):
    """The real test videos: every frame is the one before shifted by a whole-pixel vector of
    at most 2 (the warping error's floor is 0), and the flow is not zero (the digits move)."""
    from perceptzoo import data
    from perceptzoo.data.moving_digits import frames

    real = frames(data.load("moving_digits", "test").x[:64])
    flows = rigid_flow(real)
    assert float(warping_error(real.float() / 255, flows).max()) < 1e-6
    assert float((flows[..., 0, 0].abs().sum(-1) > 0).float().mean()) > 0.8
    still = float(warping_error(real.float() / 255, torch.zeros_like(flows)).mean())
    assert still > 0.02, still


def test_rigid_flow_refuses_a_video_that_no_shift_explains():
    video = _rigid_video(SHIFTS)
    video[:, 3] = torch.rand(1, 1, 28, 28)
    with pytest.raises(UserError, match="whole-pixel shift"):
        rigid_flow(video)
    with pytest.raises(UserError, match="T >= 2"):
        rigid_flow(video[:, :1])
    with pytest.raises(UserError, match="one flow"):
        warping_error(video, torch.zeros(1, 3, 2, 28, 28))
