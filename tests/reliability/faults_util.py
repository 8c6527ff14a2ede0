"""Helpers of the fault-injection suite (test_faults.py): a traced training child process that
a test kills with SIGKILL at a chosen moment, and the checks run on what it leaves behind.

The child is `perceptzoo.cli.main(argv)` with one torch thread and a trace: before each phase
(a training step, a checkpoint write, a weights write, an evaluation) it appends the phase's
name to a trace file, so the parent can kill it inside that phase. Checkpoint and weights
files are written in two halves with a pause between them (the bytes are torch's own
serialisation), so a kill there leaves a genuinely half-written temporary file. None of this
touches a random number generator: a traced run trains exactly as an untraced one.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Seconds the child pauses inside a checkpoint/weights write (before and between halves).
WRITE_PAUSE = 0.03
#: Seconds the child pauses at the start of a training step (before any computation).
STEP_PAUSE = 0.002
TESTS = Path(__file__).resolve().parents[1]


def child_main(argv: list[str], trace: str) -> int:
    """Run the CLI with phase tracing (in the child process)."""
    import torch

    torch.set_num_threads(1)
    from perceptzoo.cli import main
    from perceptzoo.core import runner, runs, trainer

    fd = os.open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def mark(phase: str) -> None:
        os.write(fd, f"{phase}\n".encode())

    def halves(phase: str, data: bytes):
        def write(tmp: str) -> None:
            mark(phase)
            time.sleep(WRITE_PAUSE)
            with open(tmp, "wb") as f:
                f.write(data[: len(data) // 2])
                f.flush()
                mark(phase + "-half")
                time.sleep(WRITE_PAUSE)
                f.write(data[len(data) // 2:])
        return write

    def save_checkpoint(self, state):
        buf = io.BytesIO()
        torch.save(state, buf)
        runs.atomic_write(self.path / runs.CHECKPOINT, halves("ckpt", buf.getvalue()))
        mark("ckpt-done")

    def save_weights(self, model):
        from safetensors.torch import save_model

        def write(tmp: str) -> None:
            mark("weights")
            time.sleep(WRITE_PAUSE)
            save_model(model, tmp)
            time.sleep(WRITE_PAUSE)
        runs.atomic_write(self.path / runs.WEIGHTS, write)

    def save_tensors(self, tensors):
        from safetensors.torch import save

        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        runs.atomic_write(self.path / runs.WEIGHTS, halves("weights", save(tensors)))

    step, evaluate, final = (trainer.Trainer.train_one_step, trainer.Trainer.evaluate,
                             runner.evaluate)

    def traced_step(self, batch):
        mark("step")
        time.sleep(STEP_PAUSE)
        return step(self, batch)

    def traced_eval(self):
        mark("eval")
        return evaluate(self)

    def traced_final(*args, **kwargs):
        mark("final-eval")
        return final(*args, **kwargs)

    learn = runner._learn

    def traced_learn(*args, **kwargs):
        mark("learn")
        return learn(*args, **kwargs)

    runs.RunDir.save_checkpoint = save_checkpoint
    runs.RunDir.save_weights = save_weights
    runs.RunDir.save_tensors = save_tensors
    trainer.Trainer.train_one_step = traced_step
    trainer.Trainer.evaluate = traced_eval
    runner.evaluate = traced_final
    runner._learn = traced_learn
    mark("start")
    return main(argv)


#: Fork the children from this (already imported) process instead of starting a fresh
#: interpreter: the same code path and the same SIGKILL, without paying for `import torch` and
#: the registry ~130 times on a loaded machine. PERCEPTZOO_FAULTS_FORK=0 starts
#: `python -c` subprocesses instead.
FORK = os.environ.get("PERCEPTZOO_FAULTS_FORK", "1") != "0"


class _Forked:
    """A forked child running `child_main`, with Popen's interface (poll, wait, kill,
    communicate, returncode, stderr)."""

    def __init__(self, argv: list[str], trace: Path):
        self.err_path = Path(str(trace) + ".stderr")
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                err = open(self.err_path, "w", buffering=1)
                os.dup2(err.fileno(), 2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                sys.stderr, sys.stdout = err, open(os.devnull, "w")
                code = child_main(argv, str(trace))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:  # noqa: BLE001 - reported in the stderr file
                import traceback

                traceback.print_exc()
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        self.pid, self.returncode = pid, None
        self.stderr = io.StringIO()

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        deadline = time.time() + (timeout or 1e9)
        while self.poll() is None:
            if time.time() > deadline:
                self.send_signal(signal.SIGKILL)
                self.wait()
                raise subprocess.TimeoutExpired("forked child", timeout)
            time.sleep(0.01)
        return "", self.err_path.read_text() if self.err_path.exists() else ""


def child_command(argv: list[str], trace: Path) -> list[str]:
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); "
            "from reliability.faults_util import child_main; "
            f"sys.exit(child_main({argv!r}, {str(trace)!r}))")
    return [sys.executable, "-c", code]


def child_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("PERCEPTZOO_FUZZ", None)
    return env


def read_trace(trace: Path, offset: int) -> list[str]:
    if not trace.exists():
        return []
    return trace.read_text().splitlines()[offset:]


def run_child(argv: list[str], trace: Path, *, kill_at: tuple[str, int, float] | None,
              timeout: float = 900) -> dict[str, Any]:
    """Run the traced CLI; with `kill_at=(phase, count, delay)` SIGKILL it `delay` seconds
    after its `count`-th entry into `phase` ("any": any phase after start). Returns
    {"killed": bool, "phase": last phase traced before the kill, "rc", "stderr"}."""
    offset = len(read_trace(trace, 0))
    proc = _Forked(argv, trace) if FORK else subprocess.Popen(
        child_command(argv, trace), env=child_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    start = time.time()
    timeline: list[tuple[float, str]] = []
    if kill_at is None:  # watch the phases go by (the reference run's timeline)
        while proc.poll() is None and time.time() - start < timeout:
            for line in read_trace(trace, offset + len(timeline)):
                timeline.append((time.time() - start, line))
            time.sleep(0.002)
    else:
        phase, count, delay = kill_at
        while proc.poll() is None and time.time() - start < timeout:
            lines = read_trace(trace, offset)
            seen = sum(1 for line in lines if line == phase or (phase == "any"
                                                               and line != "start"))
            if seen >= count:
                time.sleep(delay)
                if proc.poll() is None:
                    last = (read_trace(trace, offset) or ["start"])[-1]
                    proc.send_signal(signal.SIGKILL)
                    if proc.wait() == -signal.SIGKILL:
                        proc.stderr.close()
                        return {"killed": True, "phase": last, "rc": proc.returncode,
                                "stderr": ""}
                    # it exited on its own between the poll and the kill: a completed run
                break
            time.sleep(0.001)
    _, err = proc.communicate(timeout=timeout)
    for line in read_trace(trace, offset + len(timeline)):
        timeline.append((time.time() - start, line))
    return {"killed": False, "phase": None, "rc": proc.returncode, "stderr": err,
            "timeline": timeline}


#: How often each phase is chosen for a kill (relative; phases a runner lacks are dropped).
PHASE_WEIGHTS = {"step": 4, "ckpt": 2, "ckpt-half": 2, "eval": 1, "weights": 1,
                 "final-eval": 1, "learn": 6}


def random_kill(rng: random.Random, runner_kind: str, counts: dict[str, int]
                ) -> tuple[str, int, float]:
    """A kill moment: a phase of this runner, its n-th entry (n at most half the count seen
    in the reference run), and a random delay into it."""
    phases = [p for p in counts if p in PHASE_WEIGHTS and counts[p] > 0]
    phase = rng.choices(phases, weights=[PHASE_WEIGHTS[p] for p in phases])[0]
    # the first half of the phase's entries in a whole run: a resumed run (which has fewer
    # left) is then still killed most times, so a run takes several kills before it completes
    n = rng.randint(1, max(1, counts[phase] // 2))
    if phase in ("ckpt", "weights", "ckpt-half"):
        delay = rng.uniform(0, 2.5 * WRITE_PAUSE)
    elif phase == "step":
        delay = rng.uniform(0, 4 * STEP_PAUSE)
    elif phase == "learn":
        delay = rng.uniform(0, counts["_learn_s"]) if "_learn_s" in counts else 0.0
    else:
        delay = rng.uniform(0, 0.05)
    return phase, n, delay


def phase_counts(trace: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in read_trace(trace, 0):
        counts[line] = counts.get(line, 0) + 1
    counts.pop("start", None)
    counts.pop("ckpt-done", None)
    return counts


def train_records(run: Path) -> list[dict[str, Any]]:
    """The run's logged training records without their wall times."""
    from perceptzoo.core.runs import RunDir

    return [{k: v for k, v in r.items() if k != "time_s"}
            for r in RunDir(run).read_metrics() if r.get("kind") == "train"]


def weights(run: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(run / "model.safetensors"))


def same_weights(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def inspect_after_kill(run: Path, last_step: int) -> dict[str, Any]:
    """Everything a kill may have broken: config.json parses, the newest checkpoint loads
    (weights_only) and is not older than the last one seen, the weights file (if any) loads,
    and the half-written temporary files lying about (never the checkpoint itself)."""
    from perceptzoo.core.runs import RunDir

    out: dict[str, Any] = {"config": None, "step": None, "lost": False, "corrupt": False,
                           "orphans": sorted(p.name for p in run.glob(".*.tmp"))}
    if (run / "config.json").exists():
        json.loads((run / "config.json").read_text())
        out["config"] = True
    if (run / "checkpoint.pt").exists():
        try:
            out["step"] = int(RunDir(run).load_checkpoint()["step"])
        except Exception as err:  # noqa: BLE001 - counted as a corrupt checkpoint
            out["corrupt"] = repr(err)
        else:
            out["lost"] = out["step"] < last_step
    elif last_step > 0:
        out["lost"] = True
    if (run / "model.safetensors").exists():
        try:
            weights(run)
        except Exception as err:  # noqa: BLE001
            out["corrupt"] = repr(err)
    return out
