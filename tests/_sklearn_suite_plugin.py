"""pytest plugin: sklearn's estimators replaced by hadasparse's drop-ins before sklearn's own
test modules import them (used by test_sklearn_suite.py, which runs those modules in a
subprocess with ``-p`` this plugin). ``HADASPARSE_SUITE=lasso`` (the default) replaces
Lasso, LassoCV, MultiTaskLasso and MultiTaskLassoCV; ``HADASPARSE_SUITE=enet`` replaces
ElasticNet, ElasticNetCV, MultiTaskElasticNet and MultiTaskElasticNetCV.

The replacement happens in ``pytest_configure``, i.e. only when this module is loaded as a
plugin: importing it (as the doctest collection of ``tests/`` does) changes nothing."""

import os


def pytest_configure(config):
    import sklearn.linear_model as lm

    import hadasparse

    names = {
        "lasso": ("Lasso", "LassoCV", "MultiTaskLasso", "MultiTaskLassoCV"),
        "enet": ("ElasticNet", "ElasticNetCV", "MultiTaskElasticNet", "MultiTaskElasticNetCV"),
    }[os.environ.get("HADASPARSE_SUITE", "lasso")]
    for name in names:
        setattr(lm, name, getattr(hadasparse, "Hadamard" + name))
