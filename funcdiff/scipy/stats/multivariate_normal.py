"""``funcdiff.scipy.stats.multivariate_normal``: ``pdf`` and ``logpdf`` with SciPy's
signature ``(x, mean=None, cov=1, allow_singular=False)``.

``mean`` is a vector (or a scalar for one dimension), ``cov`` a scalar (times the
identity), a vector (the diagonal) or a matrix, as in SciPy; ``x`` has the dimension
along its last axis; the output is squeezed.  The log-density uses the Cholesky factor
``L`` of ``cov`` (only its lower triangle is read, as SciPy's ``eigh`` does):
``-(d log(2 pi) + 2 sum log diag(L) + |L^-1 (x - mean)|^2) / 2``.  Differentiable in
``x``, ``mean`` and ``cov`` to any order.  ``allow_singular=True`` is not supported (a
singular covariance has no Cholesky factor): it raises ``ValueError``; a covariance that
is not positive definite raises NumPy's ``LinAlgError`` (SciPy raises on it too)."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffValueError
from ...primitives.linalg import triangular_solve
from ._dist import F64, scipy_eager

__all__ = ["pdf", "logpdf"]

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
    if allow_singular:
        raise FuncdiffValueError(
            "multivariate_normal: allow_singular=True is not supported by funcdiff (the "
            "density is computed from a Cholesky factor, which a singular covariance does "
            "not have); use allow_singular=False with a positive-definite covariance")
    dim, mean, cov = _process_parameters(mean, cov)
    x = _process_quantiles(x, dim)
    L = fnp.linalg.cholesky(cov)
    dev = x - mean
    batch = dev.shape[:-1]
    n = int(np.prod(batch))
    z = triangular_solve(L, fnp.reshape(dev, (n, dim)).T, lower=True)   # L^{-1} dev^T
    maha = fnp.reshape(fnp.sum(fnp.square(z), axis=0), batch)
    log_det = 2.0 * fnp.sum(fnp.log(fnp.diagonal(L)))
    return -0.5 * (dim * _LOG_2PI + log_det + maha)


@scipy_eager("multivariate_normal", "logpdf")
def logpdf(x, mean=None, cov=1, allow_singular=False):
    """The log-density of N(mean, cov) at the rows (last axis) of ``x``."""
    return fnp.squeeze(_logpdf(x, mean, cov, allow_singular))


@scipy_eager("multivariate_normal", "pdf")
def pdf(x, mean=None, cov=1, allow_singular=False):
    """``exp(logpdf(x, mean, cov))``."""
    return fnp.squeeze(fnp.exp(_logpdf(x, mean, cov, allow_singular)))
