"""Fuzzing the public surface: options, model inputs, sample counts, dataset names, the CLI.

Each case ends in a value or a UserError, never a traceback or a silent wrong answer. The
default suite tries a few hundred cases; `pytest -m faults` tries over a thousand and writes
the counts to docs/reliability.md (see test_faults.py).
"""

from __future__ import annotations

import dataclasses
import math
import os

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perceptzoo
from perceptzoo.cli import main
from perceptzoo.core import registry
from perceptzoo.errors import UserError

from .fuzzing import MODELS, TALLY, json_values, literal

SCALE = 8 if os.environ.get("PERCEPTZOO_FUZZ") == "long" else 1
FAST = settings(max_examples=40 * SCALE, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
_built: dict[str, torch.nn.Module] = {}


def _model(name: str) -> torch.nn.Module:
    if name not in _built:
        _built[name] = perceptzoo.build(name, dataset="digits").eval()
    return _built[name]


@FAST
@given(name=st.sampled_from(MODELS), data=st.data())
def test_model_options_are_validated_where_they_enter(name, data):
    """Any value for any option: the model builds and its loss is finite, or a UserError."""
    TALLY["model options"] += 1
    spec = registry.get_spec(name)
    fields = [f.name for f in dataclasses.fields(spec.config_class)
              if f.name not in registry.DATA_FIELDS]
    key = data.draw(st.sampled_from(fields + ["no_such_option"]))
    value = data.draw(json_values)
    try:
        model = perceptzoo.build(name, dataset="digits", **{key: value})
    except UserError:
        return
    x = perceptzoo.data.load("digits", "test")[torch.arange(4)]
    with torch.no_grad():
        try:
            out = model.loss(x) if hasattr(model, "loss") else None
        except UserError:
            return
    if out is not None:
        assert math.isfinite(float(out.loss)), f"{name} {key}={value!r}: loss {out.loss}"


@FAST
@given(name=st.sampled_from(MODELS), data=st.data())
def test_log_prob_refuses_what_is_not_data(name, data):
    """Wrong shapes, dtypes, out-of-range and non-finite values: a UserError, never numbers."""
    TALLY["log_prob inputs"] += 1
    model = _model(name)
    if not hasattr(model, "log_prob"):
        return
    batch = data.draw(st.integers(0, 3))
    shape = data.draw(st.sampled_from([(batch, 1, 8, 8), (batch, 64), (batch, 1, 28, 28),
                                       (batch, 8, 8), (batch,), (batch, 2, 8, 8)]))
    fill = data.draw(st.sampled_from([0.0, 16.0, 17.0, 300.0, -1.0, float("nan"),
                                      float("inf"), 3.5]))
    dtype = data.draw(st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8]))
    if dtype in (torch.int64, torch.uint8) and not math.isfinite(fill):
        fill = 0.0
    if dtype is torch.uint8 and fill < 0:
        fill = 0.0
    x = torch.full(shape, fill).to(dtype)
    valid = (batch > 0 and shape[1:] in ((1, 8, 8), (64,), (8, 8))
             and 0 <= fill <= 16 and math.isfinite(fill))
    try:
        with torch.no_grad():
            lp = model.log_prob(x)
    except UserError:
        assert not valid or fill != int(fill), f"{name} refused valid data {shape} {fill}"
        return
    assert valid, f"{name}.log_prob answered for invalid input {shape} {dtype} {fill}"
    assert lp.shape == (batch,) and torch.isfinite(lp).all()


@FAST
@given(name=st.sampled_from(MODELS),
       n=st.one_of(st.integers(-3, 3), st.floats(-2, 3), st.text(max_size=2), st.booleans(),
                   st.none()),
       label=st.integers(-3, 12))
def test_sample_counts_and_labels(name, n, label):
    TALLY["sample arguments"] += 1
    model = _model(name)
    try:
        with torch.no_grad():
            s = model.sample(n, generator=torch.Generator().manual_seed(0))
    except UserError:
        assert not (isinstance(n, int) and not isinstance(n, bool) and n > 0)
        return
    assert isinstance(n, int) and n > 0 and len(s) == n
    cond = torch.full((2,), label, dtype=torch.long)
    try:
        with torch.no_grad():
            model.sample(2, cond=cond, generator=torch.Generator().manual_seed(0))
    except UserError:
        return
    classes = getattr(model.cfg, "num_classes", None) or 0
    assert 0 <= label < classes, f"{name} sampled with label {label} of {classes} classes"


@FAST
@given(name=st.one_of(st.sampled_from(["digits", "mnist", "toy2d:moons", "toy2d:nope",
                                       "fsdd", "", "../etc/passwd", "digits:x"]),
                      st.text(max_size=12)),
       split=st.one_of(st.sampled_from(["train", "valid", "test"]), st.text(max_size=6)))
def test_dataset_names_and_splits(name, split):
    TALLY["dataset names"] += 1
    try:
        ds = perceptzoo.data.load(name, split)
    except UserError:
        return
    assert len(ds) > 0


@FAST
@given(command=st.sampled_from(["train", "eval", "sample", "list", "bogus"]),
       name=st.one_of(st.sampled_from(MODELS + ["nope", ""]), st.text(max_size=6)),
       flags=st.lists(st.tuples(st.sampled_from(["--steps", "--lr", "--batch-size", "--seed",
                                                  "--device", "--dataset", "--set",
                                                  "--eval-samples"]), json_values),
                      max_size=3))
def test_the_command_line_never_shows_a_traceback(tmp_path_factory, command, name, flags,
                                                   capsys):
    """Bad arguments end with exit 2 and one line; a run is never started by a fuzzed case
    (every case that would train gets --steps 0, which the CLI refuses)."""
    TALLY["command lines"] += 1
    out = tmp_path_factory.mktemp("cli")
    argv = [command, name] + [x for flag, v in flags for x in (flag, literal(v))]
    if command == "train":
        argv += ["--out", str(out / "run"), "--steps", "0"]
    try:
        code = main(argv)
    except SystemExit as done:  # argparse's own usage errors
        code = done.code
    assert code in (0, 2), f"{argv}: exit {code}"
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_tally_is_reported(request):
    """Runs last in this module: the counts the fault suite writes to docs/reliability.md."""
    assert sum(TALLY.values()) > 0 or request.config.getoption("-k")
