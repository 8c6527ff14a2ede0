"""The paired translation protocol's two sets of test images (`_halves`): disjoint, seeded, and
drawn from the same writers, so their Fréchet distance is the floor of the sample size and not
the gap between MNIST's two test populations (SD-3 writers in test[:5000], SD-1 in the rest)."""

from __future__ import annotations

import torch

from perceptzoo.bench.recipes.translation import N, _halves


def test_halves_are_disjoint_seeded_and_span_the_whole_test_split():
    src, ref = _halves(N)
    assert len(src) == len(ref) == N
    assert not set(src.tolist()) & set(ref.tolist())
    assert torch.equal(src, _halves(N)[0]) and torch.equal(ref, _halves(N)[1])
    # each set takes about half its digits from each of the test split's two populations
    for idx in (src, ref):
        assert abs(float((idx < 5000).float().mean()) - 0.5) < 0.03


def test_the_floor_between_the_halves_is_the_sample_sizes_not_the_writers(shared_data):
    from perceptzoo import data
    from perceptzoo.metrics import classifier
    from perceptzoo.metrics.frechet import frechet_distance

    test = data.load("mnist", "test")
    feats = classifier.features("mnist", test.x.float())
    src, ref = _halves(N, len(test.x))
    random_halves = frechet_distance(feats[ref], feats[src])
    fixed_halves = frechet_distance(feats[N:2 * N], feats[:N])
    assert random_halves < 2.0 < 10.0 < fixed_halves, (random_halves, fixed_halves)
