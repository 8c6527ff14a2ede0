"""The shared adversarial helpers (perceptzoo.nn.gan_losses): one definition, used by gans/."""

from __future__ import annotations

import math

import pytest
import torch

from perceptzoo.errors import UserError
from perceptzoo.gans import common
from perceptzoo.nn import gan_losses


def test_the_family_uses_the_shared_definitions():
    for name in ("discriminator_loss", "generator_loss", "value_function", "gradient_penalty",
                 "r1_penalty", "frozen", "step", "finite", "update_ema",
                 "ema_decay_with_rampup"):
        assert getattr(common, name) is getattr(gan_losses, name), name


def test_r1_of_a_linear_discriminator_is_its_squared_weight_norm():
    a = torch.tensor([3.0, -4.0])
    x = torch.randn(16, 2, requires_grad=True)
    assert float(gan_losses.r1_penalty(x @ a, x)) == pytest.approx(25.0)


def test_losses_at_d_one_half_and_bad_names():
    half = torch.zeros(8)  # logits 0: D = 1/2 everywhere
    assert float(gan_losses.value_function(half, half)) == pytest.approx(-math.log(4))
    assert float(gan_losses.generator_loss(half)) == pytest.approx(math.log(2))
    assert float(gan_losses.generator_loss(half, "minimax")) == pytest.approx(-math.log(2))
    with pytest.raises(UserError, match="minimax or non_saturating"):
        gan_losses.generator_loss(half, "hinge")
    with pytest.raises(RuntimeError, match="not finite"):
        gan_losses.finite({"loss": float("nan")}, "here")
