"""Training loop of the sparse multi-layer perceptrons: a dense MLP (numpy BLAS forward and
backward passes, sklearn's Glorot start, minibatches, Adam / SGD) whose weight matrices are
*parametrised* by Hadamard factors.

Each weight matrix ``W_l`` is held in one of three ways (a :class:`LayerSpec`):

- a :class:`~hadasparse.penalties.HadamardPenalty` ``P``: ``W_l = P.to_beta(factors)``; the
  optimiser updates the factors, and the objective carries the smooth surrogate
  ``P.ridge(factors, alpha)`` (equal to ``alpha R(W_l)`` at balanced factors);
- ``"ridge"``: plain weights with ``alpha/2 ||W_l||²`` (weight decay);
- ``None``: plain, unpenalised weights.

The objective minimised by minibatch steps is therefore

    J = 1/Σs Σ_i s_i ℓ(y_i, f(x_i)) + Σ_l surrogate_l,

and the gradient with respect to the factors comes from the ordinary back-propagated
``∂J/∂W_l`` by the product rule (``HadamardPenalty.gradients``). Nothing else differs from a
dense MLP: with every layer ``None`` this loop *is* sklearn's ``MLPClassifier`` /
``MLPRegressor`` stochastic loop with ``alpha = 0`` (same initialisation, batches, optimiser
arithmetic), which ``tests/test_mlp.py`` checks to rounding.

Exact zeros come from :func:`snap`: one proximal-gradient step of the *original* penalty
``alpha R(W_l)`` on the penalised layers, from the full-data gradient, with a backtracking
step that never increases the objective ``L(W) + alpha Σ R(W_l)``.
"""

import warnings

import numpy as np
from scipy import sparse
from scipy.special import expit, xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches, shuffle

from ..penalties import HadamardPenalty

_FLUSH = 1e-30

# -- activations ---------------------------------------------------------------------------


def _activate(name, Z):
    """Apply the activation ``name`` in place."""
    if name == "relu":
        np.maximum(Z, 0.0, out=Z)
    elif name == "tanh":
        np.tanh(Z, out=Z)
    elif name == "logistic":
        expit(Z, out=Z)
    elif name == "softmax":
        Z -= Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
    # "identity": nothing


def _activation_derivative(name, A, delta):
    """Multiply ``delta`` in place by the activation's derivative, written in terms of the
    activation's output ``A``."""
    if name == "relu":
        delta[A == 0] = 0.0
    elif name == "tanh":
        delta *= 1.0 - A ** 2
    elif name == "logistic":
        delta *= A
        delta *= 1.0 - A


def _dot(A, B):
    if sparse.issparse(A):
        return np.asarray(A @ B)
    return A @ B


def forward(X, coefs, intercepts, activation, out_activation):
    """All layers' activations ``[X, A_1, …, A_L]`` (the last one after the output
    activation)."""
    acts = [X]
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = _dot(acts[-1], W)
        Z += b
        _activate(activation if i < last else out_activation, Z)
        acts.append(Z)
    return acts


def data_loss(Y, out, out_activation, sample_weight=None):
    """Mean loss: log-loss for ``"softmax"`` / ``"logistic"`` outputs (sklearn's clipping),
    half the squared error (summed over outputs) for ``"identity"``."""
    if out_activation == "identity":
        return float(np.average(((Y - out) ** 2).sum(axis=1), weights=sample_weight) / 2)
    eps = np.finfo(out.dtype).eps
    P = np.clip(out, eps, 1 - eps)
    if out_activation == "softmax":
        return float(-np.average(xlogy(Y, P), weights=sample_weight, axis=0).sum())
    return float(-np.average(xlogy(Y, P) + xlogy(1 - Y, 1 - P), weights=sample_weight,
                             axis=0).sum())


def backprop(X, Y, sample_weight, coefs, intercepts, activation, out_activation):
    """Mean data loss and its gradients with respect to the weights and intercepts (the
    output activations are the canonical links of the losses, so the output delta is
    ``out − Y``)."""
    acts = forward(X, coefs, intercepts, activation, out_activation)
    loss = data_loss(Y, acts[-1], out_activation, sample_weight)
    sw_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
    delta = acts[-1] - Y
    if sample_weight is not None:
        delta *= sample_weight[:, None]
    n_layers = len(coefs)
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    for i in range(n_layers - 1, -1, -1):
        G = _dot(acts[i].T, delta)
        G /= sw_sum
        coef_grads[i] = G
        intercept_grads[i] = delta.sum(axis=0) / sw_sum
        if i > 0:
            delta = delta @ coefs[i].T
            _activation_derivative(activation, acts[i], delta)
    return loss, coef_grads, intercept_grads


# -- parametrisation of the weights --------------------------------------------------------


class LayerSpec:
    """How one weight matrix is held: a ``HadamardPenalty`` (factors), ``"ridge"`` (plain
    weights with ``alpha/2 ||W||²``) or ``None`` (plain weights, no penalty)."""

    def __init__(self, penalty):
        if not (penalty is None or penalty == "ridge" or isinstance(penalty, HadamardPenalty)):
            raise ValueError(f"unknown layer penalty {penalty!r}")
        self.penalty = penalty
        self.factored = isinstance(penalty, HadamardPenalty)
        # elementwise l1 with unit weights: the common case, written without weight arrays
        self._plain_l1 = (self.factored and penalty.kind == "l1"
                          and bool(np.all(penalty.weights == 1.0)))

    def init_params(self, W, rng):
        """The optimiser's variables for a start ``W``: balanced factors, or ``[W]``."""
        if self.factored:
            return self.penalty.balanced(W, rng=rng)
        return [np.array(W, dtype=np.float64)]

    def weights(self, params):
        if self.factored:
            if self.penalty.kind == "l1" and self.penalty.depth == 2:
                return params[0] * params[1]
            return self.penalty.to_beta(params)
        return params[0]

    def surrogate(self, params, alpha):
        """The layer's penalty term in the smooth objective."""
        if alpha == 0 or self.penalty is None:
            return 0.0
        if self.factored:
            P = self.penalty
            if self._plain_l1:
                return alpha / P.depth * sum(float(np.dot(u.ravel(), u.ravel())) for u in params)
            return P.ridge(params, alpha)
        W = params[0].ravel()
        return 0.5 * alpha * float(np.dot(W, W))

    def gradients(self, params, grad_W, alpha):
        """Gradients of the smooth objective with respect to the layer's variables."""
        if self.factored:
            P = self.penalty
            if self._plain_l1 and P.depth == 2:
                u, v = params
                gu = grad_W * v
                gv = grad_W * u
                if alpha != 0:
                    gu += alpha * u
                    gv += alpha * v
                return [gu, gv]
            return P.gradients(params, grad_W, alpha)
        if self.penalty == "ridge" and alpha != 0:
            return [grad_W + alpha * params[0]]
        return [grad_W]

    def penalty_value(self, W, alpha):
        """The *original* penalty of the layer: ``alpha R(W)``, ``alpha/2 ||W||²`` or 0."""
        if alpha == 0 or self.penalty is None:
            return 0.0
        if self.factored:
            return alpha * self.penalty.value(W)
        return 0.5 * alpha * float(np.sum(W * W))


def make_specs(layer_shapes, sparsity, depth):
    """Layer specs for ``sparsity`` in {"weights", "inputs", "neurons"} (see the estimators'
    docstring)."""
    specs = []
    n = len(layer_shapes)
    for i, shape in enumerate(layer_shapes):
        if sparsity == "weights":
            pen = HadamardPenalty(shape, kind="l1", depth=depth)
        elif sparsity == "inputs":
            if i == 0:
                labels = np.repeat(np.arange(shape[0]), shape[1])
                pen = HadamardPenalty(shape, kind="group", depth=depth, groups=labels)
            else:
                pen = "ridge"
        elif sparsity == "neurons":
            if i < n - 1:
                labels = np.tile(np.arange(shape[1]), shape[0])
                pen = HadamardPenalty(shape, kind="group", depth=depth, groups=labels)
            else:
                pen = "ridge"
        else:
            raise ValueError(f"unknown sparsity {sparsity!r}")
        specs.append(LayerSpec(pen))
    return specs


def objective_and_gradients(X, Y, sample_weight, specs, params, intercepts, alpha, activation,
                            out_activation):
    """The smooth objective ``J`` (mean loss + surrogate penalties) and its gradients with
    respect to every layer's variables and the intercepts."""
    coefs = [s.weights(p) for s, p in zip(specs, params)]
    loss, coef_grads, intercept_grads = backprop(X, Y, sample_weight, coefs, intercepts,
                                                 activation, out_activation)
    value = loss + sum(s.surrogate(p, alpha) for s, p in zip(specs, params))
    grads = [s.gradients(p, g, alpha) for s, p, g in zip(specs, params, coef_grads)]
    return value, grads, intercept_grads


def penalised_objective(X, Y, sample_weight, specs, coefs, intercepts, alpha, activation,
                        out_activation):
    """``L(W) + Σ_l penalty_l(W_l)`` with the original (non-smooth) penalties."""
    out = forward(X, coefs, intercepts, activation, out_activation)[-1]
    return data_loss(Y, out, out_activation, sample_weight) + sum(
        s.penalty_value(W, alpha) for s, W in zip(specs, coefs))


# -- optimisers (sklearn's arithmetic, on any list of arrays) ------------------------------


class Adam:
    def __init__(self, params, learning_rate_init, beta_1, beta_2, epsilon):
        self.lr0 = learning_rate_init
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr = self.lr0 * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= lr * m / (np.sqrt(v) + self.epsilon)


class SGD:
    def __init__(self, params, learning_rate_init, momentum, nesterov):
        self.lr = learning_rate_init
        self.momentum, self.nesterov = momentum, nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        mu, lr = self.momentum, self.lr
        for i, (p, g) in enumerate(zip(params, grads)):
            vel = mu * self.velocities[i] - lr * g
            self.velocities[i] = vel
            p += (mu * vel - lr * g) if self.nesterov else vel


# -- the training loop ---------------------------------------------------------------------


def glorot_init(layer_units, activation, random_state):
    """sklearn's MLP start: per layer ``U(−b, b)`` weights then intercepts, ``b =
    sqrt(f / (fan_in + fan_out))`` with f = 2 for the logistic activation, else 6."""
    coefs, intercepts = [], []
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def fit_mlp(X, Y, sample_weight, specs, params, intercepts, *, alpha, activation,
            out_activation, solver="adam", learning_rate_init=1e-3, batch_size="auto",
            max_iter=200, tol=1e-4, n_iter_no_change=10, shuffle_batches=True,
            momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
            validation=None, random_state=None, verbose=False, name="MLP"):
    """Minibatch training of the smooth objective on ``params`` (per layer: factors or
    ``[W]``) and ``intercepts``, updated in place.

    ``validation`` is None or a callable ``score(coefs, intercepts) -> float`` (higher is
    better; early stopping keeps the best variables). Returns a dict with ``loss_curve``,
    ``validation_scores``, ``n_iter``, ``converged``, ``best_loss`` and the (best)
    ``params``/``intercepts``.
    """
    n_samples = X.shape[0]
    if batch_size == "auto":
        batch = min(200, n_samples)
    else:
        if batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                          "going to be clipped", stacklevel=3)
        batch = int(np.clip(batch_size, 1, n_samples))
    flat = [p for layer in params for p in layer] + list(intercepts)
    if solver == "adam":
        opt = Adam(flat, learning_rate_init, beta_1, beta_2, epsilon)
    else:
        opt = SGD(flat, learning_rate_init, momentum, nesterovs_momentum)

    loss_curve, val_scores = [], []
    best_loss, best_score = np.inf, -np.inf
    best = None
    no_improvement = 0
    converged = False
    idx = np.arange(n_samples, dtype=int)
    n_iter = 0
    for _ in range(max_iter):
        if shuffle_batches:
            idx = shuffle(idx, random_state=random_state)
        accumulated = 0.0
        for sl in gen_batches(n_samples, batch):
            b_idx = idx[sl] if shuffle_batches else sl
            Xb = X[b_idx]
            Yb = Y[b_idx]
            swb = None if sample_weight is None else sample_weight[b_idx]
            value, grads, igrads = objective_and_gradients(
                Xb, Yb, swb, specs, params, intercepts, alpha, activation, out_activation)
            accumulated += value * (sl.stop - sl.start)
            opt.update(flat, [g for layer in grads for g in layer] + igrads)
        n_iter += 1
        # factors of dead weights decay geometrically; flush them before they reach the
        # subnormal range (slow arithmetic). A weight whose factors are all 0 stays 0 (the
        # origin is a stationary point of the surrogate); a factor below 1e-30 makes a weight of
        # that order, 0 for any practical purpose.
        for s, layer in zip(specs, params):
            if s.factored:
                for p in layer:
                    p[np.abs(p) < _FLUSH] = 0.0
        loss = accumulated / n_samples
        loss_curve.append(loss)
        if verbose:
            print(f"Iteration {n_iter}, loss = {loss:.8f}")
        if not np.isfinite(loss):
            break
        if validation is not None:
            score = validation([s.weights(p) for s, p in zip(specs, params)], intercepts)
            val_scores.append(score)
            if verbose:
                print(f"Validation score: {score:f}")
            no_improvement = no_improvement + 1 if score < best_score + tol else 0
            if score > best_score:
                best_score = score
                best = ([[p.copy() for p in layer] for layer in params],
                        [b.copy() for b in intercepts])
        else:
            no_improvement = no_improvement + 1 if loss > best_loss - tol else 0
            best_loss = min(best_loss, loss)
        if no_improvement > n_iter_no_change:
            converged = True
            break
    if not converged and n_iter == max_iter:
        what = (f"validation score {val_scores[-1]:.6g} (best {best_score:.6g})"
                if validation is not None else f"training loss {loss_curve[-1]:.6g}")
        warnings.warn(
            f"{name}: maximum iterations ({max_iter}) reached and the optimisation hasn't "
            f"converged yet: the {what} still improved by more than tol={tol} within the last "
            f"{n_iter_no_change} epochs.", ConvergenceWarning, stacklevel=3)
    if validation is not None and best is not None:
        params, intercepts = best
    return dict(params=params, intercepts=intercepts, loss_curve=loss_curve,
                validation_scores=val_scores if validation is not None else None,
                best_validation_score=best_score if validation is not None else None,
                best_loss=best_loss if validation is None else None,
                n_iter=n_iter, converged=converged, optimizer=opt)


def snap(X, Y, sample_weight, specs, coefs, intercepts, *, alpha, activation, out_activation,
         step=1.0, max_halvings=40):
    """Exact zeros: one proximal-gradient step ``W_l ← prox_{t alpha R}(W_l − t ∂L/∂W_l)`` on
    every factored layer, from the full-data gradient, with the largest ``t = step · 2^-j``
    that passes the proximal-gradient sufficient-decrease test (so the original objective
    ``L(W) + alpha Σ R(W_l)`` never increases). Other layers and intercepts are unchanged.
    At a minimiser of the penalised problem this step is a fixed point for every t.

    Returns ``(coefs, objective_before, objective_after, t)``.
    """
    coefs = [np.array(W, dtype=np.float64) for W in coefs]
    if alpha == 0 or not any(s.factored for s in specs):
        f = penalised_objective(X, Y, sample_weight, specs, coefs, intercepts, alpha,
                                activation, out_activation)
        return coefs, f, f, 0.0
    loss, grads, _ = backprop(X, Y, sample_weight, coefs, intercepts, activation,
                              out_activation)
    pen0 = sum(s.penalty_value(W, alpha) for s, W in zip(specs, coefs))
    f0 = loss + pen0
    t = float(step)
    for _ in range(max_halvings):
        new = [s.penalty.prox(W - t * G, t * alpha) if s.factored else W
               for s, W, G in zip(specs, coefs, grads)]
        out = forward(X, new, intercepts, activation, out_activation)[-1]
        loss_new = data_loss(Y, out, out_activation, sample_weight)
        lin = sum(float(np.sum(G * (Wn - W))) + float(np.sum((Wn - W) ** 2)) / (2 * t)
                  for s, W, Wn, G in zip(specs, coefs, new, grads) if s.factored)
        if loss_new <= loss + lin + 1e-12 * max(1.0, abs(loss)):
            f1 = loss_new + sum(s.penalty_value(W, alpha) for s, W in zip(specs, new))
            return new, f0, f1, t
        t *= 0.5
    return coefs, f0, f0, 0.0
