"""The long fault-injection suite (issue 22): `pytest -m faults` (10-20 minutes, one thread).

- SIGKILL at random moments of training runs of all three runners (a Trainer model, an
  implicit field, an RL agent): during a training step, inside a checkpoint or weights write
  (written in two halves with a pause, so the kill leaves a half-written temporary file), during
  validation and the end-of-run evaluation. After every kill: config.json parses, the newest
  checkpoint loads with `RunDir.load_checkpoint()` (weights_only) and is never older than one
  seen before (no checkpoint lost), the weights file (if any) loads, half-written `.tmp` files
  are never taken for a checkpoint. Then `perceptzoo train --resume RUN` continues (killed
  again at another random moment, up to 8 times a run) until the run completes, and its final
  weights and logged training records equal an uninterrupted reference run's bit for bit.
- A full disk: `OSError(ENOSPC)` injected into `io.atomic_write` during a checkpoint (agents:
  weights) write: a UserError, the previous checkpoint intact, and the resumed run bit-exact.
- The fuzz suite run long (`PERCEPTZOO_FUZZ=long`), counting the inputs tried; that run
  writes the Fuzzing section of docs/reliability.md itself (`fuzzing.write_report`).

It writes docs/reliability.md with the counts it measured (the Fuzzing section is kept).
"""

from __future__ import annotations

import errno
import os
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

import perceptzoo.cli  # noqa: F401 - imported before the children fork
from perceptzoo.core import registry, runner, runs
from perceptzoo.core.runs import RunDir
from perceptzoo.errors import UserError

from .faults_util import (
    inspect_after_kill,
    phase_counts,
    random_kill,
    run_child,
    same_weights,
    train_records,
    weights,
)

pytestmark = pytest.mark.faults
for _name in ("made", "igr", "q_learning"):  # imported here once, before the children fork
    registry.get_spec(_name)

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"
START = time.time()
RESULTS: dict[str, dict] = {}
ENOSPC: dict[str, str] = {}
FUZZ: dict[str, object] = {}
KILLS_PER_RUN = 8
EVAL = ["--eval-samples", "0", "--eval-shapes", "1", "--eval-episodes", "2"]

#: runner -> (the command of a new run, SIGKILL trials wanted)
CASES = {
    "trainer": (["train", "made", "--dataset", "digits", "--steps", "48", "--batch-size", "32",
                 "--no-progress", "--set", "hidden_sizes=[16]", "train.checkpoint_every=3",
                 "train.eval_every=8", "train.eval_examples=256", "train.log_every=1",
                 "train.num_samples=0", "train.device=cpu"], 44),
    "field": (["train", "igr", "--dataset", "sphere", "--steps", "40", "--batch-size", "256",
               "--no-progress", "--set", "hidden=32", "layers=3", "skip_layers=[]",
               "train.checkpoint_every=4", "train.log_every=1", "train.num_samples=0",
               "train.device=cpu"], 32),
    "agent": (["train", "q_learning", "--dataset", "CliffWalking-v1", "--steps", "20000",
               "--no-progress"], 28),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_sigkill_at_random_moments_loses_nothing_and_resumes_bit_exact(kind, tmp_path):
    _start_fuzz()
    argv, wanted = CASES[kind]
    wanted = max(1, round(wanted * float(os.environ.get("PERCEPTZOO_FAULTS_SCALE", "1"))))
    rng = random.Random(f"faults-{kind}")
    ref = tmp_path / "reference"
    done = run_child(argv + ["--out", str(ref)] + EVAL, tmp_path / "reference.trace",
                     kill_at=None)
    assert done["rc"] == 0, done["stderr"]
    counts = phase_counts(tmp_path / "reference.trace")
    times = {line: t for t, line in reversed(done["timeline"])}  # first time each phase shows
    if "learn" in times and "weights" in times:
        counts["_learn_s"] = times["weights"] - times["learn"]
    ref_weights, ref_records = weights(ref), train_records(ref)
    assert ref_records, "the reference run logged no training record"

    tally = {"runs": 0, "kills": 0, "phases": Counter(), "orphans_seen": 0, "lost": 0,
             "corrupt": 0, "resumes": 0, "bit_exact": 0, "records_differ": 0,
             "reference_s": round(times.get("final-eval", 0.0), 1), "failures": []}
    RESULTS[kind] = tally
    while tally["kills"] < wanted:
        tally["runs"] += 1
        run, trace = tmp_path / f"run{tally['runs']}", tmp_path / f"run{tally['runs']}.trace"
        last_step, kills = 0, 0
        while True:
            if (run / "config.json").exists():
                command, tally["resumes"] = ["train", "--resume", str(run)], tally["resumes"] + 1
            else:  # killed before the run folder was made: the same command again
                command = argv + ["--out", str(run)]
            kill = random_kill(rng, kind, counts) if kills < KILLS_PER_RUN else None
            result = run_child(command + EVAL, trace, kill_at=kill)
            if not result["killed"]:
                finished = result["rc"] == 2 and "finished" in result["stderr"]
                assert result["rc"] == 0 or finished, result["stderr"]
                break
            kills += 1
            tally["kills"] += 1
            tally["phases"][result["phase"]] += 1
            state = inspect_after_kill(run, last_step)
            tally["orphans_seen"] += len(state["orphans"])
            tally["lost"] += bool(state["lost"])
            tally["corrupt"] += bool(state["corrupt"])
            if state["lost"] or state["corrupt"]:
                tally["failures"].append(f"run {tally['runs']} kill {kills} in "
                                         f"{result['phase']}: {state}")
            if state["step"] is not None:
                last_step = state["step"]
        assert not list(run.glob(".*.tmp")), "a resumed run left a temporary file"
        exact = same_weights(weights(run), ref_weights)
        records = train_records(run) == ref_records
        tally["bit_exact"] += exact
        tally["records_differ"] += not records
        if not exact or not records:
            tally["failures"].append(f"run {tally['runs']}: weights equal {exact}, training "
                                     f"records equal {records}")
    _write_doc()
    assert tally["lost"] == 0 and tally["corrupt"] == 0, tally["failures"]
    assert tally["bit_exact"] == tally["runs"], tally["failures"]
    assert tally["records_differ"] == 0, tally["failures"]


# -- a full disk ----------------------------------------------------------------------------
SMALL = {"trainer": ("made", "digits", {"steps": 12, "batch_size": 32, "checkpoint_every": 4,
                                        "eval_every": 6, "eval_examples": 128,
                                        "log_every": 1, "num_samples": 0, "device": "cpu",
                                        "progress": False}, {"hidden_sizes": [16]}),
         "field": ("igr", "sphere", {"steps": 12, "batch_size": 256, "checkpoint_every": 4,
                                     "log_every": 1, "num_samples": 0, "device": "cpu",
                                     "progress": False},
                   {"hidden": 32, "layers": 3, "skip_layers": []}),
         "agent": ("q_learning", "CliffWalking-v1", {"steps": 5000}, {})}


def _full_disk_on(monkeypatch, name: str, nth: int) -> None:
    """The `nth` write of `name` through `io.atomic_write` runs out of space half-way."""
    real = runs.atomic_write
    calls = {"n": 0}

    def atomic_write(path, write):
        if Path(path).name != name:
            return real(path, write)
        calls["n"] += 1
        if calls["n"] != nth:
            return real(path, write)

        def full(tmp: str) -> None:
            with open(tmp, "wb") as f:
                f.write(b"\0" * 1000)  # a few blocks fit, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return real(path, full)

    monkeypatch.setattr(runs, "atomic_write", atomic_write)


@pytest.mark.parametrize("kind", list(SMALL))
def test_a_full_disk_during_a_checkpoint_write_keeps_the_previous_one(kind, tmp_path,
                                                                      monkeypatch):
    name, dataset, train, model = SMALL[kind]
    ref = runner.train(name, dataset=dataset, out=tmp_path / "ref", train_config=train,
                       model_overrides=model)
    run = tmp_path / "run"
    target = "model.safetensors" if kind == "agent" else "checkpoint.pt"
    with monkeypatch.context() as m:
        _full_disk_on(m, target, 1 if kind == "agent" else 2)
        with pytest.raises(UserError, match="no space left on the device.*previous file is "
                                            "intact"):
            runner.train(name, dataset=dataset, out=run, train_config=train,
                         model_overrides=model)
    assert not list(run.glob(".*.tmp")), "a temporary file was left behind"
    if kind == "agent":  # no checkpoint: the config survives, no half weights file
        assert not (run / "model.safetensors").exists()
        outcome = "UserError; no weights file written; config.json intact"
    else:
        assert RunDir(run).load_checkpoint()["step"] == train["checkpoint_every"]
        outcome = (f"UserError; checkpoint of step {train['checkpoint_every']} intact "
                   "(weights_only load)")
    runner.read_config(RunDir(run))
    runner.resume(run)
    assert same_weights(weights(run), weights(ref))
    assert train_records(run) == train_records(ref)
    ENOSPC[kind] = f"{outcome}; `--resume` completes bit-exact"
    _write_doc()


# -- fuzzing, long -----------------------------------------------------------------------------
FUZZ_CODE = """
import json, sys, torch
torch.set_num_threads(1)
import pytest
rc = pytest.main(["tests/reliability/test_fuzz.py", "-p", "no:cacheprovider", "-q",
                  "-m", "not slow and not faults"])
tally = {}
for mod in list(sys.modules.values()):
    if getattr(mod, "__name__", "").endswith("reliability.fuzzing"):
        tally = dict(mod.TALLY)
print("TALLY " + json.dumps({"rc": int(rc), "tally": tally}))
"""


_FUZZ_RUN: dict = {}


def _start_fuzz() -> None:
    """Start the long fuzz run in a subprocess (once): it runs beside the kill trials."""
    if not _FUZZ_RUN:
        env = dict(os.environ, PERCEPTZOO_FUZZ="long", OMP_NUM_THREADS="1")
        _FUZZ_RUN["start"] = time.time()
        _FUZZ_RUN["proc"] = subprocess.Popen([sys.executable, "-c", FUZZ_CODE], cwd=REPO,
                                             env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True)


def test_fuzz_suite_long_tries_a_thousand_inputs():
    _start_fuzz()
    out, _ = _FUZZ_RUN["proc"].communicate(timeout=3600)
    line = [x for x in out.splitlines() if x.startswith("TALLY ")]
    assert line, out[-3000:]
    import json

    result = json.loads(line[-1][6:])
    FUZZ.update(result, wall_s=round(time.time() - _FUZZ_RUN["start"]))
    done = subprocess.CompletedProcess([], 0, out, "")
    _write_doc()
    assert result["rc"] == 0, done.stdout[-3000:]
    assert sum(result["tally"].values()) >= 1000, result


# -- the report ------------------------------------------------------------------------------
def _write_doc() -> None:
    from perceptzoo.io import write_text

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# Reliability: fault injection and fuzzing",
        "",
        "Regenerated by `pytest -m faults` (`tests/reliability/test_faults.py`), the Fuzzing "
        "section by `PERCEPTZOO_FUZZ=long pytest tests/reliability/test_fuzz.py`; every number "
        "below is counted by those runs, none typed in.",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
        f"CPU ({os.cpu_count()} cores, one torch thread), Python {platform.python_version()}, "
        f"torch {torch.__version__}; suite wall time so far {time.time() - START:.0f} s.",
        "",
        "## SIGKILL during training, then `perceptzoo train --resume`",
        "",
        "Each run is killed (SIGKILL) at random moments, up to "
        f"{KILLS_PER_RUN} times, each time resumed, until it completes; it is then compared "
        "with an uninterrupted reference run of the same command and seed. Phases: `step` a "
        "training step, `ckpt`/`ckpt-half` inside a checkpoint write (before / after the first "
        "half of its bytes), `weights` inside the weights write, `eval` validation, "
        "`final-eval` the end-of-run evaluation, `learn` an agent's training loop.",
        "",
        "| runner | model, data | runs | SIGKILLs | killed in phase | half-written .tmp seen "
        "| lost checkpoints | corrupt checkpoints | resumes | bit-exact final weights | "
        "training records equal |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    total = 0
    for kind, (argv, _) in CASES.items():
        t = RESULTS.get(kind)
        if t is None:
            continue
        total += t["kills"]
        phases = ", ".join(f"{p} {n}" for p, n in sorted(t["phases"].items()))
        lines.append(f"| {kind} | `{argv[1]}` on {argv[3]} | {t['runs']} | {t['kills']} | "
                     f"{phases} | {t['orphans_seen']} | {t['lost']} | {t['corrupt']} | "
                     f"{t['resumes']} | {t['bit_exact']}/{t['runs']} | "
                     f"{t['runs'] - t['records_differ']}/{t['runs']} |")
    lines += ["", f"Total SIGKILL trials: {total}.", ""]
    for kind, t in RESULTS.items():
        for failure in t["failures"]:
            lines.append(f"- {kind} failure: {failure}")
    lines += ["", "Commands (each with `--out RUN`, resumed with `perceptzoo train --resume "
              "RUN`, evaluated with `" + " ".join(EVAL) + "`):", ""]
    lines += [f"- {kind}: `perceptzoo {' '.join(argv)}`" for kind, (argv, _) in CASES.items()]
    lines += ["", "Agents keep no mid-run checkpoint: a killed agent run has no weights file "
              "or a complete one, and `--resume` restarts it from the start to the same "
              "weights.", "", "## A full disk", "",
              "`OSError(ENOSPC)` raised half-way through a checkpoint write (agents: the "
              "weights write) inside `perceptzoo.io.atomic_write`, in-process.", "",
              "| runner | outcome |", "|---|---|"]
    lines += [f"| {kind} | {ENOSPC[kind]} |" for kind in SMALL if kind in ENOSPC]
    # the Fuzzing section is the fuzz run's own (tests/reliability/fuzzing.py writes it): kept
    old = DOC.read_text() if DOC.exists() else ""
    fuzz = "## Fuzzing" + old.split("## Fuzzing", 1)[1] if "## Fuzzing" in old else ""
    write_text(DOC, "\n".join(lines).rstrip("\n") + "\n\n" + fuzz)
