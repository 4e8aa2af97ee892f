"""pytest plugin: sklearn's Lasso, LassoCV, MultiTaskLasso and MultiTaskLassoCV replaced by
hadasparse's drop-ins before sklearn's own test modules import them (used by
test_sklearn_suite.py, which runs those modules in a subprocess with ``-p`` this plugin).

The replacement happens in ``pytest_configure``, i.e. only when this module is loaded as a
plugin: importing it (as the doctest collection of ``tests/`` does) changes nothing."""


def pytest_configure(config):
    import sklearn.linear_model as lm

    from hadasparse import (
        HadamardLasso,
        HadamardLassoCV,
        HadamardMultiTaskLasso,
        HadamardMultiTaskLassoCV,
    )

    lm.Lasso = HadamardLasso
    lm.LassoCV = HadamardLassoCV
    lm.MultiTaskLasso = HadamardMultiTaskLasso
    lm.MultiTaskLassoCV = HadamardMultiTaskLassoCV
