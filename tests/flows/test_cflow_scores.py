"""C-Flow's translation scores and its nearest-neighbour baseline (perceptzoo.flows.cflow)."""

from __future__ import annotations

import pytest
import torch

from perceptzoo.errors import UserError
from perceptzoo.flows.cflow import nearest_pair_translation, stroke_iou, translation_scores


def test_stroke_iou_counts_foreground_only():
    target = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    target[:, :, 0, :2] = 255  # two stroke pixels per image
    pred = target.clone()
    pred[1] = 0                         # image 1: blank prediction
    pred[2, :, 0, 2] = 200              # image 2: one extra stroke pixel -> 2 / 3
    iou = stroke_iou(pred, target, 256)
    assert torch.allclose(iou, torch.tensor([1.0, 0.0, 2 / 3]))
    # background agreement does not count: a blank guess scores 0 however much it agrees
    assert float((pred[1] == target[1]).float().mean()) == pytest.approx(14 / 16)
    blank = torch.zeros(1, 1, 4, 4)
    assert float(stroke_iou(blank, blank, 2)) == 1.0  # nothing to draw, nothing drawn
    # half intensity is the threshold: 127 is background, 128 stroke
    assert stroke_iou(torch.full((1, 1, 1, 1), 127), torch.full((1, 1, 1, 1), 255), 256) == 0
    assert stroke_iou(torch.full((1, 1, 1, 1), 128), torch.full((1, 1, 1, 1), 255), 256) == 1


def test_nearest_pair_translation_returns_the_nearest_pairs_target():
    g = torch.Generator().manual_seed(0)
    train_a = torch.randint(0, 256, (50, 1, 6, 6), generator=g, dtype=torch.uint8)
    train_b = torch.arange(50).view(50, 1, 1, 1).expand(50, 1, 6, 6).clone()
    # queries: training inputs plus a little noise, so each one's nearest pair is its own
    noise = torch.randint(-2, 3, (7, 1, 6, 6), generator=g)
    picks = torch.tensor([3, 0, 49, 17, 17, 8, 21])
    query = (train_a[picks].long() + noise).clamp(0, 255)
    out = nearest_pair_translation(query, train_a, train_b, chunk=3)
    assert torch.equal(out[:, 0, 0, 0], picks)
    # brute force agrees
    d = torch.cdist(query.flatten(1).double(), train_a.flatten(1).double())
    assert torch.equal(out[:, 0, 0, 0], d.argmin(1))


def test_nearest_pair_translation_refuses_mismatched_input():
    with pytest.raises(UserError, match="as many"):
        nearest_pair_translation(torch.zeros(2, 1, 4, 4), torch.zeros(3, 1, 4, 4),
                                 torch.zeros(2, 1, 4, 4))
    with pytest.raises(UserError, match="do not match"):
        nearest_pair_translation(torch.zeros(2, 1, 5, 5), torch.zeros(3, 1, 4, 4),
                                 torch.zeros(3, 1, 4, 4))


def test_translation_scores_of_a_perfect_and_a_blank_translation():
    g = torch.Generator().manual_seed(1)
    digits = (torch.rand(4, 1, 8, 8, generator=g) > 0.6).to(torch.uint8) * 255
    from perceptzoo.data.edges import edge_map

    edges = edge_map(digits, 256)
    labels = torch.tensor([0, 1, 2, 3])

    def oracle(x: torch.Tensor) -> torch.Tensor:  # "recognises" only the true digits
        hit = (x == digits).flatten(1).all(1)
        return torch.nn.functional.one_hot(torch.where(hit, labels, (labels + 1) % 10), 10)

    perfect = translation_scores(digits, digits, 256, input_a=edges, labels=labels,
                                 classify=oracle)
    assert perfect == {"pixel_accuracy": 1.0, "stroke_iou": 1.0, "edge_consistency": 1.0,
                       "edge_iou": 1.0, "class_accuracy": 1.0}
    blank = translation_scores(torch.zeros_like(digits), digits, 256, input_a=edges,
                               labels=labels, classify=oracle)
    assert blank["stroke_iou"] == 0.0 and blank["class_accuracy"] == 0.0
    assert blank["pixel_accuracy"] == pytest.approx(float((digits == 0).float().mean()))
    # edge maps (2 levels): agreement and IoU only
    assert set(translation_scores(edges, edges, 2)) == {"pixel_accuracy", "stroke_iou"}
