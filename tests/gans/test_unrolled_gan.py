"""Unrolled GAN: unrolling leaves the real D untouched; its steps are Adam's; gradients flow."""

from __future__ import annotations

import copy

import pytest
import torch

import perceptzoo
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.gans.common import discriminator_loss, generator_loss


def _model(k=3, arch="mlp"):
    torch.manual_seed(0)
    if arch == "mlp":
        model = perceptzoo.build("unrolled_gan", dataset="toy2d:8gaussians", latent_dim=4,
                                 hidden_g=(16,), hidden_d=(16,), unroll_steps=k)
    else:  # DCGAN's networks on the 8x8 digits
        model = perceptzoo.build("unrolled_gan", dataset="digits", arch="conv", channels=4,
                                 latent_dim=4, unroll_steps=k)
    opts = model.configure_optimizers(TrainConfig(lr=1e-2))
    for _ in range(3):  # give the D optimiser some moments to start from
        model.train_step((_real(model, 64) if arch == "mlp" else
                          torch.randint(0, 17, (64, 1, 8, 8)).float(), None), opts)
    return model, opts


def _real(model, n):
    """n real examples in model space: 2D points, or images in [-1, 1]."""
    shape = tuple(model.cfg.data_shape)
    return torch.randn(n, *shape) if len(shape) == 1 else torch.rand(n, *shape) * 2 - 1


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_unrolling_leaves_the_real_discriminator_untouched(arch):
    model, (opt_g, opt_d) = _model(arch=arch)
    before = copy.deepcopy(model.discriminator.state_dict())
    grads = [None if p.grad is None else p.grad.clone() for p in model.discriminator.parameters()]
    state = copy.deepcopy(opt_d.state_dict())
    fake = model.generator(model.latent(48))
    real = _real(model, 48)
    params = model.unrolled_parameters(real, fake, opt_d)
    torch.autograd.grad(model.surrogate_loss(real, fake, params),
                        list(model.generator.parameters()))
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


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_one_unrolled_step_is_the_real_adam_step(arch):
    """theta_D^1 from the functional Adam equals what torch.optim.Adam does to a copy."""
    model, (opt_g, opt_d) = _model(k=1, arch=arch)
    real = _real(model, 32)
    with torch.no_grad():
        fake = model.generator(model.latent(32))
    params = model.unrolled_parameters(real, fake, opt_d)
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
    real = torch.randn(48, 2)

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


def test_the_real_term_of_f_trains_g_only_through_the_unrolled_steps():
    """E log D(x; theta_D^K) depends on theta_G through theta_D^K alone: its gradient in
    theta_G is zero at K = 0 and nonzero at K > 0 (dropping it was a bug that left the unrolled
    GAN as collapsed as the GAN)."""
    model, (opt_g, opt_d) = _model(k=3)
    fake, real = model.generator(model.latent(48)), torch.randn(48, 2)
    g_params = list(model.generator.parameters())

    def real_term_grad(params):
        term = -torch.nn.functional.softplus(
            -torch.func.functional_call(model.discriminator, params, (real,))).mean()
        grads = torch.autograd.grad(term, g_params, allow_unused=True)
        return sum(0.0 if g is None else float(g.norm()) for g in grads)

    assert real_term_grad(dict(model.discriminator.named_parameters())) == 0.0
    assert real_term_grad(model.unrolled_parameters(real, fake, opt_d)) > 0.0


def _modes_after_training(k: int, steps: int = 250) -> int:
    from perceptzoo import data
    from perceptzoo.metrics.modes import mode_coverage

    torch.manual_seed(0)
    model = perceptzoo.build("unrolled_gan", dataset="toy2d:8gaussians", latent_dim=16,
                             hidden_g=(64, 64), hidden_d=(64,), unroll_steps=k)
    opts = model.configure_optimizers(TrainConfig(lr=1e-3))
    x = data.load("toy2d:8gaussians", "train").x
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        model.train_step((x[torch.randint(0, len(x), (128,), generator=g)], None), opts)
    samples = model.sample(2000, generator=torch.Generator().manual_seed(0))
    return mode_coverage(samples, "8gaussians")["modes_covered"]


def test_unrolling_cures_mode_collapse_on_the_ring():
    """Metz et al.'s claim on a small ring setting, everything else equal: after 250 steps the
    GAN (K = 0) sits on at most 2 of the 8 modes, the unrolled GAN (K = 5) covers at least 6
    (measured: 0 and 8 here; 1 and 8 at 300 steps over seeds 0-2; about 9 CPU-seconds)."""
    plain, unrolled = _modes_after_training(0), _modes_after_training(5)
    assert plain <= 2, plain
    assert unrolled >= 6, unrolled


def test_negative_unroll_is_a_user_error():
    with pytest.raises(perceptzoo.UserError, match="unroll_steps"):
        perceptzoo.build("unrolled_gan", unroll_steps=-1)


def test_an_unknown_arch_is_a_user_error():
    with pytest.raises(perceptzoo.UserError, match="use mlp or conv"):
        perceptzoo.build("unrolled_gan", dataset="digits", arch="resnet")


def test_the_conv_arch_has_dcgans_networks_without_normalisation_in_d():
    model = perceptzoo.build("unrolled_gan", dataset="mnist", arch="conv", channels=8)
    assert model.sample(3).shape == (3, 1, 28, 28)
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.generator.modules())
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm))
                   for m in model.discriminator.modules())


def test_the_unrolled_steps_keep_the_real_ds_running_statistics():
    """A discriminator with buffers (batch norm) is run on copies of them in the unrolled steps
    and in f_K, so the real D's running statistics are those its own steps left."""
    from perceptzoo.gans.common import conv_discriminator

    model, (opt_g, opt_d) = _model(arch="conv")
    model.discriminator = conv_discriminator((1, 8, 8), 4, "batch")
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=1e-2)
    before = copy.deepcopy(dict(model.discriminator.named_buffers()))
    real, fake = _real(model, 32), model.generator(model.latent(32))
    model.surrogate_loss(real, fake, model.unrolled_parameters(real, fake, opt_d))
    after = dict(model.discriminator.named_buffers())
    assert before and all(torch.equal(before[k], after[k]) for k in before)
