"""Per-option messages (core/validate.py): each case found by hand or by the fuzz suite, and the
message it now gets (option, value, what is allowed), as a regression case."""

from __future__ import annotations

import time

import pytest

import perceptzoo
from perceptzoo.cli import main
from perceptzoo.core import registry, runs, validate
from perceptzoo.errors import UserError


@pytest.mark.parametrize("name, options, named", [
    ("nade", {"hidden_size": -5}, ["hidden_size", "-5", "at least 1"]),
    ("pixelrnn", {"hidden_channels": 0}, ["hidden_channels", "0", "at least 1"]),
    ("transformer", {"dropout": 1.5}, ["dropout", "1.5", "from 0 to 1"]),
    ("vae", {"latent_dim": float("nan")}, ["latent_dim", "nan"]),
    ("made", {"hidden_sizes": [16, 0]}, ["hidden_sizes", "(16, 0)", "whole numbers from 1"]),
    ("dcgan", {"beta1": -0.1}, ["beta1", "-0.1", "from 0 to 1"]),
    ("pix2pix", {"lambda_l1": -1.0}, ["lambda_l1", "-1.0", ">= 0"]),
    ("glow", {"num_scales": 40}, ["num_scales", "40", "at most 30"]),
    ("vq_vae", {"num_downsamples": 2**40}, ["num_downsamples", str(2**40)]),
    ("deepsdf", {"layers": 10**9}, ["layers", str(10**9), "at most 10000"]),
])
def test_a_bad_value_is_refused_before_building_naming_option_value_and_rule(name, options,
                                                                            named):
    start = time.perf_counter()
    with pytest.raises(UserError) as err:
        perceptzoo.build(name, dataset="digits", **options)
    assert all(part in str(err.value) for part in named), str(err.value)
    assert time.perf_counter() - start < 30  # num_downsamples=2**40 computed 2**(2**40) once,
    # deepsdf layers=10**9 listed a billion layer widths


def test_a_constructor_failure_names_the_option_or_pair_at_fault():
    with pytest.raises(UserError, match=r"option embed_dim=10 \(.*default embed_dim=64"):
        perceptzoo.build("transformer", dataset="digits", embed_dim=10)
    with pytest.raises(UserError, match="options embed_dim=10 and num_heads=3"):
        perceptzoo.build("transformer", dataset="digits", embed_dim=10, num_heads=3)


def test_too_large_is_refused_before_allocation_naming_the_option(monkeypatch):
    monkeypatch.setattr(validate, "_memory_bytes", lambda: 2**30)
    with pytest.raises(UserError, match=r"more than half this machine.*value at fault: hidden="):
        perceptzoo.build("igr", hidden=20_000)  # an implicit field: counted on meta, partly
    monkeypatch.setattr(validate, "MAX_TENSORS", 200)
    with pytest.raises(UserError, match=r"more than 200 weight tensors.*num_res_blocks=60"):
        perceptzoo.build("ddpm", dataset="digits", num_res_blocks=60)


def test_every_registered_models_defaults_and_tiny_config_pass_the_rules():
    for spec in registry.list_specs():
        validate.check_options(spec.name, spec.config_class())
        tiny = getattr(spec.config_class, "tiny", None)
        if tiny is not None:
            validate.check_options(spec.name, tiny())


class _Reached(BaseException):
    pass


@pytest.mark.parametrize("sets, named", [
    (["hidden=[0]"], "hidden"),
    (["num_envs=0"], "num_envs"),
    (["hidden=[1000000,1000000]"], "hidden=(1000000, 1000000)"),
    (['env_kwargs={"x":1}'], "env_kwargs"),
])
def test_agents_built_by_the_runner_are_validated_too(sets, named, tmp_path, monkeypatch,
                                                      capsys):
    """The runner builds agents directly (not through build_from_config): their constructor
    validates (ppo --set hidden=[0] ended in a ValueError traceback)."""
    monkeypatch.setattr(runs.RunDir, "write_config", lambda self, c: (_ for _ in ()).throw(
        _Reached()))
    name = "reinforce" if "env_kwargs" in sets[0] else "ppo"
    assert main(["train", name, "--out", str(tmp_path / "run"), "--set", *sets]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err, err
