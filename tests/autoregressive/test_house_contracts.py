"""The house's contracts over every registered model of the autoregressive, flow and diffusion
families (one file for the three, parametrized over the registry: a new model is covered by
registering it):

- every hook has the one signature of `perceptzoo.core.contracts` (`cond=` keyword-only);
- cast to float64 (`model.double()`), loss, log_prob and samples are float64 and finite: no
  step computes in a hard-coded float32;
- on a GPU, a model moved there computes there from a CPU generator (skipped without CUDA).
"""

from __future__ import annotations

import pytest
import torch

import perceptzoo  # noqa: F401  (registers every family)
from perceptzoo.core import registry
from perceptzoo.core.contracts import check_hooks
from perceptzoo.data.edges import edge_map

FAMILIES = ("autoregressive", "flows", "diffusion")
NAMES = [s.name for s in registry.list_specs() if s.family in FAMILIES]


def _tiny(name: str):
    spec = registry.get_spec(name)
    cfg = spec.config_class.tiny() if hasattr(spec.config_class, "tiny") else spec.config_class()
    return registry.build_from_config(name, cfg), cfg


def _batch(cfg, n: int = 3, device="cpu"):
    """n random examples of the config's data: uint8 levels (as datasets store them) or floats,
    with labels when the model takes classes."""
    g = torch.Generator().manual_seed(0)
    shape, levels = tuple(cfg.data_shape), getattr(cfg, "num_levels", None)
    if levels is None:
        x = torch.randn(n, *shape, generator=g)
    else:
        x = torch.randint(0, levels, (n, *shape), generator=g).to(torch.uint8)
    classes = getattr(cfg, "num_classes", None)
    y = torch.randint(0, classes, (n,), generator=g) if classes else None
    return x.to(device), None if y is None else y.to(device)


def _exercise(name: str, model, cfg, device="cpu"):
    """loss and its gradients (train mode), then log_prob and sample (eval mode):
    -> (loss, log_prob, samples)."""
    x, y = _batch(cfg, device=device)
    if hasattr(model, "initialize") and name != "controlnet":  # ControlNet loads a base run
        model.initialize((x, y))
    model.train()
    loss = model.loss((x, y)).loss
    if loss.requires_grad:
        loss.backward()
    model.eval()
    log_prob = model.log_prob(x) if hasattr(model, "log_prob") else None
    cond = edge_map(x[:2], cfg.num_levels) if name == "controlnet" else None
    samples = model.sample(2, cond=cond, generator=torch.Generator().manual_seed(0))
    return loss, log_prob, samples


@pytest.mark.parametrize("name", NAMES)
def test_hooks_have_the_one_signature_of_the_contracts(name):
    spec = registry.get_spec(name)
    assert check_hooks(spec.model_class, spec.runner) == []


@pytest.mark.parametrize("name", NAMES)
def test_runs_in_float64_when_cast(name):
    torch.manual_seed(0)
    model, cfg = _tiny(name)
    loss, log_prob, samples = _exercise(name, model.double(), cfg)
    assert loss.dtype == torch.float64 and torch.isfinite(loss)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert all(g.dtype == torch.float64 for g in grads)
    if log_prob is not None:
        assert log_prob.dtype == torch.float64 and log_prob.shape == (3,)
        assert torch.isfinite(log_prob).all()
    assert samples.dtype == torch.float64 and torch.isfinite(samples).all()
    assert samples.shape == (2, *cfg.data_shape)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_computes_on_the_device_of_its_parameters(name):
    torch.manual_seed(0)
    model, cfg = _tiny(name)
    loss, log_prob, samples = _exercise(name, model.to("cuda"), cfg, device="cuda")
    assert loss.is_cuda and torch.isfinite(loss)
    if log_prob is not None:
        assert log_prob.is_cuda and torch.isfinite(log_prob).all()
    assert samples.is_cuda and torch.isfinite(samples).all()
