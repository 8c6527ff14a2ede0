"""`check_hooks` catches a hook spelled differently from `core/contracts.py`."""

from __future__ import annotations

from perceptzoo.core.contracts import check_hooks


class Good:
    def loss(self, batch): ...

    def log_prob(self, x, *, cond=None): ...

    def sample(self, num_samples, *, cond=None, generator=None): ...

    def configure_optimizers(self, train_cfg): ...


class PositionalLabel(Good):
    def log_prob(self, x, y=None): ...  # the old gated PixelCNN spelling


class OldOptimizers(Good):
    def configure_optimizers(self, lr, weight_decay): ...


class NoLoss:
    def sample(self, num_samples, *, cond=None, generator=None): ...


class HalfAgent:
    def act(self, obs, *, deterministic=False): ...


def test_a_class_with_the_declared_signatures_passes():
    assert check_hooks(Good, "trainer") == []


def test_a_positional_label_instead_of_cond_is_flagged():
    (problem,) = check_hooks(PositionalLabel, "trainer")
    assert "log_prob" in problem and "cond" in problem


def test_another_optimizer_signature_is_flagged():
    (problem,) = check_hooks(OldOptimizers, "trainer")
    assert "configure_optimizers" in problem and "train_cfg" in problem


def test_a_runner_s_required_methods_are_checked():
    assert any("loss" in p for p in check_hooks(NoLoss, "trainer"))
    problems = check_hooks(HalfAgent, "agent")
    assert any("learn" in p for p in problems) and any("state_tensors" in p for p in problems)
