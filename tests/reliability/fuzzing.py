"""Hypothesis strategies, the outcome rule and the case counter of the fuzz suite (test_fuzz.py).

Every case must end in a result or a `UserError` (exit 2 on the CLI): never another exception
(a traceback from inside torch) and never a silent wrong answer (an out-of-range input that
returns numbers). Each case runs inside `case(target)`, which counts it, records how it ended
(a value, a refusal with a UserError, a failure) and time-boxes it: a case still running after
`CASE_SECONDS` is stopped and counted as "timed out" (listed in the report, so a slow path is
seen, not hidden). `write_report` puts the counts into docs/reliability.md's Fuzzing section.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

from hypothesis import strategies as st

from perceptzoo.errors import UserError

#: cases tried per target; outcomes per target ("value", "UserError", "timed out", "failure")
TALLY: Counter = Counter()
OUTCOMES: dict[str, Counter] = defaultdict(Counter)
TIMEOUTS: list[str] = []
#: (seconds, target, what) of the slowest cases, for the report
SLOWEST: list[tuple[float, str, str]] = []
FAILURES: list[str] = []
CASE_SECONDS = 20.0
REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"

#: Trainer models that build in milliseconds on the embedded digits (the quick surface).
MODELS = ["made", "nade", "fvsbn", "pixelcnn", "gated_pixelcnn", "pixelrnn", "transformer",
          "realnvp", "glow", "ddpm", "vae", "dcgan", "gan", "wgan_gp"]

#: Sizes that fit in milliseconds, and a few that must be refused before any allocation.
HUGE = (10**6, 10**9, 2**40)
small_ints = st.integers(-3, 64)
ints = st.one_of(small_ints, small_ints, small_ints, st.sampled_from(HUGE))
floats = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 1.5, 3.0,
                     1e30]),
    st.floats(-10, 10, allow_nan=False),
)
json_scalars = st.one_of(ints, floats, st.booleans(), st.none(), st.text(max_size=8))
json_values = st.one_of(json_scalars, st.lists(st.one_of(small_ints, floats), max_size=4),
                        st.lists(ints, min_size=1, max_size=3))


def literal(value) -> str:
    """A value as the command line spells it."""
    try:
        return json.dumps(value)
    except ValueError:
        return str(value)


def is_huge(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= HUGE[0]
               for v in values)


class CaseTimeout(BaseException):
    """Raised in a case that ran past CASE_SECONDS (a BaseException: no `except Exception` in
    the code under test swallows it)."""


class Outcome:
    """How a case ended: the test body calls `value()` or `refused(err)`."""

    def __init__(self, target: str):
        self.target, self.kind = target, None

    def value(self) -> None:
        self.kind = "value"

    def refused(self, err: UserError) -> None:
        assert str(err).strip(), f"{self.target}: a UserError without a message"
        assert "Traceback" not in str(err)
        self.kind = "UserError"


@contextmanager
def case(target: str, what: str = "", seconds: float | None = None):
    """Count one case of `target`, time-box it, and record its outcome."""
    TALLY[target] += 1
    outcome = Outcome(target)

    def stop(signum, frame):
        raise CaseTimeout(f"{target}: {what} ran past {seconds or CASE_SECONDS} s")

    start = time.perf_counter()
    _log(f"start {target}: {what}")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds or CASE_SECONDS)
    try:
        yield outcome
    except CaseTimeout:
        OUTCOMES[target]["timed out"] += 1
        TIMEOUTS.append(f"{target}: {what}"[:200])
        return
    except BaseException as err:
        OUTCOMES[target]["failure"] += 1
        FAILURES.append(f"{target}: {what}: {type(err).__name__}: {err}"[:300])
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        SLOWEST.append((time.perf_counter() - start, target, what[:120]))
        _log(f"end {time.perf_counter() - start:.2f} s")
        SLOWEST.sort(reverse=True)
        del SLOWEST[12:]
    OUTCOMES[target][outcome.kind or "value"] += 1


def _log(line: str) -> None:
    """With PERCEPTZOO_FUZZ_LOG=FILE, each case's start and end go to FILE as they happen."""
    path = os.environ.get("PERCEPTZOO_FUZZ_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line[:300] + "\n")


def tally_json() -> dict:
    return {"tally": dict(TALLY), "outcomes": {k: dict(v) for k, v in OUTCOMES.items()},
            "timeouts": TIMEOUTS, "failures": FAILURES,
            "slowest": [[round(t, 2), target, what] for t, target, what in SLOWEST]}


#: Target -> what its cases feed in (the report's second column).
TARGETS = {
    "option values": "any value (ints in [-3, 64] and 10^6, 10^9, 2^40; NaN, +-inf, "
                     "out-of-range floats; strings, lists, None) for any option of every "
                     "registered model; built models score 4 examples of their dataset",
    "bad option values": "a value each option's rule refuses (a size below 1, NaN or +-inf, a "
                         "probability outside [0, 1], a scale or norm of 0 or below, a negative "
                         "learning rate or weight, a fraction for a whole number, a string for "
                         "a number) for every "
                         "numeric option of every registered model: the UserError names the "
                         "option and the value",
    "log_prob inputs": "wrong shapes, dtypes, levels beyond the data's, NaN/inf, fractions, "
                       "empty batches, labels out of range, to log_prob of every trainer "
                       "model with one",
    "sample arguments": "counts (negative, 0, fractions, strings, None, booleans) and labels "
                        "(negative, beyond the classes) to sample of every trainer model",
    "dataset names": "unknown names, empty strings, paths, bad splits",
    "data files": "mnist.npz / fsdd.npz replaced by an empty file, a truncated prefix of the "
                  "real one, random bytes, an npz of the wrong dtype, shape or keys, a pickled "
                  "object array",
    "run folders": "config.json of another format version, another or unknown model, sizes "
                   "that mismatch the weights, fuzzed values; weights truncated, emptied, "
                   "swapped for another run's; then `perceptzoo.load`",
    "command lines": "`perceptzoo train/eval/sample/list` with unknown names, bad flags and "
                     "bad `--set` values of real options (a run that would start stops at "
                     "its first write: nothing trains)",
}


def _cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_report(result: dict, wall_s: float, command: str) -> None:
    """Replace the Fuzzing section of docs/reliability.md (everything from `## Fuzzing`) with
    the counts of this run; the rest of the file (the fault tables) is kept."""
    import platform

    import torch

    from perceptzoo.io import write_text

    tally, outcomes = result["tally"], result["outcomes"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    total = sum(tally.values())
    kinds = ("value", "UserError", "timed out", "failure")
    lines = [
        "## Fuzzing", "",
        f"Regenerated by `{command}` (`tests/reliability/test_fuzz.py`); counted by that run. "
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, one torch thread; "
        f"wall time {wall_s:.0f} s, CPU time {_cpu_s():.0f} s, pytest exit code "
        f"{result['rc']}.", "",
        "Each case must end in a value or a `UserError` (exit 2 and one line on the command "
        "line): never another exception, never numbers for input out of the model's domain. "
        f"A case still running after {CASE_SECONDS:.0f} s is stopped and counted as timed out. "
        "Cases run as on a machine of 1 GiB (the memory `core.validate` sees is patched): "
        "a model over half of it must be refused before anything is allocated, so fuzzed "
        "widths of 10^6 are refused, and no case allocates more than 512 MiB.",
        "",
        "| target | inputs | cases | ended in a value | UserError | timed out | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for target, text in TARGETS.items():
        if target not in tally:
            continue
        got = outcomes.get(target, {})
        lines.append(f"| {target} | {text} | {tally[target]} | "
                     + " | ".join(str(got.get(k, 0)) for k in kinds) + " |")
    sums = [sum(o.get(k, 0) for o in outcomes.values()) for k in kinds]
    lines += [f"| **total** | | **{total}** | " + " | ".join(map(str, sums)) + " |", ""]
    lines += [f"Fuzzed inputs: {total}; tracebacks and silent wrong answers (failures): "
              f"{sums[3]}; timed out: {sums[2]}.", ""]
    lines += ["Mesh files (`meshes/*.obj`) are not fuzzed here: `data.shapes.load_mesh` checks "
              "the shared meshes against their pinned sha256 and refuses an unreadable one by "
              "name (`test_a_truncated_mesh_file_is_named_with_the_fix`).", ""]
    for t in result.get("timeouts", []):
        lines.append(f"- timed out: {t}")
    for f in result.get("failures", []):
        lines.append(f"- failure: {f}")
    text = DOC.read_text() if DOC.exists() else "# Reliability: fault injection and fuzzing\n"
    head = text.split("## Fuzzing")[0].rstrip("\n")
    write_text(DOC, head + "\n\n" + "\n".join(lines).rstrip("\n") + "\n")
