"""The shared R1 penalty equals its closed form on a linear discriminator."""

import torch

from perceptzoo.gans3d.common import r1_penalty


def test_r1_of_a_linear_discriminator_is_the_squared_weight_norm():
    torch.manual_seed(0)
    w = torch.randn(1, 16)
    x = torch.rand(5, 1, 4, 4).requires_grad_(True)
    logits = (x.flatten(1) * w).sum(1) + 0.3 * (x.flatten(1) ** 2).sum(1)
    # grad = w + 0.6 x per example: E ||w + 0.6 x||^2
    want = ((w + 0.6 * x.detach().flatten(1)) ** 2).sum(1).mean()
    r1 = r1_penalty(logits, x)
    torch.testing.assert_close(r1, want)
    r1.backward()                       # differentiable: it trains the discriminator
