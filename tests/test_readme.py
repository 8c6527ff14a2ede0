"""The README's commands run as written, on a fresh folder, with and without the real data.

The commands are read from README.md itself (command 1 and 2 of the first block, every line of
the Use section's shell block and its Python block), so a command edited there is the command
tested. Step counts are made small (`--steps N`, `--epochs N` -> `--steps 3`; the Python
block's 500 steps -> 3): nothing else is changed. Without the data (PERCEPTZOO_DATA pointing at
an empty folder, downloads failing) a command that needs it must end in one line naming
PERCEPTZOO_DATA, exit status 2, and leave no run folder behind; with it (`-m slow`) every
command must succeed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from perceptzoo.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
SMALL_STEPS = "3"
#: Tokens of a command that needs the real data (the MNIST family, audio, meshes).
NEEDS_DATA = re.compile(r"mnist|fsdd|mesh:")


def _bash_blocks(text: str) -> list[list[str]]:
    return [block.strip().splitlines()
            for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def quickstart() -> dict[str, str]:
    """Command 1 and command 2: the line after the comment that numbers them."""
    lines = _bash_blocks(README)[0]
    commands = {}
    for i, line in enumerate(lines):
        found = re.match(r"#\s*(\d)\.", line)
        if found:
            commands[found.group(1)] = lines[i + 1]
    return commands


def use_section() -> str:
    return README.split("\n## Use", 1)[1].split("\n## ", 1)[0]


def use_commands() -> list[list[str]]:
    """Every `perceptzoo ...` line of the Use section's shell block, as argv (comments off)."""
    lines = _bash_blocks(use_section())[0]
    return [shlex.split(line, comments=True) for line in lines if line.strip()]


def use_python() -> str:
    return re.findall(r"```python\n(.*?)```", use_section(), flags=re.S)[0]


def small(argv: list[str]) -> list[str]:
    """argv with its step counts made small (the one change made to a README command)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in ("--steps", "--epochs"):
            out += ["--steps", SMALL_STEPS]
            skip = True
            continue
        out.append(token)
    return out


def needs_data(argv: list[str]) -> bool:
    return any(NEEDS_DATA.search(token) for token in argv)


def _no_network(url, dest):
    raise OSError("no network in this test")


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A fresh working folder; downloads fail (a test never fetches data)."""
    import perceptzoo.data.mnist as mnist

    monkeypatch.setattr(mnist, "urlopen_fetch", _no_network)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# -- the first block ----------------------------------------------------------------------------
def test_commands_1_and_2_are_there_and_name_what_exists():
    commands = quickstart()
    assert set(commands) == {"1", "2"}, commands
    for number, line in commands.items():
        assert "-c constraints-cpu.txt" in line, number
    constraints = (REPO / "constraints-cpu.txt").read_text()
    assert re.search(r"^torch==", constraints, flags=re.M)
    perceptzoo_part = commands["1"].split("&&")[-1].split()
    assert perceptzoo_part[:1] == [".venv/bin/perceptzoo"]
    with pytest.raises(SystemExit) as done:  # it parses: --help of the same command line
        main([*perceptzoo_part[1:], "--help"])
    assert done.value.code == 0
    # command 2 is what CI runs: the test extra it installs exists and pytest is run
    assert '-e ".[test]"' in commands["2"] and commands["2"].endswith("-m pytest")
    extra = re.search(r"^test\s*=\s*\[(.*?)\]", (REPO / "pyproject.toml").read_text(),
                      flags=re.M | re.S)
    assert extra and "pytest" in extra.group(1)


def test_install_time_is_in_command_1s_estimate():
    text = README.split("## What is here", 1)[0]
    assert re.search(r"install takes about", text), "the install time is not stated"


# -- the Use section, without the data ----------------------------------------------------------
def test_use_commands_run_without_the_data(fresh, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERCEPTZOO_DATA", str(tmp_path / "empty"))
    commands = use_commands()
    assert len(commands) >= 8 and all(c[0] == "perceptzoo" for c in commands)
    for argv in commands:
        args = small(argv[1:])
        if args[0] == "bench":  # a recipe runs in a child process, which would download
            from perceptzoo.bench import harness

            assert harness.select(harness.all_recipes(), args[1:], None), args
            continue
        before = set(Path("runs").glob("*")) if Path("runs").exists() else set()
        code = main(args)
        out, err = capsys.readouterr()
        if needs_data(args):
            assert code == 2, (args, err)
            if args[:2] == ["train", "--resume"]:  # the run above could not start
                assert "does not exist" in err and "perceptzoo train" in err, err
            else:
                assert "PERCEPTZOO_DATA" in err and "Traceback" not in err, (args, err)
            after = set(Path("runs").glob("*")) if Path("runs").exists() else set()
            assert after == before, f"{args} left {after - before}"
            continue
        assert code == 0, (args, err)
        _check_output(args, out)
    _no_dead_ends()


def _check_output(args: list[str], out: str) -> None:
    if args[0] == "list":
        assert "models:" in out and "CliffWalking-v1" in out and "torus" in out
    elif args[0] == "train":
        assert (Path(json.loads(out.strip().splitlines()[-1])["run"]) / "model.safetensors"
                ).exists() or "agent" in out
    elif args[0] == "sample":
        assert "runs/made-digits/samples.png" in out and Path(
            "runs/made-digits/samples.png").stat().st_size > 0
    elif args[0] == "eval":
        assert "test_nll_nats" in json.loads(out)
    elif args[0] == "report":
        out_file = Path(args[args.index("--out") + 1])
        assert out_file.stat().st_size > 0 and "wrote" in out


def _no_dead_ends() -> None:
    """Every run folder left behind holds a run that can be evaluated or resumed."""
    for run in Path("runs").glob("*"):
        names = {p.name for p in run.iterdir()}
        assert names & {"model.safetensors", "checkpoint.pt", "agent.safetensors",
                        "state.safetensors"} or len(names) > 2, (run, names)


def test_use_python_runs_without_the_data(fresh):
    code = use_python().replace('"steps": 500', f'"steps": {SMALL_STEPS}')
    assert code != use_python(), "the Python block's step count moved: update this test"
    namespace: dict = {}
    exec(compile(code, "README.md (Use, python)", "exec"), namespace)
    assert namespace["x"].shape[0] == 16 and namespace["nll"].shape == (16,)
    assert (Path(namespace["run"]) / "model.safetensors").exists()


# -- with the data (slow) -----------------------------------------------------------------------
@pytest.mark.slow
def test_use_commands_run_with_the_data(fresh, shared_data, monkeypatch, capsys):
    monkeypatch.setenv("PERCEPTZOO_DATA", str(shared_data))
    for argv in use_commands():
        args = small(argv[1:])
        if args[0] == "bench":  # a 20-minute recipe: its documented budget cut to 0.1 min
            args += ["--minutes", "0.1", "--results", "results", "--work", "bench-work"]
        code = main(args)
        out, err = capsys.readouterr()
        if args[:2] == ["train", "--resume"]:  # the run the line before finished
            assert code == 2 and "finished" in err, err
            continue
        if args[0] == "bench":  # done, or stopped at the budget with a checkpoint to resume
            assert code == 0 or ("timed out" in out and "again to resume" in out), out
            assert code == 0 or list(Path("bench-work").glob("*/checkpoint.pt")), out
            continue
        assert code == 0, (args, err)
        _check_output(args, out)
    _no_dead_ends()
    # the comment's alternative: a mesh is a dataset too
    assert main(["train", "igr", "--dataset", "mesh:bunny-watertight", "--steps", SMALL_STEPS,
                 "--eval-shapes", "1"]) == 0


@pytest.mark.slow
def test_command_1_runs_as_written(tmp_path):
    """Command 1's perceptzoo part (the quick suite, minutes) as written, into a temporary
    results folder; the install part is what CI's own install runs."""
    args = quickstart()["1"].split("&&")[-1].split()[1:]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "perceptzoo.cli", *args, "--results",
         str(tmp_path / "results"), "--work", str(tmp_path / "work")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "work" / "report.html").stat().st_size > 0
