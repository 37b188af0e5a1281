"""The implementation of ``funcdiff.scipy.stats.multivariate_normal`` (see that module's docstring)."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffValueError
from ...api.custom_derivatives import custom_jvp, stop_gradient
from ...primitives.linalg import triangular_solve
from .._special import _concrete
from ._dist import F64, scipy_eager

__all__ = ["pdf", "logpdf", "entropy"]

_LOG_2PI = math.log(2 * math.pi)


def _float(x):
    return fnp.asarray(x, dtype=F64)


def _process_parameters(mean, cov):
    """SciPy's ``_process_parameters_psd``: infer the dimension, expand ``mean`` and
    ``cov`` to a vector and a matrix."""
    if mean is None:
        if cov is None:
            dim = 1
        else:
            cov = _float(cov)
            dim = 1 if cov.ndim < 2 else cov.shape[0]
    else:
        mean = _float(mean)
        dim = mean.size
    mean = fnp.zeros(dim) if mean is None else _float(mean)
    cov = _float(1.0 if cov is None else cov)
    if dim == 1:
        mean = fnp.reshape(mean, (1,))
        cov = fnp.reshape(cov, (1, 1))
    if mean.ndim != 1 or mean.shape[0] != dim:
        raise FuncdiffValueError(f"Array 'mean' must be a vector of length {dim}.")
    if cov.ndim == 0:
        cov = cov * fnp.eye(dim)
    elif cov.ndim == 1:
        cov = fnp.diag(cov)
    elif cov.ndim == 2 and cov.shape != (dim, dim):
        rows, cols = cov.shape
        if rows != cols:
            msg = ("Array 'cov' must be square if it is two dimensional, but cov.shape = "
                   f"{cov.shape}.")
        else:
            msg = (f"Dimension mismatch: array 'cov' is of shape {cov.shape}, but 'mean' is "
                   f"a vector of length {mean.shape[0]}.")
        raise FuncdiffValueError(msg)
    elif cov.ndim > 2:
        raise FuncdiffValueError(f"Array 'cov' must be at most two-dimensional, but "
                                 f"cov.ndim = {cov.ndim}")
    return dim, mean, cov


def _process_quantiles(x, dim):
    x = _float(x)
    if x.ndim == 0:
        x = fnp.reshape(x, (1,))
    elif x.ndim == 1:
        x = fnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
    return x


def _logpdf(x, mean, cov, allow_singular):
    dim, mean, cov = _process_parameters(mean, cov)
    x = _process_quantiles(x, dim)
    dev = x - mean
    if allow_singular:
        return _logpdf_psd(dev, cov, dim)
    L = fnp.linalg.cholesky(cov)
    batch = dev.shape[:-1]
    n = int(np.prod(batch))
    z = triangular_solve(L, fnp.reshape(dev, (n, dim)).T, lower=True)   # L^{-1} dev^T
    maha = fnp.reshape(fnp.sum(fnp.square(z), axis=0), batch)
    log_det = 2.0 * fnp.sum(fnp.log(fnp.diagonal(L)))
    return -0.5 * (dim * _LOG_2PI + log_det + maha)


# --- allow_singular=True: SciPy's _PSD (pseudo-inverse and pseudo-determinant) -------------

def _sym(a):
    """The symmetric matrix whose lower triangle is ``a``'s (what SciPy's ``eigh`` reads)."""
    n = a.shape[-1]
    return (fnp.where(np.tri(n, dtype=bool), a, 0.0)
            + fnp.where(np.tri(n, k=-1, dtype=bool), a, 0.0).T)


def _spectrum(cov):
    """``(s, u, eps)``: eigenvalues, eigenvectors (lower triangle read) and SciPy's cutoff
    ``1e6 eps64 max|s|`` below which eigenvalues count as zero.  Raises SciPy's
    ValueError for a matrix that is not positive semidefinite, where the values are
    known."""
    s, u = fnp.linalg.eigh(cov)
    eps = 1e6 * np.finfo(np.float64).eps * fnp.max(fnp.abs(s))
    sv, ev = _concrete(s), _concrete(eps)
    if sv is not None and np.min(sv) < -ev:
        raise FuncdiffValueError("The input matrix must be symmetric positive semidefinite.")
    return s, u, eps


@custom_jvp
def _pinv_logpdet(cov):
    """``(pinv(C), log pdet(C))`` with SciPy's cutoff for the eigenvalues that count, C
    the symmetric matrix of ``cov``'s lower triangle."""
    s, u, eps = _spectrum(cov)
    big = s > eps
    s_safe = fnp.where(big, s, 1.0)
    pinv = (u * fnp.where(big, 1.0 / s_safe, 0.0)) @ u.T
    return pinv, fnp.sum(fnp.where(big, fnp.log(s_safe), 0.0))


@_pinv_logpdet.defjvp
def _pinv_logpdet_jvp(primals, tangents):
    """The derivative on the matrices of C's rank (no eigenvector derivatives, so exact at
    repeated eigenvalues; written with ``pinv`` itself, so every order works):
    ``dP = -P dC P + P^2 dC (I - C P) + (I - P C) dC P^2`` and ``dlog pdet = tr(P dC)``
    (Golub and Pereyra's formula for a symmetric C)."""
    (cov,), (dcov,) = primals, tangents
    pinv, logpdet = _pinv_logpdet(cov)
    c, dc = _sym(cov), _sym(dcov)
    eye = fnp.eye(c.shape[0])
    p2 = pinv @ pinv
    dpinv = (-(pinv @ dc @ pinv) + p2 @ dc @ (eye - c @ pinv)
             + (eye - pinv @ c) @ dc @ p2)
    return (pinv, logpdet), (dpinv, fnp.sum(pinv * dc))


def _rank_and_null(cov):
    """The rank (eigenvalues above the cutoff) and the null-space basis (the other
    eigenvectors, as zeroed columns): piecewise constant, no derivative."""
    s, u, eps = _spectrum(stop_gradient(cov))
    null = s <= eps
    return fnp.sum(fnp.logical_not(null)), u * null, eps


def _logpdf_psd(dev, cov, dim):
    """SciPy's density on the support of a singular Gaussian: ``-(rank log(2 pi) + log
    pdet + dev^T pinv dev)/2`` where ``dev`` has no component (beyond SciPy's tolerance
    ``1e3 eps``) in the null space of cov, -inf elsewhere."""
    pinv, logpdet = _pinv_logpdet(cov)
    rank, null, eps = _rank_and_null(cov)
    maha = fnp.sum((dev @ pinv) * dev, axis=-1)
    out = -0.5 * (rank * _LOG_2PI + logpdet + maha)
    residual = fnp.linalg.norm(stop_gradient(dev) @ null, axis=-1)
    return fnp.where(residual < 1e3 * eps, out, -np.inf)


@scipy_eager("multivariate_normal", "logpdf")
def logpdf(x, mean=None, cov=1, allow_singular=False):
    """The log-density of N(mean, cov) at the rows (last axis) of ``x``; with
    ``allow_singular=True`` SciPy's density on the support of a singular covariance
    (pseudo-inverse and pseudo-determinant, -inf off the support)."""
    return fnp.squeeze(_logpdf(x, mean, cov, allow_singular))


@scipy_eager("multivariate_normal", "pdf")
def pdf(x, mean=None, cov=1, allow_singular=False):
    """``exp(logpdf(x, mean, cov, allow_singular))``."""
    return fnp.squeeze(fnp.exp(_logpdf(x, mean, cov, allow_singular)))


@scipy_eager("multivariate_normal", "entropy")
def entropy(mean=None, cov=1):
    """The differential entropy ``(rank (log(2 pi) + 1) + log pdet(cov)) / 2`` (SciPy
    allows a singular covariance here); differentiable in ``cov``."""
    dim, mean, cov = _process_parameters(mean, cov)
    _, logpdet = _pinv_logpdet(cov)
    rank, _, _ = _rank_and_null(cov)
    return 0.5 * (rank * (_LOG_2PI + 1) + logpdet)
