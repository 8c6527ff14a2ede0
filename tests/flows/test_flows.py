"""Property tests over every flow layer and every flow model.

One parametrized test proves, for each case: the inverse inverts (float64, 1e-5), forward and
inverse log-dets cancel, and the log-det equals slogdet of the autograd Jacobian. Further tests:
ActNorm's data-dependent initialisation, the learned 2D density integrating to 1, the
dequantization bound's accounting, and the model contracts.
"""

from __future__ import annotations

import math

import pytest
import torch

import perceptzoo
from perceptzoo.core import registry
from perceptzoo.flows import layers as L
from perceptzoo.flows.dequantization import UniformDequantization, VariationalDequantization

SHAPE = (2, 4, 4)


def randomize(module: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> torch.nn.Module:
    """Perturb every parameter: zero-initialised layers would make the tests trivial."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def _image(b=2, shape=SHAPE, seed=1):
    return torch.randn(b, *shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def _vector(b=2, d=4, seed=1):
    return torch.randn(b, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _glow_cfg(**kw):
    from perceptzoo.flows.glow import GlowConfig

    base = dict(data_shape=SHAPE, num_levels=None, num_scales=2, num_steps=2, hidden=8)
    base.update(kw)
    return GlowConfig(**base)


def _cases():
    """name -> () -> (module, x, cond)."""
    cond_vec = _vector(2, 3, seed=5)
    cond_map = _image(2, (3, 4, 4), seed=6)
    unit = torch.rand(2, *SHAPE, generator=torch.Generator().manual_seed(2),
                      dtype=torch.float64) * 0.98 + 0.01
    c = {
        "actnorm_image": lambda: (L.ActNorm(2), _image(), None),
        "actnorm_vector": lambda: (L.ActNorm(4), _vector(), None),
        "invconv_plain": lambda: (L.InvConv1x1(2, lu=False, seed=0), _image(), None),
        "invconv_plu": lambda: (L.InvConv1x1(2, lu=True, seed=0), _image(), None),
        "invconv_plu_vector": lambda: (L.InvConv1x1(4, lu=True, seed=1), _vector(), None),
        "squeeze": lambda: (L.Squeeze(), _image(), None),
        "checkerboard_affine": lambda: (
            L.MaskedCoupling(L.checkerboard_mask(4, 4, 0), 2, 8), _image(), None),
        "checkerboard_additive": lambda: (
            L.MaskedCoupling(L.checkerboard_mask(4, 4, 1), 2, 8, affine=False), _image(), None),
        "checkerboard_conditional_map": lambda: (
            L.MaskedCoupling(L.checkerboard_mask(4, 4, 0), 2, 8, cond_channels=3), _image(),
            cond_map),
        "channel_affine": lambda: (L.ChannelCoupling(2, 8), _image(), None),
        "channel_affine_sigmoid": lambda: (
            L.ChannelCoupling(2, 8, scale_map="sigmoid"), _image(), None),
        "channel_additive_flip": lambda: (
            L.ChannelCoupling(2, 8, affine=False, flip=True), _image(), None),
        "channel_conditional_vector": lambda: (
            L.ChannelCoupling(2, 8, cond_channels=3), _image(), cond_vec),
        "vector_coupling_conditional": lambda: (
            L.MaskedCoupling(L.alternating_mask(4, 1), 4, 8, cond_channels=3), _vector(),
            cond_vec),
        "split_prior": lambda: (L.SplitPrior(2, 1), _image(), None),
        "logit": lambda: (L.Logit(0.05), unit, None),
        "shift": lambda: (L.Shift(), _image(), None),
        "multiscale_glow": lambda: (L.glow_levels(_glow_cfg())[0], _image(), None),
        "multiscale_glow_plain_additive": lambda: (
            L.glow_levels(_glow_cfg(lu=False, coupling="additive"))[0], _image(), None),
        "variational_dequantization_flow": lambda: (
            VariationalDequantization(SHAPE, 17, hidden=8).flow, _image(),
            _image(seed=9)),
        # whole models: preprocessing + transform (the continuous part of log p)
        "model_realnvp": lambda: (
            perceptzoo.build("realnvp", data_shape=SHAPE, num_levels=17, hidden=8), unit, None),
        "model_realnvp_learned_prior": lambda: (
            perceptzoo.build("realnvp", data_shape=SHAPE, num_levels=17, hidden=8,
                             learned_prior=True, coupling="additive"), unit, None),
        "model_glow": lambda: (
            perceptzoo.build("glow", data_shape=SHAPE, num_levels=17, hidden=8, num_steps=2),
            _image(), None),
        "model_glow_plain_sigmoid": lambda: (
            perceptzoo.build("glow", data_shape=SHAPE, num_levels=None, hidden=8, num_steps=2,
                             lu=False, scale_map="sigmoid"), _image(), None),
        "model_realnvp2d": lambda: (
            perceptzoo.build("realnvp2d", data_shape=(4,), hidden=8, num_layers=4,
                             invertible_linear=True, base="mixture"), _vector(), None),
        "model_realnvp2d_conditional": lambda: (
            perceptzoo.build("realnvp2d", data_shape=(4,), hidden=8, num_layers=4, cond_dim=3),
            _vector(), cond_vec),
    }
    c.update(_model_cases())
    return c


def _model_cases():
    """SRFlow and C-Flow: their flow given the condition (low-res image; the other flow's
    input), as a layer whose `cond` is that condition."""
    from perceptzoo.flows import srflow

    def sr(**kw):
        m = perceptzoo.build("srflow", data_shape=(1, 8, 8), num_levels=256, hidden=8,
                             num_steps=2, scale=4, **kw)
        x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(3),
                       dtype=torch.float64)
        return m.conditional_flow(), x, torch.nn.functional.avg_pool2d(x, 4)

    def cf(direction):
        m = perceptzoo.build("cflow", data_shape=(1, 8, 8), num_levels=256, hidden=8,
                             num_steps=2, direction=direction)
        g = torch.Generator().manual_seed(4)
        x_b = torch.rand(2, 1, 8, 8, generator=g, dtype=torch.float64)
        y_a = torch.rand(2, 1, 8, 8, generator=g, dtype=torch.float64)
        return m.conditional_flow(), x_b, y_a

    return {
        "model_srflow_given_low_res": sr,
        "model_srflow_logit_given_low_res": lambda: sr(logit_alpha=0.05),
        "srflow_affine_injector": lambda: (
            srflow.AffineInjector(2, 3, 8), _image(), _image(2, (3, 4, 4), seed=6)),
        "model_cflow_b_given_a": lambda: cf("edges_to_digits"),
        "model_cflow_digits_to_edges": lambda: cf("digits_to_edges"),
    }


CASES = _cases()


def _prepared(name):
    module, x, cond = CASES[name]()
    # deep stacks get smaller perturbations: 0.3 on every weight makes them ill-conditioned
    deep = name.startswith(("model_", "multiscale_"))
    module = randomize(module.double(), 0.1 if deep else 0.3).eval()
    return module, x, cond


@pytest.mark.parametrize("name", sorted(CASES))
def test_inverse_and_logdet(name):
    torch.manual_seed(0)
    module, x, cond = _prepared(name)
    z, logdet = module(x, cond)
    x_back, logdet_inv = module.inverse(z, cond)
    assert logdet.shape == (x.shape[0],)
    assert torch.allclose(x_back, x, atol=1e-5, rtol=0), (x_back - x).abs().max()
    assert torch.allclose(logdet + logdet_inv, torch.zeros_like(logdet), atol=1e-5)
    # log |det J| against autograd, one example at a time
    for b in range(x.shape[0]):
        cb = None if cond is None else cond[b : b + 1]

        def f(v, b=b, cb=cb):
            return module(v.view(1, *x.shape[1:]), cb)[0].flatten()

        jac = torch.autograd.functional.jacobian(f, x[b].flatten())
        assert jac.shape[0] == jac.shape[1], "a flow layer must keep the dimension"
        sign, logabsdet = torch.linalg.slogdet(jac)
        assert sign != 0
        expected, got = float(logabsdet), float(logdet[b].detach())
        assert abs(expected - got) < 1e-6 * max(1.0, abs(expected)), (expected, got)


def test_plu_and_plain_conv_logdet_agree():
    conv = randomize(L.InvConv1x1(5, lu=True, seed=3).double())
    w, logdet = conv.weight_and_logdet()
    assert torch.allclose(logdet, torch.linalg.slogdet(w)[1], atol=1e-10)


def test_actnorm_data_dependent_init_normalises_every_actnorm():
    model = perceptzoo.build("glow", data_shape=(1, 8, 8), num_levels=17, hidden=8, num_steps=2)
    randomize(model, 0.2)
    x = torch.randint(0, 17, (128, 1, 8, 8), generator=torch.Generator().manual_seed(0))
    outputs = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: outputs.append(out[0].detach()))
             for m in model.modules() if isinstance(m, L.ActNorm)]
    model.initialize((x, None))
    for h in hooks:
        h.remove()
    assert len(outputs) == sum(isinstance(m, L.ActNorm) for m in model.modules()) > 0
    for out in outputs:
        dims = [0, 2, 3]
        assert torch.allclose(out.mean(dims), torch.zeros(out.shape[1]), atol=1e-4)
        assert torch.allclose(out.var(dims, unbiased=False), torch.ones(out.shape[1]), atol=1e-3)


@pytest.mark.parametrize("base", ["normal", "mixture"])
def test_learned_2d_density_integrates_to_one(base):
    from perceptzoo import data
    from perceptzoo.flows.flow2d import density_grid

    torch.manual_seed(0)
    model = perceptzoo.build("realnvp2d", num_layers=6, hidden=32, base=base)
    x = data.load("toy2d:moons", "train").x
    model.initialize((x[:512], None))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(150):
        batch = x[(step * 256) % 19000 : (step * 256) % 19000 + 256]
        loss = model.loss((batch, None)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    nll = -model.log_prob(data.load("toy2d:moons", "test").x).mean()
    assert nll < 3.0  # it learned something (the best single Gaussian scores 3.27 here)
    log_p, area = density_grid(model, lim=7.0, resolution=500)
    total = float(log_p.exp().sum() * area)
    assert abs(total - 1) < 0.01, total


def test_dequantized_bound_accounting():
    """On 2 dims with 4 levels, integrate the continuous density over each bin on a grid: the
    discrete probabilities P(x) sum to 1; `log_prob` (one draw of the bound) averages to
    E_u[log p_y((x+u)/L)] - D log L computed on the same grid, and stays below log P(x).
    A missing D log L term would be off by 2 log 4 = 2.77 nats."""
    torch.manual_seed(0)
    model = randomize(perceptzoo.build("realnvp2d", data_shape=(2,), num_levels=4,
                                       num_layers=4, hidden=16), 0.1).double().eval()
    n = 200  # grid points per bin side
    centres = (torch.arange(4 * n, dtype=torch.float64) + 0.5) / (4 * n)
    yy, xx = torch.meshgrid(centres, centres, indexing="ij")
    grid = torch.stack([xx.flatten(), yy.flatten()], 1)
    with torch.no_grad():
        log_p = model.continuous_log_prob(grid).view(4, n, 4, n)  # [x1, ., x0, .]
        P = (log_p.exp() / (4 * n) ** 2).sum((1, 3))
        expected_bound = log_p.mean((1, 3)) - 2 * math.log(4)
        assert abs(float(P.sum()) - 1) < 1e-3
        x = torch.tensor([[i, j] for j in range(4) for i in range(4)])
        g = torch.Generator().manual_seed(0)
        bound = torch.stack([model.log_prob(x, generator=g) for _ in range(2000)]).mean(0)
    # Monte Carlo error only (log p is heavy-tailed near the bin edges): far below 2.77 nats
    assert (bound - expected_bound.flatten()).abs().max() < 0.3
    assert abs(float((bound - expected_bound.flatten()).mean())) < 0.05
    assert (bound <= P.flatten().log() + 0.02).all()


def test_variational_dequantization_noise_and_density():
    deq = VariationalDequantization((1, 4, 4), 17, hidden=8)
    randomize(deq, 0.05)
    x = torch.randint(0, 17, (64, 1, 4, 4))
    y, log_weight = deq(x)
    u = y * 17 - x
    assert ((u >= 0) & (u <= 1)).all()
    assert u.std() > 0.1  # noise, not a constant
    # log_weight = -log q(u|x) - D log L; q's density must be finite and vary with x
    assert torch.isfinite(log_weight).all()
    assert UniformDequantization(17)(x)[1][0] == pytest.approx(-16 * math.log(17))


MODEL_CONFIGS = {
    "realnvp": dict(hidden=8),
    "realnvp_variational": dict(hidden=8, dequantization="variational"),
    "glow": dict(hidden=8, num_steps=2),
    "glow_mixture": dict(hidden=8, num_steps=1, base="mixture"),
    "realnvp2d": dict(hidden=8, num_layers=2),
    "srflow": dict(hidden=8, num_steps=1),
    "cflow": dict(hidden=8, num_steps=1),
}


def _model_name(key):
    return key.split("_")[0]


def test_every_flow_of_the_contract_test_is_registered():
    """A flow that disappears from the registry fails here (and in its contract test)."""
    flows = {s.name for s in registry.list_specs() if s.family == "flows"}
    assert {_model_name(k) for k in MODEL_CONFIGS} <= flows


@pytest.mark.parametrize("key", sorted(MODEL_CONFIGS))
def test_model_contract(key):
    from perceptzoo import data

    name = _model_name(key)
    dataset = "digits" if name in ("realnvp", "glow", "srflow", "cflow") else "toy2d:moons"
    torch.manual_seed(0)
    model = perceptzoo.build(name, dataset=dataset, **MODEL_CONFIGS[key])
    x = data.load(dataset, "train").x[:16]
    model.initialize((x, None))
    randomize(model, 0.05)
    out = model.loss((x, None))
    assert torch.isfinite(out.loss)
    out.loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, missing
    assert model.log_prob(x).shape == (16,)
    s = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert s.shape == (3, *data.info(dataset).data_shape)
    assert torch.isfinite(s).all()
    if data.info(dataset).num_levels is not None:
        assert s.min() >= 0 and s.max() <= data.info(dataset).num_levels - 1
        assert torch.equal(s, s.round())


def test_temperature_zero_is_deterministic_and_scales_spread():
    model = randomize(perceptzoo.build("realnvp2d", hidden=8, num_layers=2), 0.1).eval()
    a = model.sample(4, temperature=0.0)
    assert torch.allclose(a, a[:1].expand_as(a))
    g = torch.Generator().manual_seed(0)
    wide = model.sample(2000, temperature=1.0, generator=g).std(0)
    narrow = model.sample(2000, temperature=0.3, generator=g).std(0)
    assert (narrow < wide).all()


def test_unknown_options_are_user_errors():
    from perceptzoo.errors import UserError

    with pytest.raises(UserError):
        perceptzoo.build("glow", data_shape=(1, 6, 6), num_scales=2)
    with pytest.raises(UserError):
        perceptzoo.build("realnvp", coupling="spline")
    with pytest.raises(UserError):
        perceptzoo.build("realnvp2d", base="laplace")


@pytest.mark.parametrize("name,dataset,overrides", [
    ("realnvp2d", "toy2d:moons", ["hidden=8", "num_layers=2", "base=mixture"]),
    ("glow", "digits", ["hidden=8", "num_steps=1"]),
    ("realnvp", "digits", ["hidden=8", "dequantization=variational"]),
    ("srflow", "digits", ["hidden=8", "num_steps=1", "scale=2", "metric_examples=8"]),
    ("cflow", "digits", ["hidden=8", "num_steps=1"]),
])
def test_cli_train_sample_eval_and_reload(tmp_path, capsys, name, dataset, overrides):
    import json

    from perceptzoo.cli import main

    run = tmp_path / "run"
    argv = ["train", name, "--dataset", dataset, "--steps", "2", "--batch-size", "16",
            "--out", str(run), "--no-progress", "--eval-samples", "16", "--set", *overrides,
            "train.eval_examples=32"]
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert math.isfinite(metrics["test_nll_nats"])
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    assert main(["eval", str(run), "--eval-samples", "0"]) == 0
    # the reloaded model scores exactly as the trained one did (same noise draw)
    from perceptzoo import data

    model, again = perceptzoo.load(run), perceptzoo.load(run)
    x = data.load(dataset, "test").x[:8]
    torch.manual_seed(0)
    a = model.log_prob(x)
    torch.manual_seed(0)
    b = again.log_prob(x)
    assert torch.allclose(a, b)
    fresh = perceptzoo.build(name, dataset=dataset, **{k: json.loads(v) if v[0].isdigit()
                                                      else v for k, v in
                                                      (o.split("=") for o in overrides)})
    torch.manual_seed(0)
    assert not torch.allclose(fresh.log_prob(x), a)  # the weights came from the run


def test_conditional_flow_learns_attribute_dependence():
    """A conditional realnvp2d over a 4-D 'latent space' with a 2-D attribute vector: after a
    short fit, log p(x | its attribute) beats log p(x | the other attribute), and samples
    follow the attribute they are given."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 4000
    attr = torch.randint(0, 2, (n,), generator=g)
    cond = torch.nn.functional.one_hot(attr, 2).float()
    x = torch.randn(n, 4, generator=g) * 0.5 + (2.0 * attr - 1.0)[:, None] * torch.tensor(
        [2.0, -1.0, 0.0, 1.0])
    model = perceptzoo.build("realnvp2d", data_shape=(4,), num_layers=4, hidden=32, cond_dim=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _step in range(200):
        idx = torch.randint(n, (256,), generator=g)
        loss = -model.log_prob(x[idx], cond=cond[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        right = model.log_prob(x[:500], cond=cond[:500]).mean()
        wrong = model.log_prob(x[:500], cond=1 - cond[:500]).mean()
        assert right > wrong + 5.0
        one = torch.tensor([[0.0, 1.0]]).expand(500, -1)
        zero = torch.tensor([[1.0, 0.0]]).expand(500, -1)
        assert model.sample(500, cond=one)[:, 0].mean() > 1.0
        assert model.sample(500, cond=zero)[:, 0].mean() < -1.0
    with pytest.raises(perceptzoo.UserError):
        model.loss((x[:8], None))


def test_srflow_super_resolutions_are_diverse_and_temperature_controls_them():
    model = randomize(perceptzoo.build("srflow", data_shape=(1, 8, 8), num_levels=256,
                                       hidden=8, num_steps=1, scale=4), 0.05).eval()
    lr = torch.rand(1, 1, 2, 2).expand(6, -1, -1, -1)  # one low-res image, six draws
    g = torch.Generator().manual_seed(0)
    wide = model.sample(6, cond=lr, generator=g, temperature=1.0)
    cold = model.sample(6, cond=lr, generator=g, temperature=0.0)
    assert wide.std(0).mean() > 1.0  # different answers for the same input (levels 0..255)
    assert torch.equal(cold, cold[:1].expand_as(cold))
    other = model.sample(6, cond=torch.rand(6, 1, 2, 2), temperature=0.0)
    assert not torch.equal(other, cold)  # the condition matters


def test_cflow_flow_b_depends_on_domain_a():
    model = randomize(perceptzoo.build("cflow", data_shape=(1, 8, 8), num_levels=256,
                                       hidden=8, num_steps=1), 0.1).eval()
    flow = model.conditional_flow()
    y_b = torch.rand(2, 1, 8, 8)
    z1, _ = flow(y_b, torch.rand(2, 1, 8, 8))
    z2, _ = flow(y_b, torch.rand(2, 1, 8, 8))
    assert (z1 - z2).abs().max() > 1e-3
    edges = torch.randint(0, 2, (4, 1, 8, 8))
    out = model.sample(4, cond=edges, generator=torch.Generator().manual_seed(0))
    assert out.shape == (4, 1, 8, 8) and out.max() <= 255
    x = torch.randint(0, 256, (4, 1, 8, 8))
    lp_a, lp_b = model.log_prob_pair(*model.pair(x))
    torch.manual_seed(0)
    total = model.log_prob(x)
    assert total.shape == (4,) and torch.isfinite(lp_a + lp_b).all()


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_a_flipped_channel_coupling_transforms_the_other_half(channels):
    """RealNVP section 3.3: alternating couplings swap which half is kept, so that a stack of
    two transforms every channel. `flip=False` keeps the first `channels // 2` channels;
    `flip=True` keeps the rest and transforms those first channels."""
    torch.manual_seed(0)
    x = torch.randn(2, channels, 4, 4)
    split = channels // 2
    plain, flipped = L.ChannelCoupling(channels, 8), L.ChannelCoupling(channels, 8, flip=True)
    for layer in (plain, flipped):  # make the transform non-trivial
        for p in layer.parameters():
            torch.nn.init.normal_(p, std=0.3)
    z_plain, _ = plain(x)
    z_flip, _ = flipped(x)
    assert torch.equal(z_plain[:, :split], x[:, :split])
    assert not torch.allclose(z_plain[:, split:], x[:, split:])
    assert torch.equal(z_flip[:, split:], x[:, split:])
    assert not torch.allclose(z_flip[:, :split], x[:, :split])
    x_back, _ = flipped.inverse(z_flip)
    assert torch.allclose(x_back, x, atol=1e-5)
