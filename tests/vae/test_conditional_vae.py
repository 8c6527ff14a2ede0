"""Conditional VAE and M2: labels steer the decoder; marginals are log-sum-exps over labels."""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.data import DatasetInfo
from perceptzoo.errors import UserError

SMALL = dict(data_shape=(1, 8, 8), num_levels=17, num_classes=10, latent_dim=3,
             hidden_sizes=(16,))


def test_cvae_label_changes_the_decoder_and_marginal_is_a_mixture():
    model = perceptzoo.build("cvae", **SMALL).double()
    x = torch.randint(0, 17, (3, 1, 8, 8))
    z = torch.randn(3, 3, dtype=torch.float64)
    a = model.decode_to_data(z, cond=torch.zeros(3, dtype=torch.long))
    b = model.decode_to_data(z, cond=torch.ones(3, dtype=torch.long))
    assert not torch.equal(a, b)
    torch.manual_seed(0)
    marginal = model.log_prob(x, k=1)
    torch.manual_seed(0)
    per_class = torch.stack([model.log_prob(x, cond=torch.full((3,), c), k=1)
                             for c in range(10)])
    assert torch.allclose(marginal, torch.logsumexp(per_class, 0) - math.log(10))


def test_cvae_refuses_missing_labels_and_bad_ones():
    model = perceptzoo.build("cvae", **SMALL)
    x = torch.randint(0, 17, (2, 1, 8, 8))
    with pytest.raises(UserError, match="needs labels"):
        model.check_data(DatasetInfo("unlabelled", (1, 8, 8), 17, (0.0, 16.0), None))
    with pytest.raises(UserError, match="labelled data"):
        model.loss((x, None))
    with pytest.raises(UserError, match="labels must"):
        model.log_prob(x, cond=torch.tensor([0, 12]), k=1)


def test_m2_picks_balanced_labels_and_its_losses_are_finite():
    model = perceptzoo.build("m2", dataset="digits", num_labels=20, latent_dim=4,
                             hidden_size=16)
    with pytest.raises(UserError, match="no labelled examples"):
        model.loss((torch.zeros(2, 1, 8, 8), None))
    model.check_data(data.info("digits"))
    assert torch.bincount(model.labeled_y, minlength=10).tolist() == [2] * 10
    x = data.load("digits", "train").x[:8]
    out = model.loss((x, None))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert all(p.grad is not None for p in model.parameters())
    # the unlabelled bound is the q(y|x)-weighted labelled one minus the entropy of q(y|x)
    v = model.inputs(x[:2])
    torch.manual_seed(0)
    u = model.unlabeled_loss(v)
    torch.manual_seed(0)
    q = model.classify(x[:2]).exp()
    eye = torch.eye(10)
    bounds = model.labeled_bound(v.repeat_interleave(10, 0), eye.repeat(2, 1)).view(2, 10)
    entropy = -(q * q.log()).sum(-1)
    assert torch.allclose(u, -(q * bounds).sum(-1) - entropy, atol=1e-4)
    with pytest.raises(UserError, match="multiple"):
        perceptzoo.build("m2", num_labels=15)


@pytest.mark.slow
def test_cvae_samples_follow_the_label_and_m2_beats_its_labels_alone():
    """Trains on digits (a few minutes on one thread)."""
    from perceptzoo.metrics import classifier

    torch.manual_seed(0)
    train, test = data.load("digits", "train"), data.load("digits", "test")
    cvae = perceptzoo.build("cvae", dataset="digits", latent_dim=8, hidden_sizes=(128,))
    opt = torch.optim.Adam(cvae.parameters(), lr=2e-3)
    for _ in range(1500):
        idx = torch.randint(0, len(train), (64,))
        loss = cvae.loss((train.x[idx], train.y[idx])).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    labels = torch.arange(500) % 10
    samples = cvae.eval().sample(500, cond=labels, mean=True,
                                 generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        accuracy = (classifier.load_classifier("digits")(samples).argmax(-1) == labels)
    assert accuracy.float().mean() > 0.8  # stated rate: 80 % of conditional samples
    # M2 with 50 labels against the same classifier network trained on the 50 labels alone
    m2 = perceptzoo.build("m2", dataset="digits", num_labels=50, latent_dim=8,
                          hidden_size=128, alpha=10.0)
    m2.check_data(data.info("digits"))
    opt = torch.optim.Adam(m2.parameters(), lr=1e-3)
    for _ in range(1500):
        loss = m2.loss((train.x[torch.randint(0, len(train), (64,))], None)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    from perceptzoo.nn.mlp import mlp

    torch.manual_seed(0)
    alone = mlp([64, 128, 10])
    opt = torch.optim.Adam(alone.parameters(), lr=1e-3, weight_decay=1e-4)
    v = m2.inputs(m2.labeled_x)
    for _ in range(500):
        loss = torch.nn.functional.cross_entropy(alone(v), m2.labeled_y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        m2_error = (m2.classify(test.x).argmax(-1) != test.y).float().mean()
        alone_error = (alone(m2.inputs(test.x)).argmax(-1) != test.y).float().mean()
    assert m2_error < alone_error, (m2_error, alone_error)
