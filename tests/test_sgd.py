"""Tests for ``HadamardSGDRegressor`` and ``HadamardSGDClassifier``."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardSGDClassifier, HadamardSGDRegressor

# Minibatch SGD with shuffling does not see a sample of weight 2 as two copies of it (the
# minibatches differ), as for sklearn's own SGD estimators, which list the same checks.
_SW_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data":
        "a weight of 2 and a duplicated row give different minibatches",
    "check_sample_weight_equivalence_on_sparse_data":
        "a weight of 2 and a duplicated row give different minibatches",
}


@parametrize_with_checks([HadamardSGDRegressor(), HadamardSGDClassifier()],
                         expected_failed_checks=lambda est: _SW_EQUIVALENCE)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
