"""Layers used identically by two or more models."""

from perceptzoo.nn.masked import MaskedLinear

__all__ = ["MaskedLinear"]
