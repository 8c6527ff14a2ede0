"""RBM: exact likelihood by enumeration, CD-k -> exact gradient, AIS vs exact log Z, Gibbs
invariance, bad input."""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo.energy.rbm import RBM, RBMConfig, _states, beta_schedule
from perceptzoo.errors import UserError


def tiny_rbm(V: int = 6, H: int = 4, scale: float = 1.0, seed: int = 0, **kw) -> RBM:
    torch.manual_seed(seed)
    rbm = RBM(RBMConfig(data_shape=(V,), num_hidden=H, **kw)).double()
    with torch.no_grad():
        rbm.W.normal_(0, scale)
        rbm.b.normal_(0, scale)
        rbm.c.normal_(0, scale)
    return rbm


def brute_force_log_p(rbm: RBM) -> tuple[torch.Tensor, torch.Tensor]:
    """All visible states (2^V, V) and log p(v) from -E(v, h) summed over every (v, h)."""
    V, H = rbm.W.shape
    vs = _states(V, 0, 2 ** V, torch.float64, "cpu")
    hs = _states(H, 0, 2 ** H, torch.float64, "cpu")
    v = vs.repeat_interleave(len(hs), 0)
    h = hs.repeat(len(vs), 1)
    neg_e = -rbm.energy(v, h).view(len(vs), len(hs))  # (2^V, 2^H)
    log_z = torch.logsumexp(neg_e.flatten(), 0)
    return vs, torch.logsumexp(neg_e, 1) - log_z


@pytest.mark.parametrize("V,H", [(6, 4), (4, 6)])  # enumerate hidden, then visible, states
def test_exact_log_likelihood_matches_enumeration(V, H):
    rbm = tiny_rbm(V, H)
    vs, expected = brute_force_log_p(rbm)
    with torch.no_grad():
        got = rbm.log_prob(vs)
    assert rbm.log_z_is_exact
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)
    assert abs(torch.logsumexp(got, 0).item()) < 1e-10  # normalised
    # the free-energy formula: log p(v) = -F(v) - log Z
    torch.testing.assert_close(-rbm.free_energy(vs).detach() - rbm.log_partition_exact(),
                               expected, atol=1e-10, rtol=0)


def _exact_gradient(rbm: RBM, data: torch.Tensor) -> torch.Tensor:
    """d/dtheta of mean NLL = mean F(data) + log Z, log Z = logsumexp(-F) over all v."""
    V = rbm.W.shape[0]
    vs = _states(V, 0, 2 ** V, torch.float64, "cpu")
    nll = rbm.free_energy(data).mean() + torch.logsumexp(-rbm.free_energy(vs), 0)
    return torch.cat([g.flatten() for g in torch.autograd.grad(nll, [rbm.W, rbm.b, rbm.c])])


def _cd_gradient(rbm: RBM, v0: torch.Tensor, k: int, g: torch.Generator) -> torch.Tensor:
    vk = rbm.negative_samples(v0, k, generator=g)
    surrogate = rbm.cd_surrogate(v0, vk)
    return torch.cat([x.flatten() for x in torch.autograd.grad(surrogate,
                                                               [rbm.W, rbm.b, rbm.c])])


def test_cd_k_gradient_tends_to_exact_gradient():
    rbm = tiny_rbm(6, 4, scale=1.5, seed=1)
    data = (torch.rand(8, 6, generator=torch.Generator().manual_seed(3)) < 0.5).double()
    exact = _exact_gradient(rbm, data)
    v0 = data.repeat(4000, 1)  # 32,000 chains: Monte Carlo error ~ 0.005 per coordinate
    g = torch.Generator().manual_seed(0)
    errors = {k: (_cd_gradient(rbm, v0, k, g) - exact).norm().item() for k in (1, 5, 100)}
    assert errors[1] > 3 * errors[100], errors  # CD-1 is biased ...
    assert errors[5] < errors[1], errors
    assert errors[100] < 0.05 * exact.norm().item(), errors  # ... long chains are not


def test_cd_k_expected_gradient_by_enumeration_converges():
    """The same claim without sampling noise: the model's own conditionals give the transition
    matrix T[v, v'] = sum_h p(h|v) p(v'|h); CD-k's negative phase is p_data T^k."""
    rbm = tiny_rbm(6, 4, scale=1.5, seed=1)
    data = (torch.rand(8, 6, generator=torch.Generator().manual_seed(3)) < 0.5).double()
    exact = _exact_gradient(rbm, data)
    vs = _states(6, 0, 64, torch.float64, "cpu")
    T = _transition_matrix(rbm, vs)
    p_data = torch.zeros(64, dtype=torch.float64)
    for row in data:
        p_data[int((row * 2 ** torch.arange(6)).sum())] += 1 / len(data)
    errors = []
    for k in (1, 4, 16, 256):
        q = p_data @ torch.linalg.matrix_power(T, k)
        surrogate = rbm.free_energy(data).mean() - (q * rbm.free_energy(vs)).sum()
        grad = torch.cat([x.flatten() for x in torch.autograd.grad(surrogate,
                                                                   [rbm.W, rbm.b, rbm.c])])
        errors.append((grad - exact).norm().item())
    assert errors == sorted(errors, reverse=True), errors
    assert errors[-1] < 1e-6 and errors[0] > 0.1, errors


def _transition_matrix(rbm: RBM, vs: torch.Tensor) -> torch.Tensor:
    H = rbm.W.shape[1]
    hs = _states(H, 0, 2 ** H, torch.float64, "cpu")
    with torch.no_grad():
        ph, pv = rbm.prob_h(vs), rbm.prob_v(hs)  # (2^V, H), (2^H, V)
        p_h_given_v = torch.exp(hs @ torch.log(ph).T + (1 - hs) @ torch.log1p(-ph).T).T
        p_v_given_h = torch.exp(vs @ torch.log(pv).T + (1 - vs) @ torch.log1p(-pv).T).T
    return p_h_given_v @ p_v_given_h  # (2^V, 2^V), rows sum to one


def test_block_gibbs_leaves_model_distribution_invariant():
    rbm = tiny_rbm(5, 3, seed=2)
    vs, log_p = brute_force_log_p(rbm)
    T = _transition_matrix(rbm, vs)
    torch.testing.assert_close(T.sum(1), torch.ones(len(vs), dtype=torch.float64))
    torch.testing.assert_close(log_p.exp() @ T, log_p.exp(), atol=1e-12, rtol=0)
    # and the sampler itself: exact draws stay exact-distributed after gibbs_step
    g = torch.Generator().manual_seed(0)
    idx = torch.multinomial(log_p.exp(), 200_000, replacement=True, generator=g)
    after = rbm.gibbs_step(vs[idx], g)
    codes = (after * 2 ** torch.arange(5, dtype=torch.float64)).sum(1).long()
    freq = torch.bincount(codes, minlength=len(vs)).double() / len(codes)
    assert (freq - log_p.exp()).abs().max() < 0.005


def test_ais_within_a_tenth_of_a_nat_of_exact_log_z():
    rbm = tiny_rbm(20, 10, scale=0.5, seed=4)
    exact = rbm.log_partition_exact()
    with torch.no_grad():
        rbm.base_bias.copy_(rbm.b)  # a base-rate model near the target's marginals
    result = rbm.ais(num_runs=100, num_betas=1000, generator=torch.Generator().manual_seed(0))
    assert abs(result.log_z - exact) < 0.1, (result.log_z, exact)
    assert result.log_z_low <= exact <= result.log_z_high
    assert result.log_weights.shape == (100,)


def test_log_prob_uses_ais_beyond_exact_size_and_caches_it():
    rbm = tiny_rbm(12, 8, scale=0.3, seed=5, exact_max_units=4, ais_runs=50, ais_betas=500)
    assert not rbm.log_z_is_exact
    v = (torch.rand(3, 12) < 0.5).double()
    with torch.no_grad():
        first = rbm.log_prob(v)
        assert torch.equal(rbm.log_prob(v), first)  # cached: AIS ran once
    rbm.cfg.exact_max_units = 20
    rbm._log_z_cache = None
    with torch.no_grad():
        torch.testing.assert_close(rbm.log_prob(v), first, atol=0.1, rtol=0)


def test_cd1_training_raises_exact_likelihood_and_pcd_keeps_chains():
    data = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]] * 8, dtype=torch.float64)
    for persistent in (False, True):
        rbm = tiny_rbm(6, 4, scale=0.01, seed=0, persistent=persistent, num_chains=16)
        (opt,) = rbm.configure_optimizers(perceptzoo.TrainConfig(lr=0.1))
        before = rbm.log_prob(data).mean().item()
        for _ in range(100):
            rbm.train_step((data, None), [opt])
        assert rbm.log_prob(data).mean().item() > before + 1.5
        assert rbm.chains.shape == ((16, 6) if persistent else (0, 6))


def test_samples_are_binary_and_shaped():
    rbm = perceptzoo.build("rbm", data_shape=(1, 3, 2), num_hidden=4, sample_steps=10)
    x = rbm.sample(7, generator=torch.Generator().manual_seed(0))
    assert x.shape == (7, 1, 3, 2) and set(x.unique().tolist()) <= {0.0, 1.0}
    assert rbm.log_prob(x).shape == (7,)


def test_beta_schedule_follows_the_paper():
    betas = beta_schedule(14500)
    assert len(betas) == 14501 and betas[0] == 0 and betas[-1] == 1
    assert (betas.diff() > 0).all()
    assert int((betas < 0.5).sum()) == 500 and int((betas < 0.9).sum()) == 4500


def test_bad_input_is_a_clear_error():
    with pytest.raises(UserError, match="binary"):
        perceptzoo.build("rbm", data_shape=(1, 28, 28), num_levels=256)
    rbm = perceptzoo.build("rbm", data_shape=(4,), num_hidden=3)
    with pytest.raises(UserError, match="binary"):
        rbm.check_data(perceptzoo.data.info("digits"))
    with pytest.raises(UserError, match="binar"):
        rbm.log_prob(torch.full((2, 4), 0.5))
    with pytest.raises(UserError, match="at least 1 intermediate"):
        rbm.ais(num_runs=10, num_betas=0)


def test_trains_saves_loads_through_the_runner(shared_data, tmp_path):
    from perceptzoo.core import runner

    run = runner.train("rbm", dataset="binarized_mnist", out=tmp_path / "run",
                       train_config={"steps": 2, "progress": False, "num_samples": 4},
                       model_overrides={"num_hidden": 8, "sample_steps": 3, "persistent": True})
    model = runner.load(run)
    x = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 28, 28)
    assert torch.isfinite(model.log_prob(x)).all()
    assert model.chains.abs().sum() > 0  # the persistent chains are saved with the weights
    assert math.isfinite(model.log_partition())
