"""Sparse multi-layer perceptrons: sklearn's MLP with its weights on Hadamard factors."""

from ._mlp import HadamardMLPClassifier, HadamardMLPRegressor

__all__ = ["HadamardMLPClassifier", "HadamardMLPRegressor"]
