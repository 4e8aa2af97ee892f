"""pytest plugin: sklearn's Lasso, LassoCV, MultiTaskLasso and MultiTaskLassoCV replaced by
hadasparse's drop-ins before sklearn's own test modules import them (used by
test_sklearn_suite.py, which runs those modules in a subprocess with ``-p`` this plugin)."""

import sklearn.linear_model as _lm

from hadasparse import (
    HadamardLasso,
    HadamardLassoCV,
    HadamardMultiTaskLasso,
    HadamardMultiTaskLassoCV,
)

_lm.Lasso = HadamardLasso
_lm.LassoCV = HadamardLassoCV
_lm.MultiTaskLasso = HadamardMultiTaskLasso
_lm.MultiTaskLassoCV = HadamardMultiTaskLassoCV
