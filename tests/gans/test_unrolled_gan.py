"""Unrolled GAN: unrolling leaves the real D untouched; its steps are Adam's; gradients flow."""

from __future__ import annotations

import copy

import pytest
import torch

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.gans.common import discriminator_loss, generator_loss


def _model(k=3):
    torch.manual_seed(0)
    model = perceptzoo.build("unrolled_gan", dataset="toy2d:8gaussians", latent_dim=4,
                             hidden_g=(16,), hidden_d=(16,), unroll_steps=k)
    opts = model.configure_optimizers(TrainConfig(lr=1e-2))
    for _ in range(3):  # give the D optimiser some moments to start from
        model.train_step((torch.randn(64, 2), None), opts)
    return model, opts


def test_unrolling_leaves_the_real_discriminator_untouched():
    model, (opt_g, opt_d) = _model()
    before = copy.deepcopy(model.discriminator.state_dict())
    grads = [None if p.grad is None else p.grad.clone() for p in model.discriminator.parameters()]
    state = copy.deepcopy(opt_d.state_dict())
    fake = model.generator(model.latent(48))
    params = model.unrolled_parameters([torch.randn(16, 2)] * 3, fake, opt_d)
    loss = generator_loss(torch.func.functional_call(model.discriminator, params, (fake,)),
                          "minimax")
    torch.autograd.grad(loss, list(model.generator.parameters()))
    after = model.discriminator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all((a is None and p.grad is None) or torch.equal(a, p.grad)
               for a, p in zip(grads, model.discriminator.parameters()))
    new_state = opt_d.state_dict()
    for k, s in state["state"].items():
        for name, v in s.items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(new_state["state"][k][name]))
    # the unrolled parameters did move
    assert any(not torch.equal(params[n], p) for n, p in model.discriminator.named_parameters())


def test_one_unrolled_step_is_the_real_adam_step():
    """theta_D^1 from the functional Adam equals what torch.optim.Adam does to a copy."""
    model, (opt_g, opt_d) = _model(k=1)
    real = torch.randn(32, 2)
    with torch.no_grad():
        fake = model.generator(model.latent(32))
    params = model.unrolled_parameters([real], fake, opt_d)
    d_copy = copy.deepcopy(model.discriminator)
    opt_copy = torch.optim.Adam(d_copy.parameters(), lr=opt_d.param_groups[0]["lr"],
                                betas=opt_d.param_groups[0]["betas"])
    opt_copy.load_state_dict(opt_d.state_dict())
    discriminator_loss(d_copy(real), d_copy(fake)).backward()
    opt_copy.step()
    for (name, p) in d_copy.named_parameters():
        assert torch.allclose(params[name], p, atol=1e-6), name


def test_generator_gradient_flows_through_the_unrolled_steps():
    """f_K's gradient in theta_G differs from f_0's (the plain GAN's) once K > 0."""
    model, (opt_g, opt_d) = _model(k=3)
    torch.manual_seed(1)
    z = model.latent(48)
    real = [torch.randn(16, 2)] * 3

    def grad_of(k):
        model.cfg.unroll_steps = k
        fake = model.generator(z)
        params = (model.unrolled_parameters(real, fake, opt_d) if k else
                  dict(model.discriminator.named_parameters()))
        loss = generator_loss(torch.func.functional_call(model.discriminator, params, (fake,)),
                              "minimax")
        return torch.cat([g.flatten() for g in
                          torch.autograd.grad(loss, list(model.generator.parameters()))])

    g0, g3 = grad_of(0), grad_of(3)
    assert (g0 - g3).norm() > 1e-3 * g0.norm()


def test_negative_unroll_is_a_user_error():
    with pytest.raises(perceptzoo.UserError, match="unroll_steps"):
        perceptzoo.build("unrolled_gan", unroll_steps=-1)
