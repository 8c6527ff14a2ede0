"""Configs parse and type-check overrides; the registry builds models and names the known ones."""

from __future__ import annotations

import pytest

import perceptzoo
from perceptzoo.autoregressive.made import MADEConfig
from perceptzoo.core.config import apply_overrides, from_dict, parse_overrides, to_dict
from perceptzoo.errors import UserError


def test_overrides_are_parsed_with_the_field_types():
    cfg = apply_overrides(MADEConfig(), ["hidden_sizes=[64,32]", "num_masks=4",
                                         "order_agnostic=true"])
    assert cfg.hidden_sizes == (64, 32) and cfg.num_masks == 4 and cfg.order_agnostic is True
    assert from_dict(MADEConfig, to_dict(cfg)) == cfg  # JSON round trip


@pytest.mark.parametrize("item, message", [
    ("num_masks=abc", "must be an integer"),
    ("num_masks=1.5", "must be an integer"),
    ("order_agnostic=3", "true or false"),
    ("no_such_option=1", "has no option"),
    ("hidden_sizes", "key=value"),
])
def test_bad_overrides_say_what_is_wrong(item, message):
    with pytest.raises(UserError, match=message):
        apply_overrides(MADEConfig(), parse_overrides([item]))


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UserError, match="known models: .*made"):
        perceptzoo.build("no-such-model")


def test_build_sizes_the_model_from_the_dataset():
    model = perceptzoo.build("made", dataset="digits", hidden_sizes=(16,))
    assert model.cfg.data_shape == (1, 8, 8) and model.cfg.num_levels == 17
    assert "made" in perceptzoo.list_models()
