"""The family's defining properties, parametrized over every model of the family.

- causality: d params_i / d x_j is exactly 0 for every j at or after i in the model's order,
  and non-zero for some earlier j (gradients; the tabular model by flipping inputs);
- normalisation: sum over all 2^12 inputs of exp(log_prob) is 1 (to 1e-5), for 1-channel 3x4
  images and 3-channel 2x2 images (R -> G -> B) with every output distribution;
- PixelCNN's blind spot: exactly the earlier pixels that the stacked mask footprints cannot
  reach get zero gradient, and there are some; the gated PixelCNN has none.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from ar_models import IMAGE_MODELS, TINY, build_tiny, conditionals

DIFFERENTIABLE = [n for n in TINY if n != "tabular"]


def _all_binary(shape) -> torch.Tensor:
    D = int(torch.tensor(shape).prod())
    return torch.tensor(list(itertools.product((0, 1), repeat=D)), dtype=torch.float64).view(
        -1, *shape)


def _jacobian(model, x: torch.Tensor) -> torch.Tensor:
    """(D outputs, D inputs): summed |d params_d / d x_j| at one input x (1, *shape)."""
    x = x.clone().requires_grad_(True)
    params = conditionals(model, x)[0]  # (D, P)
    rows = []
    for d in range(params.shape[0]):
        (g,) = torch.autograd.grad(params[d].sum(), x, retain_graph=True)
        rows.append(g.reshape(-1).abs())
    return torch.stack(rows)


def _check_causal(jac: torch.Tensor, order: torch.Tensor) -> None:
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order))
    later_or_same = rank[None, :] >= rank[:, None]  # [i, j]: j at or after i
    assert (jac[later_or_same] == 0).all(), "an output depends on a later (or its own) input"
    earlier = ~later_or_same
    has_past = rank > 0
    assert ((jac * earlier)[has_past].sum(1) > 0).all(), "an output ignores all of its past"


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@pytest.mark.parametrize("shape,levels", [((1, 3, 4), 2), ((3, 3, 3), 4)])
def test_causality_by_gradients(name, shape, levels):
    if shape[0] == 3 and name not in IMAGE_MODELS:
        pytest.skip("colour (R -> G -> B) ordering is an image-model property")
    extra = {"hidden_channels": 24} if shape[0] == 3 and name != "transformer" else {}
    model = build_tiny(name, data_shape=shape, num_levels=levels, seed=1, **extra)
    torch.manual_seed(0)
    x = torch.randint(0, levels, (1, *shape)).double()
    if name == "wavenet":
        x = x.reshape(1, 1, 1, -1)
    _check_causal(_jacobian(model, x), model.order)


def test_tabular_causality_by_flipping_inputs():
    """Conditional i of the table changes with x_j (j < i) and never with x_j (j >= i)."""
    model = build_tiny("tabular")
    base = torch.zeros(1, 1, 3, 4)
    ref = model.conditionals(base)[0]
    jac = torch.zeros(12, 12)
    for j in range(12):
        flipped = base.clone().view(-1)
        flipped[j] = 1
        jac[:, j] = (model.conditionals(flipped.view(1, 1, 3, 4))[0] - ref).abs().sum(-1)
    _check_causal(jac, model.order)


CASES = [(n, {}) for n in TINY] + [
    ("pixelcnn", {"output": "categorical"}),
    ("pixelcnn", {"output": "logistic_mixture", "num_mixtures": 3}),
    ("transformer", {"output": "logistic_mixture", "num_mixtures": 2}),
    ("made", {"hidden_sizes": (16, 16), "num_masks": 3, "order_agnostic": True}),
]


@pytest.mark.parametrize("name,extra", CASES, ids=[f"{n}-{e}" for n, e in CASES])
def test_normalised_over_all_binary_3x4_images(name, extra):
    model = build_tiny(name, **extra)
    x = _all_binary((1, 3, 4))
    if name == "wavenet":
        x = x.reshape(-1, 1, 1, 12)
    with torch.no_grad():
        total = torch.logsumexp(model.log_prob(x), 0).exp().item()
    assert abs(total - 1.0) < 1e-5


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_normalised_over_all_binary_colour_2x2_images(name):
    model = build_tiny(name, data_shape=(3, 2, 2))
    with torch.no_grad():
        total = torch.logsumexp(model.log_prob(_all_binary((3, 2, 2))), 0).exp().item()
    assert abs(total - 1.0) < 1e-5


@pytest.mark.parametrize("name", ["gated_pixelcnn", "wavenet"])
def test_class_conditional_models_normalised_given_each_label_and_marginally(name):
    model = build_tiny(name, num_classes=3)
    x = _all_binary((1, 3, 4))
    if name == "wavenet":
        x = x.reshape(-1, 1, 1, 12)
    with torch.no_grad():
        for label in range(3):
            lp = model.log_prob(x, cond=torch.full((len(x),), label))
            assert abs(torch.logsumexp(lp, 0).exp().item() - 1) < 1e-5
        model.trained_with_labels.fill_(True)  # log_prob(x) is now the marginal over labels
        assert abs(torch.logsumexp(model.log_prob(x), 0).exp().item() - 1) < 1e-5
        # and the labels matter
        a = model.log_prob(x[:8], cond=torch.zeros(8))
        b = model.log_prob(x[:8], cond=torch.ones(8))
        assert not torch.allclose(a, b)


def _footprint(mask_type: str, k: int) -> list[tuple[int, int]]:
    """Input offsets (di, dj) a single-channel k x k masked convolution reads."""
    from perceptzoo.nn.masked_conv import conv_mask

    m = conv_mask(1, 1, (k, k), mask_type)[0, 0]
    return [(a - k // 2, b - k // 2) for a, b in m.nonzero().tolist()]


def test_pixelcnn_blind_spot_is_exactly_what_the_masks_cannot_reach():
    """PixelCNN: 7x7 mask A then 3x3 mask-B layers. The pixels an output can depend on are
    the footprints composed; earlier pixels outside that set (the blind spot, van den Oord et
    al. 2016b, figure 1) get exactly zero gradient, and such pixels exist."""
    H = W = 7
    model = build_tiny("pixelcnn", data_shape=(1, H, W), hidden_channels=16, num_blocks=2)
    jac = _jacobian(model, torch.randint(0, 2, (1, 1, H, W)).double())
    first, later = _footprint("A", 7), _footprint("B", 3)
    blind_total = 0
    for i, j in itertools.product(range(H), range(W)):
        reach = {(i, j)}
        for _ in range(model.cfg.num_blocks):
            reach |= {(a + da, b + db) for a, b in reach for da, db in later}
        reach = {(a + da, b + db) for a, b in reach for da, db in first}
        reach = {(a, b) for a, b in reach if 0 <= a < H and 0 <= b < W}
        depends = {divmod(q, W) for q in jac[i * W + j].nonzero().flatten().tolist()}
        assert depends <= reach
        earlier = {(a, b) for a, b in itertools.product(range(H), range(W))
                   if (a, b) < (i, j)}
        blind = earlier - reach
        blind_total += len(blind)
        assert not (depends & blind)
    assert blind_total > 0, "expected a blind spot"


def test_gated_pixelcnn_has_no_blind_spot():
    """Every earlier pixel influences every later output (within the receptive field, which
    covers the whole 7x7 image here)."""
    H = W = 7
    model = build_tiny("gated_pixelcnn", data_shape=(1, H, W), hidden_channels=16,
                       num_layers=4)
    jac = _jacobian(model, torch.randint(0, 2, (1, 1, H, W)).double())
    earlier = torch.tril(torch.ones(H * W, H * W, dtype=torch.bool), diagonal=-1)
    assert (jac[earlier] > 0).all()
    assert (jac[~earlier] == 0).all()
