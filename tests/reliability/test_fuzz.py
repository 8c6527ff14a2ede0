"""Fuzzing the public surface (issue 22): config options of every registered model, model inputs
and sample arguments of every trainer model, dataset names, data files, run folders, the CLI.

Each case ends in a value or a UserError, never a traceback or a silent wrong answer; every
case is counted, time-boxed and its outcome recorded (`fuzzing.case`). The default suite tries
a few hundred cases in well under a minute; `PERCEPTZOO_FUZZ=long` tries over a thousand and
writes the counts to the Fuzzing section of docs/reliability.md (`test_write_the_report`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perceptzoo
from perceptzoo import data
from perceptzoo.cli import main
from perceptzoo.core import registry, runner, runs, validate
from perceptzoo.core.config import to_dict
from perceptzoo.errors import UserError

from .fuzzing import (
    OUTCOMES,
    TALLY,
    case,
    floats,
    ints,
    is_huge,
    json_values,
    literal,
    tally_json,
    write_report,
)

LONG = os.environ.get("PERCEPTZOO_FUZZ") == "long"
START = time.time()


def examples(default: int, long: int):
    return settings(max_examples=long if LONG else default, deadline=None, database=None,
                    derandomize=True, suppress_health_check=list(HealthCheck))


def _data_ok(dataset: str) -> bool:
    try:
        data.info(dataset)
        return True
    except Exception:  # noqa: BLE001 - the shared data is absent: that model is not fuzzed
        return False


SPECS = {s.name: s for s in registry.list_specs()}
ALL = sorted(SPECS)
TRAINERS = [n for n in ALL if SPECS[n].runner == "trainer" and _data_ok(SPECS[n].default_dataset)]
BUILDABLE = [n for n in ALL if SPECS[n].runner != "trainer" or n in TRAINERS]


def _tiny(name: str) -> dict:
    tiny = getattr(SPECS[name].config_class, "tiny", None)
    if tiny is None:
        return {}
    return {k: v for k, v in to_dict(tiny()).items() if k not in registry.DATA_FIELDS}


def _info(name: str):
    return data.info(SPECS[name].default_dataset) if SPECS[name].runner == "trainer" else None


@cache
def _batch(dataset: str):
    ds = data.load(dataset, "test")
    return ds[torch.arange(min(4, len(ds)))]


_built: dict[str, torch.nn.Module] = {}


def _model(name: str) -> torch.nn.Module:
    """`name` built tiny on its default dataset, seeded (one per model, reused)."""
    if name not in _built:
        torch.manual_seed(0)
        _built[name] = perceptzoo.build(name, dataset=SPECS[name].default_dataset,
                                        **_tiny(name)).eval()
    return _built[name]


#: The memory every case sees (`validate` refuses models over half of it): 1 GiB, so a fuzzed
#: width of 10^6 is refused before allocation, and no case allocates more than 512 MiB.
MEMORY = 2**30


@pytest.fixture(autouse=True)
def _small_machine(monkeypatch):
    monkeypatch.setattr(validate, "_memory_bytes", lambda: MEMORY)


# -- config options of every registered model ---------------------------------------------------
def _fields(name: str) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(SPECS[name].config_class)
            if f.name not in registry.DATA_FIELDS]


@cache
def _loss_refused(name: str) -> bool:
    """Whether the loss of `name` with its tiny config is refused already (ControlNet needs a
    trained DDPM): a refusal then says so, not which option was fuzzed."""
    model = _model(name)
    try:
        model.train()
        if hasattr(model, "check_data"):
            model.check_data(_info(name))
        model.loss(_batch(SPECS[name].default_dataset))
        return False
    except UserError:
        return True
    finally:
        model.eval()


def _typed(default) -> st.SearchStrategy:
    """Values of the option's own type (half the draws): they get past the type check, so the
    rules by name, the memory bound and the constructor are what refuse them."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return ints
    if isinstance(default, float):
        return floats
    if isinstance(default, (tuple, list)):
        item = floats if any(isinstance(v, float) for v in default) else ints
        return st.lists(item, max_size=4)
    if isinstance(default, str):
        return st.one_of(st.sampled_from([default, default.upper(), ""]), st.text(max_size=8))
    return json_values


@examples(20, 400)
@given(name=st.sampled_from(BUILDABLE), data_=st.data())
def test_any_option_value_builds_or_is_refused_naming_the_option(name, data_):
    """Any value for any option: the model builds (and a trainer model's loss on 4 examples is
    finite), or a UserError that names the option."""
    key = data_.draw(st.sampled_from([f.name for f in _fields(name)] + ["no_such_option"]))
    default = getattr(SPECS[name].config_class(), key, None)
    value = data_.draw(st.one_of(_typed(default), json_values))
    with case("option values", f"{name} {key}={value!r}") as out:
        try:
            torch.manual_seed(0)
            model = perceptzoo.build(name, dataset=SPECS[name].default_dataset, **{
                **_tiny(name), key: value}) if SPECS[name].runner == "trainer" else \
                perceptzoo.build(name, **{**_tiny(name), key: value})
        except UserError as err:
            assert key in str(err), f"{name} {key}={value!r}: the message does not name it: {err}"
            out.refused(err)
            return
        out.value()
        if SPECS[name].runner != "trainer" or not hasattr(model, "loss") or is_huge(value):
            return  # built; a huge count (10^6 samples per example) is not run
        model.train()
        try:
            if hasattr(model, "check_data"):  # as the runner does before training
                model.check_data(_info(name))
            loss = model.loss(_batch(SPECS[name].default_dataset))
        except UserError as err:
            assert key in str(err) or _loss_refused(name), f"{name} {key}={value!r}: {err}"
            out.refused(err)
            return
        assert math.isfinite(float(loss.loss)), f"{name} {key}={value!r}: loss {loss.loss}"


def _bad_values(f: dataclasses.Field, default) -> list:
    """Values the rules of `core.validate` (or the type check) refuse for option `f`."""
    out: list = []
    value_type = type(default)
    if isinstance(default, bool) or isinstance(default, (str, dict)) or default is None:
        return out
    if isinstance(default, (tuple, list)):
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            least = 0 if f.name in validate._INDEX_NAMES else validate._size_rule(f.name,
                                                                                 default)
            if least is not None:
                out.append([least - 1])
            out.append(["x"])
        return out
    if value_type is int:
        least = validate._size_rule(f.name, default)
        if least is not None and default >= least:
            out += [least - 1, least - 3]
        out += [1.5, "x"]
    elif value_type is float:
        out += [math.nan, math.inf, "x"]
        rule = validate._float_rule(f.name, default)
        if rule is not None and rule[0](default):
            out += [v for v in (-0.5, 0.0, 1.5, -1e-9) if not rule[0](v)][:2]
    return out


PAIRS = [(n, f.name, v) for n in BUILDABLE for f in _fields(n)
         for v in _bad_values(f, getattr(SPECS[n].config_class(), f.name))]


def _refused_naming_it(name: str, key: str, value) -> None:
    with case("bad option values", f"{name} {key}={value!r}") as out:
        try:
            registry.build_from_config(name, registry.make_config(name, _info(name),
                                                                  **{key: value}))
        except UserError as err:
            text = str(err)
            shown = value[0] if isinstance(value, list) else value
            assert key in text and repr(shown) in text, f"{name} {key}={value!r}: {text}"
            out.refused(err)
            return
        raise AssertionError(f"{name} built with {key}={value!r}")


@pytest.mark.skipif(LONG, reason="the long run tries every pair (below)")
@examples(len(PAIRS) // 4, 1)
@given(pair=st.sampled_from(PAIRS))
def test_a_bad_value_of_any_numeric_option_is_refused_naming_it(pair):
    """For every registered model, a value an option's rule refuses ends in a UserError that
    names the option and the value, before anything is built (a quarter of the pairs, drawn)."""
    _refused_naming_it(*pair)


@pytest.mark.skipif(not LONG, reason="PERCEPTZOO_FUZZ=long tries every pair")
def test_every_bad_value_of_every_numeric_option_is_refused_naming_it():
    """The same for every (model, option, refused value) pair: none left to chance."""
    for name, key, value in PAIRS:
        _refused_naming_it(name, key, value)


def test_every_numeric_option_has_a_refused_value():
    """The bad-value test above covers every registered model (no model without a case)."""
    assert {n for n, _, _ in PAIRS} >= {n for n in BUILDABLE
                                         if any(not isinstance(getattr(SPECS[n].config_class(),
                                                                       f.name), (bool, str, dict))
                                                and getattr(SPECS[n].config_class(), f.name)
                                                is not None for f in _fields(n))}


# -- model inputs of every trainer model --------------------------------------------------------
DENSITY = [n for n in TRAINERS if hasattr(SPECS[n].model_class, "log_prob")]
SAMPLERS = [n for n in TRAINERS if hasattr(SPECS[n].model_class, "sample")]


def _needs_cond(err: UserError) -> bool:
    return any(w in str(err) for w in ("cond", "label", "condition"))


@examples(60, 480)
@given(name=st.sampled_from(DENSITY), data_=st.data())
def test_log_prob_refuses_what_is_not_data(name, data_):
    """Wrong shapes, dtypes, levels beyond the data's, NaN/inf: a UserError, never numbers; the
    data's own shape and levels are scored (a flat [B, D] batch too)."""
    model = _model(name)
    shape = tuple(model.cfg.data_shape)
    levels = getattr(model.cfg, "num_levels", None)
    batch = data_.draw(st.integers(0, 3))
    flat = int(np.prod(shape))
    variants = {"data": (batch, *shape), "flat": (batch, flat), "no batch": shape,
                "extra channel": (batch, shape[0] + 1, *shape[1:]),
                "wider": (batch, *shape[:-1], shape[-1] + 1), "vector": (batch,)}
    form = data_.draw(st.sampled_from(sorted(variants)))
    top = (levels or 17) - 1
    fill = data_.draw(st.sampled_from([0.0, float(top), float(top + 1), 300.0, -1.0, 3.5,
                                       math.nan, math.inf]))
    dtype = data_.draw(st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8]))
    if not dtype.is_floating_point and not math.isfinite(fill):
        fill = 0.0
    x = torch.full(variants[form], fill).to(dtype) if fill >= 0 or dtype is not torch.uint8 \
        else torch.full(variants[form], 0, dtype=dtype)
    value = float(x.reshape(-1)[0]) if x.numel() else fill
    in_range = (math.isfinite(value) if levels is None else 0 <= value <= top)
    if form == "no batch" and shape[0] == 1:  # [1, H, W] is a batch of one [H, W] example
        form, batch = "data", 1
    valid = batch > 0 and form in ("data", "flat") and in_range and (
        levels is None or value == int(value))
    with case("log_prob inputs", f"{name} {form} {tuple(x.shape)} {dtype} {value}") as out:
        try:
            with torch.no_grad():
                lp = model.log_prob(x)
        except UserError as err:
            assert not valid or _needs_cond(err), f"{name} refused valid data: {err}"
            out.refused(err)
            return
        assert valid or (levels is not None and form in ("data", "flat") and batch > 0
                         and in_range), \
            f"{name}.log_prob answered for invalid input {tuple(x.shape)} {dtype} {value}"
        assert lp.shape == (batch,) and not torch.isnan(lp).any() and (lp < math.inf).all()
        out.value()


@examples(40, 320)
@given(name=st.sampled_from(SAMPLERS),
       n=st.one_of(st.integers(-3, 3), st.floats(-2, 3), st.text(max_size=2), st.booleans(),
                   st.none()),
       label=st.one_of(st.integers(0, 9), st.integers(-3, 12)))
def test_sample_counts_and_labels(name, n, label):
    model = _model(name)
    with case("sample arguments", f"{name} n={n!r} label={label}") as out:
        try:
            with torch.no_grad():
                s = model.sample(n, generator=torch.Generator().manual_seed(0))
        except UserError as err:
            assert not (isinstance(n, int) and not isinstance(n, bool) and n > 0) \
                or _needs_cond(err), f"{name} refused n={n!r}: {err}"
            out.refused(err)
            return
        assert isinstance(n, int) and not isinstance(n, bool) and n > 0 and len(s) == n
        cond = torch.full((2,), label, dtype=torch.long)
        try:
            with torch.no_grad():
                model.sample(2, cond=cond, generator=torch.Generator().manual_seed(0))
        except UserError as err:
            out.refused(err)
            return
        classes = getattr(model.cfg, "num_classes", None) or 0
        assert 0 <= label < classes, f"{name} sampled with label {label} of {classes} classes"
        out.value()


# -- dataset names and data files --------------------------------------------------------------
@examples(15, 240)
@given(name=st.one_of(st.sampled_from(["digits", "mnist", "toy2d:moons", "toy2d:nope", "fsdd",
                                       "", "../etc/passwd", "digits:x", "mnist/../mnist",
                                       "/etc/passwd", "voxels16", "sprites:"]),
                      st.text(max_size=12)),
       split=st.one_of(st.sampled_from(["train", "valid", "test"]), st.text(max_size=6)))
def test_dataset_names_and_splits(name, split):
    with case("dataset names", f"{name!r} {split!r}") as out:
        try:
            ds = data.load(name, split)
        except UserError as err:
            out.refused(err)
            return
        assert len(ds) > 0 and split in ("train", "valid", "test")
        out.value()


SHARED = Path(os.environ.get("PERCEPTZOO_DATA", "/nonexistent"))
DATA_FILES = [n for n in ("mnist", "fsdd") if (SHARED / f"{n}.npz").exists()]
KEYS = {"mnist": ("x_train", "y_train", "x_test", "y_test"),
        "fsdd": ("audio", "offsets", "digit", "index")}


def _corrupt(name: str, how: str, cut: float, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    real = SHARED / f"{name}.npz"
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        size = real.stat().st_size
        with open(real, "rb") as f:
            path.write_bytes(f.read(int(cut * (size - 1))))
    elif how == "random bytes":
        path.write_bytes(rng.bytes(int(cut * 4096)))
    else:
        arrays = {k: rng.integers(0, 255, (8, 4)).astype(np.uint8) for k in KEYS[name]}
        if how == "wrong dtype":
            arrays = {k: v.astype(np.float64) for k, v in arrays.items()}
        elif how == "missing key":
            arrays.pop(KEYS[name][int(cut * len(arrays)) % len(arrays)])
        elif how == "object array":
            arrays[KEYS[name][0]] = np.array([{"a": 1}, None], dtype=object)
        with open(path, "wb") as f:
            np.savez(f, **arrays)


@pytest.mark.skipif(not DATA_FILES, reason="the shared data is absent")
@examples(20, 160)
@given(name=st.sampled_from(DATA_FILES or ["mnist"]),
       how=st.sampled_from(["empty", "truncated", "random bytes", "wrong dtype", "wrong shape",
                            "missing key", "object array"]),
       cut=st.floats(0, 1), seed=st.integers(0, 2**16),
       split=st.sampled_from(["train", "valid", "test"]))
def test_a_corrupt_data_file_is_named_with_the_fix(tmp_path_factory, monkeypatch, name, how,
                                                   cut, seed, split):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    folder = tmp_path_factory.mktemp("data")
    path = folder / f"{name}.npz"
    _corrupt(name, how, cut, seed, path)
    with case("data files", f"{name} {how} cut={cut:.3f}") as out:
        try:
            data.load(name, split, folder)
        except UserError as err:
            assert str(path) in str(err) or path.name in str(err), str(err)
            out.refused(err)
            return
        raise AssertionError(f"{name}.npz ({how}) was loaded")


@pytest.mark.skipif(not (SHARED / "meshes" / "bunny-watertight.obj").exists(),
                    reason="the shared meshes are absent")
@pytest.mark.parametrize("mesh, watertight", [("bunny-watertight", True),
                                              ("stanford-bunny", False)])
def test_a_truncated_mesh_file_is_named_with_the_fix(tmp_path, mesh, watertight):
    from perceptzoo.data.shapes import load_mesh

    (tmp_path / "meshes").mkdir()
    raw = (SHARED / "meshes" / f"{mesh}.obj").read_bytes()
    (tmp_path / "meshes" / f"{mesh}.obj").write_bytes(raw[: int(len(raw) * 0.42)])
    with pytest.raises(UserError, match=mesh):
        load_mesh(mesh, tmp_path, watertight=watertight)


# -- run folders -----------------------------------------------------------------------------
TINY_TRAIN = {"steps": 2, "batch_size": 16, "eval_every": 2, "checkpoint_every": 2,
              "num_samples": 0, "progress": False, "device": "cpu", "log_every": 1}


@pytest.fixture(scope="module")
def runs_made(tmp_path_factory):
    """A tiny trained MADE run, and the weights files of two other models (another size of
    MADE, a NADE) to swap into it."""
    from safetensors.torch import save_model

    base = tmp_path_factory.mktemp("runs")
    out = {"made": runner.train("made", dataset="digits", out=base / "made",
                                train_config=TINY_TRAIN, model_overrides={"hidden_sizes": [16]})}
    for key, name, overrides in (("made8", "made", {"hidden_sizes": [8]}),
                                 ("nade", "nade", {"hidden_size": 8})):
        (base / key).mkdir()
        save_model(perceptzoo.build(name, dataset="digits", **overrides),
                   str(base / key / "model.safetensors"))
        out[key] = base / key
    return out


@examples(30, 240)
@given(what=st.sampled_from(["format", "model", "model_config", "unknown option", "dataset",
                             "weights", "config bytes", "nothing"]),
       key=st.sampled_from(["hidden_sizes", "num_masks", "mask_seed", "order_agnostic",
                            "direct_connections", "num_levels", "data_shape"]),
       value=json_values, choice=st.integers(0, 7), cut=st.floats(0, 1))
def test_a_tampered_run_folder_loads_exactly_or_is_refused(runs_made, tmp_path_factory, what,
                                                          key, value, choice, cut):
    """A run folder of another format version, another model, sizes that mismatch the weights,
    fuzzed config values or damaged weights: `perceptzoo.load` refuses it, or loads a model
    whose every tensor equals the weights file's (never a partly loaded model)."""
    run = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(runs_made["made"], run)
    config = json.loads((run / "config.json").read_text())
    weights_file = run / "model.safetensors"
    if what == "format":
        config["format"] = [0, 1, 3, 99, "2", None, -1, 2.5][choice]
    elif what == "model":
        config["model"] = ["nade", "no_such", "os.system", "", 3, None, "../made",
                           "builtins.eval"][choice]
    elif what == "model_config":
        config["model_config"][key] = value
    elif what == "unknown option":
        config["model_config"]["__class__"] = value
    elif what == "dataset":
        config["dataset"] = ["mnist", "", "../x", None, 3, "toy2d:moons", "nope", "digits"][
            choice]
    elif what == "weights":
        source = [runs_made["made8"] / "model.safetensors", runs_made["nade"] /
                  "model.safetensors", None, None, None][choice % 5]
        if source is not None:
            shutil.copy(source, weights_file)
        elif choice % 5 == 2:
            weights_file.write_bytes(b"")
        else:
            raw = weights_file.read_bytes()
            weights_file.write_bytes(raw[: int(cut * (len(raw) - 1))] if choice % 5 == 3
                                     else np.random.default_rng(choice).bytes(len(raw)))
    text = json.dumps(config)
    if what == "config bytes":
        text = text[: int(cut * (len(text) - 1))]
    (run / "config.json").write_text(text)
    with case("run folders", f"{what} {key}={value!r} choice={choice}") as out:
        try:
            model = perceptzoo.load(run)
        except UserError as err:
            out.refused(err)
            return
        from safetensors.torch import load_file

        saved = load_file(str(weights_file))
        state = model.state_dict()
        assert set(saved) <= set(state), f"{what}: loaded with tensors missing from the file"
        assert all(torch.equal(state[k], saved[k]) for k in saved), f"{what}: partial load"
        persistent = {k for k in state if not k.startswith("_")}
        assert set(saved) == persistent or set(saved) >= {
            k for k, v in model.named_parameters()}, f"{what}: parameters not in the file"
        assert config.get("format", 1) == runner.FORMAT, f"format {config.get('format')} loaded"
        assert config.get("model") == "made"
        out.value()


# -- the command line --------------------------------------------------------------------------
class _Reached(BaseException):
    """A fuzzed `train` got as far as writing its new run folder: every option was accepted."""


FLAGS = ["--steps", "--lr", "--batch-size", "--seed", "--device", "--dataset", "--epochs",
         "--eval-samples", "--eval-episodes", "--eval-shapes", "--threads", "--no-such-flag"]


@examples(30, 480)
@given(command=st.sampled_from(["train", "train", "train", "eval", "sample", "list", "bogus"]),
       name=st.one_of(st.sampled_from(BUILDABLE + ["nope", ""]), st.text(max_size=6)),
       data_=st.data())
def test_the_command_line_never_shows_a_traceback(runs_made, tmp_path_factory, monkeypatch,
                                                   capsys, command, name, data_):
    """Bad arguments end with exit 2 and one line, never a traceback; a `train` whose options
    are all accepted stops at its first write (nothing trains in this test)."""
    out = tmp_path_factory.mktemp("cli")
    flags = data_.draw(st.lists(st.tuples(st.sampled_from(FLAGS), json_values), max_size=2))
    argv = [command]
    if command in ("eval", "sample"):
        argv.append(str(runs_made["made"]) if data_.draw(st.booleans()) else name)
    else:
        argv.append(name)
    if command == "train" and name in SPECS:
        if SPECS[name].runner == "field":
            argv += ["--dataset", "sphere"]
        options = [f.name for f in _fields(name)] + ["no_such_option", "train.lr",
                                                     "train.steps", "train.nope"]
        sets = data_.draw(st.lists(st.tuples(st.sampled_from(options), json_values),
                                   max_size=2))
        if sets:
            argv += ["--set"] + [f"{k}={literal(v)}" for k, v in sets]
    argv += [x for flag, v in flags for x in ((flag,) if flag == "--no-such-flag"
                                               else (flag, literal(v)))]
    if command == "train":
        argv += ["--out", str(out / "run"), "--no-progress"]
    elif command == "sample":
        argv += ["--out", str(out / "samples.png"), "-n", "2"]
    elif command == "eval":
        argv += ["--eval-samples", "0"]

    def reached(self, config):
        raise _Reached

    monkeypatch.setattr(runs.RunDir, "write_config", reached)
    with case("command lines", " ".join(argv)[:200]) as result:
        try:
            code = main(argv)
        except SystemExit as done:  # argparse's own usage errors
            code = done.code
        except _Reached:
            code = 0
        finally:
            torch.set_num_threads(1)  # a fuzzed --threads N must not speed up the rest
        assert code in (0, 2), f"{argv}: exit {code}"
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 2:
            result.refused(UserError(err.strip().splitlines()[-1] if err.strip() else "usage"))
        else:
            result.value()


# -- the report -------------------------------------------------------------------------------
def test_write_the_report(request):
    """Runs last in this module: counts the cases; a long run (PERCEPTZOO_FUZZ=long) writes them
    to docs/reliability.md (a run with failures writes them too, then fails)."""
    assert sum(TALLY.values()) > 0 or request.config.getoption("-k")
    failed = request.session.testsfailed
    if LONG and not request.config.getoption("-k"):
        result = tally_json()
        result["rc"] = 1 if failed else 0
        write_report(result, time.time() - START,
                     "PERCEPTZOO_FUZZ=long pytest tests/reliability/test_fuzz.py")
        print("TALLY " + json.dumps(result))
    assert not any(o.get("failure") for o in OUTCOMES.values()), dict(OUTCOMES)

