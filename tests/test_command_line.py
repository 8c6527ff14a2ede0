"""The command line end to end, and its one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perceptzoo.cli import main

TINY = ["--set", "hidden_sizes=[16]", "--no-progress"]


def test_train_sample_eval_on_digits(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "made", "--steps", "30", "--out", str(run), "--eval-samples", "100",
                 "--full-eval",
                 *TINY]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["test_nll_nats"] > 0 and "frechet_distance" in printed
    assert main(["sample", str(run), "-n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0
    capsys.readouterr()
    assert main(["eval", str(run), "--split", "valid", "--eval-samples", "0"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"valid_nll_nats", "valid_bits_per_dim"}


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "made" in out and "binarized_mnist" in out


@pytest.mark.parametrize("args, message", [
    (["train", "nosuchmodel"], "unknown model"),
    (["train", "made", "--dataset", "cifar"], "unknown dataset"),
    (["train", "made", "--steps", "ten"], "whole number"),
    (["train", "made", "--lr", "fast"], "expected a number"),
    (["train", "made", "--dataset", "toy2d:moons", "--steps", "1"], "continuous"),
    (["train", "made", "--set", "hidden_sizes=big"], "hidden_sizes"),
    (["eval", "/nonexistent/run"], "does not exist"),
    (["sample", "/nonexistent/run"], "does not exist"),
    (["train", "--resume", "/nonexistent/run"], "does not exist"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's errors exit from inside parse_args
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def test_errors_from_a_real_process_have_no_traceback(tmp_path):
    for args in (["train", "nosuchmodel"], ["train", "made", "--steps", "ten"]):
        result = subprocess.run([sys.executable, "-m", "perceptzoo.cli", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_corrupt_run_folder(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{oops")
    assert main(["eval", str(tmp_path)]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_eval_of_a_flow_gives_the_same_nll_each_call(tmp_path, capsys):
    """RealNVP's dequantization noise is drawn from the seed (`perceptzoo eval --seed`, default
    0): two evaluations of one run agree exactly, another seed draws other noise."""
    run = tmp_path / "flow"
    assert main(["train", "realnvp", "--steps", "2", "--out", str(run), "--eval-samples", "0",
                 "--set", "hidden=8", "--no-progress"]) == 0
    nll = []
    for seed in ([], [], ["--seed", "1"]):
        capsys.readouterr()
        assert main(["eval", str(run), "--eval-samples", "0", *seed]) == 0
        nll.append(json.loads(capsys.readouterr().out)["test_nll_nats"])
    assert nll[0] == nll[1]
    assert nll[2] != nll[0]


def test_report_without_results_says_so_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """`perceptzoo report` where no results are (outside the repository) wrote a header-only
    BENCHMARKS.md; it names where it looked and how to point it elsewhere, exit 2."""
    from perceptzoo.bench import results

    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "results"
    empty.mkdir()
    monkeypatch.setattr(results, "default_results_dir", lambda: tmp_path / "benchmarks" / "x")
    for args, looked in ((["report"], "benchmarks/x"), (["report", str(empty)], str(empty)),
                         (["report", str(empty), "--out", "r.html"], str(empty))):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "found no results" in err and looked in err and "perceptzoo report FOLDER" in err
        assert "perceptzoo bench" in err
    assert list(tmp_path.iterdir()) == [empty]  # no BENCHMARKS.md, no r.html


def test_every_mesh_format_the_message_names_is_written(tmp_path):
    """The mesh writer said '.ply or .obj' while it wrote .stl too: each suffix its message
    names writes a mesh trimesh reads back; another suffix is refused naming them all."""
    import trimesh

    from perceptzoo.errors import UserError
    from perceptzoo.implicit.mesh import MESH_SUFFIXES, save_mesh

    sphere = trimesh.creation.icosphere(subdivisions=1)
    with pytest.raises(UserError) as refused:
        save_mesh(sphere, tmp_path / "mesh.xyz")
    named = [s for s in (".ply", ".obj", ".stl", ".off", ".glb", ".dae", ".3mf")
             if s in str(refused.value)]
    assert named == list(MESH_SUFFIXES)
    for suffix in named:
        path = save_mesh(sphere, tmp_path / f"mesh{suffix}")
        assert len(trimesh.load(path, force="mesh").faces) == len(sphere.faces), suffix


def test_an_agent_run_shows_progress_and_learns_the_same(tmp_path, capsys):
    """RL runs printed nothing while they learned; they show a bar of environment steps like
    the Trainer's (a line every 30 s off a terminal), and it does not change what is learned."""
    from safetensors.torch import load_file

    runs = []
    for flags in ([], ["--no-progress"]):
        runs.append(tmp_path / f"agent{len(runs)}")
        assert main(["train", "q_learning", "--dataset", "CliffWalking-v1", "--steps", "1500",
                     "--eval-episodes", "1", "--out", str(runs[-1]), *flags]) == 0
        err = capsys.readouterr().err
        assert ("1500/1500" in err) == (not flags), err
        assert len(err) < 2000, "a bar redrawn per episode"
    first, second = (load_file(run / "model.safetensors") for run in runs)
    assert first.keys() == second.keys()
    assert all((first[k] == second[k]).all() for k in first)


def test_sample_set_switches_a_diffusion_sampler_and_refuses_what_does_not_apply(tmp_path,
                                                                                 capsys):
    ddpm = tmp_path / "ddpm"
    assert main(["train", "ddpm", "--steps", "2", "--out", str(ddpm), "--eval-samples", "0",
                 "--no-progress", "--set", "num_steps=20", "channels=8", "channel_mults=[1,2]",
                 "attention_levels=[1]", "groups=4", "bound_timesteps=4",
                 "train.num_samples=0"]) == 0
    capsys.readouterr()
    assert main(["sample", str(ddpm), "-n", "4", "--out", str(tmp_path / "d.png"),
                 "--set", "sampler=dpm_solver", "sample_steps=5"]) == 0
    assert "with sampler=dpm_solver sample_steps=5" in capsys.readouterr().out
    assert (tmp_path / "d.png").stat().st_size > 0
    made = tmp_path / "made"
    assert main(["train", "made", "--steps", "2", "--out", str(made), "--eval-samples", "0",
                 *TINY]) == 0
    capsys.readouterr()
    for args, message in [
        ([str(ddpm), "--set", "sampler=rk4"], "use one of ancestral, ddim, dpm_solver, heun"),
        ([str(ddpm), "--set", "channels=4"], "channels is fixed by training"),
        ([str(ddpm), "--set", "sampler"], "expects key=value"),
        ([str(made), "--set", "sampler=ddim"], "made has no sampling options"),
    ]:
        assert main(["sample", *args, "--out", str(tmp_path / "bad.png")]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "bad.png").exists()


def test_weights_from_another_architecture_are_a_clear_error(tmp_path, capsys):
    """A run whose weights no longer fit its model (edited config, or weights saved by an
    earlier version of the model's code) is refused with what to do, not a torch traceback."""
    run = tmp_path / "run"
    assert main(["train", "made", "--steps", "2", "--out", str(run), *TINY]) == 0
    config = json.loads((run / "config.json").read_text())
    config["model_config"]["hidden_sizes"] = [24]
    (run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert "earlier version of the model's code" in err and "Traceback" not in err
