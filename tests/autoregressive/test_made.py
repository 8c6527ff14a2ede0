"""MADE: the autoregressive property for any order and mask, and exact normalisation."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

import perceptzoo

CASES = [
    dict(data_shape=(1, 2, 5), num_levels=2, hidden_sizes=(24,)),
    dict(data_shape=(1, 2, 5), num_levels=2, hidden_sizes=(16, 16), order_agnostic=True,
         num_masks=4),
    dict(data_shape=(1, 2, 5), num_levels=2, hidden_sizes=(16, 12, 8), direct_connections=True,
         order_agnostic=True, num_masks=3, mask_seed=5),
    dict(data_shape=(1, 1, 5), num_levels=3, hidden_sizes=(20,), order_agnostic=True,
         num_masks=2),
]


def _all_inputs(num_dims: int, num_levels: int, shape) -> torch.Tensor:
    grid = list(itertools.product(range(num_levels), repeat=num_dims))
    return torch.tensor(grid, dtype=torch.uint8).reshape(-1, *shape)


@pytest.mark.parametrize("cfg", CASES)
def test_jacobian_is_autoregressive_for_every_mask(cfg):
    """d logits[o(i)] / d x[o(j)] is exactly 0 for j >= i and not 0 for some j < i."""
    model = perceptzoo.build("made", **cfg)
    D = model.num_dims
    for k in range(model.cfg.num_masks):
        model.set_mask(k)
        order = model.order.tolist()
        position = {d: i for i, d in enumerate(order)}
        x = torch.randint(0, cfg["num_levels"], (1, D)).float()

        def f(inp, model=model):  # logits summed over levels, as a function of the inputs
            return model.logits(inp[None]).reshape(D, -1).sum(1)

        jac = torch.autograd.functional.jacobian(f, x[0])  # (D outputs, D inputs)
        for d_out in range(D):
            for d_in in range(D):
                if position[d_in] >= position[d_out]:
                    assert jac[d_out, d_in] == 0, (k, d_out, d_in)
        # the network does use the past: some strictly earlier input has influence
        later = [d for d in range(D) if position[d] > 0]
        assert any(jac[d, [i for i in range(D) if position[i] < position[d]]].abs().sum() > 0
                   for d in later)


@pytest.mark.parametrize("cfg", CASES)
def test_probabilities_sum_to_one(cfg):
    model = perceptzoo.build("made", **cfg).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))  # not just the initialisation
        x = _all_inputs(model.num_dims, cfg["num_levels"], cfg["data_shape"])
        total = torch.logsumexp(model.log_prob(x).double(), 0).exp()
    assert abs(total.item() - 1.0) < 1e-5


def test_ensemble_is_log_mean_exp_of_masks():
    model = perceptzoo.build("made", **CASES[1]).eval()
    x = _all_inputs(10, 2, (1, 2, 5))[:50]
    per_mask = []
    for k in range(4):
        model.set_mask(k)
        per_mask.append(model.log_prob_given(x))
    expected = torch.logsumexp(torch.stack(per_mask), 0) - math.log(4)
    torch.testing.assert_close(model.log_prob(x), expected)
    assert not torch.allclose(per_mask[0], per_mask[1])  # masks really differ


def test_training_cycles_masks():
    model = perceptzoo.build("made", **CASES[1]).train()
    x = torch.randint(0, 2, (8, 1, 2, 5), dtype=torch.uint8)
    seen = []
    for _ in range(5):
        model.loss((x, None))
        seen.append(int(model.mask_index))
    assert seen == [1, 2, 3, 0, 1]


def test_samples_follow_the_model():
    """Sample frequencies on D=4 binary dims match exp(log_prob) (chi-square-sized tolerance)."""
    model = perceptzoo.build("made", data_shape=(4,), num_levels=2, hidden_sizes=(16,),
                             order_agnostic=True, num_masks=2).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3)
    n = 20000
    samples = model.sample(n, generator=torch.Generator().manual_seed(0))
    x = _all_inputs(4, 2, (4,))
    probs = model.log_prob(x).exp()
    counts = torch.stack([(samples == row).all(1).sum() for row in x.float()]).double()
    freq = counts / n
    tol = 4 * torch.sqrt(probs * (1 - probs) / n) + 1e-3
    assert ((freq - probs).abs() <= tol).all()


def test_categorical_digits_shapes_and_loss():
    model = perceptzoo.build("made", dataset="digits", hidden_sizes=(32,))
    x = perceptzoo.data.load("digits", "train").x[:16]
    out = model.loss((x, None))
    assert out.loss.shape == () and torch.isfinite(out.loss)
    out.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    s = model.sample(3, generator=torch.Generator().manual_seed(1))
    assert s.shape == (3, 1, 8, 8) and s.min() >= 0 and s.max() <= 16
