"""The geometric (``funcdiff.scipy.stats.geom``) and negative binomial
(``funcdiff.scipy.stats.nbinom``) distributions, SciPy's formulas."""
from __future__ import annotations

import numpy as np

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Discrete


def _geom_ppf(q, p):
    """SciPy's: ``ceil(log1p(-q) / log1p(-p))``, one less where the cdf already reaches
    ``q`` there (piecewise constant: derivative 0)."""
    vals = fnp.ceil(fnp.log1p(-q) / fnp.log1p(-p))
    temp = -fnp.expm1(fnp.log1p(-p) * fnp.floor(vals - 1))
    return fnp.where(fnp.greater_equal(temp, q) & fnp.greater(vals, 0), vals - 1, vals)


def _at_p1(p, inner, edge):
    """``inner(p)`` for ``p < 1``, ``edge(p)`` (a ``power`` of ``1 - p``, whose derivative
    is the one-sided limit there) at ``p = 1``, where ``log1p(-p) = -inf`` would give the
    derivative ``0 * inf``.  Each branch sees only its own points."""
    one = fnp.equal(p, 1)
    return fnp.where(one, edge(fnp.where(one, p, 0.5)), inner(fnp.where(one, 0.5, p)))


def _geom_logpmf(k, p):
    return fsp.xlog1py(k - 1, -p) + fnp.log(p)


GEOM = Discrete(
    "geom", support=(1, np.inf), safe_k=1, safe_shapes=(0.5,), shape_names=("p",),
    argcheck=lambda p: fnp.less_equal(p, 1) & fnp.greater(p, 0),
    logpmf=_geom_logpmf,
    pmf=lambda k, p: _at_p1(p, lambda q: fnp.exp(_geom_logpmf(k, q)),
                            lambda q: fnp.power(1.0 - q, k - 1.0) * q),
    cdf=lambda k, p: _at_p1(p, lambda q: -fnp.expm1(fnp.log1p(-q) * fnp.floor(k)),
                            lambda q: 1.0 - fnp.power(1.0 - q, fnp.floor(k))),
    sf=lambda k, p: _at_p1(p, lambda q: fnp.exp(fnp.floor(k) * fnp.log1p(-q)),
                           lambda q: fnp.power(1.0 - q, fnp.floor(k))),
    logsf=lambda k, p: fnp.floor(k) * fnp.log1p(-p), ppf=_geom_ppf)

geom_pmf = GEOM.method("pmf", "``(1 - p)^(k - 1) p`` for ``k >= 1``.")
geom_logpmf = GEOM.method("logpmf", "``xlog1py(k - 1, -p) + log(p)``.")
geom_cdf = GEOM.method("cdf", "``-expm1(log1p(-p) floor(k))``.")
geom_logcdf = GEOM.method("logcdf", "``log(cdf)``.")
geom_sf = GEOM.method("sf", "``exp(floor(k) log1p(-p))``.")
geom_logsf = GEOM.method("logsf", "``floor(k) log1p(-p)``.")
geom_ppf = GEOM.method("ppf", "``ceil(log1p(-q) / log1p(-p))`` (SciPy's correction "
                       "included); derivative 0.")


def _nbinom_logpmf(k, n, p):
    coeff = fsp.gammaln(n + k) - fsp.gammaln(k + 1) - fsp.gammaln(n)
    return coeff + n * fnp.log(p) + fsp.xlog1py(k, -p)


def _nbinom_pmf(k, n, p):
    """``exp(logpmf)``; at ``p = 1`` ``C p^n (1 - p)^k`` with ``power`` (the coefficient
    capped at ``e^700``, beyond which ``(1 - p)^k`` is 0 there with its derivatives to
    order ``k - 1 > 60``)."""
    coeff = fsp.gammaln(n + k) - fsp.gammaln(k + 1) - fsp.gammaln(n)
    return _at_p1(p, lambda q: fnp.exp(_nbinom_logpmf(k, n, q)),
                  lambda q: (fnp.exp(fnp.minimum(coeff, 700.0)) * fnp.power(q, n)
                             * fnp.power(1.0 - q, k)))


NBINOM = Discrete(
    "nbinom", support=(0, np.inf), safe_k=0, safe_shapes=(1.0, 0.5), shape_names=("n", "p"),
    argcheck=lambda n, p: fnp.greater(n, 0) & fnp.greater(p, 0) & fnp.less_equal(p, 1),
    logpmf=_nbinom_logpmf, pmf=_nbinom_pmf,
    cdf=lambda k, n, p: fsp.betainc(n, fnp.floor(k) + 1, p),
    sf=lambda k, n, p: fsp.betaincc(n, fnp.floor(k) + 1, p))

nbinom_pmf = NBINOM.method("pmf", "``Gamma(n + k) / (Gamma(k + 1) Gamma(n)) p^n (1 - "
                           "p)^k``; differentiable in ``n`` and ``p``.")
nbinom_logpmf = NBINOM.method("logpmf", "``gammaln(n + k) - gammaln(k + 1) - gammaln(n) + "
                              "n log(p) + xlog1py(k, -p)``.")
nbinom_cdf = NBINOM.method("cdf", "``betainc(n, floor(k) + 1, p)``; d/dn raises "
                           "GradientError (betainc in a parameter).")
nbinom_logcdf = NBINOM.method("logcdf", "``log(cdf)``.")
nbinom_sf = NBINOM.method("sf", "``betaincc(n, floor(k) + 1, p)``.")
nbinom_logsf = NBINOM.method("logsf", "``log(sf)``.")
