"""VAE properties on a linear-Gaussian model whose log p(x) is exact, and the VAE's contracts.

The model: z ~ N(0, I_2), x | z ~ N(W z + b, s^2 I_3) with W's columns orthogonal, so the exact
posterior N(A (x - b), S) has a diagonal covariance S = (I + W^T W / s^2)^-1 that the VAE's
diagonal encoder can represent exactly (A = S W^T / s^2), and log p(x) = log N(x; b, W W^T + s^2 I).
"""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError
from perceptzoo.vae import vae as vae_module
from perceptzoo.vae.vae import DiscretizedContinuous, gaussian_kl, log_mean_exp

W = torch.tensor([[1.5, 0.0], [0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
B = torch.tensor([0.5, -0.3, 0.2], dtype=torch.float64)
SIGMA = 0.7


def exact_log_px(x: torch.Tensor) -> torch.Tensor:
    cov = W @ W.T + SIGMA**2 * torch.eye(3, dtype=torch.float64)
    return torch.distributions.MultivariateNormal(B, cov).log_prob(x)


def linear_gaussian_vae(exact_encoder: bool = True) -> torch.nn.Module:
    """A VAE with linear encoder and decoder set to the model above (float64)."""
    model = perceptzoo.build("vae", data_shape=(3,), num_levels=None, latent_dim=2,
                             hidden_sizes=(), decoder="gaussian").double()
    assert (W.T @ W - torch.diag(torch.diag(W.T @ W))).abs().max() == 0  # orthogonal columns
    S = torch.linalg.inv(torch.eye(2, dtype=torch.float64) + W.T @ W / SIGMA**2)
    A = S @ W.T / SIGMA**2
    with torch.no_grad():
        enc, dec = model.encoder[0], model.decoder[0]
        enc.weight.zero_(), enc.bias.zero_(), dec.weight.zero_(), dec.bias.zero_()
        enc.weight[:2] = A
        enc.bias[:2] = -A @ B
        enc.bias[2:] = torch.log(torch.diag(S))
        dec.weight[:3] = W
        dec.bias[:3] = B
        dec.bias[3:] = math.log(SIGMA)
        if not exact_encoder:  # a worse, still Gaussian posterior
            enc.weight[:2] *= 0.6
            enc.bias[2:] += 0.8
    return model


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2


def test_exact_posterior_makes_every_importance_weight_log_px(x, monkeypatch):
    monkeypatch.setattr(vae_module, "_CHUNK_ELEMENTS", 30)  # many chunks of 10 samples each
    torch.manual_seed(0)
    model = linear_gaussian_vae(exact_encoder=True)
    with torch.no_grad():
        log_w = model.log_weights(x, 50)
        assert torch.allclose(log_w, exact_log_px(x).expand(50, -1), atol=1e-9)
        assert torch.allclose(model.log_prob(x, k=37), exact_log_px(x), atol=1e-9)


def test_elbo_below_log_px_and_iwae_climbs_towards_it(x):
    torch.manual_seed(0)
    model = linear_gaussian_vae(exact_encoder=False)
    log_px = exact_log_px(x)
    with torch.no_grad():
        elbo = model.log_weights(x, 200_000).mean(0)  # E_q[log p(x,z) - log q(z|x)], MC
        terms = model.elbo(x.repeat(200_000, 1))
        analytic_kl_elbo = terms["elbo"].view(200_000, -1).mean(0)
        assert (elbo < log_px).all()
        assert (log_px - elbo).min() > 0.05  # a real gap, so the test can fail
        assert torch.allclose(elbo, analytic_kl_elbo, atol=0.05)  # MC error ~0.01
        # E[L_k] by 200 repeats each; standard errors are about 0.01 nats here
        bounds = {k: torch.stack([model.log_prob(x, k=k) for _ in range(200)]).mean(0)
                  for k in (1, 4, 16, 64, 256)}
    ks = sorted(bounds)
    for small, large in zip(ks, ks[1:]):
        assert (bounds[large] >= bounds[small] - 0.02).all(), (small, large)  # tolerance 0.02
    assert (bounds[256] <= log_px + 0.02).all()
    gap_1, gap_256 = log_px - bounds[1], log_px - bounds[256]
    assert (gap_256 < 0.2 * gap_1).all()


def test_reparameterised_gradient_matches_score_function(x):
    torch.manual_seed(0)
    model = linear_gaussian_vae(exact_encoder=False)
    xi = x[:2]
    params = list(model.encoder.parameters())
    n = 200_000
    # pathwise: d/dphi E_eps[log w(x, mu + sigma eps)]
    reparam = torch.autograd.grad(model.log_weights(xi, n).mean(0).sum(), params)
    # score function: E_q[(f(z) - baseline) d/dphi log q(z|x)], z held fixed (no pathwise term)
    q = model.encode(xi)
    z = q.sample((n,))
    with torch.no_grad():
        f = model.log_likelihood(xi, z) + model.prior(z.shape[:-1]).log_prob(z) - q.log_prob(z)
        f = f - f.mean(0)
    score = torch.autograd.grad((f * q.log_prob(z)).mean(0).sum(), params)
    for r, s in zip(reparam, score):
        assert torch.allclose(r, s, atol=0.03 * max(1.0, r.abs().max().item())), (r, s)
    assert sum(r.abs().sum() for r in reparam) > 0.5  # the gradient is not trivially zero


def test_analytic_gaussian_kl_equals_monte_carlo_and_is_nonnegative():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=g, dtype=torch.float64)
    q = torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * logvar).exp()), 1)
    p = torch.distributions.Independent(
        torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    torch.manual_seed(1)
    z = q.sample((400_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).mean(0)
    analytic = gaussian_kl(mu, logvar)
    assert torch.allclose(analytic, mc, rtol=0.02, atol=0.01)
    assert (analytic >= 0).all()
    assert gaussian_kl(torch.zeros(4, 3), torch.zeros(4, 3)).abs().max() == 0
    wide = torch.randn(1000, 7, generator=g) * 3
    assert (gaussian_kl(wide, torch.randn(1000, 7, generator=g) * 3) >= 0).all()


def test_log_mean_exp_is_stable():
    a = torch.tensor([[1000.0, 1000.0], [1000.0, -1000.0]])
    assert torch.allclose(log_mean_exp(a, 0), torch.tensor([1000.0, 1000.0 - math.log(2)]))


@pytest.mark.parametrize("kind", ["logistic", "gaussian"])
def test_discretized_decoder_sums_to_one_over_levels(kind):
    g = torch.Generator().manual_seed(0)
    L = 7
    loc, log_scale = torch.randn(3, 1, generator=g), torch.randn(3, 1, generator=g) - 1
    p = DiscretizedContinuous(loc.expand(3, 1), log_scale, L, kind)
    total = sum(p.log_prob(torch.full((3, 1), float(level))).exp() for level in range(L))
    assert torch.allclose(total, torch.ones(3), atol=1e-5)
    draws = p.sample(generator=g)
    assert draws.min() >= 0 and draws.max() <= L - 1


def test_bernoulli_log_likelihood_shortcut_equals_distribution():
    model = perceptzoo.build("vae", data_shape=(1, 5, 5), num_levels=2, latent_dim=3,
                             hidden_sizes=(8,))
    x = (torch.rand(4, 1, 5, 5) < 0.4).float()
    z = torch.randn(6, 4, 3)
    with torch.no_grad():
        fast = model.log_likelihood(x, z)
        slow = model.decode(z).log_prob(x.flatten(1).expand(6, -1, -1))
    assert torch.allclose(fast, slow, atol=1e-4)


def test_iwae_objective_and_elbo_objective_train():
    x = (torch.rand(16, 1, 4, 4) < 0.3).float()
    for objective, k in (("elbo", 1), ("iwae", 5)):
        model = perceptzoo.build("vae", data_shape=(1, 4, 4), num_levels=2, latent_dim=2,
                                 hidden_sizes=(8,), objective=objective, num_train_samples=k)
        out = model.loss((x, None))
        out.loss.backward()
        assert torch.isfinite(out.loss)
        assert all(p.grad is not None for p in model.parameters())


def test_bad_inputs_raise_user_errors():
    model = perceptzoo.build("vae", data_shape=(1, 4, 4), num_levels=2, latent_dim=2,
                             hidden_sizes=(8,))
    x = (torch.rand(3, 1, 4, 4) < 0.5).float()
    with pytest.raises(UserError, match="k >= 1"):
        model.log_prob(x, k=0)
    with pytest.raises(UserError, match="k >= 1"):
        model.log_prob(x, k=2.5)
    with pytest.raises(UserError, match="Bernoulli decoder models binary data"):
        perceptzoo.build("vae", dataset="mnist", decoder="bernoulli").check_data(
            perceptzoo.data.info("mnist"))
    with pytest.raises(UserError, match="latent_dim=2"):
        model_3 = perceptzoo.build("vae", data_shape=(1, 4, 4), num_levels=2, latent_dim=3)
        model_3.latent_map()
    with pytest.raises(UserError, match="unknown decoder"):
        perceptzoo.build("vae", decoder="poisson")


def test_latent_map_and_interpolation_shapes():
    model = perceptzoo.build("vae", data_shape=(1, 4, 4), num_levels=2, latent_dim=2,
                             hidden_sizes=(8,))
    assert model.latent_map(grid_size=5).shape == (25, 1, 4, 4)
    x = (torch.rand(2, 1, 4, 4) < 0.5).float()
    path = model.interpolate(x[0], x[1], 6)
    assert path.shape == (6, 1, 4, 4)
    assert torch.allclose(path[0], model.reconstruct(x[:1])[0])


def test_runner_trains_evaluates_samples_and_loads_on_digits(tmp_path):
    from perceptzoo.core import runner

    run = runner.train("vae", dataset="digits", out=tmp_path / "run",
                       train_config={"steps": 3, "batch_size": 16, "progress": False,
                                     "num_samples": 4},
                       model_overrides={"latent_dim": 3, "hidden_sizes": [16],
                                        "num_eval_samples": 3})
    metrics = runner.evaluate(run, split="test", num_samples=0)
    assert 0 < metrics["test_nll_nats"] < metrics["test_negative_elbo_nats"] + 50
    model = runner.load(run)
    assert model.decoder_kind == "logistic"
    samples = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, 1, 8, 8) and samples.max() <= 16 and samples.min() >= 0
