"""HadamardMLPClassifier / HadamardMLPRegressor: sklearn's MLP with its weights on Hadamard
factors, so that weight decay on the factors is a sparsity penalty on the weights."""

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._validation import (
    check_bool_param,
    check_option,
    check_sample_weight,
    check_scalar_param,
)
from ._solver import fit_mlp, forward, glorot_init, make_specs, penalised_objective, snap

_PARAMS_DOC = """hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    sparsity : {"weights", "inputs", "neurons"}, default="weights"
        What the penalty makes sparse:

        - ``"weights"``: ``R = Σ_l Σ_ij |W_l,ij|^q`` on every weight matrix (factors
          ``W = U_1 ⊙ … ⊙ U_k``);
        - ``"inputs"``: ``R = Σ_j ||W_1[j, :]||_2^q`` (the outgoing weights of input
          feature j, weighted by ``sqrt(n_units)``): feature selection. The other weight
          matrices get ``alpha/2 ||W||²`` (weight decay), without which the network could
          shrink the first layer and grow the next one at no cost;
        - ``"neurons"``: ``R = Σ_l Σ_u ||W_l[:, u]||_2^q`` over every hidden unit u of every
          hidden layer (its incoming weights, weighted by ``sqrt(fan_in)``): pruning units.
          The output layer gets ``alpha/2 ||W||²``.
    k : int >= 2, default=2
        Depth of the factorisation; the penalty is ``|·|^q`` with ``q = 2/k`` (``k = 2``: ℓ1
        / group lasso; ``k > 2``: non-convex, sparser).
    solver : {"adam", "sgd"}, default="adam"
        Stochastic optimiser of the factors (sklearn's Adam and SGD arithmetic; SGD with a
        constant learning rate).
    alpha : float >= 0, default=1e-4
        Strength of the penalty: the objective is the mean loss plus ``alpha R(W)``. Unlike
        sklearn's MLP (``alpha/(2 n) ||W||²``), alpha is not divided by the number of
        samples. ``alpha=0`` trains a dense network.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float > 0, default=1e-3
        Step size of the optimiser.
    max_iter : int >= 1, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the factor start, the shuffling and the validation split.
    tol : float >= 0, default=1e-4
        Training stops when the training loss (or the validation score with
        ``early_stopping``) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    verbose : bool, default=False
        Print the loss every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's factors (not from its snapped weights).
    momentum : float in [0, 1], default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when its score stops
        improving; the best epoch's factors are kept.
    validation_fraction : float in (0, 1), default=0.1
        Size of the held-out set of ``early_stopping``.
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float > 0, default=1e-8
        Adam's numerical stability constant.
    n_iter_no_change : int >= 1, default=10
        Epochs without improvement before stopping.
    snap_step : float > 0, default=1.0
        First step ``t`` of the final proximal snap (halved until it passes the sufficient
        decrease test)."""

_ATTRS_DOC = """coefs_ : list of ndarray
        Weight matrices (``coefs_[i]`` maps layer i to layer i + 1), with exact zeros.
    intercepts_ : list of ndarray
        Bias vectors (never penalised).
    sparsity_ : float
        Fraction of the weights (all ``coefs_``) that are exactly zero.
    selected_features_ : ndarray of int
        Input features with a nonzero outgoing weight.
    objective_ : float
        ``L(W) + alpha R(W)`` (original penalty) on the training data after the snap.
    snap_step_ : float
        The step ``t`` the snap took (0 if it could not decrease the objective).
    loss_ : float
        The last epoch's mean training objective (loss + smooth surrogate penalty).
    loss_curve_ : list of float
        That objective per epoch.
    best_loss_ : float or None
        The lowest training objective (None with ``early_stopping``).
    validation_scores_ : list of float or None
        Held-out scores per epoch (``early_stopping``).
    best_validation_score_ : float or None
        Best held-out score (``early_stopping``).
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training samples seen.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Output activation.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit (when X has string column names)."""

_NOTES_DOC = """The objective is::

        1/n Σ_i ℓ(y_i, f_W(x_i)) + alpha R(W)

    with ``f_W`` sklearn's MLP (same forward pass, Glorot start, minibatches and optimiser)
    and ℓ the log-loss (classifier) or half the squared error (regressor). It is minimised
    through the smooth surrogate in which every penalised weight matrix is a Hadamard product
    of factors carrying a ridge penalty, ``alpha/k Σ_d ||U_d||²`` (for ``k = 2``,
    ``W = U ⊙ V`` and ``alpha/2 (||U||² + ||V||²) ≥ alpha ||W||_1``, equal when balanced):
    ordinary weight decay on the factors. Both problems have the same minima (Kolb et al.,
    arXiv:2307.03571). The factors' gradients come from the back-propagated weight gradients
    by the product rule. Training ends with a proximal snap (one proximal-gradient step of
    ``alpha R`` from the full-data gradient, step backtracked so the objective does not
    increase), which gives exact zeros.

    With ``alpha=0`` the model class and the loss are exactly those of sklearn's MLP, but
    the optimiser still moves the factors, not the weights (a different geometry), so the
    trained network is a different dense network, not sklearn's."""


def _check_params(est):
    sizes = est.hidden_layer_sizes
    sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0:
            raise ValueError(f"hidden_layer_sizes must be positive integers; got {sizes}.")
    check_option(est.activation, "activation", {"identity", "logistic", "tanh", "relu"})
    check_option(est.sparsity, "sparsity", {"weights", "inputs", "neurons"})
    check_scalar_param(est.k, "k", kind="int", low=2)
    check_option(est.solver, "solver", {"adam", "sgd"})
    check_scalar_param(est.alpha, "alpha", low=0.0)
    if est.batch_size != "auto":
        check_scalar_param(est.batch_size, "batch_size", kind="int", low=1)
    check_scalar_param(est.learning_rate_init, "learning_rate_init", low=0.0,
                       low_inclusive=False)
    check_scalar_param(est.max_iter, "max_iter", kind="int", low=1)
    check_bool_param(est.shuffle, "shuffle")
    check_scalar_param(est.tol, "tol", low=0.0)
    check_bool_param(est.verbose, "verbose")
    check_bool_param(est.warm_start, "warm_start")
    check_scalar_param(est.momentum, "momentum", low=0.0, high=1.0)
    check_bool_param(est.nesterovs_momentum, "nesterovs_momentum")
    check_bool_param(est.early_stopping, "early_stopping")
    check_scalar_param(est.validation_fraction, "validation_fraction", low=0.0,
                       low_inclusive=False, high=1.0)
    if est.validation_fraction >= 1.0:
        raise ValueError("The 'validation_fraction' parameter must be < 1; got "
                         f"{est.validation_fraction!r}.")
    for name in ("beta_1", "beta_2"):
        check_scalar_param(getattr(est, name), name, low=0.0, high=1.0)
        if getattr(est, name) >= 1.0:
            raise ValueError(f"The '{name}' parameter must be < 1; got "
                             f"{getattr(est, name)!r}.")
    check_scalar_param(est.epsilon, "epsilon", low=0.0, low_inclusive=False)
    check_scalar_param(est.n_iter_no_change, "n_iter_no_change", kind="int", low=1)
    check_scalar_param(est.snap_step, "snap_step", low=0.0, low_inclusive=False)
    return sizes


class _BaseHadamardMLP(BaseEstimator):
    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        sparsity="weights",
        k=2,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        snap_step=1.0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.sparsity = sparsity
        self.k = k
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.snap_step = snap_step

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _forward_out(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64,
                          reset=False)
        return forward(X, self.coefs_, self.intercepts_, self.activation,
                       self.out_activation_)[-1]

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X``, ``y``, then snap the penalised weights to exact zeros.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (class labels for the classifier).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        hidden = _check_params(self)
        warm = self.warm_start and hasattr(self, "_params")
        X, Y = self._validate_fit_data(X, y, reset=not warm)
        if not np.all(np.isfinite(X.data if sparse.issparse(X) else X)):
            raise ValueError("Input X contains NaN or infinity.")
        if sparse.issparse(X):
            X = X.tocsr()  # minibatches are row slices
        sw = check_sample_weight(sample_weight, X.shape[0])
        n_samples, n_features = X.shape
        layer_units = [n_features] + hidden + [Y.shape[1]]
        shapes = list(zip(layer_units[:-1], layer_units[1:]))
        rs = check_random_state(self.random_state)
        specs = make_specs(shapes, self.sparsity, int(self.k))
        arch = (tuple(layer_units), self.sparsity, int(self.k), self.activation)
        if warm and getattr(self, "_arch", None) == arch:
            params = [[p.copy() for p in layer] for layer in self._params]
            intercepts = [b.copy() for b in self.intercepts_]
        else:
            coefs, intercepts = glorot_init(layer_units, self.activation, rs)
            seed = rs.randint(np.iinfo(np.int32).max) if any(s.factored for s in specs) else 0
            params = [s.init_params(W, seed + i) for i, (s, W) in enumerate(zip(specs, coefs))]

        validation = None
        X_tr, Y_tr, sw_tr = X, Y, sw
        if self.early_stopping:
            stratify = Y if (self._is_classifier and Y.shape[1] == 1) else None
            if self._is_classifier and Y.shape[1] > 1 and self.out_activation_ == "softmax":
                stratify = Y.argmax(axis=1)
            arrays = [X, Y] if sw is None else [X, Y, sw]
            split = train_test_split(*arrays, random_state=rs,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_tr, X_val, Y_tr, Y_val = split[:4]
            sw_tr, sw_val = (split[4], split[5]) if sw is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")

            def held_out_score(coefs, intercepts):
                out = forward(X_val, coefs, intercepts, self.activation,
                              self.out_activation_)[-1]
                if not np.all(np.isfinite(out)):
                    return np.nan
                return self._score_outputs(Y_val, out, sw_val)

            validation = held_out_score

        result = fit_mlp(
            X_tr, Y_tr, sw_tr, specs, params, intercepts, alpha=float(self.alpha),
            activation=self.activation, out_activation=self.out_activation_,
            solver=self.solver, learning_rate_init=float(self.learning_rate_init),
            batch_size=self.batch_size, max_iter=int(self.max_iter), tol=float(self.tol),
            n_iter_no_change=int(self.n_iter_no_change), shuffle_batches=self.shuffle,
            momentum=float(self.momentum), nesterovs_momentum=self.nesterovs_momentum,
            beta_1=float(self.beta_1), beta_2=float(self.beta_2),
            epsilon=float(self.epsilon), validation=validation, random_state=rs,
            verbose=self.verbose, name=type(self).__name__)
        params, intercepts = result["params"], result["intercepts"]
        raw = [s.weights(p) for s, p in zip(specs, params)]
        if not all(np.all(np.isfinite(a)) for a in raw + list(intercepts)):
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        coefs, _, objective, t = snap(
            X_tr, Y_tr, sw_tr, specs, raw, intercepts, alpha=float(self.alpha),
            activation=self.activation, out_activation=self.out_activation_,
            step=float(self.snap_step))

        self._params, self._arch = params, arch
        self.coefs_ = coefs
        self.intercepts_ = [np.array(b) for b in intercepts]
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = Y.shape[1]
        self.loss_curve_ = result["loss_curve"]
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = result["best_loss"]
        self.validation_scores_ = result["validation_scores"]
        self.best_validation_score_ = result["best_validation_score"]
        self.n_iter_ = result["n_iter"]
        self.t_ = result["n_iter"] * X_tr.shape[0]
        self.objective_ = float(objective)
        self.snap_step_ = float(t)
        n_weights = sum(W.size for W in coefs)
        self.sparsity_ = float(sum(int(np.sum(W == 0)) for W in coefs) / n_weights)
        self.selected_features_ = np.flatnonzero(np.any(coefs[0] != 0, axis=1))
        return self

    def _objective(self, X, Y, sample_weight=None):
        """``L(W) + alpha R(W)`` of the fitted network on (X, encoded Y)."""
        specs = make_specs([W.shape for W in self.coefs_], self.sparsity, int(self.k))
        return penalised_objective(X, Y, sample_weight, specs, self.coefs_, self.intercepts_,
                                   float(self.alpha), self.activation, self.out_activation_)


class HadamardMLPClassifier(ClassifierMixin, _BaseHadamardMLP):
    __doc__ = f"""Multi-layer perceptron classifier with sparse weights, trained through
    Hadamard factors.

    sklearn's :class:`~sklearn.neural_network.MLPClassifier` (log-loss; softmax output for
    several classes, a logistic unit for two or for multilabel targets) in which every
    penalised weight matrix is a product of factors with weight decay: the smooth surrogate
    of a sparse penalty on the weights (ℓ1, per-input or per-neuron groups, or their
    non-convex ``q = 2/k`` versions). Training ends with a proximal snap, so ``coefs_`` has
    exact zeros.

    Parameters
    ----------
    {_PARAMS_DOC}

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    {_ATTRS_DOC}

    See Also
    --------
    HadamardMLPRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : The dense network.

    Notes
    -----
    {_NOTES_DOC}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from hadasparse import HadamardMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = HadamardMLPClassifier((32,), alpha=1e-3, learning_rate_init=1e-2, max_iter=50,
    ...                             random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> bool(clf.score(X / 16, y) > 0.9), bool(clf.sparsity_ > 0.5)
    (True, True)
    """

    _is_classifier = True

    def _validate_fit_data(self, X, y, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=np.float64, reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset or not hasattr(self, "classes_"):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif set(unique_labels(y)) != set(self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as "
                             f"in the previous call to fit. Previously got {self.classes_}, "
                             f"`y` has {unique_labels(y)}")
        if self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        Y = self._label_binarizer.transform(y).astype(np.float64)
        return X, Y

    def _score_outputs(self, Y, out, sample_weight):
        y = self._label_binarizer.inverse_transform(Y)
        pred = self._label_binarizer.inverse_transform(out.ravel() if out.shape[1] == 1
                                                       else out)
        return accuracy_score(y, pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        out = self._forward_out(X)
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        out = self._forward_out(X)
        if self.n_outputs_ == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class HadamardMLPRegressor(RegressorMixin, _BaseHadamardMLP):
    __doc__ = f"""Multi-layer perceptron regressor with sparse weights, trained through
    Hadamard factors.

    sklearn's :class:`~sklearn.neural_network.MLPRegressor` (half squared error, identity
    output) in which every penalised weight matrix is a product of factors with weight decay:
    the smooth surrogate of a sparse penalty on the weights. Training ends with a proximal
    snap, so ``coefs_`` has exact zeros.

    Parameters
    ----------
    {_PARAMS_DOC}

    Attributes
    ----------
    {_ATTRS_DOC}

    See Also
    --------
    HadamardMLPClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : The dense network.

    Notes
    -----
    {_NOTES_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 10))
    >>> y = np.tanh(X[:, 0]) + X[:, 1] ** 2
    >>> reg = HadamardMLPRegressor((16,), sparsity="inputs", alpha=1e-2,
    ...                            learning_rate_init=1e-2, max_iter=200, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.selected_features_
    array([0, 1])
    """

    _is_classifier = False

    def _validate_fit_data(self, X, y, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=np.float64, reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self.out_activation_ = "identity"
        Y = np.asarray(y, dtype=np.float64)
        return X, (Y.reshape(-1, 1) if Y.ndim == 1 else Y)

    def _score_outputs(self, Y, out, sample_weight):
        return r2_score(Y, out, sample_weight=sample_weight)

    def predict(self, X):
        """Predicted values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        out = self._forward_out(X)
        return out.ravel() if out.shape[1] == 1 else out
