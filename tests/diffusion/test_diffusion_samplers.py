"""Samplers with an oracle denoiser for Gaussian data; DDIM determinism and inversion."""

from __future__ import annotations

import pytest
import torch

from perceptzoo.diffusion.ddpm import AncestralSampler
from perceptzoo.diffusion.samplers import DDIMSampler, timesteps
from perceptzoo.diffusion.schedules import NoiseSchedule

MEAN = torch.tensor([0.5, -0.3], dtype=torch.float64)
COV = torch.tensor([[0.30, 0.12], [0.12, 0.10]], dtype=torch.float64)


def oracle_eps(schedule: NoiseSchedule):
    """E[eps | x_t] for x_0 ~ N(MEAN, COV): sqrt(1 - abar) Sigma_t^{-1} (x_t - sqrt(abar) m)."""
    eye = torch.eye(2, dtype=torch.float64)

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = schedule.alpha_bar[int(t[0])]
        sigma_t = abar * COV + (1 - abar) * eye
        resid = x.double() - abar.sqrt() * MEAN
        return ((1 - abar).sqrt() * torch.linalg.solve(sigma_t, resid.T).T).to(x.dtype)

    return eps


def assert_matches_data(x: torch.Tensor, slack: float) -> None:
    """Mean and covariance within 5 standard errors (from the sample size) plus `slack`."""
    n = len(x)
    se_mean = (COV.diagonal() / n).sqrt()
    assert ((x.mean(0) - MEAN).abs() < 5 * se_mean + slack).all(), x.mean(0)
    cov = torch.cov(x.T)
    var = COV.diagonal()
    se_cov = ((var[:, None] * var[None, :] + COV**2) / n).sqrt()
    assert ((cov - COV).abs() < 5 * se_cov + slack).all(), cov


@pytest.mark.parametrize("sampler, slack", [
    (AncestralSampler("beta"), 0.01),
    (AncestralSampler("beta_tilde"), 0.01),
    (DDIMSampler(1000, eta=0.0), 0.01),
    (DDIMSampler(250, eta=0.5), 0.01),
])
def test_oracle_denoiser_reproduces_the_gaussian(sampler, slack):
    s = NoiseSchedule(1000, "linear")
    g = torch.Generator().manual_seed(0)
    x = sampler.sample(oracle_eps(s), s, (20_000, 2), generator=g).double()
    assert_matches_data(x, slack)


def test_a_wrong_denoiser_fails_the_same_check():
    """Guard: the check above can fail (an oracle for the wrong mean is caught)."""
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    shifted = lambda x, t: eps(x - 0.2, t)  # noqa: E731
    x = DDIMSampler(100).sample(shifted, s, (20_000, 2),
                                generator=torch.Generator().manual_seed(0)).double()
    with pytest.raises(AssertionError):
        assert_matches_data(x, 0.01)


def test_ddim_eta0_is_deterministic_and_inverts():
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    sampler = DDIMSampler(200, eta=0.0)
    x_T = torch.randn(500, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a = sampler.sample(eps, s, x_T.shape, x_T=x_T.clone(), generator=torch.Generator())
    b = sampler.sample(eps, s, x_T.shape, x_T=x_T.clone(),
                       generator=torch.Generator().manual_seed(99))
    assert torch.equal(a, b)
    # encode data to x_T, then decode: back to x_0; the error of this first-order scheme
    # shrinks with the number of steps
    x0 = MEAN + torch.randn(500, 2, generator=torch.Generator().manual_seed(4),
                            dtype=torch.float64) @ torch.linalg.cholesky(COV).T
    errors = {}
    for steps in (50, 1000):
        ddim = DDIMSampler(steps, eta=0.0)
        z = ddim.invert(eps, s, x0)
        errors[steps] = (ddim.sample(eps, s, x0.shape, x_T=z) - x0).abs()
    assert errors[1000].max() < 0.02 and errors[1000].mean() < 0.005
    assert errors[1000].mean() < errors[50].mean() / 5
    # the code is not x_0 itself: it is close to unit Gaussian, as x_T should be
    assert abs(float(z.std()) - 1) < 0.1


def test_ancestral_last_step_adds_no_noise_and_full_respacing_is_the_paper():
    s = NoiseSchedule(1, "linear")
    x_T = torch.randn(4, 3)
    eps = lambda x, t: torch.zeros_like(x)  # noqa: E731
    a = AncestralSampler("beta").sample(eps, s, x_T.shape, x_T=x_T,
                                        generator=torch.Generator().manual_seed(0))
    b = AncestralSampler("beta").sample(eps, s, x_T.shape, x_T=x_T,
                                        generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)  # z = 0 at t = 1
    assert torch.allclose(a.double(), x_T.double() / s.alphas[1].sqrt(), atol=1e-6)
    s = NoiseSchedule(50, "cosine")
    full = AncestralSampler("beta", None).sample(eps, s, (8, 3),
                                                 generator=torch.Generator().manual_seed(5))
    spaced = AncestralSampler("beta", 50).sample(eps, s, (8, 3),
                                                 generator=torch.Generator().manual_seed(5))
    assert torch.equal(full, spaced)
    assert timesteps(50, 50) == list(range(51))
    assert timesteps(10, 1000)[:3] == [0, 100, 200] and timesteps(10, 1000)[-1] == 1000


def test_ddim_eta1_is_the_ancestral_sampler_with_beta_tilde():
    """eta = 1 gives sigma^2 = the respaced chain's beta~ (Song et al. eq. 16): same samples."""
    s = NoiseSchedule(1000, "linear")
    eps = oracle_eps(s)
    a = DDIMSampler(20, eta=1.0).sample(eps, s, (256, 2),
                                        generator=torch.Generator().manual_seed(7))
    b = AncestralSampler("beta_tilde", 20).sample(eps, s, (256, 2),
                                                  generator=torch.Generator().manual_seed(7))
    assert torch.allclose(a, b, atol=1e-4)
    c = AncestralSampler("beta", 20).sample(eps, s, (256, 2),
                                            generator=torch.Generator().manual_seed(7))
    assert not torch.allclose(a, c, atol=1e-2)


def _predicts_x0(schedule: NoiseSchedule, x0: float):
    """A denoiser whose prediction x0_hat = (x_t - sqrt(1 - abar) eps) / sqrt(abar) is x0."""
    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = schedule.alpha_bar[int(t[0])]
        return ((x.double() - abar.sqrt() * x0) / (1 - abar).sqrt()).to(x.dtype)
    return eps


def _wild(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A denoiser with large, x- and t-dependent predictions: x0_hat leaves [-1, 1] often."""
    return 3 * torch.sin(5 * x + t[:, None].to(x.dtype) / 7)


def test_clipped_ddim_the_benchmarks_sample_with():
    """DDIMSampler(steps, eta, clip_x0=True), as the DDPM, guidance, ControlNet and peer
    benchmarks sample: x0_hat is clipped to [-1, 1] and eps re-derived from the clipped x0_hat.
    - inside [-1, 1] clipping changes nothing: a denoiser predicting x0 = 0.4 ends at 0.4
      with or without it;
    - a denoiser predicting x0 = 3 ends on the clip, 1, where the unclipped sampler ends at 3;
    - whatever the denoiser, the clipped sampler ends inside [-1, 1] (eta 0 and 1);
    - with eta = 1 on every step it is still the ancestral sampler with beta~ and the same clip
      (Ho et al.'s code clips the same x0_hat): the two implementations agree step for step."""
    s = NoiseSchedule(100, "linear")
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    shape = (64, 2)
    for eta in (0.0, 1.0):
        inside = DDIMSampler(10, eta, clip_x0=True).sample(_predicts_x0(s, 0.4), s, shape,
                                                            generator=g())
        torch.testing.assert_close(inside, torch.full(shape, 0.4))
        clipped = DDIMSampler(10, eta, clip_x0=True).sample(_predicts_x0(s, 3.0), s, shape,
                                                             generator=g())
        torch.testing.assert_close(clipped, torch.ones(shape))
        free = DDIMSampler(10, eta, clip_x0=False).sample(_predicts_x0(s, 3.0), s, shape,
                                                          generator=g())
        torch.testing.assert_close(free, torch.full(shape, 3.0))
        wild = DDIMSampler(10, eta, clip_x0=True).sample(_wild, s, shape, generator=g())
        assert wild.abs().max() <= 1 + 1e-6
        assert DDIMSampler(10, eta).sample(_wild, s, shape, generator=g()).abs().max() > 1.5
    ddim = DDIMSampler(100, 1.0, clip_x0=True).sample(_wild, s, shape, generator=g())
    ancestral = AncestralSampler("beta_tilde", clip_x0=True).sample(_wild, s, shape,
                                                                   generator=g())
    torch.testing.assert_close(ddim, ancestral, atol=1e-4, rtol=0)
    unclipped = DDIMSampler(100, 1.0).sample(_wild, s, shape, generator=g())
    assert (ddim - unclipped).abs().max() > 0.1  # the clip acted along the way
