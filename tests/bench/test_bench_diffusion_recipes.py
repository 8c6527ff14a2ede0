"""The diffusion recipes are built by a small helper (`_ddpm`, `_train`): the configs it gives
are the ones the recipes had when each was written out in full, so no result goes stale."""

from __future__ import annotations

from perceptzoo.bench.recipes.diffusion import RECIPES
from perceptzoo.bench.results import config_hash, training_hash

#: config_hash of each recipe as written out in full (commit 5b80e6d); a result file whose
#: config_hash is this is still "already run" for its recipe. ddpm-digits changed in its
#: scoring alone (the full suite's sample size, e595b2458be2 before), so its training did not.
#: ddpm-mnist was retrained longer and scored at the suite's size (bbeff9716f0f before)
TRAINING = {"ddpm-digits": "d8e9c74d4c2a"}
HASHES = {"ddpm-digits-quick": "13c296334116", "ddpm-digits": "17547190aa42",
          "ddpm-mnist": "87ee36622b9d"}


def test_every_diffusion_recipe_keeps_its_config():
    assert {r.name: config_hash(r) for r in RECIPES} == HASHES
    assert {r.name: training_hash(r) for r in RECIPES if r.name in TRAINING} == TRAINING


def test_the_builder_scores_each_recipe_once_at_the_end_of_training():
    for r in RECIPES:
        assert r.model == "ddpm"
        assert r.evaluate == ({"num_samples": 1000} if r.name == "ddpm-digits-quick" else {})
        assert r.train["eval_every"] == r.train["steps"]
    quick, digits, mnist = RECIPES
    assert quick.model_config == {"channels": 16, "channel_mults": [1, 2], "sample_steps": 20,
                                  "sampler": "ddim"}
    assert digits.train == {"steps": 2000, "batch_size": 64, "lr": 0.002,
                            "warmup_steps": 100, "ema_decay": 0.999, "eval_every": 2000,
                            "checkpoint_every": 250}
    assert mnist.train["eval_examples"] == 200 and mnist.published is not None
