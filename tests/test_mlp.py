"""HadamardMLPClassifier / HadamardMLPRegressor.

What "alpha=0 reproduces a dense MLP" means here, checked in three steps:
1. the training loop with plain weights (every layer ``None``) *is* sklearn's MLP: same
   Glorot start, batches, loss and Adam / SGD arithmetic, equal to sklearn's weights to
   rounding after several epochs;
2. the factored network is the same model with the same loss: at alpha=0 the smooth
   objective equals the dense loss at ``W = U ⊙ V`` and the factor gradients are the dense
   gradients through the product rule; the fitted estimator predicts exactly what sklearn's
   MLP predicts with the same ``coefs_`` / ``intercepts_``;
3. optimising the factors instead of the weights changes only the geometry: trained the same
   way (same start, batches, epochs) it reaches a training loss and test accuracy comparable
   to the dense loop (not equal weights: gradient steps on U and V are not steps on U ⊙ V).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardMLPClassifier, HadamardMLPRegressor
from hadasparse.neural_network._solver import (
    LayerSpec,
    backprop,
    fit_mlp,
    glorot_init,
    make_specs,
    objective_and_gradients,
    penalised_objective,
)


@parametrize_with_checks([
    HadamardMLPClassifier((8,), max_iter=30, learning_rate_init=1e-2, random_state=0),
    HadamardMLPRegressor((8,), max_iter=30, learning_rate_init=1e-2, random_state=0),
    HadamardMLPClassifier((8, 4), "tanh", sparsity="neurons", k=3, max_iter=30,
                          learning_rate_init=1e-2, random_state=0),
    HadamardMLPRegressor((8,), sparsity="inputs", max_iter=30, learning_rate_init=1e-2,
                         random_state=0),
])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _digits(n=400):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


# -- 1. the plain-weights loop is sklearn's MLP --------------------------------------------

@pytest.mark.parametrize("kind", ["multiclass", "binary", "regression"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_dense_loop_is_sklearn_mlp(kind, solver):
    X, y = _digits(300)
    hidden = [20, 10]
    common = dict(hidden_layer_sizes=hidden, alpha=0.0, solver=solver, batch_size=64,
                  learning_rate_init=1e-2, max_iter=4, tol=0.0, random_state=3,
                  activation="tanh")
    if kind == "regression":
        Y = (y.astype(float) / 9.0).reshape(-1, 1)
        ref = MLPRegressor(**common)
        target, out_act = Y.ravel(), "identity"
    else:
        if kind == "binary":
            y = (y >= 5).astype(int)
        Y = LabelBinarizer().fit_transform(y).astype(float)
        ref = MLPClassifier(**common)
        target, out_act = y, ("softmax" if kind == "multiclass" else "logistic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, target)
        rs = check_random_state(3)
        units = [X.shape[1]] + hidden + [Y.shape[1]]
        coefs, intercepts = glorot_init(units, "tanh", rs)
        specs = [LayerSpec(None) for _ in coefs]
        params = [[W] for W in coefs]
        res = fit_mlp(X, Y, None, specs, params, intercepts, alpha=0.0, activation="tanh",
                      out_activation=out_act, solver=solver, learning_rate_init=1e-2,
                      batch_size=64, max_iter=4, tol=0.0, random_state=rs)
    for W, Wref in zip(res["params"], ref.coefs_):
        np.testing.assert_allclose(W[0], Wref, rtol=1e-9, atol=1e-12)
    for b, bref in zip(res["intercepts"], ref.intercepts_):
        np.testing.assert_allclose(b, bref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["loss_curve"], ref.loss_curve_, rtol=1e-10)


# -- 2. same model, same loss --------------------------------------------------------------

@pytest.mark.parametrize("sparsity", ["weights", "inputs", "neurons"])
def test_alpha0_objective_is_dense_loss(sparsity):
    X, y = _digits(120)
    Y = LabelBinarizer().fit_transform(y).astype(float)
    units = [64, 12, 10]
    rs = check_random_state(0)
    coefs, intercepts = glorot_init(units, "relu", rs)
    specs = make_specs(list(zip(units[:-1], units[1:])), sparsity, 2)
    params = [s.init_params(W, 1) for s, W in zip(specs, coefs)]
    W_of = [s.weights(p) for s, p in zip(specs, params)]
    for W, W0 in zip(W_of, coefs):  # balanced factors of the Glorot start
        np.testing.assert_allclose(W, W0, rtol=1e-12, atol=1e-15)
    value, grads, igrads = objective_and_gradients(X, Y, None, specs, params, intercepts, 0.0,
                                                   "relu", "softmax")
    loss, dense_grads, dense_igrads = backprop(X, Y, None, W_of, intercepts, "relu", "softmax")
    assert value == loss
    for s, p, g, G in zip(specs, params, grads, dense_grads):
        if s.factored:
            expected = s.penalty.gradients(p, G, 0.0)
            for a, b in zip(g, expected):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_allclose(g[0], G)
    for a, b in zip(igrads, dense_igrads):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("sparsity", ["weights", "inputs"])
def test_predictions_are_sklearn_mlp_with_same_weights(sparsity):
    X, y = _digits(300)
    est = HadamardMLPClassifier((16,), sparsity=sparsity, alpha=1e-3, max_iter=20,
                                learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        ref = MLPClassifier((16,), max_iter=1, random_state=0).fit(X, y)
    ref.coefs_ = [W.copy() for W in est.coefs_]
    ref.intercepts_ = [b.copy() for b in est.intercepts_]
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


# -- 3. alpha = 0 trains a network as good as the dense loop -------------------------------

def test_alpha0_trains_like_dense():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    kw = dict(alpha=0.0, max_iter=40, learning_rate_init=1e-2, random_state=0, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        had = HadamardMLPClassifier((32,), **kw).fit(Xtr, ytr)
        dense = MLPClassifier((32,), **kw).fit(Xtr, ytr)
    assert had.sparsity_ == 0.0
    # the factored objective is the dense loss: at alpha=0 it is the training log-loss
    Y = had._label_binarizer.transform(ytr).astype(float)
    assert abs(had._objective(Xtr, Y) - had.objective_) < 1e-12
    # comparable training loss and test accuracy (different optimisation geometry)
    assert had.loss_curve_[-1] < 0.05 and dense.loss_curve_[-1] < 0.05
    assert abs(had.score(Xte, yte) - dense.score(Xte, yte)) <= 0.03
    # and the loss curves decrease at a comparable rate
    assert had.loss_curve_[9] < 3 * dense.loss_curve_[9]


# -- gradient of the surrogate --------------------------------------------------------------

@pytest.mark.parametrize("sparsity,k,out", [
    ("weights", 2, "softmax"), ("weights", 3, "logistic"), ("inputs", 2, "softmax"),
    ("inputs", 3, "identity"), ("neurons", 2, "identity"), ("neurons", 4, "softmax"),
])
def test_surrogate_gradient_finite_differences(sparsity, k, out):
    rng = np.random.default_rng(0)
    n, units = 30, [6, 5, 4, 3]
    X = rng.standard_normal((n, units[0]))
    if out == "identity":
        Y = rng.standard_normal((n, 3))
    elif out == "softmax":
        Y = np.eye(3)[rng.integers(0, 3, n)]
    else:
        Y = (rng.random((n, 3)) < 0.5).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    specs = make_specs(list(zip(units[:-1], units[1:])), sparsity, k)
    coefs, intercepts = glorot_init(units, "tanh", check_random_state(1))
    params = [s.init_params(W, 2) for s, W in zip(specs, coefs)]
    alpha = 0.05

    def f():
        return objective_and_gradients(X, Y, sw, specs, params, intercepts, alpha, "tanh",
                                       out)

    _, grads, igrads = f()
    arrays = [p for layer in params for p in layer] + intercepts
    analytic = [g for layer in grads for g in layer] + igrads
    h = 1e-6
    for a, g in zip(arrays, analytic):
        for idx in list(np.ndindex(a.shape))[:25]:
            old = a[idx]
            a[idx] = old + h
            fp = f()[0]
            a[idx] = old - h
            fm = f()[0]
            a[idx] = old
            assert abs((fp - fm) / (2 * h) - g[idx]) <= 1e-6 * (1 + abs(g[idx]))


def test_surrogate_equals_penalty_at_balanced_factors():
    units = [7, 5, 3]
    specs = make_specs(list(zip(units[:-1], units[1:])), "weights", 3)
    coefs, _ = glorot_init(units, "relu", check_random_state(0))
    for s, W in zip(specs, coefs):
        p = s.init_params(W, 0)
        assert s.surrogate(p, 0.3) == pytest.approx(s.penalty_value(W, 0.3), rel=1e-12)


# -- exact zeros -----------------------------------------------------------------------------

def _informative(n=300, p=30, seed=0):
    return make_classification(n_samples=n, n_features=p, n_informative=4, n_redundant=0,
                               n_repeated=0, shuffle=False, random_state=seed, class_sep=1.5)


@pytest.mark.parametrize("sparsity", ["weights", "inputs", "neurons"])
def test_exact_zeros_and_snap_decreases_objective(sparsity):
    X, y = _informative()
    est = HadamardMLPClassifier((16,), sparsity=sparsity, alpha=1e-2, max_iter=60,
                                learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    zeros = sum(int(np.sum(W == 0)) for W in est.coefs_)
    assert zeros > 0
    assert est.sparsity_ == zeros / sum(W.size for W in est.coefs_)
    assert est.snap_step_ > 0
    # the snap never increases the original objective L(W) + alpha R(W)
    specs = make_specs([W.shape for W in est.coefs_], sparsity, 2)
    raw = [s.weights(p) for s, p in zip(specs, est._params)]
    Y = est._label_binarizer.transform(y).astype(float)
    before = penalised_objective(X, Y, None, specs, raw, est.intercepts_, est.alpha, "relu",
                                 "logistic")
    assert est.objective_ <= before + 1e-12
    assert est.objective_ == pytest.approx(est._objective(X, Y), rel=1e-12)
    W1 = est.coefs_[0]
    if sparsity == "inputs":
        kept = np.any(W1 != 0, axis=1)
        assert 0 < kept.sum() < X.shape[1]  # whole rows are zero, others are not
        np.testing.assert_array_equal(est.selected_features_, np.flatnonzero(kept))
        # the informative features (the first 4) survive
        assert set(range(4)) <= set(est.selected_features_)
        assert np.all(est.coefs_[1] != 0)  # the ridge layer is not sparsified
    if sparsity == "neurons":
        dead = ~np.any(W1 != 0, axis=0)
        assert dead.any()
        assert np.all(np.all(W1[:, dead] == 0, axis=0))


def test_sparsity_grows_with_alpha():
    X, y = _digits(400)
    sp_ = []
    for alpha in [1e-4, 1e-3, 3e-2]:
        est = HadamardMLPClassifier((16,), alpha=alpha, max_iter=40, learning_rate_init=1e-2,
                                    random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sp_.append(est.fit(X, y).sparsity_)
    assert sp_[0] < sp_[1] < sp_[2]
    assert sp_[2] > 0.8


def test_regressor_selects_inputs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 10))
    y = np.tanh(X[:, 0]) + X[:, 1] ** 2
    reg = HadamardMLPRegressor((16,), sparsity="inputs", alpha=1e-2, learning_rate_init=1e-2,
                               max_iter=200, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.selected_features_, [0, 1])
    assert reg.score(X, y) > 0.9


# -- reproducibility, options, errors ------------------------------------------------------

@pytest.mark.parametrize("Est", [HadamardMLPClassifier, HadamardMLPRegressor])
def test_reproducible_under_random_state(Est):
    X, y = _informative(200, 10)
    kw = dict(hidden_layer_sizes=(8,), alpha=1e-3, max_iter=15, learning_rate_init=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = Est(random_state=7, **kw).fit(X, y)
        b = Est(random_state=7, **kw).fit(X, y)
        c = Est(random_state=8, **kw).fit(X, y)
    for Wa, Wb, Wc in zip(a.coefs_, b.coefs_, c.coefs_):
        np.testing.assert_array_equal(Wa, Wb)
        assert not np.array_equal(Wa, Wc)
    assert a.loss_curve_ == b.loss_curve_


def test_sparse_input_equals_dense():
    X, y = _informative(200, 10)
    X[X < 0.5] = 0.0
    kw = dict(hidden_layer_sizes=(8,), alpha=1e-3, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = HadamardMLPClassifier(**kw).fit(X, y)
        b = HadamardMLPClassifier(**kw).fit(sp.csr_matrix(X), y)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-10, atol=1e-13)


def test_warm_start_continues_from_factors():
    X, y = _digits(300)
    est = HadamardMLPClassifier((16,), alpha=1e-3, max_iter=10, learning_rate_init=1e-2,
                                random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        first = list(est.loss_curve_)
        est.fit(X, y)
    assert est.loss_curve_[0] < first[0]
    assert est.loss_curve_[0] < first[-1] * 1.2


def test_early_stopping_keeps_best():
    X, y = _digits(400)
    est = HadamardMLPClassifier((16,), alpha=1e-4, max_iter=60, learning_rate_init=1e-2,
                                early_stopping=True, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None


def test_convergence_warning_says_what_was_reached():
    X, y = _digits(200)
    with pytest.warns(ConvergenceWarning, match="training loss"):
        HadamardMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("params", [
    dict(sparsity="rows"), dict(k=1), dict(alpha=-1.0), dict(hidden_layer_sizes=(0,)),
    dict(solver="lbfgs"), dict(learning_rate_init=0.0), dict(batch_size=0),
    dict(validation_fraction=1.0), dict(beta_1=1.0), dict(activation="softplus"),
    dict(snap_step=0.0), dict(n_iter_no_change=0),
])
def test_invalid_params(params):
    X, y = _digits(50)
    with pytest.raises(ValueError):
        HadamardMLPClassifier(**params).fit(X, y)


def test_nan_input_rejected():
    X, y = _digits(50)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HadamardMLPRegressor().fit(X, y)


def test_zero_sample_weight_equals_dropping_samples():
    # full batch, no shuffling: a sample of weight 0 changes neither the losses nor the
    # gradients (weighted means over the batch), nor the snap
    X, y = _digits(200)
    sw = np.ones(len(y))
    sw[::3] = 0.0
    kw = dict(hidden_layer_sizes=(8,), alpha=1e-3, max_iter=15, batch_size=200, shuffle=False,
              learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = HadamardMLPClassifier(**kw).fit(X, y, sample_weight=sw)
        b = HadamardMLPClassifier(**dict(kw, batch_size=len(y[sw > 0]))).fit(X[sw > 0],
                                                                            y[sw > 0])
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("sparsity", ["weights", "inputs", "neurons"])
def test_sgd_on_factors_decreases_loss(sparsity):
    X, y = _digits(300)
    est = HadamardMLPRegressor((16,), sparsity=sparsity, solver="sgd", alpha=1e-3,
                               learning_rate_init=1e-2, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y.astype(float))
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]
    assert est.score(X, y) > 0.5
