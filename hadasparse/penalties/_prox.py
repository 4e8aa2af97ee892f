"""Proximal maps of the original (non-smooth) penalties, as numba kernels: the *snap* that
turns a smooth iterate of a Hadamard surrogate into exact zeros.

``lq_prox`` is the scalar ``argmin_x 1/2 (x − z)² + λ|x|^q`` for 0 < q ≤ 1 (q = 1 is
soft-thresholding; q = 1/2 and 2/3 have closed forms, other q = 2/k a monotone Newton
solve); ``radial_lq_prox`` is its group version for ``λ‖z‖₂^q``. The array versions apply
them elementwise / per group and are what the stochastic and neural-network solvers call.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def lq_threshold(lam, q):
    """Zero threshold of ``prox_{λ|·|^q}`` (0 < q < 1): the prox of z is 0 iff ``|z| ≤ τ``,
    ``τ = (2 − q)/(2 − 2q) · (2λ(1 − q))^{1/(2 − q)}`` (for q = 1: ``τ = λ``)."""
    if q >= 1.0:
        return lam
    return (2.0 - q) / (2.0 - 2.0 * q) * (2.0 * lam * (1.0 - q)) ** (1.0 / (2.0 - q))


@njit(cache=True)
def _lq_root_newton(a, lam, q):
    """Largest root of ``h(x) = x − a + λ q x^{q−1}`` (a > threshold): h is convex on x > 0,
    so Newton from ``x = a`` (where h > 0, right of the root) decreases monotonically to it."""
    x = a
    for _ in range(100):
        xq = x ** (q - 1.0)
        h = x - a + lam * q * xq
        dh = 1.0 + lam * q * (q - 1.0) * xq / x
        if dh <= 0.0:
            break
        step = h / dh
        x_new = x - step
        if x_new <= 0.0:
            x_new = 0.5 * x
        if abs(step) <= 1e-15 * x:
            x = x_new
            break
        x = x_new
    return x


@njit(cache=True)
def _lq_root_half(a, lam):
    """Closed form for q = 1/2 (half thresholding, Xu et al. 2012): with x = s², the
    stationarity condition is a depressed cubic in s, solved by the trigonometric formula."""
    t = a / 3.0
    phi = np.arccos(lam / 4.0 / (t * np.sqrt(t)))  # (a/3)^(-3/2) without a pow call
    return 2.0 * a / 3.0 * (1.0 + np.cos(2.0 * np.pi / 3.0 - 2.0 * phi / 3.0))


@njit(cache=True)
def _lq_root_two_thirds(a, lam):
    """Closed form for q = 2/3: with x = s³ the stationarity condition is the quartic
    ``s⁴ − a s + c = 0`` (c = 2λ/3), solved by Ferrari's method; its resolvent cubic
    ``t³ − c t − a²/8 = 0`` has one real root above the zero threshold, by Cardano's formula
    ``t = u + c/(3u)``, ``u = ∛(Q/2 + √(Q²/4 − c³/27))``, ``Q = a²/8`` (the second cube root
    written as ``c/(3u)``, free of cancellation; a cube root and a square root instead of the
    hyperbolic formula's arccosh and cosh: ~30 % faster, as accurate)."""
    c = 2.0 * lam / 3.0
    Q = a * a / 8.0
    u = np.cbrt(0.5 * Q + np.sqrt(max(0.25 * Q * Q - c * c * c / 27.0, 0.0)))
    t = u + c / (3.0 * u)
    r = np.sqrt(2.0 * t)
    s = 0.5 * (r + np.sqrt(max(a * r / t - 2.0 * t, 0.0)))
    return s * s * s


@njit(cache=True)
def lq_prox(z, lam, q):
    """``argmin_x 1/2 (x − z)² + λ |x|^q`` for 0 < q ≤ 1 (the larger solution at a tie is
    not taken: at ``|z| = τ`` it returns 0)."""
    if lam <= 0.0:
        return z
    if q >= 1.0:
        return np.sign(z) * max(abs(z) - lam, 0.0)
    return lq_prox_thresholded(z, lam, q, lq_threshold(lam, q))


@njit(cache=True)
def lq_prox_thresholded(z, lam, q, tau):
    """:func:`lq_prox` (0 < q < 1) with its zero threshold ``tau = lq_threshold(lam, q)``
    given: the coordinate descents keep ``τ(α/G_jj)`` per coordinate and save the
    threshold's power per step."""
    if lam <= 0.0:
        return z
    a = abs(z)
    if a <= tau:
        return 0.0
    if q == 0.5:
        x = _lq_root_half(a, lam)
    elif abs(q - 2.0 / 3.0) < 1e-12:
        x = _lq_root_two_thirds(a, lam)
    else:
        x = _lq_root_newton(a, lam, q)
    return x if z > 0 else -x


@njit(cache=True)
def radial_lq_prox(z, lam, q):
    """``z ← prox_{λ‖·‖^q}(z) = z · prox_{λ|·|^q}(‖z‖) / ‖z‖`` in place (the prox of a norm's
    power is radial); returns whether the result is nonzero."""
    nz = np.sqrt(z @ z)
    scale = 0.0
    if nz > 0.0:
        rho = lq_prox(nz, lam, q)
        if rho != 0.0:
            scale = rho / nz
    for i in range(z.shape[0]):
        z[i] *= scale
    return scale != 0.0


@njit(cache=True)
def lq_prox_array(z, lam, q):
    """``lq_prox`` elementwise on a flat array ``z`` with per-entry ``lam`` (a new array)."""
    out = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        out[i] = lq_prox(z[i], lam[i], q)
    return out


@njit(cache=True)
def radial_lq_prox_groups(z, order, gptr, lam, q):
    """``radial_lq_prox`` on every group of a flat array ``z`` (a new array): group ``g``
    holds the entries ``order[gptr[g]:gptr[g + 1]]`` and has threshold ``lam[g]``; a group
    with ``lam[g] == 0`` is left as it is."""
    out = z.copy()
    for g in range(gptr.shape[0] - 1):
        if lam[g] <= 0.0:
            continue
        idx = order[gptr[g]:gptr[g + 1]]
        block = z[idx].copy()
        radial_lq_prox(block, lam[g], q)
        out[idx] = block
    return out
