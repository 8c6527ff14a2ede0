"""RL through the command line and `perceptzoo.load`: train, eval, sample, errors."""

from __future__ import annotations

import json

import pytest

import perceptzoo
from perceptzoo.cli import main


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("name,dataset,steps", [
    ("value_iteration", "FrozenLake-v1", None),
    ("policy_iteration", "Taxi-v4", None),
    ("q_learning", "CliffWalking-v1", 3000),
    ("sarsa", "FrozenLake-v1", 2000),
    ("mc_control", "FrozenLake-v1", 2000),
    ("dqn", "CartPole-v1", 600),
    ("reinforce", "CartPole-v1", 600),
    ("actor_critic", "Pendulum-v1", 1640),
    ("ppo", "CartPole-v1", 600),
    ("deepmimic", "perceptzoo/PlanarMimic-v0", 512),
])
def test_train_eval_sample_through_the_cli(tmp_path, capsys, name, dataset, steps):
    run = tmp_path / name
    args = ["train", name, "--dataset", dataset, "--out", str(run), "--seed", "1",
            "--eval-episodes", "3"]
    if steps:
        args += ["--steps", str(steps)]
    assert main(args) == 0
    trained = _last_json(capsys)
    assert trained["num_episodes"] >= 1 and "mean_return" in trained and "std_return" in trained
    for file in ("config.json", "model.safetensors", "metrics.jsonl"):
        assert (run / file).exists()
    if steps:
        assert (run / "curve.csv").exists() and (run / "curve.png").exists()
    assert main(["eval", str(run), "--eval-episodes", "4"]) == 0
    again = _last_json(capsys)
    assert again["num_episodes"] == 4
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["train", "eval", "eval"]
    assert all(isinstance(r["step"], int) and r["step"] >= 0 for r in records)  # no -1
    assert records[0]["step"] == (steps or 0) and "time_s" in records[0]
    out = tmp_path / f"{name}.png"
    assert main(["sample", str(run), "-n", "2", "--out", str(out)]) == 0
    assert out.exists() and out.with_suffix(".json").exists()
    agent = perceptzoo.load(run)
    assert agent.name == name and agent.cfg.env_id == dataset


def test_evaluation_is_seeded_and_reproducible(tmp_path, capsys):
    run = tmp_path / "vi"
    assert main(["train", "value_iteration", "--out", str(run), "--eval-episodes", "50"]) == 0
    capsys.readouterr()
    main(["eval", str(run), "--eval-episodes", "200"])
    first = _last_json(capsys)
    main(["eval", str(run), "--eval-episodes", "200"])
    assert _last_json(capsys) == first
    main(["eval", str(run), "--eval-episodes", "200", "--split", "valid"])
    assert _last_json(capsys) != first  # other seeds


def test_user_errors_are_one_line_with_exit_2(tmp_path, capsys):
    assert main(["train", "dqn", "--dataset", "Pendulum-v1", "--out", str(tmp_path / "x")]) == 2
    assert "continuous" in capsys.readouterr().err
    assert main(["train", "q_learning", "--dataset", "CartPole-v1",
                 "--out", str(tmp_path / "y")]) == 2
    assert "discrete states" in capsys.readouterr().err
    assert main(["train", "sarsa", "--dataset", "Taxi-v3", "--out", str(tmp_path / "z")]) == 2
    assert "Taxi-v4" in capsys.readouterr().err
    assert main(["train", "dqn", "--set", "nope=1", "--out", str(tmp_path / "w")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["train", "dqn", "--dataset", "NoSuchEnv-v9", "--out", str(tmp_path / "v")]) == 2
    assert "NoSuchEnv-v9" in capsys.readouterr().err
    assert main(["train", "q_learning", "--lr", "0.1", "--out", str(tmp_path / "u")]) == 2
    assert "--set key=value" in capsys.readouterr().err  # tabular TD has alpha, not lr


def test_cli_learning_rate_and_batch_size_reach_the_agent(tmp_path, capsys):
    run = tmp_path / "dqn"
    assert main(["train", "dqn", "--steps", "200", "--lr", "0.0005", "--batch-size", "16",
                 "--out", str(run), "--eval-episodes", "1"]) == 0
    agent = perceptzoo.load(run)
    assert agent.cfg.lr == 0.0005 and agent.cfg.batch_size == 16


def test_sample_writes_into_the_run_folder_by_default(tmp_path, capsys):
    run = tmp_path / "q"
    assert main(["train", "q_learning", "--steps", "2000", "--out", str(run),
                 "--eval-episodes", "2"]) == 0
    assert main(["sample", str(run)]) == 0  # 64 asked for: at most 16 episodes are played
    assert (run / "rollout.png").exists()
    episodes = json.loads((run / "rollout.json").read_text())["episodes"]
    assert len(episodes) == 16 and [e["seed"] for e in episodes] == list(range(16))


def test_environments_are_listed_as_the_rl_datasets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "datasets of the rl family (Gymnasium environments):" in out
    for env_id in ("CartPole-v1", "FrozenLake-v1", "Pendulum-v1", "perceptzoo/Chain-v0"):
        assert f"  {env_id}\n" in out
