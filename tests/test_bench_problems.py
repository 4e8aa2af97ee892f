"""The benchmarks' independent certificates (benchmarks/_problems.py) against scikit-learn's
own: ``enet_duality_gap`` must equal ``ElasticNet.dual_gap_`` (same dual point), and reduce to
the lasso ``duality_gap`` at ``l1_ratio=1``. Fits are stopped early (loose ``tol``, few epochs)
so that the gaps compared are far from zero."""

import sys
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _problems import (  # noqa: E402
    alpha_max,
    duality_gap,
    enet_duality_gap,
    make_correlated,
    make_sparse,
)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["icpt", "no-icpt"])
@pytest.mark.parametrize("l1_ratio", [0.5, 0.9, 1.0])
def test_enet_gap_matches_sklearn_dual_gap(sparse, fit_intercept, l1_ratio):
    prob = (make_sparse(60, 150, density=0.1, name="s") if sparse
            else make_correlated(60, 150, name="d"))
    X, y = prob.X, prob.y + 3.0                   # a nonzero intercept to fit
    alpha = alpha_max(X, y, fit_intercept) / l1_ratio / 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         tol=1e-12, max_iter=3).fit(X, y)
    g = enet_duality_gap(X, y, est.coef_, est.intercept_, alpha, l1_ratio, fit_intercept)
    assert g["gap"] > 1e-6 * abs(g["primal"])     # really not converged
    assert g["gap"] == pytest.approx(est.dual_gap_, rel=1e-8)
    assert g["primal"] - g["dual"] == pytest.approx(g["gap"])
    if l1_ratio == 1.0:
        g1 = duality_gap(X, y, est.coef_, est.intercept_, alpha, fit_intercept)
        assert g1["gap"] == pytest.approx(g["gap"], rel=1e-10)


def test_enet_gap_is_small_at_the_solution_and_penalises_a_wrong_intercept():
    prob = make_correlated(80, 40, name="d")
    X, y = prob.X, prob.y
    alpha = alpha_max(X, y, True) / 0.5 / 10
    est = ElasticNet(alpha=alpha, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X, y)
    g = enet_duality_gap(X, y, est.coef_, est.intercept_, alpha, 0.5, True)
    assert 0 <= g["rel_gap"] < 1e-12
    bad = enet_duality_gap(X, y, est.coef_, est.intercept_ + 0.1, alpha, 0.5, True)
    # an intercept off by 0.1 adds exactly 0.1^2 / 2 to the primal; the dual is unchanged
    assert bad["dual"] == pytest.approx(g["dual"], rel=1e-12)
    assert bad["gap"] - g["gap"] == pytest.approx(0.5 * 0.1 ** 2, rel=1e-8)
