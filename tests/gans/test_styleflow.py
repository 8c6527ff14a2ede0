"""StyleFlow: exact inverse and log-det, attribute edits move the target attribute only."""

from __future__ import annotations

import pytest
import torch
from torch.func import jacrev

from perceptzoo.errors import UserError
from perceptzoo.flows.styleflow import StyleFlow, measure_attributes


def _flow(**kw):
    torch.manual_seed(0)
    flow = StyleFlow(w_dim=6, num_attributes=2, hidden=16, num_layers=4, **kw)
    with torch.no_grad():  # move off the identity start so the test means something
        for p in flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
        flow.w_mean.normal_()
        flow.w_std.uniform_(0.5, 2.0)
    return flow.double()


def test_exact_inverse_and_log_det_against_autograd():
    flow = _flow()
    w, a = torch.randn(5, 6, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    z, logdet = flow(w, a)
    w_back, logdet_inv = flow.inverse(z, a)
    assert torch.allclose(w_back, w, atol=1e-10)
    assert torch.allclose(logdet, -logdet_inv, atol=1e-10)
    for i in range(3):
        jac = jacrev(lambda v, i=i: flow(v[None], a[i:i + 1])[0][0])(w[i])
        assert torch.allclose(logdet[i], torch.linalg.slogdet(jac)[1], atol=1e-8)
    # the condition matters
    assert not torch.allclose(flow(w, a + 1)[0], z)


@pytest.mark.slow
def test_an_edit_moves_the_target_attribute_and_little_else():
    """w = (2 a + 0.3 e0, e1, e2, e3): after fitting p(w | a), editing a -> a + 1 moves w_0 by
    ~2 while the coordinates a does not describe move less than 0.25 on average."""
    torch.manual_seed(0)
    n = 4096
    a = torch.randn(n, 1)
    w = torch.cat([2 * a + 0.3 * torch.randn(n, 1), torch.randn(n, 3)], 1)
    flow = StyleFlow(w_dim=4, num_attributes=1, hidden=32, num_layers=4)
    flow.fit_normalisation(w)
    opt = torch.optim.Adam(flow.parameters(), lr=3e-3)
    for _ in range(300):
        idx = torch.randint(0, n, (256,))
        loss = -flow.log_prob(w[idx], cond=a[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    edited = flow.edit(w[:512], a[:512], a[:512] + 1)
    change = edited - w[:512]
    assert change[:, 0].mean().item() == pytest.approx(2.0, abs=0.4)
    assert change[:, 1:].abs().mean().item() < 0.25
    # the fit is a density: better than the standardised Gaussian it started from
    assert -flow.log_prob(w[:512], cond=a[:512]).mean() < 4 * 1.42 - 1.0


def test_measured_attributes():
    img = torch.zeros(2, 1, 9, 9)
    img[0, 0, 1:8, 4] = 255                     # a thin vertical stroke
    img[1, 0, 1:8, 3:6] = 255                   # a thick one
    att = measure_attributes(img, 256)
    assert att["thickness"][1] == pytest.approx(3 * att["thickness"][0].item())
    assert att["slant"].abs().max() < 1e-6
    lean = torch.zeros(1, 1, 9, 9)
    for r in range(9):                          # top right to bottom left: leaning right
        lean[0, 0, r, 8 - r] = 255
    assert measure_attributes(lean, 256)["slant"].item() == pytest.approx(1.0, abs=1e-5)


def test_bad_input():
    flow = StyleFlow(w_dim=4, num_attributes=2, hidden=8, num_layers=2)
    with pytest.raises(UserError, match="latents"):
        flow(torch.zeros(3, 5), torch.zeros(3, 2))
    with pytest.raises(UserError, match="attributes"):
        flow(torch.zeros(3, 4), None)
    with pytest.raises(UserError, match="grey images"):
        measure_attributes(torch.zeros(2, 3, 8, 8), 256)
