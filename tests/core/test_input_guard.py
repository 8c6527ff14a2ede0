"""`guard_inputs`: bad input at the public door is a UserError; the model's own calls (from its
`loss`/`train_step`, or nested in a checked call) are not checked again."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

import perceptzoo
from perceptzoo import data
from perceptzoo.core import contracts
from perceptzoo.core.contracts import LossOutput, guard_inputs, inside_model
from perceptzoo.errors import UserError


@dataclass
class _Cfg:
    data_shape: tuple = (1, 2, 2)
    num_levels: int = 3
    num_classes: int | None = None


def _toy(name: str = "toy"):
    """A guarded toy density whose `loss` scores its batch through the public `log_prob`, and
    whose checks are counted (the check functions are captured when the guard is applied)."""
    checks = []

    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cfg = _Cfg()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def log_prob(self, x, *, cond=None):
            return self.w + 0.0 * x.reshape(len(x), -1).float().sum(1)

        def sample(self, num_samples, *, cond=None, generator=None):
            x = torch.zeros(num_samples, *self.cfg.data_shape)
            self.log_prob(x)  # an internal call from inside a checked one
            return x

        def loss(self, batch):
            x, _ = batch
            return LossOutput(-self.log_prob(x).mean())

        def train_step(self, batch, optimizers):
            return {"loss": float(-self.log_prob(batch[0]).mean().detach())}

    original = contracts._check_log_prob

    def counting(*args, **kwargs):
        checks.append(args[1])
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(contracts, "_check_log_prob", counting)
        guard_inputs(Toy, name)
    return Toy, checks


def test_bad_input_to_the_public_log_prob_is_a_user_error_and_checked_once():
    Toy, checks = _toy()
    model = Toy()
    with pytest.raises(UserError, match="levels 0..2"):
        model.log_prob(torch.full((2, 1, 2, 2), 7))
    with pytest.raises(UserError, match="batch"):
        model.log_prob(torch.zeros(2, 5))
    assert model.log_prob(torch.zeros(3, 4)).shape == (3,)  # a flat batch is reshaped
    assert checks == ["toy"] * 3
    with pytest.raises(UserError, match="positive whole number"):
        model.sample(0)
    model.sample(2)  # its nested log_prob is internal: no check
    assert checks == ["toy"] * 3 and not inside_model()


def test_loss_and_train_step_do_not_run_the_check():
    Toy, checks = _toy()
    model = Toy()
    bad = torch.full((2, 1, 2, 2), 7)  # out of range: only the public door refuses it
    assert torch.isfinite(model.loss((bad, None)).loss)
    model.train_step((bad, None), [])
    assert checks == [] and not inside_model()
    with pytest.raises(UserError):  # and the public door still checks after them
        model.log_prob(bad)


def test_the_flag_is_reset_when_loss_raises():
    Toy, _ = _toy()

    class Failing(Toy):
        def loss(self, batch):
            raise RuntimeError("boom")

    guard_inputs(Failing, "failing")
    model = Failing()
    with pytest.raises(RuntimeError, match="boom"):
        model.loss((torch.zeros(1, 1, 2, 2), None))
    assert not inside_model()
    with pytest.raises(UserError):
        model.log_prob(torch.full((1, 1, 2, 2), 9))


def test_a_guarded_subclass_is_checked_once_not_once_per_registration():
    Toy, checks = _toy("parent")

    class Child(Toy):
        def log_prob(self, x, *, cond=None):
            return super().log_prob(x, cond=cond)  # the parent's guarded method

    with pytest.MonkeyPatch.context() as mp:
        original = contracts._check_log_prob
        mp.setattr(contracts, "_check_log_prob",
                   lambda *a, **k: checks.append(a[1]) or original(*a, **k))
        guard_inputs(Child, "child")
    Child().log_prob(torch.zeros(2, 1, 2, 2))
    assert checks == ["child"]
    assert Child.loss._unguarded is Toy.loss._unguarded  # wrappers replaced, not stacked


@pytest.mark.parametrize("name", ["made", "glow"])
def test_a_registered_model_s_loss_skips_the_check_its_public_log_prob_keeps_it(
        name, monkeypatch):
    from perceptzoo.core import registry

    spec = registry.get_spec(name)
    tiny = spec.config_class.tiny() if hasattr(spec.config_class, "tiny") else None
    over = {} if tiny is None else {k: getattr(tiny, k) for k in tiny.__dataclass_fields__
                                    if k not in ("data_shape", "num_levels", "num_classes")}
    model = perceptzoo.build(name, dataset="digits", **over)
    x, y = data.load("digits", "train")[torch.arange(8)]
    seen = []  # _check_log_prob reads the model's config through `_config`, call time
    real = contracts._config
    monkeypatch.setattr(contracts, "_config", lambda m: seen.append(1) or real(m))
    model.loss((x, y))
    assert seen == []
    with pytest.raises(UserError, match="levels"):
        model.log_prob(x.long() + 300)
    assert seen
