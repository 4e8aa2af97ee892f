"""The SGD estimators on dask: ``dask_ml.wrappers.Incremental`` calls ``partial_fit`` block
by block over a dask array, and ``joblib.parallel_config(backend="dask")`` runs the CV
folds of the path estimators on the cluster. The module starts its own small
``LocalCluster`` on the loopback interface (TCP on 127.0.0.1, one in-process worker with two
threads) and closes it at the end; every operation is bounded by a timeout.

Needs the ``distributed`` extra (``dask[distributed]``, ``dask-ml``); skipped without it.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

from hadasparse import (HadamardLasso, HadamardLassoCV, HadamardSGDClassifier,  # noqa: E402
                        HadamardSGDRegressor)

TIMEOUT = 60  # seconds, for the cluster's start and for every computation


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        # two threads: joblib runs sequentially, off the cluster, when the backend offers
        # a single slot
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
        host="127.0.0.1", dashboard_address=None, timeout=TIMEOUT)
    c = distributed.Client(cluster, timeout=TIMEOUT)
    try:
        yield c
    finally:
        c.close(timeout=TIMEOUT)
        cluster.close(timeout=TIMEOUT)


def regression(n=20000, p=50, k=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[rng.choice(p, k, replace=False)] = rng.choice([-1.0, 1.0], k) * rng.uniform(1, 3, k)
    return X, X @ coef + rng.standard_normal(n) + 2.0


def rel_dist(a, b):
    return np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b))


def test_cluster_is_on_loopback(client):
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")


def test_incremental_regressor_equals_local_partial_fit_and_reaches_the_lasso(client):
    """Incremental without block shuffling calls partial_fit on the blocks in order: the
    same fit as doing so locally, bit for bit; after 5 passes it is the lasso's solution."""
    X, y = regression()
    alpha = 0.05
    Xd = da.from_array(X, chunks=(1000, X.shape[1]))
    yd = da.from_array(y, chunks=1000)
    inc = dask_ml_wrappers.Incremental(HadamardSGDRegressor(alpha=alpha, random_state=0),
                                       shuffle_blocks=False)
    inc.fit(Xd, yd)
    for _ in range(4):
        inc.partial_fit(Xd, yd)
    local = HadamardSGDRegressor(alpha=alpha, random_state=0)
    for _ in range(5):
        for s in range(0, X.shape[0], 1000):
            local.partial_fit(X[s:s + 1000], y[s:s + 1000])
    np.testing.assert_array_equal(inc.estimator_.coef_, local.coef_)
    ref = HadamardLasso(alpha=alpha, tol=1e-10).fit(X, y).coef_
    assert np.array_equal(inc.estimator_.coef_ != 0, ref != 0)
    assert rel_dist(inc.estimator_.coef_, ref) <= 0.01
    pred = inc.predict(Xd[:100]).compute(timeout=TIMEOUT)
    np.testing.assert_allclose(pred, local.predict(X[:100]))


def test_incremental_classifier_with_classes(client):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8000, 20))
    y = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(8000) > 0, 1, 0)
    Xd = da.from_array(X, chunks=(1000, 20))
    yd = da.from_array(y, chunks=1000)
    inc = dask_ml_wrappers.Incremental(HadamardSGDClassifier(alpha=0.01, random_state=0),
                                       random_state=0)
    inc.fit(Xd, yd, classes=[0, 1])
    for _ in range(2):
        inc.partial_fit(Xd, yd)
    clf = inc.estimator_
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert set(np.flatnonzero(clf.coef_[0])) >= {0, 1}
    assert np.count_nonzero(clf.coef_) < X.shape[1]
    proba = inc.predict_proba(Xd[:200]).compute(timeout=TIMEOUT)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert inc.score(Xd, yd) > 0.85


def test_joblib_dask_backend_runs_cv_folds_on_the_cluster(client):
    """HadamardLassoCV(n_jobs=2) under joblib's dask backend: the folds run as tasks of the
    cluster, with the same result as a serial run."""
    from joblib import parallel_config

    X, y = regression(n=300, p=40, seed=2)
    serial = HadamardLassoCV(cv=3, alphas=8).fit(X, y)
    with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
        on_dask = HadamardLassoCV(cv=3, alphas=8, n_jobs=2).fit(X, y)
    assert len(tasks.data) >= 3  # at least one task per fold ran on the worker
    assert on_dask.alpha_ == serial.alpha_
    np.testing.assert_allclose(on_dask.mse_path_, serial.mse_path_, rtol=1e-10)
    np.testing.assert_allclose(on_dask.coef_, serial.coef_, rtol=1e-10, atol=1e-12)
