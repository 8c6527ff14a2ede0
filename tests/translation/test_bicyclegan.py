"""BicycleGAN: after a short training on edges -> digits, the encoder recovers z
(mu(E(G(A, z))) is closer to z than to another example's z by a stated margin, in every one of
three seeds), the codes E gives real digits sit in the prior and are recovered too, different z
give measurably different outputs for one input, and the outputs stay on the input's edges; the
latent term trains G through a frozen E; bad input is a clear error.

The trainings are the probes quoted in bicyclegan.py's docstring (same data, seeds and order of
random draws): |z| = 1 and lambda_KL = 0.1 as in the recipe, 256 held-out validation digits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import perceptzoo
from perceptzoo.data.paired import edge_source
from perceptzoo.errors import UserError

TINY = {"latent_dim": 1, "channels": 8, "e_channels": 8, "d_channels": 16, "lambda_kl": 0.1}
RECOVERY_BOUND = 0.75
"""the largest error / chance ratio a trained model may score for z ~ N(0, I) (chance: 1)"""


def _train(steps: int, seed: int = 0, lr: float = 2e-3, **overrides):
    """Train on validation digits [:1984] (batches of 16); return the model, 256 held-out digits
    (the sources) and 256 others (whose codes are handed to the sources)."""
    from perceptzoo import data

    torch.manual_seed(seed)
    x = data.load("mnist", "valid").x
    model = perceptzoo.build("bicyclegan", dataset="mnist", **{**TINY, **overrides})
    opts = model.configure_optimizers(SimpleNamespace(lr=lr))
    for _ in range(steps):
        model.train_step((x[torch.randint(1984, (16,))], None), opts)
    return model, x[-256:], x[-512:-256]


def _recovery(model, digits) -> float:
    err, chance = model.latent_errors(edge_source(digits), torch.Generator().manual_seed(5))
    return err / chance


@pytest.fixture(scope="module")
def trained():
    try:
        return _train(400)
    except UserError as err:  # no MNIST: the real data are absent here
        pytest.skip(f"real data absent ({err})")


def test_encoder_recovers_z(trained):
    """z ~ N(0, I): |mu(E(G(A, z))) - z| against the same codes shuffled across the 256 sources
    (what an encoder that does not read z scores). Seed 0, 400 steps at lr 2e-3: measured 0.475
    against 0.967 (ratio 0.49). One seed only, to stay fast: at this lr seed 1's code collapses
    for 500 steps (ratio 0.99); test_encoder_recovers_z_in_every_seed trains at the recipe's
    lr for the seeds."""
    model, digits, _ = trained
    assert _recovery(model, digits) < RECOVERY_BOUND


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encoder_recovers_z_in_every_seed(seed, shared_data):
    """The recipe's lr (1e-3) for 1000 steps of 16, three seeds: ratios measured 0.56, 0.63 and
    0.49 (bound 0.75; the recipe's former |z| = 2, lambda_KL = 0.01 scored 0.73-0.87 over
    steps 750-3000, its second code dimension dead). About 40 CPU-seconds each."""
    model, digits, _ = _train(1000, seed=seed, lr=1e-3)
    assert _recovery(model, digits) < RECOVERY_BOUND


def test_codes_of_real_digits_sit_in_the_prior_and_are_recovered(trained):
    """The codes E gives real digits are centred and spread (measured mean 0.21, std 0.51; a
    prior draw far outside them asks G for an output no real digit is encoded to), and handed
    to other digits' edges they are recovered (measured ratio 0.56)."""
    model, digits, others = trained
    codes = model.posterior_means(others)
    assert float(codes.mean(0).abs().max()) < 0.5, codes.mean(0)
    assert 0.3 < float(codes.std(0).min()) and float(codes.std(0).max()) < 1.5, codes.std(0)
    err, chance = model.latent_errors(edge_source(digits), torch.Generator().manual_seed(5),
                                      z=codes)
    assert err < 0.8 * chance, (err, chance)


def test_different_z_give_different_outputs_on_the_inputs_edges(trained):
    model, digits, _ = trained
    edges = edge_source(digits)
    g = torch.Generator().manual_seed(5)
    z1, z2 = model.latent(len(edges), g), model.latent(len(edges), g)
    a, b = model.translate(edges, z1) / 255, model.translate(edges, z2) / 255
    diversity = float((a - b).abs().mean())
    assert diversity > 0.01, diversity       # measured 0.026: over 1 % of the grey range
    assert torch.equal(a, model.translate(edges, z1) / 255)   # z is the only noise
    target = digits.float() / 255
    own = float((a - target).abs().mean())
    other = float((a - target.roll(1, 0)).abs().mean())
    assert own < 0.5 * other, (own, other)   # measured 0.048 against 0.154: on A's edges


@pytest.mark.slow
def test_the_old_design_does_not_recover_z(shared_data):
    """The contrast for the z injection and E, at the settings it was found at (|z| = 2,
    lambda_KL = 0.01, 200 steps): the same training with z at the input only, instance norm in
    E and unconditional discriminators leaves E's reading of G(A, z) blind to z (measured ratio
    1.00). (At |z| = 1, lambda_KL = 0.1 and 400 steps that design reads z partly, ratio 0.73
    against the model's 0.49: once no code dimension is dead, these choices matter less.)"""
    model, digits, _ = _train(200, latent_dim=2, lambda_kl=0.01, where_add="input",
                              e_norm="instance", conditional_d=False)
    assert _recovery(model, digits) > 0.95


def test_latent_term_trains_g_through_a_frozen_encoder(shared_data):
    """The cLR-GAN latent term alone (GAN, L1 and KL weights 0): G moves, E does not."""
    model = perceptzoo.build("bicyclegan", dataset="mnist", **{
        **TINY, "lambda_gan": 0.0, "lambda_l1": 0.0, "lambda_kl": 0.0, "lambda_latent": 1.0})
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    generator = {k: v.clone() for k, v in model.generator.state_dict().items()}
    x = torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8)
    opts = model.configure_optimizers(SimpleNamespace(lr=1e-3))
    metrics = model.train_step((x, None), opts)
    assert metrics["latent_l1"] > 0
    for k, v in model.encoder.state_dict().items():
        assert torch.equal(v, encoder[k]), k
    assert any(not torch.equal(v, generator[k]) for k, v in model.generator.state_dict().items())


def test_bad_codes_and_sizes_are_clear_errors():
    model = perceptzoo.build("bicyclegan", dataset="mnist", **TINY)
    with pytest.raises(UserError, match="one code of size 1"):
        model.translate(torch.zeros(2, 1, 28, 28), torch.zeros(2, 3))
    with pytest.raises(UserError, match="same size|shape"):
        model.sample(2, cond=torch.zeros(2, 1, 20, 28))
    with pytest.raises(UserError, match="where_add"):
        perceptzoo.build("bicyclegan", dataset="mnist", **TINY, where_add="middle")
