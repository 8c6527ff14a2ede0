"""Sampling-time options: a trained DDPM samples with another sampler, steps, eta, churn or
spacing without retraining (`runner.sample(run, overrides=...)`, `perceptzoo sample RUN --set`),
checked against the options and values the model has."""

from __future__ import annotations

import json

import pytest

from perceptzoo.core import runner
from perceptzoo.errors import UserError
from perceptzoo.nn.unet import UNet

TINY = {"num_steps": 20, "channels": 8, "channel_mults": [1, 2], "attention_levels": [1],
        "groups": 4, "bound_timesteps": 4}


@pytest.fixture(scope="module")
def ddpm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm") / "run"
    return runner.train("ddpm", dataset="digits", out=out, model_overrides=dict(TINY),
                        train_config={"steps": 2, "batch_size": 16, "progress": False,
                                      "num_samples": 0, "seed": 0})


@pytest.fixture
def denoiser_calls(monkeypatch):
    """How many times the U-Net ran since the test began (the sampler's NFE)."""
    calls = []
    forward = UNet.forward

    def counted(self, *args, **kwargs):
        calls.append(1)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(UNet, "forward", counted)
    return calls


@pytest.mark.parametrize("overrides, nfe", [
    ({}, 20),                                                   # the run's own: ancestral, T
    ({"sampler": "ddim", "sample_steps": 5}, 5),
    ({"sampler": "ddim", "sample_steps": 4, "sample_spacing": "leading", "ddim_eta": 1.0}, 4),
    ({"sampler": "dpm_solver", "sample_steps": 6}, 6),
    ({"sampler": "heun", "sample_steps": 4}, 7),                # 2N - 1 (EDM Algorithm 1)
    ({"sampler": "heun", "sample_steps": 4, "heun_churn": 10.0}, 7),
    ({"sample_steps": 3}, 3),                                   # fewer ancestral steps
])
def test_the_sampler_asked_for_is_the_one_that_runs(ddpm_run, denoiser_calls, tmp_path,
                                                    overrides, nfe):
    config = (ddpm_run / "config.json").read_text()
    said = runner.sample(ddpm_run, num_samples=4, out=tmp_path / "s.png", overrides=overrides)
    assert len(denoiser_calls) == nfe
    assert all(f"{k}={v}" in said for k, v in overrides.items())
    assert (ddpm_run / "config.json").read_text() == config  # the run is unchanged


def test_two_samplers_draw_different_images_and_each_is_reproducible(ddpm_run, tmp_path):
    def draw(name: str, **overrides) -> bytes:
        runner.sample(ddpm_run, num_samples=16, out=tmp_path / name, seed=3,
                      overrides=overrides)
        return (tmp_path / name).read_bytes()

    ancestral = draw("a.png")
    ddim = draw("d.png", sampler="ddim", sample_steps=10)
    assert ancestral != ddim
    assert draw("d2.png", sampler="ddim", sample_steps=10) == ddim
    assert draw("h.png", sampler="heun", sample_steps=5) not in (ancestral, ddim)


def test_a_new_sampler_takes_its_own_default_steps(ddpm_run, denoiser_calls, tmp_path):
    # the run samples ancestrally on all T = 20 steps; DPM-Solver's default is 20 steps too,
    # DDIM's 50 (capped at T), Heun's 18 levels (merged where they round to one step)
    model = runner.load(ddpm_run)
    heun = model.cfg.with_sampling({"sampler": "heun"})
    assert heun.sample_steps is None
    runner.sample(ddpm_run, num_samples=2, out=tmp_path / "h.png",
                  overrides={"sampler": "heun"})
    from perceptzoo.diffusion.ddpm import sampler_from_config

    assert len(denoiser_calls) == sampler_from_config(heun).num_evaluations(model.schedule)


@pytest.mark.parametrize("overrides, message", [
    ({"sampler": "rk4"}, "use one of ancestral, ddim, dpm_solver, heun"),
    ({"channels": 16}, "channels is fixed by training"),
    ({"temperature": 0.5}, "options at sampling time: sampler, sample_steps"),
    ({"ddim_eta": 0.5}, "ddim_eta applies to sampler=ddim"),
    ({"sampler": "heun", "sample_spacing": "leading"}, "sample_spacing applies to"),
    ({"sampler": "ddim", "sample_spacing": "karras"}, "use one of trailing, leading, linear"),
    ({"sampler": "ddim", "sample_steps": 21}, "sample_steps must be in 1..20"),
    ({"sample_steps": "many"}, "must be an integer"),
    ({"sampler": "ddim", "ddim_eta": -1}, "must be >= 0"),
])
def test_bad_sampling_options_are_user_errors(ddpm_run, tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        runner.sample(ddpm_run, num_samples=2, out=tmp_path / "x.png", overrides=overrides)
    assert not (tmp_path / "x.png").exists()


def test_evaluate_takes_the_options_and_records_them(ddpm_run):
    metrics = runner.evaluate(ddpm_run, split="test", num_samples=0,
                              overrides={"sampler": "ddim", "sample_steps": 5})
    assert metrics["sampling_options"] == {"sampler": "ddim", "sample_steps": 5}
    records = [json.loads(line) for line in (ddpm_run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["sampling_options"] == {"sampler": "ddim", "sample_steps": 5}
    with pytest.raises(UserError, match="heun_churn applies to sampler=heun"):
        runner.evaluate(ddpm_run, num_samples=0, overrides={"heun_churn": 1.0})


def test_the_guided_ddpm_takes_its_guidance_scale_too():
    from perceptzoo.diffusion.guidance import GuidedDDPMConfig

    cfg = GuidedDDPMConfig(num_steps=20)
    assert "guidance_scale" in cfg.sampling_options()
    assert cfg.with_sampling({"guidance_scale": 3.0}).guidance_scale == 3.0
    with pytest.raises(UserError, match="guidance_scale must be >= 0"):
        cfg.with_sampling({"guidance_scale": -1.0})
