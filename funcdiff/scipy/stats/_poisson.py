"""The implementation of ``funcdiff.scipy.stats.poisson`` (see that module's docstring)."""
from __future__ import annotations

import numpy as np

from ... import numpy as fnp
from ...api.custom_derivatives import stop_gradient
from .. import special as fsp
from ._dist import Discrete, arr, f64, safe, scipy_eager

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "entropy"]


def _logpmf(k, mu):
    return fsp.xlogy(k, mu) - fsp.gammaln(k + 1) - mu


def _pmf(k, mu):
    """``exp(logpmf)``; at ``mu = 0`` ``mu^k e^(-mu) / k!`` with ``power``, whose
    derivative there is the one-sided limit (1 at k = 1; ``exp(xlogy(k, 0))`` gives
    ``0 * inf``)."""
    edge = fnp.equal(mu, 0)
    inner = fnp.exp(_logpmf(k, fnp.where(edge, 1.0, mu)))
    mu0 = fnp.where(edge, mu, 0.0)            # (mu^k overflows at large mu)
    at_edge = fnp.power(mu0, k) * fnp.exp(-mu0 - fsp.gammaln(k + 1))
    return fnp.where(edge, at_edge, inner)


DIST = Discrete(
    "poisson", support=(0, np.inf), safe_k=0, safe_shapes=(1.0,), shape_names=("mu",),
    argcheck=lambda mu: fnp.greater_equal(mu, 0), logpmf=_logpmf, pmf=_pmf,
    cdf=lambda k, mu: fsp.gammaincc(fnp.floor(k) + 1, mu),      # pdtr(floor(k), mu)
    sf=lambda k, mu: fsp.gammainc(fnp.floor(k) + 1, mu))        # pdtrc(floor(k), mu)

pmf = DIST.method("pmf", "``exp(xlogy(k, mu) - gammaln(k + 1) - mu)`` at integers ``k >= "
                  "0``, else 0.")
logpmf = DIST.method("logpmf", "``xlogy(k, mu) - gammaln(k + 1) - mu`` at integers ``k >= "
                     "0``, else -inf.")
cdf = DIST.method("cdf", "``gammaincc(floor(k) + 1, mu)`` (SciPy's ``pdtr``).")
logcdf = DIST.method("logcdf", "``log(cdf)``.")
sf = DIST.method("sf", "``gammainc(floor(k) + 1, mu)`` (SciPy's ``pdtrc``).")
logsf = DIST.method("logsf", "``log(sf)``.")

# the entropy: a sum over a window of the support around mu (its mass outside is below
# 1e-25 relatively) up to mu = 1000, the asymptotic series beyond
_HALF_WINDOW = 340
_BIG_MU = 1000.0


@scipy_eager("poisson", "entropy")
def entropy(mu, loc=0):
    """``-sum_k pmf(k) log pmf(k)``: for ``mu <= 1000`` summed over the ``680`` integers
    from ``max(0, floor(mu) - 340)`` (at least 10.7 standard deviations on each side),
    beyond it ``log(2 pi e mu)/2 - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3)`` (absolute error
    below 2e-13; SciPy's own sum stops after 1000 terms, so for ``mu`` beyond about 2500
    it is the less accurate one).  NaN for ``mu < 0`` or NaN ``loc`` (which otherwise does
    not matter); differentiable in ``mu``."""
    mu, loc = arr(mu), arr(loc)
    cond0 = fnp.logical_and(fnp.greater_equal(mu, 0), fnp.equal(loc, loc))
    mus = f64(safe(cond0, mu, 1.0))
    small = fnp.less_equal(mus, _BIG_MU)
    m_small = fnp.where(small, mus, 1.0)
    start = stop_gradient(fnp.maximum(fnp.floor(m_small) - _HALF_WINDOW, 0.0))
    k = start[..., None] + np.arange(2 * _HALF_WINDOW, dtype=np.float64)
    logp = _logpmf(k, m_small[..., None])
    finite = fnp.isfinite(logp)
    logp_s = fnp.where(finite, logp, 0.0)
    summed = -fnp.sum(fnp.where(finite, fnp.exp(logp_s) * logp_s, 0.0), axis=-1)
    m_big = fnp.where(small, 2 * _BIG_MU, mus)
    asym = (0.5 * fnp.log(2 * np.pi * np.e * m_big) - 1 / (12 * m_big)
            - 1 / (24 * m_big ** 2) - 19 / (360 * m_big ** 3))
    out = fnp.where(cond0, fnp.where(small, summed, asym), np.nan)
    return f64(fnp.broadcast_to(out, np.broadcast_shapes(mu.shape, loc.shape)))
