"""DVR: the secant root is the analytic ray-sphere hit; the implicit-differentiation depth
gradient equals finite differences; the loss reaches both fields and weighs every ray alike."""

from __future__ import annotations

import torch

from perceptzoo.data.shapes import get_shape
from perceptzoo.implicit.decoders import DecoderConfig, ImplicitMLP
from perceptzoo.implicit.rendering import DVR, DVRConfig, differentiable_depth, find_surface


def _rays(n: int, seed: int, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    origins = torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=dtype), dim=-1)
    origins = 2.5 * origins
    target = 0.3 * (torch.rand(n, 3, generator=g, dtype=dtype) - 0.5)  # near the centre
    return origins, torch.nn.functional.normalize(target - origins, dim=-1)


def test_secant_root_matches_analytic_ray_sphere_hit():
    r = 0.6
    origins, dirs = _rays(200, 0)
    occ = lambda p: r - p.norm(dim=-1)  # noqa: E731  inside positive, zero on the sphere
    surf = find_surface(occ, origins, dirs, near=1.0, far=4.0, steps=32, secant_steps=8)
    b = (origins * dirs).sum(-1)
    c = origins.pow(2).sum(-1) - r * r
    analytic = -b - torch.sqrt(b * b - c)  # nearer root of |o + t w| = r
    assert surf["hit"].all()
    assert (surf["depth"] - analytic).abs().max() < 1e-5


def test_rays_that_miss_report_no_hit():
    origins = torch.tensor([[2.5, 0.0, 0.0]], dtype=torch.float64)
    dirs = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)  # parallel to the sphere
    surf = find_surface(lambda p: 0.5 - p.norm(dim=-1), origins, dirs, 0.1, 3.0)
    assert not surf["hit"].any() and torch.isinf(surf["depth"]).all()


def test_implicit_differentiation_gradient_equals_finite_differences():
    torch.manual_seed(0)
    net = ImplicitMLP(DecoderConfig(hidden=16, layers=3, skip_layers=(), geometric_init=True,
                                    inside_positive=True, init_radius=0.6)).double()
    fn = lambda p: net(p[None])[0]  # noqa: E731
    origins, dirs = _rays(3, 1)

    def depth() -> torch.Tensor:
        s = find_surface(fn, origins, dirs, 1.0, 4.0, steps=256, secant_steps=30)
        assert s["hit"].all()
        return s["depth"]

    d = differentiable_depth(fn, origins, dirs, depth())
    params = [net.linears[0].weight, net.linears[1].bias, net.linears[2].weight]
    grads = [torch.autograd.grad(d[k], params, retain_graph=True) for k in range(3)]
    eps = 1e-6
    for pi, param in enumerate(params):
        for idx in [(0, 0), (param.shape[0] - 1, 1)] if param.dim() == 2 else [(0,), (5,)]:
            with torch.no_grad():
                param[idx] += eps
                d_plus = depth()
                param[idx] -= 2 * eps
                d_minus = depth()
                param[idx] += eps
            fd = (d_plus - d_minus) / (2 * eps)  # (3,) one per ray
            analytic = torch.stack([grads[k][pi][idx] for k in range(3)])
            assert analytic.abs().max() > 1e-3  # a real dependence, not 0 == 0
            assert torch.allclose(analytic, fd, atol=1e-6, rtol=1e-4), (pi, idx, analytic, fd)


def test_dvr_loss_is_finite_and_reaches_both_fields():
    torch.manual_seed(0)
    model = DVR(DVRConfig(hidden=32, layers=3, skip_layers=(), texture_hidden=16,
                          texture_layers=2, views=2, image_size=12))
    data = model.make_dataset([get_shape("sphere")])
    assert data["mask"].any() and (~data["mask"]).any()
    out = model.loss(model.batch(data, torch.Generator().manual_seed(0), 288))
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    view = model.render(data["cameras"][0], 10, 10)
    assert view["rgb"].shape == (10, 10, 3) and view["mask"].any()


def test_dvr_field_is_free_outside_its_bounding_box():
    model = DVR(DVRConfig(hidden=16, layers=3, skip_layers=(), bound=1.0))
    p = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.0, -0.9, 0.0]])
    f = model.field(p)
    assert f[0] > 0 and f[1] == -10.0  # the sphere init is inside at the centre
    assert torch.allclose(f[[0, 2]], model.occupancy(p[None])[0][[0, 2]])
    unbounded = DVR(DVRConfig(hidden=16, layers=3, skip_layers=(), bound=0.0))
    unbounded.load_state_dict(model.state_dict())
    assert unbounded.field(p)[1] != -10.0


def test_dvr_loss_weighs_every_ray_the_same_whichever_term_it_falls_in():
    """The loss of a batch is the ray-count-weighted mean of the losses of its parts: each term
    is a sum over its rays / the batch's ray count. (A mean over each term's own rays breaks
    this: one missed ray then weighs as much as all free rays, and the field inflates.)"""
    torch.manual_seed(0)
    model = DVR(DVRConfig(hidden=32, layers=3, skip_layers=(), texture_hidden=16,
                          texture_layers=2, views=2, image_size=12, init_radius=0.3))
    data = model.make_dataset([get_shape("sphere")])
    batch = model.batch(data, torch.Generator().manual_seed(0), 288)
    origins, dirs, _, mask, *_ = batch
    hit = find_surface(model.field, origins, dirs, model.cfg.near, model.cfg.far,
                       model.cfg.march_steps, model.cfg.secant_steps)["hit"]
    miss = mask & ~hit
    assert miss.any() and (mask & hit).any() and (~mask).any()  # every term is active
    # part A: the missed rays only; part B: all the others
    parts = [tuple(x[idx] for x in batch) for idx in (miss, ~miss)]
    whole = model.loss(batch).loss
    split = sum(len(part[0]) * model.loss(part).loss for part in parts) / len(origins)
    assert torch.allclose(whole, split, rtol=1e-5), (whole, split)

