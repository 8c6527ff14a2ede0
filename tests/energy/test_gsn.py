"""GSN: the corrupt/denoise chain samples a 2-D toy (MMD below a bound that a mis-specified
baseline fails), walkback, images, bad input."""

from __future__ import annotations

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.errors import UserError
from perceptzoo.metrics.mmd import mmd_rbf

#: MMD^2 (RBF, the metrics module's bandwidths) a good sampler of 8gaussians stays under with
#: 1,000 samples against 1,000 test points; data vs data is ~0.00, a trained GSN ~0.03, the
#: moment-matched Gaussian ~0.16.
MMD_BOUND = 0.07


def _fit(model, x: torch.Tensor, steps: int, lr: float = 2e-3) -> None:
    opt = torch.optim.Adam(model.parameters(), lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        batch = x[torch.randint(len(x), (256,), generator=g)]
        loss = model.loss((batch, None)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_chain_samples_match_a_2d_toy_and_a_misspecified_baseline_fails():
    torch.manual_seed(0)
    train = data.load("toy2d:8gaussians", "train").x
    test = data.load("toy2d:8gaussians", "test").x[:1000]
    gsn = perceptzoo.build("gsn", data_shape=(2,), hidden_sizes=(64, 64), noise_level=0.5)
    _fit(gsn, train, 500)
    samples = gsn.sample(1000, generator=torch.Generator().manual_seed(0), num_steps=100)
    mmd_gsn = mmd_rbf(samples, test)
    # mis-specified baseline: one Gaussian with the data's mean and covariance
    gauss = test.mean(0) + torch.randn(1000, 2, generator=torch.Generator().manual_seed(1)) @ \
        torch.linalg.cholesky(torch.cov(train[:5000].T)).T
    mmd_gauss = mmd_rbf(gauss, test)
    assert mmd_gsn < MMD_BOUND < mmd_gauss, (mmd_gsn, mmd_gauss)


def test_chain_alternates_corruption_and_reconstruction():
    gsn = perceptzoo.build("gsn", data_shape=(2,), hidden_sizes=(16,))
    x0 = torch.zeros(4, 2)
    states = gsn.chain(x0, 3, generator=torch.Generator().manual_seed(0))
    assert len(states) == 4 and all(s.shape == (4, 2) for s in states)
    # the chain is driven by the generator alone: same seed, same states
    again = gsn.chain(x0, 3, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(states, again))


def test_walkback_trains_every_reconstruction():
    x = data.load("toy2d:8gaussians", "train").x[:64]
    torch.manual_seed(0)
    one = perceptzoo.build("gsn", data_shape=(2,), hidden_sizes=(16,), walkback=1)
    torch.manual_seed(0)
    three = perceptzoo.build("gsn", data_shape=(2,), hidden_sizes=(16,), walkback=3)
    torch.manual_seed(1)
    out1 = one.loss((x, None))
    torch.manual_seed(1)
    out3 = three.loss((x, None))
    # the first reconstruction is the same; the walkback loss also scores the later ones
    assert out1.metrics["reconstruction_nll"] == pytest.approx(out3.metrics["reconstruction_nll"])
    assert out3.loss.item() != pytest.approx(out1.loss.item())
    out3.loss.backward()
    assert all(p.grad is not None for p in three.parameters())


def test_images_use_salt_and_pepper_and_bernoulli_and_sample_grey_levels():
    gsn = perceptzoo.build("gsn", data_shape=(1, 8, 8), num_levels=17, hidden_sizes=(32,),
                           noise_level=0.4)
    x = data.load("digits", "train").x[:32]
    unit = gsn._to_unit(x)
    noisy = gsn.corrupt(unit, torch.Generator().manual_seed(0))
    changed = noisy != unit
    assert set(noisy[changed].unique().tolist()) <= {0.0, 1.0}  # salt or pepper
    assert 0.1 < changed.float().mean() < 0.4
    out = gsn.loss((x, None))
    assert torch.isfinite(out.loss)
    s = gsn.sample(3, generator=torch.Generator().manual_seed(0), num_steps=5)
    assert s.shape == (3, 1, 8, 8) and s.min() >= 0 and s.max() <= 16
    assert torch.equal(s, s.round())


def test_bad_input_is_a_clear_error():
    with pytest.raises(UserError, match="noise_level"):
        perceptzoo.build("gsn", data_shape=(2,), noise_level=0.0)
    with pytest.raises(UserError, match="walkback"):
        perceptzoo.build("gsn", data_shape=(2,), walkback=0)
    gsn = perceptzoo.build("gsn", data_shape=(2,))
    with pytest.raises(UserError, match="continuous"):
        gsn.check_data(data.info("digits"))


def test_trains_through_the_runner(tmp_path):
    from perceptzoo.core import runner

    run = runner.train("gsn", dataset="toy2d:moons", out=tmp_path / "run",
                       train_config={"steps": 2, "progress": False, "num_samples": 8,
                                     "eval_examples": 64},
                       model_overrides={"hidden_sizes": [16], "sample_steps": 3})
    metrics = runner.evaluate(run, split="test", num_samples=50)
    assert "mmd" in metrics
