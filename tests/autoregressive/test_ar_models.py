"""Contracts of every family member (finite loss, gradients reach every parameter, sample
shapes, save/load), cached == naive sampling, the tabular model's exact fit, the datasets
this family brings, and a smoke run through `perceptzoo train / sample / eval`."""

from __future__ import annotations

import json
import math

import pytest
import torch
from ar_models import TINY, build_tiny
from safetensors.torch import load_model, save_model

import perceptzoo
from perceptzoo import data
from perceptzoo.cli import main as cli
from perceptzoo.errors import UserError

MINE = [n for n in TINY if n != "made"]  # MADE has its own tests (test_made.py)


def _batch(name: str, n: int = 4, shape=(1, 3, 4), levels: int = 2):
    x = torch.randint(0, levels, (n, *shape), dtype=torch.uint8)
    if name == "wavenet":
        x = x.reshape(n, 1, 1, -1)
    return x, torch.randint(0, 3, (n,))


@pytest.mark.parametrize("name", MINE)
def test_loss_finite_gradients_reach_every_parameter_and_samples_have_the_data_shape(name):
    model = build_tiny(name, num_classes=3) if name in ("gated_pixelcnn", "wavenet") else (
        build_tiny(name))
    model.train()
    x, y = _batch(name)
    out = model.loss((x, y))
    assert torch.isfinite(out.loss) and math.isfinite(out.metrics["bits_per_dim"])
    if name != "tabular":  # the table is fitted by counting, not by gradients
        out.loss.backward()
        for pname, p in model.named_parameters():
            if name in ("gated_pixelcnn", "wavenet") and "embed" in pname:
                continue  # the class rows that were in the batch get gradient, tested below
            assert p.grad is not None and p.grad.abs().sum() > 0, pname
    samples = model.eval().sample(5, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, *x.shape[1:])
    assert ((samples == samples.round()) & (samples >= 0) & (samples <= 1)).all()
    assert torch.isfinite(model.log_prob(samples)).all() or name == "tabular"


@pytest.mark.parametrize("name", MINE)
def test_save_load_round_trip(name, tmp_path):
    model = build_tiny(name)
    x, _ = _batch(name)
    save_model(model, str(tmp_path / "m.safetensors"))
    fresh = build_tiny(name, seed=123)
    load_model(fresh, str(tmp_path / "m.safetensors"))
    with torch.no_grad():
        assert torch.equal(model.log_prob(x), fresh.log_prob(x))


SAMPLER_CASES = [
    ("pixelcnn", (1, 5, 5), 2, {}),
    ("pixelcnn", (3, 3, 3), 8, {"output": "logistic_mixture", "hidden_channels": 12}),
    ("gated_pixelcnn", (1, 5, 5), 2, {"num_classes": 3}),
    ("gated_pixelcnn", (3, 3, 3), 4, {"hidden_channels": 12}),
    ("transformer", (1, 5, 5), 3, {}),
    ("transformer", (3, 3, 3), 4, {}),
    ("wavenet", (1, 1, 30), 16, {"num_classes": 3}),
]


@pytest.mark.parametrize("name,shape,levels,extra", SAMPLER_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in SAMPLER_CASES])
def test_cached_sampling_gives_the_same_samples_as_naive_sampling(name, shape, levels, extra):
    model = build_tiny(name, data_shape=shape, num_levels=levels, **extra)
    cond = torch.tensor([0, 2, 1, 0]) if extra.get("num_classes") else None
    naive = model.sample(4, cond=cond, generator=torch.Generator().manual_seed(7), cached=False)
    cached = model.sample(4, cond=cond, generator=torch.Generator().manual_seed(7), cached=True)
    assert torch.equal(naive, cached)
    assert naive.unique().numel() > 1  # not a degenerate all-equal draw


def test_samplers_follow_the_model_distribution():
    """Tiny enumerable check: the empirical frequency of sampled 2x2 binary images matches
    exp(log_prob) (cached PixelCNN sampler, 4000 draws, 16 outcomes)."""
    model = build_tiny("pixelcnn", data_shape=(1, 2, 2))
    with torch.no_grad():
        samples = model.sample(4000, generator=torch.Generator().manual_seed(0))
        codes = (samples.view(-1, 4) * torch.tensor([8, 4, 2, 1.0])).sum(1).long()
        freq = torch.bincount(codes, minlength=16).double() / 4000
        grid = torch.tensor([[(c >> s) & 1 for s in (3, 2, 1, 0)] for c in range(16)])
        probs = model.log_prob(grid.view(16, 1, 2, 2).double()).exp()
    assert (freq - probs).abs().max() < 0.03


# -- tabular ------------------------------------------------------------------------------------
def test_tabular_has_two_to_the_i_minus_1_parameters_per_conditional():
    model = perceptzoo.build("tabular", data_shape=(1, 2, 3), num_levels=2)
    sizes = torch.diff(torch.cat([model.offsets, torch.tensor([model.counts.shape[0]])]))
    assert sizes.tolist() == [2 ** (i - 1) for i in range(1, 7)]  # rows (one Bernoulli each)


def test_tabular_exact_fit_is_the_empirical_distribution():
    torch.manual_seed(0)
    x = torch.randint(0, 2, (300, 1, 2, 3), dtype=torch.uint8)
    x[:100] = torch.tensor([1, 0, 1, 1, 0, 0], dtype=torch.uint8).view(1, 2, 3)
    model = perceptzoo.build("tabular", data_shape=(1, 2, 3), num_levels=2).fit(x)
    codes = (x.view(300, 6).long() * (2 ** torch.arange(5, -1, -1))).sum(1)
    empirical = torch.bincount(codes, minlength=64).double() / 300
    allx = ((torch.arange(64)[:, None] >> torch.arange(5, -1, -1)) & 1).view(64, 1, 2, 3)
    probs = model.log_prob(allx).exp()
    assert torch.allclose(probs.double(), empirical, atol=1e-6)


def test_tabular_refuses_data_too_large_for_tables():
    with pytest.raises(UserError, match="tabular"):
        perceptzoo.build("tabular", dataset="digits")


def test_tabular_trained_one_epoch_by_the_trainer_matches_bars_and_stripes(tmp_path):
    """Counting one epoch gives the empirical distribution; its test NLL is about log 22."""
    from perceptzoo.data.bars_stripes import entropy_nats

    run = perceptzoo.train("tabular", out=tmp_path / "run", train_config=perceptzoo.TrainConfig(
        epochs=1, batch_size=100, progress=False, num_samples=16))
    model = perceptzoo.load(run)
    test = data.load("bars_stripes", "test")
    nll = -model.log_prob(test.x).mean().item()
    assert abs(nll - entropy_nats()) < 0.1
    assert (tmp_path / "run" / "samples.png").exists()


# -- data this family brings ---------------------------------------------------------------------
def test_bars_and_stripes_dataset():
    ds = data.load("bars_stripes", "train")
    info = data.info("bars_stripes")
    assert ds.x.shape == (2000, 1, 3, 4) and info.num_levels == 2
    rows_equal = (ds.x == ds.x[:, :, :, :1]).flatten(1).all(1)
    cols_equal = (ds.x == ds.x[:, :, :1, :]).flatten(1).all(1)
    assert (rows_equal | cols_equal).all()
    assert len({tuple(r.tolist()) for r in ds.x.flatten(1)}) == 22


def test_fsdd_dataset(shared_data):
    if not (shared_data / "fsdd.npz").exists():
        pytest.skip("fsdd.npz absent")
    test = data.load("fsdd", "test")
    info = data.info("fsdd")
    assert test.x.dtype == torch.uint8 and test.x.shape[1:] == info.data_shape
    assert len(test) == info.split_sizes["test"] and set(test.y.unique().tolist()) == set(range(10))
    assert 100 < test.x.float().mean() < 155  # mu-law codes of speech centre on 127.5


def test_models_refuse_data_they_cannot_model():
    with pytest.raises(UserError):
        perceptzoo.build("pixelcnn", dataset="toy2d:moons")
    model = perceptzoo.build("fvsbn")  # digits-sized
    with pytest.raises(UserError, match="binarized_mnist"):
        model.check_data(data.info("binarized_mnist"))
    with pytest.raises(UserError, match="Bernoulli"):
        perceptzoo.build("pixelcnn", output="bernoulli")  # digits have 17 levels


# -- the CLI -------------------------------------------------------------------------------------
CLI_SETS = {
    "tabular": ["alpha=0.5"],  # 2 steps do not see every pattern: smooth the table
    "fvsbn": [],
    "nade": ["hidden_size=8"],
    "pixelcnn": ["hidden_channels=4", "num_blocks=1"],
    "gated_pixelcnn": ["hidden_channels=4", "num_layers=1"],
    "pixelrnn": ["hidden_channels=4", "num_layers=1"],
    "transformer": ["embed_dim=8", "num_heads=2", "num_layers=1"],
}


@pytest.mark.parametrize("name", list(CLI_SETS))
def test_cli_train_sample_eval_on_the_default_dataset(name, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli(["train", name, "--steps", "2", "--batch-size", "16", "--out", str(run),
                "--no-progress", "--eval-samples", "0", "--set", *CLI_SETS[name],
                "train.num_samples=4"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert math.isfinite(trained["test_nll_nats"])
    assert cli(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").exists()
    assert cli(["eval", str(run), "--eval-samples", "0"]) == 0
    assert "test_bits_per_dim" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_wavenet_trains_on_fsdd_and_writes_wav(shared_data, tmp_path):
    if not (shared_data / "fsdd.npz").exists():
        pytest.skip("fsdd.npz absent")
    from perceptzoo.data.fsdd import mu_law_decode, write_wav

    run = perceptzoo.train("wavenet", out=tmp_path / "run", model_overrides={
        "dilations": [1, 2], "residual_channels": 4, "skip_channels": 4},
        train_config=perceptzoo.TrainConfig(steps=2, batch_size=4, eval_examples=8,
                                            num_samples=2, progress=False))
    model = perceptzoo.load(run)
    assert bool(model.trained_with_labels)
    test = data.load("fsdd", "test")
    bits = -model.log_prob(test.x[:4], cond=test.y[:4]) / (1024 * math.log(2))
    assert ((bits > 0) & (bits < 9)).all()
    codes = model.sample(2, cond=torch.tensor([3, 7]), length=200,
                         generator=torch.Generator().manual_seed(0))
    write_wav(mu_law_decode(codes[0].flatten().long()), tmp_path / "a.wav")
    import wave

    with wave.open(str(tmp_path / "a.wav")) as f:
        assert f.getnframes() == 200 and f.getframerate() == 8000


@pytest.mark.slow
def test_cli_wavenet_on_fsdd(shared_data, tmp_path, capsys):
    if not (shared_data / "fsdd.npz").exists():
        pytest.skip("fsdd.npz absent")
    run = tmp_path / "run"
    assert cli(["train", "wavenet", "--steps", "2", "--batch-size", "4", "--out", str(run),
                "--no-progress", "--eval-samples", "0", "--set", "dilations=[1,2]",
                "residual_channels=4", "skip_channels=4", "train.num_samples=2",
                "train.eval_examples=8"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < trained["test_bits_per_dim"] <= 8.5  # bits per sample of 256 codes
    assert cli(["sample", str(run), "-n", "2", "--out", str(tmp_path / "s.png")]) == 0


@pytest.mark.parametrize("name", sorted(TINY))
def test_unconditional_models_refuse_cond(name):
    """`cond` is never silently ignored: a model built without classes refuses it."""
    model = build_tiny(name)
    x = model.sample(2, generator=torch.Generator().manual_seed(0))
    with pytest.raises(UserError, match="without cond"):
        model.log_prob(x, cond=torch.zeros(2, dtype=torch.long))
    with pytest.raises(UserError, match="without cond"):
        model.sample(2, cond=torch.zeros(2, dtype=torch.long))
