"""Bounded memory at large supports (issue 13).

The memory budget (:mod:`hadasparse.solvers._budget`) caps every dense square array a solve
keeps: a working set's Gram matrix and the polish's Cholesky factor. Forcing its floor low
makes small problems take the linear-memory routes -- the coordinate-descent finish on a
sparse design, the column form of a dense design's working set -- and these tests check that
(a) the fit still equals scikit-learn's and (b) no (|W|, |W|) array was allocated: the
traced peak stays below what one such array would take, and within a budget linear in the
data. (numpy allocations are traced; the numba kernels allocate only O(k + n) arrays and the
factor, whose size the caller fixes.)
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, Lasso

from hadasparse import HadamardElasticNet, HadamardLasso
from hadasparse.solvers import _working_set
from hadasparse.solvers._budget import design_square_cap, square_cap, square_floor


def _problem(sparse, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        n, p = 300, 3000
        X = sp.random(n, p, density=0.01, format="csc", random_state=rng)
        X.data = rng.standard_normal(X.data.size)
    else:
        n, p = 40, 1500
        X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:30] = 1.0
    y = X @ w + 0.05 * rng.standard_normal(n)
    alpha_max = np.abs(X.T @ (y - y.mean())).max() / n
    return X, y, alpha_max


def _objective(X, y, coef, intercept, alpha, l1_ratio):
    r = y - X @ coef - intercept
    return (0.5 * np.mean(r**2) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


@pytest.fixture
def spy(monkeypatch):
    """What the lasso units solve on: the working-set sizes, and the largest dense square
    arrays kept for them (the Gram operator's matrix, the polish's factor)."""
    seen = {"ws": [], "square": [0]}
    solve = _working_set._LassoUnits.solve
    gram_operator = _working_set.gram_operator

    def spy_solve(self, op, beta_ws, state, inner_rtol):
        seen["ws"].append(beta_ws.size)
        out = solve(self, op, beta_ws, state, inner_rtol)
        seen["square"].append(state.factor[0].shape[0])
        return out

    def spy_gram(G, c, l2=0.0):
        seen["square"].append(G.shape[0])
        return gram_operator(G, c, l2)

    monkeypatch.setattr(_working_set._LassoUnits, "solve", spy_solve)
    monkeypatch.setattr(_working_set, "gram_operator", spy_gram)
    return seen


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
@pytest.mark.parametrize("positive", [False, True])
def test_linear_memory_routes_equal_sklearn(sparse, l1_ratio, positive, spy):
    X, y, alpha_max = _problem(sparse)
    alpha = (1e-3 if sparse else 1e-4) * alpha_max / l1_ratio
    params = dict(alpha=alpha, tol=1e-10, positive=positive, max_iter=1000)
    ours = (HadamardLasso(**params) if l1_ratio == 1.0
            else HadamardElasticNet(l1_ratio=l1_ratio, **params))
    with square_floor(8):
        ours.fit(X, y)  # compiles; the traced fit below is the second one
        spy["ws"].clear()
        tracemalloc.start()
        try:
            ours.fit(X, y)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        cap = square_cap(X.shape[0], X.nnz if sparse else None)
    k = max(spy["ws"])
    n_active = np.count_nonzero(ours.coef_)
    # the problem exercises the linear-memory routes: more actives than the factor may hold
    # (sparse: coordinate descent), a working set beyond the Gram budget (dense: columns)
    assert n_active > cap if sparse else k > cap
    # no square array beyond the budget was kept
    assert max(spy["square"]) <= cap
    if sparse:
        # and none was allocated: the traced peak is below one (k, k) array and within a
        # budget linear in the data
        linear_budget = 8 * (16 * (X.nnz + sum(X.shape)) + 2 * cap * cap) + 256 * 1024
        assert peak < linear_budget < 8 * k * k, (peak, linear_budget, 8 * k * k)

    ref = _sklearn_fit(X, y, alpha, l1_ratio, positive)
    f_ours = _objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio)
    f_ref = _objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio)
    # an independent certificate: the duality gap of the returned model
    assert _gap(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, positive) <= 1e-9 * np.var(y)
    assert f_ours <= f_ref * (1 + 1e-9)
    if sparse:  # (on the dense problem sklearn's coordinate descent stops ~1e-5 above)
        assert abs(f_ours - f_ref) <= 1e-9 * f_ref
        np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_sparse_columns_without_row_copy_beyond_the_polish_equal_sklearn(l1_ratio,
                                                                        monkeypatch):
    """A sparse working set whose warm start has more than ``CD_MIN_ACTIVE`` nonzeros is
    finished by coordinate descent, which reads columns only: its operator is built without
    the CSR copy of the columns (lowered here so that a small problem takes that route), and
    the fit still equals scikit-learn's."""
    from hadasparse.solvers import _lasso_kernels

    monkeypatch.setattr(_working_set, "CD_MIN_ACTIVE", 40)
    monkeypatch.setattr(_lasso_kernels, "CD_MIN_ACTIVE", 40)
    built = []
    sparse_operator = _working_set.sparse_operator

    def spy(design, b, columns, l2=0.0, rows=True):
        op = sparse_operator(design, b, columns, l2, rows)
        built.append((rows, op[9].size))
        return op

    monkeypatch.setattr(_working_set, "sparse_operator", spy)
    X, y, alpha_max = _problem(True)
    alpha = 1e-3 * alpha_max / l1_ratio
    ours = (HadamardLasso(alpha=alpha, tol=1e-10) if l1_ratio == 1.0
            else HadamardElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10)).fit(X, y)
    assert np.count_nonzero(ours.coef_) > 40
    # the route was taken: some working set without rows, and only those have none
    assert (False, 0) in built
    assert all(size > 0 for rows, size in built if rows)
    ref = _sklearn_fit(X, y, alpha, l1_ratio, False)
    f_ours = _objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio)
    f_ref = _objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio)
    assert _gap(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, False) <= 1e-9 * np.var(y)
    assert abs(f_ours - f_ref) <= 1e-9 * f_ref
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)


def _sklearn_fit(X, y, alpha, l1_ratio, positive):
    """The independent reference: scikit-learn's Lasso (l1_ratio 1) or ElasticNet at a
    tight tol."""
    ref = (Lasso(alpha=alpha, positive=positive, tol=1e-12, max_iter=100000)
           if l1_ratio == 1.0 else
           ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-12,
                      max_iter=100000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ref.fit(X, y)


def _gap(X, y, coef, intercept, alpha, l1_ratio, positive):
    """Duality gap of the elastic net at ``(coef, intercept)``: the dual point is the centred
    residual of the design augmented by ``√(n l2) I``, scaled to dual feasibility."""
    n = X.shape[0]
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    r = y - X @ coef - intercept
    rc, yc = r - r.mean(), y - y.mean()
    corr = np.asarray(X.T @ rc).ravel() / n - l2 * coef  # X_cᵀ rc = Xᵀ rc as Σ rc = 0
    dual_norm = corr.max() if positive else np.abs(corr).max()
    s = max(1.0, dual_norm / l1)
    primal = 0.5 * (rc @ rc) / n + l1 * np.abs(coef).sum() + 0.5 * l2 * coef @ coef
    dual = (yc @ yc - (yc - rc / s) @ (yc - rc / s)) / (2 * n) - 0.5 * l2 * coef @ coef / s**2
    return primal - dual


def test_square_cap_is_linear_in_the_data():
    # dense: the samples (a k×k block with k <= n is at most n·k entries); sparse: twice
    # the root of the non-zeros; never below the floor
    assert square_cap(1000) == 2048
    assert square_cap(10**5) == 10**5
    assert square_cap(20000, 10**6) == 2048
    assert square_cap(20000, 10**8) == 20000
    with square_floor(8):
        assert square_cap(10) == 10
        assert square_cap(10, 100) == 20
    X = sp.random(50, 80, density=0.1, format="csc", random_state=0)
    from hadasparse._design import preprocess
    design = preprocess(X, np.zeros(50), None, True)[0]
    assert design_square_cap(design) == square_cap(50, X.nnz)


def test_group_lasso_beyond_the_gram_budget(monkeypatch):
    """A dense design's group-lasso working set beyond the budget is reached through its
    columns: the same solution as the Gram route (itself checked against an independent
    proximal-gradient reference in test_enet.py / test_group_lasso.py), certified, with no
    Gram matrix above the cap."""
    from hadasparse import HadamardGroupLasso

    rng = np.random.default_rng(1)
    n, p = 40, 1500
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:40] = rng.standard_normal(40)
    y = X @ w + 0.05 * rng.standard_normal(n)
    params = dict(groups=5, alpha=0.02, tol=1e-10, max_iter=1000)
    ref = HadamardGroupLasso(**params).fit(X, y)
    shapes = []
    gram_operator = _working_set.gram_operator

    def spy_gram(G, c, l2=0.0):
        shapes.append(G.shape[0])
        return gram_operator(G, c, l2)

    monkeypatch.setattr(_working_set, "gram_operator", spy_gram)
    with square_floor(8):
        ours = HadamardGroupLasso(**params).fit(X, y)
        cap = square_cap(n)
    assert max(shapes, default=0) <= cap
    assert np.count_nonzero(ours.coef_) > cap  # the working set outgrew the budget
    def objective(m):
        r = y - X @ m.coef_ - m.intercept_
        norms = np.sqrt((m.coef_.reshape(-1, 5) ** 2).sum(axis=1))
        return 0.5 * np.mean(r**2) + 0.02 * np.sqrt(5) * norms.sum()
    assert abs(objective(ours) - objective(ref)) <= 1e-9 * objective(ref)
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)
    assert ours.dual_gap_ <= 1e-10 * np.var(y)


# --------------------------------------------------------------------------------------
# The Gram route of a tall dense design (issue 13, n >> p): X is centred a block of rows at
# a time (never copied), the gaps while iterating come from the Gram matrix, the final
# certificate from one exact pass over X.
# --------------------------------------------------------------------------------------


def _tall_problem(fit_intercept, seed=3, n=5000, p=20, offset=None):
    """Columns with means far larger than their spread (offset 1e4 vs ~1: a centred Gram
    formed as XᵀX − n x̄x̄ᵀ would lose ~8 digits, and the design's products go through
    centred blocks); without an intercept, moderate means (the model is then fitted on the
    uncentred columns, which large means make nearly collinear)."""
    rng = np.random.default_rng(seed)
    if offset is None:
        offset = 1e4 if fit_intercept else 3.0
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + offset * rng.uniform(0.5, 2, p)
    w = np.zeros(p)
    w[:6] = 2.0 * rng.standard_normal(6)
    y = X @ w + 0.5 * rng.standard_normal(n) + 50.0
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _exact_lasso_gap(X, y, sw, coef, intercept, l1, l2, fit_intercept):
    """The duality gap of the returned model in extended precision (np.longdouble): primal
    ``1/(2n) Σ s_i r_i² + l1‖β‖₁ + l2/2 ‖β‖²`` with its own intercept; sklearn's dual point
    (the weighted, centred residual scaled into the dual feasible set). Also returns the
    primal and ``‖b‖²/n`` (the tolerance's unit)."""
    ld = np.longdouble
    n = X.shape[0]
    s = np.ones(n, dtype=ld) if sw is None else np.asarray(sw, dtype=ld) * (n / np.sum(sw, dtype=ld))
    Xl, yl, beta = X.astype(ld), y.astype(ld), np.asarray(coef, dtype=ld)
    r = yl - Xl @ beta - ld(intercept)
    primal = 0.5 * np.sum(s * r * r) / n + l1 * np.sum(np.abs(beta)) + 0.5 * l2 * beta @ beta
    if fit_intercept:
        x_mean, y_mean = (s @ Xl) / n, (s @ yl) / n
    else:
        x_mean, y_mean = np.zeros(X.shape[1], dtype=ld), ld(0)
    A = np.sqrt(s)[:, None] * (Xl - x_mean)
    b = np.sqrt(s) * (yl - y_mean)
    rc = b - A @ beta  # the residual at the optimal intercept for beta
    corr = A.T @ rc / n - l2 * beta
    scale = max(ld(1), np.max(np.abs(corr)) / ld(l1))
    theta = rc / scale
    dual = (b @ theta - 0.5 * theta @ theta - 0.5 * n * l2 * (beta @ beta) / scale**2) / n
    return float(primal + 0.5 * l2 * beta @ beta - dual
                 - 0.5 * l2 * beta @ beta), float(primal), float(b @ b / n)


@pytest.mark.parametrize("fit_intercept, offset", [(True, 1e4), (True, 0.5), (False, 3.0)],
                         ids=["intercept-large-means", "intercept-small-means",
                              "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6], ids=["lasso", "enet"])
def test_tall_route_equals_sklearn_and_certifies(fit_intercept, offset, weighted, l1_ratio,
                                                 monkeypatch):
    """Large means: the products through centred blocks; small means (or no intercept): on X
    itself, centring applied to the vectors."""
    from hadasparse import _design
    # blocks of 1024 rows (the smallest): the 5000 rows are centred in five blocks
    monkeypatch.setattr(_design, "_BLOCK_BYTES", 1024)
    X, y, sw = _tall_problem(fit_intercept, offset=offset)
    sw = sw if weighted else None
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    xm = s @ X / n if fit_intercept else 0.0
    ym = s @ y / n if fit_intercept else 0.0
    alpha = 0.01 * np.abs((X - xm).T @ (s * (y - ym))).max() / n / l1_ratio
    params = dict(alpha=alpha, fit_intercept=fit_intercept, tol=1e-10, max_iter=100000)
    if l1_ratio == 1.0:
        ref = Lasso(**params).fit(X, y, sample_weight=sw)
        ours = HadamardLasso(**params)
    else:
        ref = ElasticNet(l1_ratio=l1_ratio, **params).fit(X, y, sample_weight=sw)
        ours = HadamardElasticNet(l1_ratio=l1_ratio, **params)
    ours.fit(X, y, sample_weight=sw)  # loads the compiled kernels (traced otherwise)
    direct = []
    residual_and_grad = _design.TallDesign.residual_and_grad

    def spy(design, b, beta):
        direct.append(design._direct)
        return residual_and_grad(design, b, beta)

    monkeypatch.setattr(_design.TallDesign, "residual_and_grad", spy)
    tracemalloc.start()
    ours.fit(X, y, sample_weight=sw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # X is never copied: the fit's traced peak is a fraction of X's size
    assert peak < 0.5 * X.nbytes
    # the certificate's pass took the route the means call for
    assert direct and set(direct) == {offset < 1e3}
    l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    gap, primal, unit = _exact_lasso_gap(X, y, sw, ours.coef_, ours.intercept_, l1, l2,
                                         fit_intercept)
    gap_ref, primal_ref, _ = _exact_lasso_gap(X, y, sw, ref.coef_, ref.intercept_, l1, l2,
                                              fit_intercept)
    # the same solution as sklearn's (both certified at 1e-10)
    assert abs(primal - primal_ref) <= 1e-10 * primal_ref
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-8 * np.abs(ref.coef_).max())
    # dual_gap_ is a certificate: within the tolerance, and not below the true gap of the
    # returned model (up to the float64 rounding of an exact pass, ~eps ‖b‖²/n)
    assert ours.dual_gap_ <= 1e-10 * unit
    assert ours.dual_gap_ >= gap - 1e2 * np.finfo(np.float64).eps * unit


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize("offset", [1e4, 0.5], ids=["large-means", "small-means"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("alpha, l2", [(0.05, 0.0), (0.05, 0.02), (0.0, 0.02)],
                         ids=["lasso", "enet", "ridge"])
def test_gram_form_gap_within_its_rounding_estimate(positive, alpha, l2, offset, weighted,
                                                    monkeypatch):
    """The Gram-form gap (O(p²), from G, Aᵀb and ‖b‖²) equals the exact one (a pass over
    A: centred blocks for large column means, X itself for small ones) within the rounding
    estimate it returns, at points far from and near the optimum. Unweighted with small
    means, the Gram pass is one product on X itself, centred afterwards."""
    from hadasparse import _design
    from hadasparse.solvers._working_set import gram_duality_gap, lasso_duality_gap

    monkeypatch.setattr(_design, "_BLOCK_BYTES", 1024)
    X, y, sw = _tall_problem(True, offset=offset)
    sw = sw if weighted else None
    design, B, _, _ = _design.preprocess(X, y[:, None], sw, True, tall=True)
    assert isinstance(design, _design.TallDesign)
    design.full_gram()
    assert design._direct == (offset < 1e3)
    b = np.ascontiguousarray(B[:, 0])
    n, p = X.shape
    G, c = design.full_gram(), design.target_correlations()[:, 0]
    # the Gram pass equals the products of an explicitly centred and weighted copy
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    A = np.sqrt(s)[:, None] * (X - s @ X / n)
    np.testing.assert_allclose(G, A.T @ A / n, rtol=1e-12, atol=1e-12 * np.abs(G).max())
    np.testing.assert_allclose(c, A.T @ b / n, rtol=0, atol=1e-12 * np.abs(c).max())
    rng = np.random.default_rng(0)
    beta_ls = np.linalg.solve(G + 1e-3 * np.eye(p), c)  # near a (ridge) optimum
    for beta in (np.zeros(p), rng.standard_normal(p), beta_ls,
                 beta_ls * (rng.uniform(size=p) < 0.5)):
        if positive:
            beta = np.maximum(beta, 0.0)
        exact, _, grad = lasso_duality_gap(design, b, beta, alpha, positive, l2=l2)
        gram_gap, gram_grad, err = gram_duality_gap(G, c, b @ b, n, beta, alpha, positive, l2)
        assert abs(gram_gap - exact) <= err
        np.testing.assert_allclose(gram_grad, grad, rtol=0, atol=1e-10 * np.abs(c).max())


def test_tall_route_several_targets_equal_sklearn(monkeypatch):
    """A 2-D y on the Gram route: every target's correlations come from the one pass that
    builds the Gram matrix; each column's fit equals sklearn's."""
    from hadasparse import _design

    monkeypatch.setattr(_design, "_BLOCK_BYTES", 1024)
    X, y, _ = _tall_problem(True)
    Y = np.column_stack([y, X[:, 3] - 0.5 * y])
    alpha = 0.02 * np.abs((X - X.mean(0)).T @ (Y - Y.mean(0))).max() / X.shape[0]
    params = dict(alpha=alpha, tol=1e-10, max_iter=100000)
    ref = Lasso(**params).fit(X, Y)
    ours = HadamardLasso(**params).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (2, X.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-8 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10)
    assert np.all(ours.dual_gap_ <= 1e-10 * ((Y - Y.mean(0)) ** 2).mean(axis=0))


@pytest.mark.parametrize("weights", ["none", "positive", "with-zeros"])
def test_tall_route_bounds_x_and_refuses_huge_entries(weights):
    """The Gram route does not scan X for check_magnitudes: the Gram pass's bound of max |X|
    is an upper bound (infinite with a zero weight, whose row the Gram matrix does not see),
    and an entry too large for float64 sums is refused with the same error as elsewhere."""
    from hadasparse import _design

    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 6)) * 3.0 + 7.0
    X[17, 2] = -250.0
    y = rng.standard_normal(400)
    sw = {"none": None, "positive": rng.uniform(0.1, 2.0, 400),
          "with-zeros": np.where(np.arange(400) == 17, 0.0, 1.0)}[weights]
    for fit_intercept in (True, False):
        design = _design.preprocess(X, y[:, None], sw, fit_intercept, tall=True)[0]
        bound = design.max_abs_bound()
        assert bound >= np.abs(X).max()
        if weights == "with-zeros":
            assert bound == np.inf
        elif fit_intercept:
            assert bound < 100 * np.abs(X).max()  # a bound, not a refusal to bound
    X[5, 1] = 1e200  # sums of squares over 400 samples overflow
    with pytest.raises(ValueError, match="X has entries up to 1.000e\\+200"):
        HadamardLasso(alpha=0.1).fit(X, y, sample_weight=sw)


def test_single_threaded_blas_sets_and_restores_the_blas_threads():
    """The solvers' BLAS runs on one thread inside the context (nested too), and every BLAS
    library gets its own thread count back on exit, also when the body raises."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from hadasparse._design import single_threaded_blas

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() and set(blas_threads()) == {2}
        with single_threaded_blas():
            assert set(blas_threads()) == {1}
            with single_threaded_blas():
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {2}
        with pytest.raises(RuntimeError):
            with single_threaded_blas():
                raise RuntimeError
        assert set(blas_threads()) == {2}


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_nonzero", [0, 3, 40, 400])
def test_sparse_residual_over_the_support_equals_scipy(index_dtype, n_nonzero):
    """A sparse design's product ``Aβ`` at a sparse β reads only β's nonzero columns
    (csc_matvec_nonzero): bitwise the sums of scipy's product, with the implicit centring too;
    a dense β (beyond a quarter of the columns) takes scipy's product itself."""
    from hadasparse._arrays import csc_matvec_nonzero
    from hadasparse._design import Design

    rng = np.random.default_rng(n_nonzero)
    X = sp.random(120, 400, density=0.05, format="csc", random_state=rng)
    X.data = rng.standard_normal(X.data.size)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    beta = np.zeros(400)
    beta[rng.choice(400, n_nonzero, replace=False)] = rng.standard_normal(n_nonzero)
    np.testing.assert_array_equal(csc_matvec_nonzero(X.data, X.indices, X.indptr, 120, beta),
                                  X @ beta)
    x_mean = np.asarray(X.mean(axis=0)).ravel()
    sqrt_sw = rng.uniform(0.5, 1.5, 120)
    design = Design(X, x_mean=x_mean, sqrt_sw=sqrt_sw)
    expected = X @ beta - sqrt_sw * (x_mean @ beta)
    np.testing.assert_array_equal(design.dot(beta), expected)
    dense = (X.toarray() - x_mean) @ beta
    np.testing.assert_allclose(design.dot(beta), dense - (sqrt_sw - 1) * (x_mean @ beta),
                               rtol=1e-12, atol=1e-12)
