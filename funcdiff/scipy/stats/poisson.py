"""``funcdiff.scipy.stats.poisson``: the Poisson distribution, ``pmf logpmf cdf logcdf sf
logsf`` with SciPy's signature ``(k, mu, loc=0)``.

Differentiable in ``mu`` to any order (``d/dmu cdf(k) = -pmf(k)``, exactly, through
``gammaincc``'s x-derivative).  ``k`` is integer-valued: the pmf is only defined on the
integers and the cdf is a step function of ``k``, so their derivatives with respect to
``k`` (and ``loc``) are 0."""
from __future__ import annotations

import numpy as np

from ... import numpy as fnp
from ...api.custom_derivatives import stop_gradient
from .. import special as fsp
from ._dist import F64, arr, f64, safe, scipy_eager

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]


def _logpmf(k, mu):
    return fsp.xlogy(k, mu) - fsp.gammaln(k + 1) - mu


def _prepare(k, mu, loc):
    k, mu, loc = arr(k), arr(mu), arr(loc)
    k = stop_gradient(fnp.subtract(k, loc))
    cond0 = fnp.greater_equal(mu, 0)
    bad = fnp.logical_or(fnp.logical_not(cond0), fnp.isnan(k))
    return k, mu, cond0, bad


def _pm(method, k, mu, loc):
    k, mu, cond0, bad = _prepare(k, mu, loc)
    inside = fnp.logical_and(fnp.logical_and(fnp.greater_equal(k, 0),
                                             fnp.less_equal(k, np.inf)),
                             fnp.equal(fnp.floor(k), k))
    cond = fnp.logical_and(cond0, inside)
    val = _logpmf(safe(cond, k, 0), safe(cond0, mu, 1))
    if method == "pmf":
        p = fnp.exp(val)
        val = fnp.where(fnp.greater(p, 1.0), 1.0, p)        # SciPy clips to [0, 1]
        rest = fnp.where(bad, np.nan, 0.0)
    else:
        rest = fnp.where(bad, np.nan, -np.inf)
    return f64(fnp.where(cond, val, rest))


def _cum(method, k, mu, loc):
    k, mu, cond0, bad = _prepare(k, mu, loc)
    inside = fnp.logical_and(fnp.greater_equal(k, 0), fnp.less(k, np.inf))
    cond = fnp.logical_and(cond0, inside)
    kk = fnp.floor(safe(cond, k, 0))
    mus = safe(cond0, mu, 1)
    if method in ("cdf", "logcdf"):
        val = fsp.gammaincc(kk + 1, mus)                    # pdtr(floor(k), mu)
    else:
        val = fsp.gammainc(kk + 1, mus)                     # pdtrc(floor(k), mu)
    if method == "cdf":
        val = fnp.where(fnp.greater(val, 1.0), 1.0, val)
        cond = fnp.logical_and(cond, fnp.isfinite(k))
        rest = fnp.where(bad, np.nan, fnp.where(fnp.equal(k, -np.inf), 0.0,
                                                fnp.where(fnp.greater_equal(k, np.inf),
                                                          1.0, 0.0)))
    elif method == "logcdf":
        val = fnp.log(val)
        rest = fnp.where(fnp.greater_equal(k, np.inf), 0.0,
                         fnp.where(bad, np.nan, -np.inf))
    elif method == "sf":
        val = fnp.where(fnp.greater(val, 1.0), 1.0, val)
        cond = fnp.logical_and(cond, fnp.isfinite(k))
        below = fnp.logical_and(fnp.less(k, 0), cond0)
        rest = fnp.where(below, 1.0, fnp.where(bad, np.nan, 0.0))
    else:
        val = fnp.log(val)
        below = fnp.logical_and(fnp.less(k, 0), cond0)
        rest = fnp.where(below, 0.0, fnp.where(bad, np.nan, -np.inf))
    return fnp.asarray(fnp.where(cond, val, rest), dtype=F64)


@scipy_eager("poisson", "pmf")
def pmf(k, mu, loc=0):
    """``exp(xlogy(k, mu) - gammaln(k + 1) - mu)`` at integers ``k >= 0``, else 0."""
    return _pm("pmf", k, mu, loc)


@scipy_eager("poisson", "logpmf")
def logpmf(k, mu, loc=0):
    """``xlogy(k, mu) - gammaln(k + 1) - mu`` at integers ``k >= 0``, else -inf."""
    return _pm("logpmf", k, mu, loc)


@scipy_eager("poisson", "cdf")
def cdf(k, mu, loc=0):
    """``gammaincc(floor(k) + 1, mu)`` (SciPy's ``pdtr``)."""
    return _cum("cdf", k, mu, loc)


@scipy_eager("poisson", "logcdf")
def logcdf(k, mu, loc=0):
    """``log(cdf)``."""
    return _cum("logcdf", k, mu, loc)


@scipy_eager("poisson", "sf")
def sf(k, mu, loc=0):
    """``gammainc(floor(k) + 1, mu)`` (SciPy's ``pdtrc``)."""
    return _cum("sf", k, mu, loc)


@scipy_eager("poisson", "logsf")
def logsf(k, mu, loc=0):
    """``log(sf)``."""
    return _cum("logsf", k, mu, loc)
