"""VQ-VAE: straight-through gradient, nearest codebook vectors, what each loss moves, EMA and
dead-code restarts, the two training stages, the prior's causality, bad input."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo.errors import UserError


def small_vq(**kw) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = dict(data_shape=(1, 8, 8), num_levels=17, hidden_channels=8, embed_dim=4,
               codebook_size=8, num_res_blocks=1,
               prior_config={"embed_dim": 8, "num_layers": 1, "num_heads": 2})
    cfg.update(kw)
    return perceptzoo.build("vq_vae", **cfg)


def images(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 17, (n, 1, 8, 8), generator=torch.Generator().manual_seed(seed))


def test_straight_through_gradient_equals_decoder_input_gradient():
    vq = small_vq()
    x = images()
    z_e = vq.encode(x)
    z_e.retain_grad()
    z_st, codes, _, _ = vq.quantize(z_e)
    z_st.retain_grad()
    recon = ((vq.decode(z_st) - vq._scale(x)) ** 2).mean()
    recon.backward()
    assert z_e.grad.abs().sum() > 0
    torch.testing.assert_close(z_e.grad, z_st.grad, rtol=0, atol=0)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vq.encoder.parameters())


def test_quantisation_returns_the_nearest_codebook_vectors():
    vq = small_vq()
    z_e = vq.encode(images())
    z_st, codes, _, _ = vq.quantize(z_e)
    flat_q = z_st.detach().permute(0, 2, 3, 1).reshape(-1, 4)
    flat_e = z_e.detach().permute(0, 2, 3, 1).reshape(-1, 4)
    torch.testing.assert_close(flat_q, vq.codebook.detach()[codes.flatten()])  # code vectors
    brute = torch.cdist(flat_e, vq.codebook.detach()).argmin(1)
    assert torch.equal(codes.flatten(), brute)


def _grads(loss, params):
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def test_codebook_loss_moves_codes_and_commitment_loss_moves_only_the_encoder():
    vq = small_vq()
    x = images()
    z_e = vq.encode(x)
    _, codes, codebook_loss, commitment_loss = vq.quantize(z_e)
    enc = list(vq.encoder.parameters())
    # codebook loss: gradient on the codebook only, none on the encoder
    (g_code,) = _grads(codebook_loss, [vq.codebook])
    assert g_code.abs().sum() > 0
    assert all(g.abs().sum() == 0 for g in _grads(codebook_loss, enc))
    # a small step along it brings the used codes closer to their encoder outputs
    flat = z_e.detach().permute(0, 2, 3, 1).reshape(-1, 4)
    before = ((flat - vq.codebook.detach()[codes.flatten()]) ** 2).sum()
    moved = vq.codebook.detach() - 0.5 * g_code
    after = ((flat - moved[codes.flatten()]) ** 2).sum()
    assert after < before
    # commitment loss: gradient on the encoder only, none on the codebook
    (g_code_commit,) = _grads(commitment_loss, [vq.codebook])
    assert g_code_commit.abs().sum() == 0
    assert sum(g.abs().sum() for g in _grads(commitment_loss, enc)) > 0
    torch.testing.assert_close(commitment_loss / codebook_loss, torch.tensor(0.25))  # beta


def test_ema_update_sets_codes_to_the_mean_of_their_encoder_outputs():
    vq = small_vq(ema=True, ema_decay=0.0)
    assert not vq.codebook.requires_grad
    z_e = vq.encode(images()).detach()
    codes = vq.nearest_codes(z_e)
    vq.ema_update(z_e, codes)
    flat = z_e.permute(0, 2, 3, 1).reshape(-1, 4)
    for k in codes.unique():
        torch.testing.assert_close(vq.codebook[k], flat[codes.flatten() == k].mean(0),
                                   rtol=1e-4, atol=1e-5)


def test_dead_codes_are_restarted_at_encoder_outputs():
    vq = small_vq(restart_after=3)
    z_e = vq.encode(images()).detach()
    codes = torch.zeros(z_e.shape[0], *z_e.shape[2:], dtype=torch.long)  # only code 0 used
    restarted = [vq.restart_dead_codes(z_e, codes) for _ in range(3)]
    assert restarted == [0, 0, 7]
    flat = z_e.permute(0, 2, 3, 1).reshape(-1, 4)
    for k in range(1, 8):  # every restarted code is one of the batch's encoder outputs
        assert (flat - vq.codebook.detach()[k]).abs().sum(1).min() == 0


def test_stage_one_trains_the_autoencoder_stage_two_only_the_prior():
    vq = small_vq(prior_start=2)
    opts = vq.configure_optimizers(perceptzoo.TrainConfig(lr=1e-2))
    x = images(16)
    snapshot = lambda m: [p.detach().clone() for p in m.parameters()]  # noqa: E731
    changed = lambda a, b: any(not torch.equal(u, v) for u, v in zip(a, b))  # noqa: E731
    ae0, prior0 = snapshot(vq.encoder), snapshot(vq.prior)
    for _ in range(2):
        assert vq.train_step((x, None), opts)["stage"] == 1
    ae1, prior1 = snapshot(vq.encoder), snapshot(vq.prior)
    assert changed(ae0, ae1) and not changed(prior0, prior1)
    codebook = vq.codebook.detach().clone()
    for _ in range(2):
        assert vq.train_step((x, None), opts)["stage"] == 2
    assert not changed(ae1, snapshot(vq.encoder)) and changed(prior1, snapshot(vq.prior))
    assert torch.equal(codebook, vq.codebook) and int(vq.step) == 4


@pytest.mark.parametrize("prior", ["transformer", "pixelcnn"])
def test_prior_is_causal_over_the_code_grid(prior):
    """d conditional_t / d code_j is zero for every code j at or after t in the prior's order."""
    config = ({"embed_dim": 8, "num_layers": 2, "num_heads": 2} if prior == "transformer"
              else {"hidden_channels": 8, "num_blocks": 2})
    vq = small_vq(prior=prior, prior_config=config)
    codes = vq.codes(images(1)).float().requires_grad_(True)  # (1, 1, 2, 2)
    params = vq.prior.conditionals(codes)  # (1, D, P)
    order = vq.prior.order.tolist()
    D = len(order)
    for t_pos, t in enumerate(order):
        (grad,) = torch.autograd.grad(params[0, t].sum(), codes, retain_graph=True)
        grad = grad.flatten()
        later = order[t_pos:]
        assert grad[later].abs().sum() == 0, (t, grad)
    assert D == 4 and grad[order[:-1]].abs().sum() > 0  # the last code does see the past


def test_log_prob_is_the_priors_log_probability_of_the_codes():
    vq = small_vq()
    x = images(4)
    with torch.no_grad():
        torch.testing.assert_close(vq.log_prob(x), vq.prior.log_prob(vq.codes(x)))
    assert (vq.log_prob(x) <= 0).all()


def test_samples_are_decoded_prior_codes_in_data_levels():
    vq = small_vq()
    s = vq.sample(5, generator=torch.Generator().manual_seed(0))
    assert s.shape == (5, 1, 8, 8)
    assert s.min() >= 0 and s.max() <= 16 and torch.equal(s, s.round())
    metrics = vq.extra_metrics(images(10))
    assert set(metrics) == {"recon_mse", "perplexity", "code_usage", "prior_nll_bits_per_code"}
    assert 1 <= metrics["perplexity"] <= 8


def test_bad_input_is_a_clear_error():
    with pytest.raises(UserError, match="codebook_size must be at least 1"):
        small_vq(codebook_size=0)
    with pytest.raises(UserError, match="prior"):
        small_vq(prior="made2")
    with pytest.raises(UserError, match="halve"):
        small_vq(data_shape=(1, 6, 6), num_downsamples=2)


def test_trains_both_stages_through_the_runner(tmp_path):
    from perceptzoo.core import runner

    run = runner.train("vq_vae", dataset="digits", out=tmp_path / "run",
                       train_config={"steps": 2, "progress": False, "num_samples": 4,
                                     "batch_size": 16, "eval_examples": 16},
                       model_overrides={"hidden_channels": 8, "embed_dim": 4,
                                        "codebook_size": 8, "prior_start": 1,
                                        "prior_config": {"embed_dim": 8, "num_layers": 1,
                                                         "num_heads": 2}})
    model = runner.load(run)
    assert int(model.step) == 2
    assert model.sample(2).shape == (2, 1, 8, 8)
    assert torch.isfinite(model.log_prob(perceptzoo.data.load("digits", "test").x[:3])).all()
