"""Collection models on "shapes+real": the real training meshes reach the batches, the
held-out ones are what the test split scores, through the one run path."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from perceptzoo.core import runner
from perceptzoo.data import shapes as shape_data
from perceptzoo.implicit import common, deepsdf
from perceptzoo.implicit.occupancy import OccupancyConfig, OccupancyNetwork

SMALL = common.EvalSettings(resolution=24, surface_points=1000, iou_points=2000, fit_steps=2,
                            fit_points=200)


@pytest.mark.slow  # about 15 s: SDF samples of the 100k-face armadillo
def test_training_data_holds_the_training_meshes_not_the_held_out_ones(shared_data):
    model = OccupancyNetwork(OccupancyConfig.tiny())
    source = model.data_source("shapes:1+real", "train", None, 0, 4)
    assert len(source) == 1 + len(shape_data.REAL_TRAIN)  # one primitive, three meshes
    clouds = source.data["clouds"]  # surface clouds, one per training shape, in order
    for k, name in enumerate(shape_data.REAL_TRAIN, start=1):
        mesh = shape_data.load_mesh(name)
        _, dist, _ = trimesh.proximity.closest_point(mesh, clouds[k, :50].numpy())
        assert dist.max() < 1e-6, name  # shape k's cloud lies on that training mesh
    for name in shape_data.REAL_HELDOUT:
        held = shape_data.load_mesh(name)
        for k in range(len(source)):
            _, dist, _ = trimesh.proximity.closest_point(held, clouds[k, :50].numpy())
            assert dist.mean() > 0.02, (name, k)  # no training cloud is a held-out mesh


def test_evaluation_scores_the_held_out_meshes(shared_data, tmp_path, monkeypatch):
    monkeypatch.setattr(common, "QUICK", SMALL)
    scored: list[str] = []

    def spy(fn, model, shape, settings, seed=0, mesh=None):
        scored.append(shape.name)
        return {"chamfer_l1": 0.0}

    monkeypatch.setattr(common, "score_field", spy)
    over = {"hidden": 32, "blocks": 1, "code_dim": 8, "encoder_hidden": 8,
            "points_per_shape": 64, "samples_per_shape": 300}
    runner.train("occupancy_network", dataset="shapes:1+real", out=tmp_path / "r",
                 train_config={"steps": 2, "batch_size": 2, "progress": False,
                               "num_samples": 0}, model_overrides=over)
    scored.clear()
    scores = runner.evaluate(tmp_path / "r", split="test", num_shapes=16)
    assert scored == [f"mesh:{m}" for m in shape_data.REAL_HELDOUT]
    assert scores["split"] == "test" and scores["num_shapes"] == 2 and scores["full"] is False
    scored.clear()
    runner.evaluate(tmp_path / "r", split="train", num_shapes=16)
    assert scored[1:] == [f"mesh:{m}" for m in shape_data.REAL_TRAIN]  # after the primitive


@pytest.mark.slow  # about 30 CPU-s: SDF samples of the real training meshes, two depth scans
def test_completion_study_scans_and_scores_only_the_held_out_meshes(shared_data, tmp_path,
                                                                    monkeypatch):
    from perceptzoo.bench.recipes import implicit as recipes
    from perceptzoo.implicit import baselines

    scanned: list[str] = []
    scored: list[str] = []
    real_scan = deepsdf.depth_scan

    def scan_spy(shape, *args, **kwargs):
        scanned.append(shape.name)
        return real_scan(shape, *args, **kwargs)

    def score_spy(fn, model, shape, settings, seed=0, mesh=None):
        assert settings is SMALL
        scored.append(shape.name)
        return {"chamfer_l1": 0.0, "iou": 0.5}

    monkeypatch.setattr(deepsdf, "depth_scan", scan_spy)
    monkeypatch.setattr(deepsdf, "FULL", SMALL)
    monkeypatch.setattr(common, "score_field", score_spy)
    monkeypatch.setattr(baselines, "score_field", score_spy)
    monkeypatch.setattr(deepsdf.DeepSDF, "extract", lambda self, fn, res: None)
    monkeypatch.setattr(common, "turntable", lambda mesh, up="z": np.zeros((2, 8, 3), np.uint8))
    monkeypatch.setattr(deepsdf, "_hull_mesh", lambda points: None)
    over = {"hidden": 16, "layers": 3, "skip_layers": [], "latent_dim": 4,
            "points_per_shape": 32, "samples_per_shape": 300}
    runner.train("deepsdf", dataset="shapes:1+real", out=tmp_path / "r",
                 train_config={"steps": 2, "batch_size": 2, "progress": False,
                               "num_samples": 0}, model_overrides=over)
    weights = (tmp_path / "r" / "model.safetensors").read_bytes()
    out = recipes.deepsdf_completion_study(tmp_path / "r")
    held = [f"mesh:{m}" for m in shape_data.REAL_HELDOUT]
    assert scanned == held and scored == [m for m in held for _ in range(3)]
    assert out["completion_iou"] == 0.5 and "completion_hull_iou" in out
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == weights  # nothing trained
