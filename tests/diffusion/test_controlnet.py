"""ControlNet: equals the base at initialisation, the base never changes, runs via the CLI."""

from __future__ import annotations

import json

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.cli import main
from perceptzoo.data.edges import edge_map
from perceptzoo.diffusion.controlnet import edge_consistency
from perceptzoo.diffusion.samplers import DDIMSampler
from perceptzoo.errors import UserError

TINY = dict(num_steps=20, channels=8, channel_mults=(1, 2), attention_levels=(1,))


def pretrained_like(model):
    """A base with non-trivial weights (its zero inits perturbed), encoder copied into Theta_c."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.base.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.reset_control()
    return model


def batch(n=16):
    return data.load("digits", "train")[torch.arange(n)]


def test_output_equals_the_base_at_initialisation():
    model = pretrained_like(perceptzoo.build("controlnet", **TINY)).eval()
    x, _ = batch()
    x_t, t = torch.randn(16, 1, 8, 8), torch.randint(1, 21, (16,))
    edges = edge_map(x, 17)
    base_eps = model.base(x_t, t)
    assert base_eps.abs().mean() > 0  # a non-trivial base
    assert torch.equal(model(x_t, t, edges), base_eps)
    assert torch.equal(model(x_t, t, 1 - edges), base_eps)  # the condition has no effect yet


def test_base_weights_never_change_while_the_copy_learns():
    model = pretrained_like(perceptzoo.build("controlnet", **TINY)).train()
    base_before = {k: v.clone() for k, v in model.base.state_dict().items()}
    control_before = {k: v.clone() for k, v in model.control.state_dict().items()}
    (opt,) = model.configure_optimizers(perceptzoo.TrainConfig(lr=1e-2, weight_decay=0.1))
    for _ in range(3):
        opt.zero_grad()
        model.loss(batch()).loss.backward()
        assert all(p.grad is None for p in model.base.parameters())
        opt.step()
    assert all(torch.equal(base_before[k], v) for k, v in model.base.state_dict().items())
    changed = [k for k, v in model.control.state_dict().items()
               if not torch.equal(control_before[k], v)]
    assert changed  # gradients reach the copy through the zero convs after the first step
    assert any(z.weight.abs().sum() > 0 for z in model.zero_convs)
    assert not model.base.training  # the locked part stays in eval mode


def test_edge_consistency_scores():
    x, _ = batch(32)
    edges = edge_map(x, 17)
    assert edge_consistency(x.float(), edges, 17)["edge_f1"] == pytest.approx(1.0)
    other = edge_consistency(x.flip(0).float(), edges, 17)["edge_f1"]
    assert other < 0.9


def test_needs_a_base_run_and_a_matching_one(tmp_path, capsys):
    assert main(["train", "controlnet", "--steps", "1", "--out", str(tmp_path / "cn0"),
                 "--no-progress"]) == 2
    assert "base_run" in capsys.readouterr().err
    base = tmp_path / "base"
    sets = ["num_steps=20", "channels=8", "channel_mults=[1,2]", "attention_levels=[1]"]
    assert main(["train", "ddpm", "--steps", "2", "--batch-size", "16", "--out", str(base),
                 "--no-progress", "--eval-samples", "0", "--set", *sets,
                 "bound_timesteps=2", "train.eval_examples=16"]) == 0
    assert main(["train", "controlnet", "--steps", "1", "--out", str(tmp_path / "bad"),
                 "--no-progress", "--set", f"base_run={base}", "channels=16"]) == 2
    assert "channels=8" in capsys.readouterr().err
    run = tmp_path / "cn"
    assert main(["train", "controlnet", "--steps", "2", "--batch-size", "16", "--out", str(run),
                 "--no-progress", "--eval-samples", "8", "--set", f"base_run={base}", *sets,
                 "sample_steps=3", "train.ema_decay=0.9", "train.eval_examples=16"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= out["test_edge_f1"] <= 1
    cn, ddpm = perceptzoo.load(run), perceptzoo.load(base)
    # the locked base inside the ControlNet run is the DDPM run's weights, unchanged
    for a, b in zip(cn.base.state_dict().values(), ddpm.net.state_dict().values()):
        assert torch.equal(a, b)
    assert int(cn.edge_count) == 32  # edge maps remembered for unconditional sampling
    assert cn.sample(3, sampler=DDIMSampler(2)).shape == (3, 1, 8, 8)
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    with pytest.raises(UserError, match="edge maps"):
        cn.sample(2, cond=torch.zeros(3, 1, 8, 8))
