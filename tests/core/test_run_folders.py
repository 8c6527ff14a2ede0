"""Run folders: atomic writes, round trips, and clear errors for missing or corrupt runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import perceptzoo
from perceptzoo.core.runs import RunDir
from perceptzoo.errors import UserError
from perceptzoo.io import atomic_write


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "checkpoint.pt"
    target.write_text("old")

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temp file left


def test_atomic_write_gives_the_permissions_open_would(tmp_path):
    """A result or figure written atomically is readable by others like any file (mkstemp's
    temporary file is 0600), and a file written again keeps the mode it had."""
    fresh = tmp_path / "result.json"
    atomic_write(fresh, lambda tmp: Path(tmp).write_text("{}"))
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    assert fresh.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    plain.chmod(0o640)
    atomic_write(plain, lambda tmp: Path(tmp).write_text("[]"))
    assert plain.stat().st_mode & 0o777 == 0o640


def test_weights_round_trip_through_load(tmp_path):
    model = perceptzoo.build("made", data_shape=(1, 2, 3), num_levels=2, hidden_sizes=(8,),
                             num_masks=2, order_agnostic=True)
    model.set_mask(1)
    run = RunDir(tmp_path)
    run.write_config({"format": 2, "model": "made", "model_config": {
        "data_shape": [1, 2, 3], "num_levels": 2, "hidden_sizes": [8], "num_masks": 2,
        "order_agnostic": True}, "dataset": "digits"})
    run.save_weights(model)
    loaded = perceptzoo.load(tmp_path)
    x = torch.randint(0, 2, (5, 1, 2, 3))
    torch.testing.assert_close(loaded.log_prob(x), model.eval().log_prob(x))
    assert int(loaded.mask_index) == 1


def test_missing_and_corrupt_runs_raise_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        perceptzoo.load(tmp_path / "nope")
    with pytest.raises(UserError, match="not a run folder"):
        perceptzoo.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        perceptzoo.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": 2, "model": "made",
                                                      "model_config": {}}))
    with pytest.raises(UserError, match="did not finish"):
        perceptzoo.load(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(UserError, match="corrupt"):
        perceptzoo.load(tmp_path)
