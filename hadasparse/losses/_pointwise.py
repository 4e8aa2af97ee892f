"""Pointwise losses ``ℓ(y, z)``: value, derivatives, conjugate (see the package docstring)."""

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax, xlogy


class SquaredError:
    """``ℓ(y, z) = (y − z)² / 2``."""

    name = "squared_error"

    @staticmethod
    def value(y, z):
        return 0.5 * (y - z) ** 2

    @staticmethod
    def gradient(y, z):
        return z - y

    @staticmethod
    def hessian(y, z):
        return np.ones_like(np.asarray(z, dtype=np.float64))

    @staticmethod
    def conjugate(y, u):
        """``sup_z u z − (y − z)²/2 = u y + u²/2``."""
        return u * y + 0.5 * u * u

    @staticmethod
    def intercept_only(y, sample_weight=None):
        return np.average(y, axis=0, weights=sample_weight)


class Logistic:
    """``ℓ(y, z) = log(1 + exp(−y z))`` for labels ``y ∈ {−1, +1}``."""

    name = "logistic"

    @staticmethod
    def value(y, z):
        return -log_expit(y * z)

    @staticmethod
    def gradient(y, z):
        return -y * expit(-y * z)

    @staticmethod
    def hessian(y, z):
        p = expit(z)
        return p * (1.0 - p)

    @staticmethod
    def conjugate(y, u):
        """With ``t = −u y ∈ [0, 1]``: ``ℓ* = t log t + (1 − t) log(1 − t)`` (0 log 0 = 0);
        ``+inf`` for ``t`` outside ``[0, 1]``."""
        t = -u * y
        with np.errstate(invalid="ignore"):
            out = xlogy(t, t) + xlogy(1.0 - t, 1.0 - t)
        return np.where((t >= 0.0) & (t <= 1.0), out, np.inf)

    @staticmethod
    def intercept_only(y, sample_weight=None):
        p = np.average(y > 0, weights=sample_weight)
        if p <= 0.0 or p >= 1.0:
            raise ValueError("The logistic loss needs samples of both classes (with positive "
                             "weight).")
        return np.log(p / (1.0 - p))


class Multinomial:
    """``ℓ(Y, Z) = logsumexp(Z_i) − Z_i · Y_i`` for one-hot rows ``Y_i`` (n×K) and scores
    ``Z_i`` (n×K); rows of the outputs are samples."""

    name = "multinomial"

    @staticmethod
    def value(Y, Z):
        return logsumexp(Z, axis=1) - np.einsum("ik,ik->i", Y, Z)

    @staticmethod
    def gradient(Y, Z):
        return softmax(Z, axis=1) - Y

    @staticmethod
    def hessian(Y, Z):
        """The diagonal ``p_k (1 − p_k)`` of each sample's K×K Hessian
        ``diag(p) − p pᵀ``."""
        P = softmax(Z, axis=1)
        return P * (1.0 - P)

    @staticmethod
    def conjugate(Y, U):
        """With ``T = U + Y``: ``ℓ* = Σ_k T_k log T_k`` when every row of ``T`` is a
        probability vector (non-negative, summing to 1), else ``+inf``."""
        T = U + Y
        ok = np.all(T >= -1e-12, axis=1) & (np.abs(T.sum(axis=1) - 1.0) <= 1e-9)
        Tc = np.clip(T, 0.0, 1.0)
        return np.where(ok, xlogy(Tc, Tc).sum(axis=1), np.inf)

    @staticmethod
    def intercept_only(Y, sample_weight=None):
        p = np.average(Y, axis=0, weights=sample_weight)
        if np.any(p <= 0.0):
            raise ValueError("Every class needs at least one sample with positive weight.")
        logp = np.log(p)
        return logp - logp.mean()


_LOSSES = {cls.name: cls for cls in (SquaredError, Logistic, Multinomial)}


def get_loss(name):
    """The loss class called ``name`` ("squared_error", "logistic" or "multinomial")."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(_LOSSES)}.") from None
