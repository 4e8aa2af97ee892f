"""HadamardSGDRegressor / HadamardSGDClassifier: sparse linear models trained by minibatch
stochastic gradient on the Hadamard factors, for data that arrives in batches or does not fit
in memory (``partial_fit``), with exact zeros after every pass.

One pass (an epoch of ``fit``, or one ``partial_fit`` call) runs minibatch steps of an
optimiser (Adam by default) on the factors of the smooth surrogate. Along the way it keeps
running means, with the same weights, of the iterates ``β(factors)`` and of the minibatch
gradients of the loss with respect to β; a new minibatch of B rows gets weight
``2B / samples_seen``, so the weights grow linearly with the samples seen and the later part
of the stream dominates (polynomial-decay averaging). For a quadratic loss the mean gradient
is then the gradient at the mean iterate, up to sampling noise.

Each pass ends with a *snap*: one proximal-gradient step of the original penalty from the
mean iterate β̄ along the mean gradient ḡ, with per-coordinate steps
``t_j = 1 / (bound of ℓ'' · mean x_j²)``: ``coef_ = prox_{tαR}(β̄ − t ḡ)``. For ℓ1 this is a
coordinate-descent update of every coordinate: ``coef_j = 0`` exactly when the gradient
without coordinate j's own contribution, ``ḡ_j − β̄_j / t_j``, is inside the penalty's
subdifferential (``|·| ≤ α``), i.e. the lasso's optimality test, with the noise of the
averaged gradient instead of that of a minibatch. A minimiser is a fixed point of the step
(whatever t), so active coefficients move only by that noise. The factors are kept as they
are (a snapped zero is not written back: zero factors are a fixed point of the surrogate's
gradient, and a later pass may need the coordinate).
"""

import numbers
import time
import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._groups import resolve_groups
from ..solvers import single_threaded_blas
from ._classifier import LinearClassifierProbaMixin
from .._validation import check_bool_param, check_option, check_sample_weight, check_scalar_param
from ..losses import Logistic, Multinomial, SquaredError
from ..penalties import HadamardPenalty

_LEARNING_RATES = {"adam", "adagrad", "constant", "invscaling"}
_PENALTIES = {"l1", "elasticnet", "group", "lq"}
_ADAM_B1, _ADAM_B2, _EPS = 0.9, 0.999, 1e-8
# Bounds of the losses' second derivatives: the snap's step for coordinate j is
# 1 / (bound * mean x_ij^2) (the multinomial's diagonal is <= 1/4; 1/2 is the safer step
# measured on tests/test_sgd.py's three-class problem).
_CURVATURE = {"squared_error": 1.0, "logistic": 0.25, "multinomial": 0.5}


# ------------------------------------------------------------------------------------------
# The optimiser on the factors (numpy: minibatch products are BLAS, the rest is O(p))
# ------------------------------------------------------------------------------------------


class _Optimiser:
    """Adam, AdaGrad or plain SGD (constant / inverse-scaling steps) on a list of arrays."""

    def __init__(self, kind, shapes, eta0, power_t):
        self.kind = kind
        self.eta0 = eta0
        self.power_t = power_t
        self.t = 0
        self.m = [np.zeros(s) for s in shapes] if kind == "adam" else None
        self.v = [np.zeros(s) for s in shapes] if kind in ("adam", "adagrad") else None

    def rate(self):
        """The step size of the current step (``t`` already counts it)."""
        if self.kind in ("adam", "invscaling"):
            return self.eta0 / self.t ** self.power_t
        return self.eta0

    def step(self, params, grads):
        self.t += 1
        lr = self.rate()
        if self.kind == "adam":
            c1 = 1.0 - _ADAM_B1 ** self.t
            c2 = 1.0 - _ADAM_B2 ** self.t
            for x, g, m, v in zip(params, grads, self.m, self.v):
                m *= _ADAM_B1
                m += (1.0 - _ADAM_B1) * g
                v *= _ADAM_B2
                v += (1.0 - _ADAM_B2) * g * g
                x -= lr / c1 * m / (np.sqrt(v / c2) + _EPS)
        elif self.kind == "adagrad":
            for x, g, v in zip(params, grads, self.v):
                v += g * g
                x -= lr * g / (np.sqrt(v) + _EPS)
        else:
            for x, g in zip(params, grads):
                x -= lr * g


def _rows(X, idx):
    """Rows ``idx`` (an index array or a slice) of X as a float64 minibatch."""
    Xb = X[idx]
    if sparse.issparse(Xb):
        return Xb.astype(np.float64, copy=False)
    return np.asarray(Xb, dtype=np.float64)


def _sgd_pass(X, Y, sw, state, *, loss, penalty, alpha, alpha_l2, batch_size, rng, shuffle,
              fit_intercept, average_start):
    """One pass over ``(X, Y)`` in minibatches: optimiser steps on the factors and the
    intercept, and the running means the snap starts from (``state["beta_mean"]``,
    ``state["intercept_mean"]``, ``state["grad_mean"]``) and the sums of squares of the
    columns (``state["sq_sum"]``, for the snap's steps). Returns the sum of the (weighted)
    losses over the pass.

    ``Y`` is the 1-D target (K = 1) or the n×K one-hot matrix; β has shape (K, p).
    """
    n = X.shape[0]
    K = state["intercept"].shape[0]
    one_d = Y.ndim == 1
    order = rng.permutation(n) if shuffle else None
    loss_sum = 0.0
    opt = state["optimiser"]
    factors = state["factors"]
    no_intercept = np.zeros(K)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size] if shuffle else slice(start, start + batch_size)
        Xb = _rows(X, idx)
        Yb = Y[idx]
        B = Xb.shape[0]
        beta = penalty.to_beta(factors)
        # K = 1 as vectors: a gemv is several times faster than a gemm with one column
        Z = (Xb @ beta[0] + state["intercept"][0]) if one_d else (
            np.asarray(Xb @ beta.T) + state["intercept"])
        G = loss.gradient(Yb, Z)
        values = loss.value(Yb, Z)
        if sw is not None:
            swb = sw[idx]
            G = G * (swb if one_d else swb[:, None])
            values = values * swb
        loss_sum += float(values.sum())
        if one_d:
            gb = np.asarray(Xb.T @ G).reshape(1, -1)
            gi = np.array([G.sum()])
        else:
            gb = np.asarray(Xb.T @ G).T  # (K, p)
            gi = G.sum(axis=0)
        if sparse.issparse(Xb):
            state["sq_sum"] += np.bincount(Xb.indices, weights=Xb.data * Xb.data,
                                           minlength=Xb.shape[1])
        else:
            state["sq_sum"] += np.einsum("ij,ij->j", Xb, Xb)
        grad_beta = gb / B
        if alpha_l2:
            grad_beta += alpha_l2 * beta
        grads = penalty.gradients(factors, grad_beta, alpha)
        grads.append(gi / B if fit_intercept else no_intercept)
        opt.step(list(factors) + [state["intercept"] if fit_intercept else no_intercept.copy()],
                 grads)
        state["seen"] += B
        # The running means: weight 2B / seen on the new minibatch (weights growing linearly
        # with the samples seen: the later half of the stream dominates), or the plain mean
        # after ``average`` samples. The gradients at the iterates and the iterates get the
        # same weights, so for a quadratic loss the mean gradient is the gradient at the
        # mean iterate, up to sampling noise.
        if average_start is not None and state["seen"] - B >= average_start:
            state["n_mean"] += B
            w = B / state["n_mean"]
        else:
            w = min(1.0, 2.0 * B / state["seen"])
        state["grad_mean"] *= 1.0 - w
        state["grad_mean"] += (w / B) * gb
        state["beta_mean"] *= 1.0 - w
        state["beta_mean"] += w * penalty.to_beta(factors)
        state["intercept_mean"] *= 1.0 - w
        state["intercept_mean"] += w * state["intercept"]
    return loss_sum


# ------------------------------------------------------------------------------------------
# Estimators
# ------------------------------------------------------------------------------------------


class _BaseHadamardSGD(BaseEstimator):
    """Parameters, validation, the pass loop and the snap shared by both estimators."""

    def __init__(self, alpha=0.0001, *, penalty="l1", l1_ratio=0.15, groups=None, q=0.5,
                 fit_intercept=True, max_iter=1000, tol=1e-3, n_iter_no_change=5,
                 learning_rate="adam", eta0=0.1, power_t="auto", batch_size=256, shuffle=True,
                 verbose=0, random_state=None, warm_start=False, average=False):
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.groups = groups
        self.q = q
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.average = average


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- parameters ----------------------------------------------------------------------

    def _validate_params(self):
        check_scalar_param(self.alpha, "alpha", low=0.0)
        check_option(self.penalty, "penalty", _PENALTIES)
        check_scalar_param(self.l1_ratio, "l1_ratio", low=0.0, high=1.0)
        check_scalar_param(self.q, "q", low=0.0, high=1.0, low_inclusive=False)
        if self.penalty == "lq":
            k = 2.0 / self.q
            if abs(k - round(k)) > 1e-9:
                raise ValueError(f"q must be 2/k for an integer k >= 2 (1, 2/3, 1/2, 2/5, ...); "
                                 f"got q={self.q!r}.")
        check_bool_param(self.fit_intercept, "fit_intercept")
        check_option(self.learning_rate, "learning_rate", _LEARNING_RATES)
        check_scalar_param(self.eta0, "eta0", low=0.0, low_inclusive=False)
        if not (isinstance(self.power_t, str) and self.power_t == "auto"):
            check_scalar_param(self.power_t, "power_t", low=0.0)
        check_scalar_param(self.batch_size, "batch_size", kind="int", low=1)
        check_scalar_param(self.max_iter, "max_iter", kind="int", low=1)
        check_scalar_param(self.tol, "tol", low=0.0, allow_none=True)
        check_scalar_param(self.n_iter_no_change, "n_iter_no_change", kind="int", low=1)
        check_bool_param(self.shuffle, "shuffle")
        check_bool_param(self.warm_start, "warm_start")
        check_scalar_param(self.verbose, "verbose", kind="int", low=0)
        if not (isinstance(self.average, (bool, np.bool_))
                or (isinstance(self.average, numbers.Integral) and self.average > 0)):
            raise ValueError("The 'average' parameter must be a boolean or a positive int; got "
                             f"{self.average!r}.")

    def _average_start(self):
        if self.average is True:
            return 0
        if self.average is False or isinstance(self.average, np.bool_) and not self.average:
            return None
        return int(self.average)

    def _make_penalty(self, K, n_features):
        """The Hadamard penalty on β of shape (K, n_features), and (α_penalty, α_l2, q)."""
        alpha = float(self.alpha)
        if self.penalty == "group":
            columns, gptr, sizes, free = resolve_groups(self.groups, n_features)
            if columns.size != n_features:
                raise ValueError("Overlapping groups are not supported by the SGD estimators: "
                                 "every feature must be in exactly one group.")
            labels = np.full(n_features, -1, dtype=np.int64)
            for g in range(sizes.size):
                if not free[g]:
                    labels[columns[gptr[g]:gptr[g + 1]]] = g
            pen = HadamardPenalty((K, n_features), kind="group", depth=2,
                                  groups=np.tile(labels, K))
            return pen, alpha, 0.0, 1.0
        if self.penalty == "lq":
            depth = int(round(2.0 / self.q))
            return HadamardPenalty((K, n_features), depth=depth), alpha, 0.0, 2.0 / depth
        if self.penalty == "elasticnet":
            rho = float(self.l1_ratio)
            return HadamardPenalty((K, n_features)), alpha * rho, alpha * (1.0 - rho), 1.0
        return HadamardPenalty((K, n_features)), alpha, 0.0, 1.0

    # -- state ---------------------------------------------------------------------------

    def _init_state(self, K, n_features, intercept0, rng, X, Y):
        penalty, a_pen, a_l2, q = self._make_penalty(K, n_features)
        start = np.zeros(penalty.shape)
        if penalty.depth > 2:
            # With three or more factors, zero is a local minimum of the surrogate (not a
            # saddle): small random factors decay to it. Start instead from the balanced
            # factors of a gradient step from zero on (the first rows of) the first batch.
            rows = slice(0, min(X.shape[0], 10000))
            Xr = _rows(X, rows)
            Z = np.broadcast_to(np.asarray(intercept0, dtype=np.float64).reshape(-1),
                                (Xr.shape[0], K))
            G = self._loss().gradient(Y[rows], Z[:, 0] if Y.ndim == 1 else Z)
            G = G[:, None] if G.ndim == 1 else G
            g0 = np.asarray(Xr.T @ G).T / Xr.shape[0]
            sq = Xr.multiply(Xr).mean(axis=0) if sparse.issparse(Xr) else (Xr * Xr).mean(axis=0)
            curv = _CURVATURE[self._loss().name] * float(np.max(sq)) if np.size(sq) else 0.0
            if curv > 0:
                start = -g0 / curv
        factors = penalty.balanced(start, rng=rng)
        intercept = np.array(intercept0, dtype=np.float64).reshape(K) if self.fit_intercept \
            else np.zeros(K)
        self._penalty = penalty
        self._alphas = (a_pen, a_l2, q)
        self._state = {"factors": factors, "intercept": intercept, "seen": 0, "n_mean": 0,
                       "beta_mean": np.zeros(penalty.shape), "intercept_mean": intercept.copy(),
                       "grad_mean": np.zeros(penalty.shape), "sq_sum": np.zeros(n_features)}
        self._new_optimiser()
        self.t_ = 0

    def _new_optimiser(self):
        shapes = [f.shape for f in self._state["factors"]] + [self._state["intercept"].shape]
        power_t = self._auto_power_t() if self.power_t == "auto" else float(self.power_t)
        self._state["optimiser"] = _Optimiser(self.learning_rate, shapes, float(self.eta0),
                                              power_t)

    def _run_pass(self, X, Y, sw, rng, scale):
        """One pass and the snap; sets ``coef_``/``intercept_`` and returns the pass's
        objective estimate (mean loss during the pass + α R(coef_))."""
        a_pen, a_l2, q = self._alphas
        # in the scaled problem (target / scale) the penalty scales as scale^(q - 2)
        alpha = a_pen * scale ** (q - 2.0)
        loss = self._loss()
        state = self._state
        with single_threaded_blas():
            loss_sum = _sgd_pass(
                X, Y, sw, state, loss=loss, penalty=self._penalty, alpha=alpha, alpha_l2=a_l2,
                batch_size=int(self.batch_size), rng=rng, shuffle=bool(self.shuffle),
                fit_intercept=bool(self.fit_intercept), average_start=self._average_start())
        self.t_ = state["optimiser"].t
        # the snap: one proximal-gradient step of the original penalty from the mean iterate
        # along the mean gradient (a fixed point of it is a stationary point of the problem)
        beta = state["beta_mean"]
        g = state["grad_mean"] + a_l2 * beta
        # per-coordinate steps 1 / (bound of ℓ'' · mean x_j² + α_l2): the snap of a
        # coordinate is then a coordinate-descent update (the zero test asks whether the
        # gradient without the coordinate's own contribution is inside the subdifferential)
        curv = _CURVATURE[loss.name] * state["sq_sum"] / state["seen"] + a_l2
        seen_col = curv > 0
        step = np.where(seen_col, 1.0 / np.where(seen_col, curv, 1.0), 0.0)
        step = np.broadcast_to(step, beta.shape)
        if self._penalty.kind == "group":
            # one step per group (its smallest), as the block proximal map needs
            flat = step.reshape(-1)[self._penalty._pen]
            gstep = np.full(self._penalty.n_groups, np.inf)
            np.minimum.at(gstep, self._penalty._gid[self._penalty._pen], flat)
            gstep[~np.isfinite(gstep)] = 0.0
            coef = self._penalty.prox(beta - step * g, gstep * alpha)
        else:
            coef = self._penalty.prox(beta - step * g, step * alpha)
        # a feature that has been zero in every sample so far gets no coefficient
        coef = np.where(np.broadcast_to(seen_col, beta.shape), coef, 0.0)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(state["intercept_mean"]))):
            raise ValueError("The stochastic gradient diverged (non-finite coefficients); "
                             "lower eta0 or scale the features (e.g. with StandardScaler).")
        self._set_coef(coef * scale, state["intercept_mean"] * scale)
        return (loss_sum / X.shape[0]) * scale ** 2 + a_pen * self._penalty.value(
            coef * scale) + 0.5 * a_l2 * float(np.sum((coef * scale) ** 2))

    def _fit(self, X, Y, sw, n_features, K, intercept0, scale):
        """``fit``: epochs over (X, Y) until the objective stops improving by ``tol``."""
        rng = check_random_state(self.random_state)
        self._rng = rng
        if not (self.warm_start and hasattr(self, "_state")
                and self._penalty.shape == (K, n_features)):
            self._init_state(K, n_features, intercept0, rng, X, Y / scale)
            self._scale = scale
        else:
            self._new_optimiser()
            scale = self._scale
        Y = Y / scale
        best = np.inf
        no_improve = 0
        self.n_iter_ = 0
        for epoch in range(int(self.max_iter)):
            tic = time.perf_counter()
            objective = self._run_pass(X, Y, sw, rng, scale)
            self.n_iter_ = epoch + 1
            if self.verbose:
                print(f"-- Epoch {epoch + 1}: objective {objective:.6g}, "
                      f"{int(np.count_nonzero(self.coef_))} nonzeros, {self._state['seen']} "
                      f"samples seen, {time.perf_counter() - tic:.2f} s")
            if self.tol is not None:
                if objective > best - float(self.tol):
                    no_improve += 1
                else:
                    no_improve = 0
                best = min(best, objective)
                if no_improve >= int(self.n_iter_no_change):
                    break
        else:
            if self.tol is not None and int(self.max_iter) > 0:
                warnings.warn(
                    f"Maximum number of epochs ({self.max_iter}) reached before the objective "
                    f"stopped improving by tol={self.tol}; consider increasing max_iter.",
                    ConvergenceWarning)
        return self

    def _partial_fit(self, X, Y, sw, n_features, K, intercept0, scale):
        if not hasattr(self, "_state"):
            rng = check_random_state(self.random_state)
            self._rng = rng
            self._init_state(K, n_features, intercept0, rng, X, Y)
            self._scale = scale
            self.n_iter_ = 0
        tic = time.perf_counter()
        objective = self._run_pass(X, Y, sw, self._rng, self._scale)
        self.n_iter_ += 1
        if self.verbose:
            print(f"-- partial_fit {self.n_iter_}: objective on the batch {objective:.6g}, "
                  f"{int(np.count_nonzero(self.coef_))} nonzeros, {self._state['seen']} "
                  f"samples seen, {time.perf_counter() - tic:.2f} s")
        return self

    def _validate_X(self, X, reset):
        return validate_data(self, X, accept_sparse=["csr"], dtype=[np.float64, np.float32],
                             reset=reset)

    @property
    def sparse_coef_(self):
        """Sparse representation of the fitted ``coef_``."""
        check_is_fitted(self)
        return sparse.csr_matrix(np.atleast_2d(self.coef_))

    def _decision(self, X):
        """``X @ coef_.T + intercept_`` (1-D when there is one row of coefficients)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        scores = np.asarray(X @ np.atleast_2d(self.coef_).T) + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores


_COMMON_PARAMS = """alpha : float, default=0.0001
        Constant that multiplies the penalty. ``alpha >= 0``.
    penalty : {'l1', 'elasticnet', 'group', 'lq'}, default='l1'
        ``'l1'``: ``R(w) = ||w||_1`` (surrogate ``w = u ⊙ v``, ridge ``(||u||² + ||v||²)/2``);
        ``'elasticnet'``: ``l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2`` (sklearn's
        convention; the ridge part stays on w); ``'group'``: ``Σ_g sqrt(|g|) ||w_g||_2`` over
        ``groups``; ``'lq'``: ``Σ_j |w_j|^q`` (non-convex for q < 1).
    l1_ratio : float in [0, 1], default=0.15
        Elastic-net mixing (``penalty='elasticnet'`` only), as in sklearn.
    groups : int, list or array-like, default=None
        The groups of ``penalty='group'``, in any form :class:`HadamardGroupLasso` takes (a
        group size, a list of sizes, a list of index lists, or one label per feature with -1
        for unpenalised features); the groups must not overlap.
    q : float, default=0.5
        Exponent of ``penalty='lq'``: ``q = 2/k`` for an integer ``k >= 2`` (1, 2/3, 1/2,
        2/5, ...); the surrogate has k factors.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of epochs of :meth:`fit` (ignored by :meth:`partial_fit`, which makes
        one pass).
    tol : float or None, default=1e-3
        :meth:`fit` stops when the epoch's objective (mean loss over the epoch plus the
        penalty of the snapped coefficients) has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs, as sklearn's SGD. ``None``: run
        ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        See ``tol``.
    learning_rate : {'adam', 'adagrad', 'constant', 'invscaling'}, default='adam'
        Optimiser on the factors: Adam with step ``eta0 / t**power_t`` (t the number of
        minibatch steps), AdaGrad with ``eta0``, or plain SGD with ``eta0`` or
        ``eta0 / t**power_t``.
    eta0 : float, default=0.1
        Initial step size. Adam and AdaGrad steps are ``eta0``-sized in every factor
        coordinate whatever the gradient's scale; plain SGD needs a step below ``1 / L``.
    power_t : float or 'auto', default='auto'
        Decay exponent of the 'adam' and 'invscaling' steps. 'auto': 0.5 for a binary
        classifier, 0.25 for the regressor and a multinomial classifier (whose loss is flat
        along adding a vector to every class row, which the shorter steps of 0.5 are slow
        to settle). Measured on the problems of ``benchmarks/bench_streaming.py`` and
        ``tests/test_sgd.py``: the regressor gains from the longer steps when few steps are
        made, the binary classifier on sparse features from the quieter ones.
    batch_size : int, default=256
        Rows per minibatch step. A ``partial_fit`` call makes one pass over its batch in
        minibatches of this size.
    shuffle : bool, default=True
        Whether to shuffle the rows before each pass (each epoch of :meth:`fit`, each
        :meth:`partial_fit` batch).
    verbose : int, default=0
        Print a line (objective, nonzeros, samples seen, time) after every pass.
    random_state : int, RandomState instance or None, default=None
        Seeds the factors' random start (which breaks the sign symmetry of the surrogate)
        and the shuffling.
    warm_start : bool, default=False
        :meth:`fit` continues from the factors of the previous fit (with a fresh optimiser)
        instead of starting again.
    average : bool or int, default=False
        Which mean of the iterates the snap starts from (the gradients are averaged with
        the same weights). ``False``: the running mean whose weights grow linearly with the
        samples seen (the later part of the stream dominates; measured better than a plain
        mean after a fixed point, and needs no choice). ``True`` or an int ``m``: sklearn's
        ASGD, the plain mean of the iterates after ``m`` samples (``True``: from the
        start; before ``m``, the default weights)."""


class HadamardSGDRegressor(RegressorMixin, _BaseHadamardSGD):
    """Sparse linear regression by minibatch SGD on Hadamard factors, with ``partial_fit``.

    The streaming counterpart of :class:`HadamardLasso`: it minimises the same objective as
    sklearn's :class:`~sklearn.linear_model.SGDRegressor` with ``loss='squared_error'``::

        1 / n * Σ_i s_i (y_i - x_i·w - b)² / 2 + alpha * R(w)

    (``s_i`` the sample weights as given, 1 by default; for ``penalty='l1'`` and unit
    weights this is exactly :class:`HadamardLasso`'s objective), through a smooth surrogate:
    ``w`` is a product of factors and ``alpha * R`` a ridge penalty on them (same minima).
    Each minibatch takes an optimiser step (Adam by default) on the factors; each pass (an
    epoch of :meth:`fit`, a :meth:`partial_fit` call) ends with one proximal step of ``R``
    along the pass's averaged gradient, so ``coef_`` has **exact zeros** after every pass.
    The factors, the optimiser's state and the step count persist between
    :meth:`partial_fit` calls. Internally the target is divided by the standard deviation of
    the first batch (the penalty rescaled to match), so the step sizes do not depend on the
    target's units; scale the features yourself (``StandardScaler().partial_fit``), as for
    sklearn's SGD.

    Parameters
    ----------
    {common}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Snapped coefficients (exact zeros) after the last pass.
    intercept_ : ndarray of shape (1,)
        Intercept.
    n_iter_ : int
        Epochs run by :meth:`fit`, or :meth:`partial_fit` calls so far.
    t_ : int
        Minibatch steps taken by the optimiser since it was created.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    HadamardLasso : The batch solver of the same (ℓ1) objective, with a duality-gap
        certificate.
    sklearn.linear_model.SGDRegressor : Plain SGD; its ℓ1 penalty gives no exact zeros.

    Notes
    -----
    The accuracy after a fixed number of epochs depends on ``eta0``, ``batch_size`` and the
    conditioning of the data; unlike :class:`HadamardLasso` there is no certificate. On
    50000 × 500 standardised Gaussian data (10 true features, α = 0.05), 5 epochs of
    1000-row ``partial_fit`` calls give the lasso's support and a relative distance below
    0.01 to its solution (``benchmarks/bench_streaming.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardSGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((10000, 20))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(10000)
    >>> reg = HadamardSGDRegressor(alpha=0.05, random_state=0)
    >>> for epoch in range(5):
    ...     for start in range(0, 10000, 1000):
    ...         _ = reg.partial_fit(X[start:start + 1000], y[start:start + 1000])
    >>> np.flatnonzero(reg.coef_).tolist()
    [0, 1]
    >>> from hadasparse import HadamardLasso  # the batch solution of the same objective
    >>> lasso = HadamardLasso(alpha=0.05).fit(X, y)
    >>> bool(np.abs(reg.coef_ - lasso.coef_).max() < 0.01)
    True
    """

    def _loss(self):
        return SquaredError

    @staticmethod
    def _auto_power_t():
        return 0.25

    def _set_coef(self, coef, intercept):
        self.coef_ = coef[0]
        self.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(1)

    def _data(self, X, y, sample_weight, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr"], dtype=[np.float64, np.float32],
                             y_numeric=True, reset=reset)
        y = np.asarray(y, dtype=np.float64)
        sw = check_sample_weight(sample_weight, X.shape[0])
        return X, y, sw

    @staticmethod
    def _start(y, sw):
        """Intercept start (the weighted mean) and the target's scale, from the first
        batch."""
        mean = float(np.average(y, weights=sw))
        std = float(np.sqrt(np.average((y - mean) ** 2, weights=sw)))
        scale = std if std > 0 else (abs(mean) if mean != 0 else 1.0)
        return mean / scale, scale

    def fit(self, X, y, sample_weight=None):
        """Fit by epochs of minibatch SGD over (X, y) (see ``tol``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, y, sw = self._data(X, y, sample_weight, reset=True)
        b0, scale = self._start(y, sw)
        if not self.warm_start:
            self.__dict__.pop("_state", None)
        return self._fit(X, y, sw, X.shape[1], 1, b0, scale)

    def partial_fit(self, X, y, sample_weight=None):
        """One pass of minibatch SGD over the batch (X, y), continuing from the current
        factors, then the snap to exact zeros.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss.

        Returns
        -------
        self : object
        """
        first = not hasattr(self, "_state")
        if first:
            self._validate_params()
        X, y, sw = self._data(X, y, sample_weight, reset=first)
        b0, scale = self._start(y, sw) if first else (0.0, self._scale)
        return self._partial_fit(X, y / scale, sw, X.shape[1], 1, b0, scale)

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._decision(X)


HadamardSGDRegressor.__doc__ = HadamardSGDRegressor.__doc__.replace("{common}", _COMMON_PARAMS)


class HadamardSGDClassifier(LinearClassifierProbaMixin, ClassifierMixin,
                            _BaseHadamardSGD):
    """Sparse logistic regression (binary or multinomial) by minibatch SGD on Hadamard
    factors, with ``partial_fit``.

    The objective is sklearn's :class:`~sklearn.linear_model.SGDClassifier` with
    ``loss='log_loss'`` for two classes, and its multinomial version for more::

        1 / n * Σ_i s_i log(1 + exp(-y_i (x_i·w + b))) + alpha * R(w)        (y_i = ±1)
        1 / n * Σ_i s_i (logsumexp_k(x_i·w_k + b_k) - (x_i·w_{y_i} + b_{y_i})) + alpha * R(W)

    (``s_i`` the sample weights, 1 by default; the penalty acts on every entry of the
    n_classes × n_features matrix W; a group is a set of features across all classes). It is
    the objective of :class:`~sklearn.linear_model.LogisticRegression` with an ℓ1 penalty at
    ``C = 1 / (n_samples * alpha)``. Minibatch steps (Adam by default) act on the factors of
    the smooth Hadamard surrogate; every pass ends with a proximal step of ``R``, so
    ``coef_`` has **exact zeros** after every :meth:`fit` epoch and every
    :meth:`partial_fit` call. Unlike sklearn's SGDClassifier (one-vs-all), more than two
    classes are fitted jointly (softmax), so :meth:`predict_proba` is the model's own.

    Parameters
    ----------
    {common}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Snapped coefficients (exact zeros); one row for two classes (the score of
        ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Epochs run by :meth:`fit`, or :meth:`partial_fit` calls so far.
    t_ : int
        Minibatch steps taken by the optimiser since it was created.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.SGDClassifier : Plain SGD; its ℓ1 penalty gives no exact zeros.
    sklearn.linear_model.LogisticRegression : The batch solvers of the same objective.

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardSGDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((10000, 20))
    >>> y = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(10000) > 0, "yes", "no")
    >>> clf = HadamardSGDClassifier(alpha=0.01, random_state=0)
    >>> for epoch in range(5):
    ...     for start in range(0, 10000, 1000):
    ...         _ = clf.partial_fit(X[start:start + 1000], y[start:start + 1000],
    ...                             classes=["no", "yes"])
    >>> np.flatnonzero(clf.coef_[0]).tolist()
    [0, 1]
    >>> bool(clf.score(X, y) > 0.85)
    True
    """

    def _loss(self):
        return Logistic if self.classes_.size == 2 else Multinomial

    def _auto_power_t(self):
        return 0.5 if self.classes_.size == 2 else 0.25

    def _set_coef(self, coef, intercept):
        self.coef_ = coef
        self.intercept_ = np.asarray(intercept, dtype=np.float64).copy()

    def _data(self, X, y, sample_weight, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr"], dtype=[np.float64, np.float32],
                             reset=reset)
        check_classification_targets(y)
        sw = check_sample_weight(sample_weight, X.shape[0])
        return X, y, sw

    def _encode(self, y, sw):
        """Targets as the loss sees them (±1, or one-hot) and the intercept start (smoothed
        log-odds of the batch's class frequencies)."""
        pos = np.searchsorted(self.classes_, y)
        pos = np.minimum(pos, self.classes_.size - 1)
        bad = self.classes_[pos] != y
        if np.any(bad):
            raise ValueError(f"y contains labels not in classes {self.classes_.tolist()}: "
                             f"{np.unique(y[bad])[:5].tolist()}.")
        K = self.classes_.size
        counts = np.bincount(pos, weights=sw, minlength=K) + 1.0
        if K == 2:
            return np.where(pos == 1, 1.0, -1.0), np.log(counts[1] / counts[0])
        Y = np.zeros((y.shape[0], K))
        Y[np.arange(y.shape[0]), pos] = 1.0
        logp = np.log(counts)
        return Y, logp - logp.mean()

    @staticmethod
    def _check_classes(classes):
        classes = np.unique(np.asarray(classes))
        if classes.size < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{classes.size} class.")
        return classes

    def fit(self, X, y, sample_weight=None):
        """Fit by epochs of minibatch SGD over (X, y) (see ``tol``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, y, sw = self._data(X, y, sample_weight, reset=True)
        classes = self._check_classes(y)
        if not (self.warm_start and hasattr(self, "classes_")
                and np.array_equal(classes, self.classes_)):
            self.__dict__.pop("_state", None)
        self.classes_ = classes
        Y, b0 = self._encode(y, sw)
        K = 1 if classes.size == 2 else classes.size
        return self._fit(X, Y, sw, X.shape[1], K, b0, 1.0)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass of minibatch SGD over the batch (X, y), continuing from the current
        factors, then the snap to exact zeros.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes that may appear. Required on the first call (as in sklearn's
            SGDClassifier); a later call may repeat it but not change it.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss.

        Returns
        -------
        self : object
        """
        first = not hasattr(self, "_state")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = self._check_classes(classes)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                        self.classes_):
            raise ValueError(f"classes={np.unique(np.asarray(classes)).tolist()} is not the "
                             f"same as on the first call to partial_fit, was: "
                             f"{self.classes_.tolist()}.")
        X, y, sw = self._data(X, y, sample_weight, reset=first)
        Y, b0 = self._encode(y, sw)
        K = 1 if self.classes_.size == 2 else self.classes_.size
        return self._partial_fit(X, Y, sw, X.shape[1], K, b0, 1.0)

    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]``.
        """
        return self._decision(X)

HadamardSGDClassifier.__doc__ = HadamardSGDClassifier.__doc__.replace("{common}",
                                                                      _COMMON_PARAMS)
