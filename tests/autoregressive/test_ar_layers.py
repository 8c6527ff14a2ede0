"""Shared layers and kernels: masked convolutions, attention, output heads, NADE's recurrence,
WaveNet's receptive field and mu-law, PixelRNN's row recurrence."""

from __future__ import annotations

import math

import pytest
import torch
from ar_models import build_tiny

from perceptzoo.autoregressive.common import OutputHead
from perceptzoo.data.fsdd import mu_law_decode, mu_law_encode
from perceptzoo.nn.attention import CausalSelfAttention, KVCache, attention, causal_mask
from perceptzoo.nn.masked_conv import MaskedConv2d, conv_mask


# -- masked convolutions ------------------------------------------------------------------------
def test_mask_a_and_b_spatial_and_rgb_structure():
    """Centre of a 3-channel 3x3 mask: A lets G see R and B see R, G; B also lets each see
    itself. Rows above and the left of the centre row are open, the rest closed."""
    a = conv_mask(3, 3, (3, 3), "A", num_groups=3)
    b = conv_mask(3, 3, (3, 3), "B", num_groups=3)
    assert torch.equal(a[:, :, 1, 1], torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0]]))
    assert torch.equal(b[:, :, 1, 1], torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 1, 1]]))
    for m in (a, b):
        assert (m[:, :, 0, :] == 1).all() and (m[:, :, 1, 0] == 1).all()
        assert (m[:, :, 2, :] == 0).all() and (m[:, :, 1, 2] == 0).all()
    v = conv_mask(2, 2, (3, 3), "A", vertical=True)
    assert (v[:, :, 0] == 1).all() and (v[:, :, 1:] == 0).all()


def test_masked_conv_rgb_dependencies_on_a_three_channel_input():
    """A mask-A layer on an RGB image: the R outputs at (i, j) ignore all of pixel (i, j),
    G outputs read only its R, B outputs its R and G; nothing reads later pixels."""
    torch.manual_seed(0)
    conv = MaskedConv2d(3, 6, 3, "A", num_groups=3).double()
    x = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    out = conv(x)
    i, j = 2, 1
    for colour in range(3):
        (g,) = torch.autograd.grad(out[0, 2 * colour : 2 * colour + 2, i, j].sum(), x,
                                   retain_graph=True)
        at_pixel = g[0, :, i, j]
        assert (at_pixel[colour:] == 0).all() and (at_pixel[:colour] != 0).all()
        later = torch.zeros(4, 4, dtype=torch.bool)
        later.view(-1)[i * 4 + j + 1 :] = True
        assert (g[0][:, later] == 0).all()


def test_forward_at_and_forward_row_equal_the_full_convolution():
    torch.manual_seed(0)
    conv = MaskedConv2d(4, 5, (3, 5), "B", num_groups=2).double()
    x = torch.randn(2, 4, 6, 7, dtype=torch.float64)
    full = conv(x)
    for i, j in [(0, 0), (2, 3), (5, 6), (0, 6), (5, 0)]:
        assert torch.allclose(conv.forward_at(x, i, j), full[:, :, i, j])
    for i in range(6):
        assert torch.allclose(conv.forward_row(x, i), full[:, :, i])


# -- attention ---------------------------------------------------------------------------------
def _naive_attention(q, k, v, offset=0):
    """Loops over batch, heads and queries; softmax over keys j <= i + offset."""
    B, h, Tq, d = q.shape
    out = torch.zeros_like(q)
    weights = torch.zeros(B, h, Tq, k.shape[2], dtype=q.dtype)
    for b in range(B):
        for head in range(h):
            for i in range(Tq):
                visible = i + offset + 1
                scores = torch.tensor([float(q[b, head, i] @ k[b, head, j]) / math.sqrt(d)
                                       for j in range(visible)], dtype=q.dtype)
                w = torch.exp(scores - scores.max())
                w = w / w.sum()
                weights[b, head, i, :visible] = w
                out[b, head, i] = sum(w[j] * v[b, head, j] for j in range(visible))
    return out, weights


@pytest.mark.parametrize("offset", [0, 3])
def test_attention_equals_a_naive_loop_and_masked_weights_are_zero(offset):
    torch.manual_seed(0)
    q = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    k = torch.randn(2, 3, 4 + offset, 5, dtype=torch.float64)
    v = torch.randn(2, 3, 4 + offset, 5, dtype=torch.float64)
    out, w = attention(q, k, v, offset)
    ref_out, ref_w = _naive_attention(q, k, v, offset)
    assert torch.allclose(out, ref_out) and torch.allclose(w, ref_w)
    masked = causal_mask(4, 4 + offset, offset).isinf().expand_as(w)
    assert (w[masked] == 0).all() and torch.allclose(w.sum(-1), torch.ones(2, 3, 4,
                                                                          dtype=torch.float64))


def test_fused_attention_and_kv_cache_equal_the_written_out_equation():
    torch.manual_seed(0)
    slow = CausalSelfAttention(12, 3, fast=False).double()
    fast = CausalSelfAttention(12, 3, fast=True).double()
    fast.load_state_dict(slow.state_dict())
    x = torch.randn(2, 7, 12, dtype=torch.float64)
    ref = slow(x)
    assert torch.allclose(fast(x), ref)
    for layer in (slow, fast):
        cache = KVCache()
        steps = torch.cat([layer(x[:, :3], cache)] + [layer(x[:, t : t + 1], cache)
                                                      for t in range(3, 7)], dim=1)
        assert torch.allclose(steps, ref) and cache.length == 7


# -- output heads ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,levels", [("bernoulli", 2), ("categorical", 256),
                                         ("logistic_mixture", 256), ("logistic_mixture", 2)])
def test_output_heads_are_normalised_and_sample_by_the_cdf(kind, levels):
    head = OutputHead(kind, levels, num_mixtures=4)
    torch.manual_seed(0)
    params = torch.randn(6, head.num_params, dtype=torch.float64) * 2
    lp = head.level_log_probs(params)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(6, dtype=torch.float64))
    x = torch.randint(0, levels, (6,))
    assert torch.allclose(head.log_prob(params, x), lp.gather(-1, x[:, None])[:, 0])
    # u just below a CDF step samples that level
    cdf = lp.exp().cumsum(-1)
    target = torch.randint(0, levels, (6,))
    u = (cdf.gather(-1, target[:, None])[:, 0] - 1e-9).clamp(min=0)
    assert torch.equal(head.sample(params, u), target)


# -- NADE ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("levels", [2, 5])
def test_nade_recurrence_equals_naive_recomputation(levels):
    model = build_tiny("nade", data_shape=(1, 4, 5), num_levels=levels)
    x = torch.randint(0, levels, (3, 1, 4, 5)).double()
    assert torch.allclose(model.hidden(x), model.hidden_naive(x), atol=1e-12)


# -- WaveNet ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dilations,k", [((1, 2, 4, 8), 2), ((1, 3, 1, 3), 3), ((2,), 4)])
def test_wavenet_receptive_field_is_one_plus_sum_of_dilations_times_k_minus_1(dilations, k):
    T = 60
    model = build_tiny("wavenet", data_shape=(1, 1, T), num_levels=4, dilations=dilations,
                       kernel_size=k)
    rf = 1 + sum(d * (k - 1) for d in dilations)
    assert model.receptive_field == rf
    x = torch.randint(0, 4, (1, 1, 1, T)).double().requires_grad_(True)
    params = model.conditionals(x)[0]
    for t in [0, 1, rf - 1, rf, rf + 5, T - 1]:
        (g,) = torch.autograd.grad(params[t].sum(), x, retain_graph=True)
        depends = g.flatten().nonzero().flatten().tolist()
        window = list(range(max(0, t - rf), t))  # the rf samples before t (fewer near 0)
        assert set(depends) <= set(window)
        if t >= rf:  # the span is exactly rf: both ends are read
            assert depends[0] == t - rf and depends[-1] == t - 1
        if dilations == (1, 2, 4, 8):  # doubling dilations from 1 read every sample
            assert depends == window


def test_mu_law_round_trip_and_range():
    audio = torch.linspace(-1, 1, 2001)
    codes = mu_law_encode(audio)
    assert codes.min() == 0 and codes.max() == 255
    assert (mu_law_encode(mu_law_decode(torch.arange(256))) == torch.arange(256)).all()
    # companding: quiet samples get finer steps than loud ones
    assert (mu_law_decode(torch.tensor(129)) - mu_law_decode(torch.tensor(128))) < (
        mu_law_decode(torch.tensor(255)) - mu_law_decode(torch.tensor(254)))


# -- PixelRNN -----------------------------------------------------------------------------------
def test_pixelrnn_row_by_row_equals_the_teacher_forced_pass():
    """The sampler's one-row step, fed the finished rows' states, gives the same conditionals
    as the full pass over the whole image."""
    model = build_tiny("pixelrnn", data_shape=(3, 4, 5), num_levels=4, hidden_channels=12,
                       num_layers=2)
    x = torch.randint(0, 4, (2, 3, 4, 5)).double()
    full = model._params_map(x)  # (B, C, P, H, W)
    zero = x.new_zeros(2, 12, 5)
    states = [(zero, zero)] * 2
    for i in range(4):
        row, states = model._row(x, i, states)
        assert torch.allclose(row, full[:, :, :, i])
