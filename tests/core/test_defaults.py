"""Defaults sized to the data: every model, with its defaults, stays under a stated size on every
dataset it accepts (`made --dataset mnist` was 258M parameters, a 4 GB checkpoint), the user's
options always win, and the dense autoregressive models' sized output is the same distribution
scored faster."""

from __future__ import annotations

import time

import pytest
import torch

from perceptzoo import data
from perceptzoo.core import registry, runner
from perceptzoo.errors import UserError

#: Every dataset a trainer model can be given, besides its default (files are never read:
#: `data.info` knows the shapes).
DATASETS = ("digits", "mnist", "fashion_mnist", "binarized_mnist", "fsdd", "printed_digits",
            "sprites", "moving_digits", "bars_stripes", "voxels16", "voxel_views16")


def _default_size(name: str, dataset: str) -> int | None:
    """Parameters of `name` with its defaults on `dataset`, or None if it refuses the data."""
    spec = registry.get_spec(name)
    info = data.info(dataset)
    try:
        cfg = registry.make_config(name, info)
        with torch.device("meta"):
            model = spec.model_class(cfg)
    except (UserError, *registry.BUILD_ERRORS):  # what `build` refuses in one line
        return None
    if hasattr(model, "check_data"):
        try:
            model.check_data(info)
        except UserError:
            return None
        except Exception:  # a check that computes, which the meta device cannot: accepted
            pass
    return sum(p.numel() for p in model.parameters())


def test_every_model_with_its_defaults_fits_every_dataset_it_accepts():
    too_large = {}
    for spec in registry.list_specs():
        if spec.runner != "trainer":
            continue
        for dataset in {spec.default_dataset, *DATASETS}:
            count = _default_size(spec.name, dataset)
            if count is not None and count > registry.DEFAULT_PARAMS_LIMIT:
                too_large[f"{spec.name} on {dataset}"] = f"{count / 1e6:.0f}M"
    assert not too_large, (f"defaults over {registry.DEFAULT_PARAMS_LIMIT / 1e6:.0f}M "
                           f"parameters: {too_large}")


def test_dense_autoregressive_defaults_are_sized_to_mnist():
    info = data.info("mnist")
    for name in ("made", "nade", "fvsbn"):
        cfg = registry.make_config(name, info)
        assert cfg.output == "logistic_mixture", name
        assert _default_size(name, "mnist") <= 20_000_000, name
    # data with few levels keeps the papers' outputs and sizes (recipes and results unchanged)
    for dataset in ("digits", "binarized_mnist"):
        cfg = registry.make_config("made", data.info(dataset))
        assert cfg.output == "auto" and cfg.hidden_sizes == (500,) and cfg.direct_connections
    assert registry.make_config("nade", data.info("binarized_mnist")).hidden_size == 500


def test_user_options_win_over_the_sized_defaults():
    info = data.info("mnist")
    cfg = registry.make_config("made", info, output="categorical", hidden_sizes=(64,),
                               direct_connections=True)
    assert (cfg.output, cfg.hidden_sizes, cfg.direct_connections) == ("categorical", (64,), True)
    assert registry.make_config("nade", info, hidden_size=500).hidden_size == 500
    # and through the run path: the written config is what the user asked for
    spec = registry.get_spec("made")
    cfg = runner.model_config_for(spec, "mnist", None, {"output": "categorical"},
                                  runner.train_config_for(spec, {}), set())
    assert cfg.output == "categorical"


def test_sized_logistic_mixture_scores_the_observed_bin_of_the_full_table():
    from perceptzoo.autoregressive.common import OutputHead

    head = OutputHead("logistic_mixture", 256)
    g = torch.Generator().manual_seed(0)
    params = torch.randn(6, 40, head.num_params, generator=g, dtype=torch.float64) * 2
    x = torch.randint(0, 256, (6, 40), generator=g)
    x[0, :4], x[1, :4] = 0, 255  # the end bins take the tails
    table = head.level_log_probs(params).gather(-1, x[..., None]).squeeze(-1)
    torch.testing.assert_close(head.log_prob(params, x), table)
    assert torch.allclose(head.level_log_probs(params).exp().sum(-1),
                          torch.ones(6, 40, dtype=torch.float64))


def test_models_too_large_for_the_data_are_refused_in_one_line():
    with pytest.raises(UserError, match="use nade or made"):
        registry.build_from_config("fvsbn", registry.make_config("fvsbn",
                                                                 data.info("moving_digits")))
    # the message named 10^1888 tables as a float and ended in an OverflowError traceback
    with pytest.raises(UserError, match=r"10\^\d+ conditional tables"):
        registry.build_from_config("tabular", registry.make_config("tabular",
                                                                   data.info("mnist")))


def test_made_on_mnist_trains_a_step_in_seconds(shared_data, tmp_path):
    torch.manual_seed(0)
    start = time.process_time()
    run = runner.train("made", dataset="mnist", out=tmp_path / "run",
                       train_config={"steps": 1, "batch_size": 64, "progress": False,
                                     "num_samples": 0, "eval_examples": 500})
    seconds = time.process_time() - start
    assert seconds < 30, f"one step of made on mnist took {seconds:.0f} s of CPU"
    weights = (run / "model.safetensors").stat().st_size
    assert weights < 200 * 2**20, f"weights file {weights / 2**20:.0f} MiB"


def test_made_samples_the_sized_defaults_fast_and_the_same_as_the_naive_sampler():
    """MADE's sampler computes only dimension d's output rows at pass d: the same draws as the
    D full passes of `sample_naive` (binary, 17 levels with 3 masks, a logistic mixture)."""
    import perceptzoo

    for options in (dict(data_shape=(1, 4, 4), num_levels=2, hidden_sizes=(32, 16)),
                    dict(data_shape=(1, 5, 5), num_levels=17, num_masks=3, order_agnostic=True),
                    dict(data_shape=(1, 4, 4), num_levels=256, output="logistic_mixture")):
        model = perceptzoo.build("made", **options).double()
        for k in range(model.cfg.num_masks):
            model.set_mask(k)
            naive = model.sample_naive(40, generator=torch.Generator().manual_seed(k))
            rows = model.sample_rows(40, generator=torch.Generator().manual_seed(k))
            assert torch.equal(naive, rows), (options, k)
