"""Latent diffusion: the autoencoder reconstructs, diffusion runs on latents, stages separate."""

from __future__ import annotations

import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.core.trainer import TrainConfig
from perceptzoo.diffusion.ddpm import to_model_space

TINY = dict(num_steps=20, channels=8, ae_channels=16, latent_channels=2)


def test_autoencoder_reconstructs_after_stage_one():
    """decoder(encoder(x)) ~ x: far better than predicting the mean image after short training."""
    torch.manual_seed(0)
    model = perceptzoo.build("latent_diffusion", ae_steps=10_000, **TINY)
    train = data.load("digits", "train")
    opts = model.configure_optimizers(TrainConfig(lr=3e-3))
    for _ in range(80):
        idx = torch.randint(len(train), (64,))
        metrics = model.train_step(train[idx], opts)
        assert metrics["stage"] == 1.0
    test = data.load("digits", "test").x
    mse = model.extra_metrics(test)["recon_mse"]
    baseline = float(((test.float() - train.x.float().mean(0)) / 16).pow(2).mean())
    assert mse < baseline / 3, (mse, baseline)


def test_stage_two_trains_the_latent_denoiser_only_and_on_latents():
    torch.manual_seed(0)
    model = perceptzoo.build("latent_diffusion", ae_steps=1, **TINY)
    assert model.latent_shape == (2, 4, 4)
    opts = model.configure_optimizers(TrainConfig())
    x = data.load("digits", "train")[torch.arange(32)]
    model.train_step(x, opts)  # stage 1
    ae_before = {k: v.clone() for k, v in model.autoencoder.state_dict().items()}
    shapes = []
    hook = model.net.register_forward_hook(lambda m, args, out: shapes.append(args[0].shape))
    net_before = [p.clone() for p in model.net.parameters()]
    metrics = model.train_step(x, opts)  # stage 2: first step measures the latent scale
    hook.remove()
    assert metrics["stage"] == 2.0 and shapes == [torch.Size([32, 2, 4, 4])]
    assert float(model.latent_scale) != 1.0
    z = model.latents(to_model_space(x[0], 17))
    assert abs(float(z.std()) - 1) < 0.1  # scaled latents have unit variance
    assert all(torch.equal(ae_before[k], v) for k, v in model.autoencoder.state_dict().items())
    assert any(not torch.equal(a, b) for a, b in zip(net_before, model.net.parameters()))
    # the autoencoder is outside the Trainer's EMA (it has no trainable flag outside stage 1)
    assert not any(p.requires_grad for p in model.autoencoder.parameters())


def test_sample_decodes_to_images_and_runs_through_train(tmp_path):
    run = perceptzoo.train("latent_diffusion", out=tmp_path / "ldm",
                           train_config=TrainConfig(steps=4, batch_size=16, progress=False,
                                                    num_samples=4, eval_examples=16,
                                                    ema_decay=0.9),
                           model_overrides={**TINY, "ae_steps": 2, "sampler": "ddim",
                                            "sample_steps": 3})
    model = perceptzoo.load(run)
    assert int(model.step) == 4
    x = model.sample(3)
    assert x.shape == (3, 1, 8, 8) and x.min() >= 0 and x.max() <= 16
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    # EMA touched only the denoiser: saved autoencoder weights are the live ones
    for k, v in model.autoencoder.state_dict().items():
        assert torch.equal(state["model"][f"autoencoder.{k}"], v)
