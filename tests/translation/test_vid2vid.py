"""vid2vid: frame t depends on earlier generated frames (gradient and perturbation tests) and
on no future source frame; a video shorter than the context is a clear error."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.translation.vid2vid import warp


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
