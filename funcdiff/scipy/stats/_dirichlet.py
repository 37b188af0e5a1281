"""The implementation of ``funcdiff.scipy.stats.dirichlet`` (see that module's docstring)."""
from __future__ import annotations

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffValueError
from .. import special as fsp
from .._special import _concrete
from ._dist import arr, scipy_eager

__all__ = ["pdf", "logpdf"]


def _check_parameters(alpha):
    av = _concrete(alpha)
    if av is not None and np.min(av) <= 0:
        raise FuncdiffValueError("All parameters must be greater than 0")
    if alpha.ndim != 1:
        raise FuncdiffValueError("Parameter vector 'a' must be one dimensional, "
                                 f"but a.shape = {alpha.shape}.")


def _check_input(alpha, x):
    if x.ndim == 0 or (x.shape[0] + 1 != alpha.shape[0] and x.shape[0] != alpha.shape[0]):
        raise FuncdiffValueError(
            "Vector 'x' must have either the same number of entries as, or one entry fewer "
            f"than, parameter vector 'a', but alpha.shape = {alpha.shape} and x.shape = "
            f"{x.shape}.")
    if x.shape[0] != alpha.shape[0]:
        if x.ndim > 2:
            raise FuncdiffValueError("The input must be one dimensional or a two "
                                     "dimensional matrix containing the entries.")
        xk = 1 - fnp.sum(x, 0)
        x = fnp.concatenate([x, fnp.reshape(xk, (1,) + xk.shape)], axis=0)
    xv, av = _concrete(x), _concrete(alpha)
    if xv is not None:
        if np.min(xv) < 0:
            raise FuncdiffValueError("Each entry in 'x' must be greater than or equal to "
                                     "zero.")
        if np.max(xv) > 1:
            raise FuncdiffValueError("Each entry in 'x' must be smaller or equal one.")
        if av is not None:
            lt1 = (av < 1).reshape((-1,) + (1,) * (xv.ndim - 1))
            if np.any((xv == 0) & lt1):
                raise FuncdiffValueError("Each entry in 'x' must be greater than zero if "
                                         "its alpha is less than one.")
        if (np.abs(np.sum(xv, 0) - 1.0) > 10e-10).any():
            raise FuncdiffValueError("The input vector 'x' must lie within the normal "
                                     f"simplex. but np.sum(x, 0) = {np.sum(xv, 0)}.")
    return x


def _logpdf(x, alpha):
    alpha = arr(alpha)
    _check_parameters(alpha)
    x = _check_input(alpha, arr(x))
    lnB = fnp.sum(fsp.gammaln(alpha)) - fsp.gammaln(fnp.sum(alpha))
    return -lnB + fnp.sum(fsp.xlogy(alpha - 1, x.T).T, 0)


@scipy_eager("dirichlet", "logpdf")
def logpdf(x, alpha):
    """``sum_i xlogy(alpha_i - 1, x_i) - (sum_i gammaln(alpha_i) - gammaln(sum alpha))``."""
    return fnp.squeeze(_logpdf(x, alpha))


@scipy_eager("dirichlet", "pdf")
def pdf(x, alpha):
    """``exp(logpdf(x, alpha))``."""
    return fnp.squeeze(fnp.exp(_logpdf(x, alpha)))
