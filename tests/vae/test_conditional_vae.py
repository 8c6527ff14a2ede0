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


def _style_and_sweep(model, net, num_z: int = 50) -> tuple[float, float, float]:
    """Decode the same z under every label: (fraction classified as the label, mean
    correlation of the images' pairwise-distance structure across labels, the same with the
    z order shuffled under one label: a control near 0)."""
    z = torch.randn(num_z, model.cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(10).repeat_interleave(num_z)
    with torch.no_grad():
        images = model.decode_to_data(z.repeat(10, 1), cond=labels)
        accuracy = (net(images).argmax(-1) == labels).float().mean().item()
    d = torch.cdist(*[images.flatten(1).float().view(10, num_z, -1)] * 2)
    iu = torch.triu_indices(num_z, num_z, 1)
    pairs = d[:, iu[0], iu[1]]
    style = torch.corrcoef(pairs)[~torch.eye(10, dtype=torch.bool)].mean().item()
    shuffled = d[1][torch.randperm(num_z, generator=torch.Generator().manual_seed(1))][
        :, torch.randperm(num_z, generator=torch.Generator().manual_seed(1))]
    control = torch.corrcoef(torch.stack([pairs[0], shuffled[iu[0], iu[1]]]))[0, 1].item()
    return accuracy, style, control


def _train_cvae(model, x, y, steps: int, lr: float) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,))
        loss = model.loss((x[idx], y[idx])).loss
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_cvae_label_sets_the_class_and_z_the_style(shared_data):
    """The same z decoded under each of the ten labels is read as that label by the project's
    digits classifier (>= 90 %), and z keeps the style: the images' distances to each other
    under one label correlate with their distances under another (> 0.5; shuffled: ~0)."""
    from perceptzoo.metrics import classifier

    torch.manual_seed(0)
    train = data.load("digits", "train")
    model = perceptzoo.build("cvae", dataset="digits", latent_dim=4, hidden_sizes=(64, 64))
    _train_cvae(model, train.x, train.y, steps=400, lr=3e-3)
    accuracy, style, control = _style_and_sweep(model.eval(),
                                                classifier.load_classifier("digits"))
    assert accuracy >= 0.9, accuracy
    assert style > 0.5 and abs(control) < 0.2, (style, control)


@pytest.mark.slow
def test_cvae_conditioning_on_mnist_needs_the_label_everywhere(shared_data):
    """On 5,000 MNIST images (~1 min): y at every decoder layer with Sohn et al.'s hybrid
    objective gives class-conditional samples (>= 80 % after 400 steps); the same budget with y
    only beside z at the input and 20 latents does not (the latent carries the class)."""
    from perceptzoo.metrics import classifier

    net = classifier.load_classifier("mnist")
    train = data.load("mnist", "train")
    x, y = train.x[:5000], train.y[:5000]
    rates = []
    for cfg in ({"latent_dim": 8, "gsnn_weight": 0.5},
                {"latent_dim": 20, "label_every_layer": False}):
        torch.manual_seed(0)
        model = perceptzoo.build("cvae", dataset="mnist", hidden_sizes=(128,), **cfg)
        _train_cvae(model, x, y, steps=400, lr=2e-3)
        rates.append(_style_and_sweep(model.eval(), net, num_z=30)[0])
    assert rates[0] >= 0.8 and rates[1] < 0.5, rates


def test_cvae_hybrid_objective_is_sohn_eq_9():
    """gsnn_weight w: loss = (1 - w) (-ELBO) + w (-log p(x | y, z)), z ~ p(z)."""
    model = perceptzoo.build("cvae", **SMALL, gsnn_weight=0.25).double()
    x, y = torch.randint(0, 17, (4, 1, 8, 8)), torch.arange(4)
    torch.manual_seed(0)
    out = model.loss((x, y))
    torch.manual_seed(0)
    elbo = model.elbo(x, cond=y)["elbo"].mean()
    z = model.prior((4,)).sample()
    gsnn = model.decode(z, y).log_prob(model.targets(x)).mean()
    assert torch.allclose(out.loss, -(0.75 * elbo + 0.25 * gsnn))


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
    with pytest.raises(UserError, match="label_oversampling"):
        perceptzoo.build("m2", label_oversampling=0)


def test_m2_weights_are_kingma_et_al_alpha_over_the_data_set():
    """J^alpha / N_u per batch: mean unlabelled bound + r N_l / N_u x labelled bound +
    r alpha N / N_u x classification (r = label_oversampling; r = 1 is eq. 9 exactly)."""
    model = perceptzoo.build("m2", dataset="digits", num_labels=20, latent_dim=4,
                             hidden_size=16, alpha=0.1, label_oversampling=3.0)
    model.check_data(data.info("digits"))
    n = data.info("digits").split_sizes["train"]
    assert int(model.num_train) == n
    out = model.loss((data.load("digits", "train").x[:8], None))
    m = out.metrics
    expected = (m["unlabeled_nats"] + 3.0 * 20 / (n - 20) * m["labeled_nats"]
                + 3.0 * 0.1 * n / (n - 20) * m["classification"])
    assert out.loss.item() == pytest.approx(expected, rel=1e-5)


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
                          hidden_size=128, alpha=0.1, label_oversampling=96.0)
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


def test_m2_scores_all_classes_from_one_pass_of_x_through_the_encoder():
    """encode() splits the first layer W [x, y] + b into (W_x x + b) + W_y y: the same
    q(z | x, y) as the concatenated input, and the (B, 1, D) x (1, C, C) broadcast bound of
    U(x) equals scoring each (x, y) pair separately under the same noise."""
    model = perceptzoo.build("m2", dataset="digits", num_labels=20, latent_dim=4,
                             hidden_size=16)
    v = model.inputs(data.load("digits", "train").x[:3])
    eye = torch.eye(10)
    y = eye.repeat(3, 1)
    mu, logvar = model.encode(v.repeat_interleave(10, 0), y)
    ref_mu, ref_logvar = model.encoder(torch.cat([v.repeat_interleave(10, 0), y],
                                                 -1)).chunk(2, -1)
    assert torch.allclose(mu, ref_mu, atol=1e-6) and torch.allclose(logvar, ref_logvar, atol=1e-6)
    for k in (1, 3):
        torch.manual_seed(0)
        pairs = model.labeled_bound(v.repeat_interleave(10, 0), y, k).view(3, 10)
        torch.manual_seed(0)
        broadcast = model.labeled_bound(v[:, None, :], eye[None], k)
        assert broadcast.shape == (3, 10)
        assert torch.allclose(pairs, broadcast, atol=1e-4)


def test_m2_unlabelled_gradient_moves_q_toward_the_posterior_over_labels():
    """dU/d logit_y = q_y (l_y - sum_c q_c l_c), l_y = log q_y - bound_y (eq. 7): q(y|x) is
    pulled toward p(y | x) ~ exp(bound_y), through the weights q and the entropy alike."""
    model = perceptzoo.build("m2", dataset="digits", num_labels=20, latent_dim=4,
                             hidden_size=16)
    v = model.inputs(data.load("digits", "train").x[:4])
    seen = []


    def keep(module, inputs, out):
        out.retain_grad()
        seen.append(out)

    model.classifier.register_forward_hook(keep)
    torch.manual_seed(0)
    model.unlabeled_loss(v).sum().backward()
    logits = seen[0]
    torch.manual_seed(0)  # the bounds under the same noise
    bounds = model.labeled_bound(v[:, None, :], torch.eye(10)[None]).detach()
    log_q = logits.detach().log_softmax(-1)
    q, ell = log_q.exp(), log_q - bounds
    assert torch.allclose(logits.grad, q * (ell - (q * ell).sum(-1, keepdim=True)), atol=1e-4)


def test_m2_hidden_units_are_softplus_as_in_the_paper():
    model = perceptzoo.build("m2", data_shape=(1, 8, 8), num_labels=10, latent_dim=4,
                             hidden_size=16)
    kinds = {type(m) for m in model.modules()}
    assert torch.nn.Softplus in kinds and torch.nn.ReLU not in kinds
    assert torch.nn.ReLU in {type(m) for m in perceptzoo.build(
        "m2", data_shape=(1, 8, 8), num_labels=10, activation="relu").modules()}
    with pytest.raises(UserError, match="activation"):
        perceptzoo.build("m2", activation="gelu")
