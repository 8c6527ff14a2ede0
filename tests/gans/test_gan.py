"""GAN (Goodfellow et al. 2014): the optimal discriminator, V(G, D*) = -log 4, separate updates."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.errors import UserError
from perceptzoo.gans.common import generator_loss, value_function

GANS = ["gan", "wgan", "wgan_gp", "unrolled_gan", "dcgan"]


class Shift(nn.Module):
    """A fixed 'generator' z -> z + mu: p_m = N(mu, 1)."""

    def __init__(self, mu: float):
        super().__init__()
        self.mu = mu
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z):
        return z + self.mu + 0 * self.dummy


def normal_log_prob(x, mu):
    return -0.5 * (x - mu) ** 2 - 0.5 * math.log(2 * math.pi)


def test_discriminator_approaches_optimal_d_star():
    """Proposition 1, measured: D trained against a fixed p_m on a 1-D toy approaches
    D*(x) = p_d(x) / (p_d(x) + p_m(x)) with p_d = N(0, 1), p_m = N(1, 1)."""
    torch.manual_seed(0)
    model = perceptzoo.build("gan", data_shape=(1,), latent_dim=1, hidden_d=(16,))
    model.generator = Shift(1.0)
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=1e-2)
    for _ in range(300):
        model.discriminator_step(torch.randn(1024, 1), opt_d)
    x = torch.linspace(-1.5, 2.5, 81)[:, None]
    with torch.no_grad():
        d = torch.sigmoid(model.discriminator(x))
    p_d, p_m = normal_log_prob(x[:, 0], 0.0).exp(), normal_log_prob(x[:, 0], 1.0).exp()
    d_star = p_d / (p_d + p_m)
    assert (d - d_star).abs().max() < 0.04
    # and it is not trivially right: the untrained D is far from D*
    untrained = perceptzoo.build("gan", data_shape=(1,), latent_dim=1, hidden_d=(16,))
    with torch.no_grad():
        assert (torch.sigmoid(untrained.discriminator(x)) - d_star).abs().max() > 0.1


def test_value_at_optimum_is_minus_log_4():
    """Theorem 1, computed: with D* the value is V = -log 4 + 2 JSD(p_d || p_m); at p_m = p_d
    it is exactly -log 4, and any other p_m gives more."""
    torch.manual_seed(0)
    x_real = torch.randn(200_000)
    for mu in (0.0, 1.0, 2.0):
        x_fake = torch.randn(200_000) + mu
        # the logit of D* is log p_d - log p_m
        def logit(x, mu=mu):
            return normal_log_prob(x, 0.0) - normal_log_prob(x, mu)

        v = float(value_function(logit(x_real), logit(x_fake)))
        # JSD by quadrature
        t = torch.linspace(-12, 14, 200_001, dtype=torch.float64)
        p, q = normal_log_prob(t, 0.0).exp(), normal_log_prob(t, mu).exp()
        m = (p + q) / 2
        jsd = 0.5 * torch.trapezoid(p * (p / m).log(), t) + 0.5 * torch.trapezoid(
            q * (q / m).log(), t)
        assert v == pytest.approx(-math.log(4) + 2 * float(jsd), abs=5e-3)
        if mu == 0.0:
            half = torch.zeros(3, dtype=torch.float64)  # D = 1/2 everywhere
            assert float(value_function(half, half)) == pytest.approx(-math.log(4), abs=1e-12)
        else:
            assert v > -math.log(4) + 0.1


def test_non_saturating_loss_keeps_its_gradient_when_d_wins():
    """Sec. 3: when D rejects the samples (logit -10) log(1 - D) saturates, -log D does not."""
    logit = torch.tensor([-10.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(generator_loss(logit, "minimax"), logit)
    (g_ns,) = torch.autograd.grad(generator_loss(logit, "non_saturating"), logit)
    assert abs(float(g_minimax)) < 1e-4 and abs(float(g_ns)) > 0.99


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("name", GANS)
def test_each_update_moves_only_its_network(name):
    """A discriminator update changes no generator parameter and vice versa: with the G
    optimiser's lr at 0 a whole train_step leaves G exactly as it was while D moves, and the
    other way round; the two optimisers hold disjoint parameter sets covering G and D."""
    torch.manual_seed(0)
    dataset = "digits" if name == "dcgan" else "toy2d:8gaussians"
    model = perceptzoo.build(name, dataset=dataset, **_tiny(name))
    from perceptzoo import data

    x = data.load(dataset, "train").x[:32]
    opt_g, opt_d = model.configure_optimizers(TrainConfig(lr=1e-3))
    ids_g = {id(p) for grp in opt_g.param_groups for p in grp["params"]}
    ids_d = {id(p) for grp in opt_d.param_groups for p in grp["params"]}
    assert ids_g == {id(p) for p in model.generator.parameters()}
    assert ids_d == {id(p) for p in model.discriminator.parameters()}
    for frozen_side in ("generator", "discriminator"):
        m = copy.deepcopy(model)
        og, od = m.configure_optimizers(TrainConfig(lr=1e-3))
        for group in (og if frozen_side == "generator" else od).param_groups:
            group["lr"] = 0.0
        before_g, before_d = _params(m.generator), _params(m.discriminator)
        m.train()
        m.train_step((x, None), [og, od])
        moved_g = not _same(before_g, _params(m.generator))
        moved_d = not _same(before_d, _params(m.discriminator))
        if frozen_side == "generator":
            assert not moved_g and moved_d
        else:
            assert moved_g and not moved_d


def test_discriminator_step_sends_no_gradient_to_g_and_back():
    torch.manual_seed(0)
    model = perceptzoo.build("gan", dataset="toy2d:8gaussians", latent_dim=4, hidden_g=(8,),
                             hidden_d=(8,))
    opt_g, opt_d = model.configure_optimizers(TrainConfig())
    model.discriminator_step(torch.randn(16, 2), opt_d)
    assert all(p.grad is None for p in model.generator.parameters())
    model.generator_step(16, opt_g)
    assert all(p.grad is not None for p in model.generator.parameters())
    # D's gradients are still those of its own step: G's step wrote none
    grads = [p.grad.clone() for p in model.discriminator.parameters()]
    model.generator_step(16, opt_g)
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, model.discriminator.parameters()))


def _tiny(name):
    spec = perceptzoo.core.registry.get_spec(name)
    import dataclasses

    return {f.name: getattr(spec.config_class.tiny(), f.name)
            for f in dataclasses.fields(spec.config_class)
            if f.name not in ("data_shape", "num_levels", "num_classes")}


@pytest.mark.parametrize("name", GANS)
def test_train_sample_load_through_the_runner(name, tmp_path):
    dataset = "digits" if name == "dcgan" else "toy2d:25gaussians"
    run = perceptzoo.train(name, dataset=dataset, out=tmp_path / name,
                           train_config={"steps": 3, "batch_size": 16, "progress": False,
                                         "num_samples": 8},
                           model_overrides=_tiny(name))
    model = perceptzoo.load(run)
    s = model.sample(5, generator=torch.Generator().manual_seed(0))
    if name == "dcgan":
        assert s.shape == (5, 1, 8, 8) and s.min() >= 0 and s.max() <= 16
        assert torch.equal(s, s.round())
    else:
        assert s.shape == (5, 2)
    again = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(s, again)
    assert (run / "samples.png").exists()


def test_bad_input_is_a_user_error():
    with pytest.raises(UserError, match="n_critic"):
        perceptzoo.build("wgan_gp", n_critic=0)
    with pytest.raises(UserError, match="k"):
        perceptzoo.build("gan", k=0)
    with pytest.raises(UserError, match="minimax"):
        perceptzoo.build("gan", generator_loss="hinge")
    with pytest.raises(UserError, match="images"):
        perceptzoo.build("dcgan", dataset="toy2d:moons")
    with pytest.raises(UserError, match="unconditional"):
        perceptzoo.build("gan").sample(2, cond=torch.zeros(2))
