"""The binomial family (``funcdiff.scipy.stats.binom``, ``bernoulli`` = ``binom(1, p)``,
``betabinom``), SciPy's log-pmf formulas; pmf = ``exp(logpmf)`` (SciPy's Boost pmf agrees
to rounding); cdf/sf through the regularized incomplete beta function."""
from __future__ import annotations


from ... import numpy as fnp
from .. import special as fsp
from ._dist import Discrete


def _isintegral(n):
    return fnp.equal(n, fnp.round(n))


def _binom_logpmf(k, n, p):
    k = fnp.floor(k)
    combiln = fsp.gammaln(n + 1) - (fsp.gammaln(k + 1) + fsp.gammaln(n - k + 1))
    return combiln + fsp.xlogy(k, p) + fsp.xlog1py(n - k, -p)


def _binom_pmf(k, n, p):
    """``exp(logpmf)``; at ``p`` = 0 or 1 ``C(n, k) p^k (1 - p)^(n - k)`` with ``power``,
    whose derivatives in ``p`` there are the one-sided limits (``exp`` of ``xlogy(k, 0) =
    -inf`` gives ``0 * inf``).  (``C(n, k)`` is capped at ``e^700``: beyond, ``p^k`` is 0
    there with its derivatives to order ``k - 1 > 60``.)"""
    edge = fnp.logical_or(fnp.equal(p, 0), fnp.equal(p, 1))
    inner = fnp.exp(_binom_logpmf(k, n, fnp.where(edge, 0.5, p)))
    k = fnp.floor(k)
    combiln = fsp.gammaln(n + 1) - (fsp.gammaln(k + 1) + fsp.gammaln(n - k + 1))
    pe = fnp.where(edge, p, 0.0)
    at_edge = (fnp.exp(fnp.minimum(combiln, 700.0)) * fnp.power(pe, k)
               * fnp.power(1.0 - pe, n - k))
    return fnp.where(edge, at_edge, inner)


def _binom_argcheck(n, p):
    return (fnp.greater_equal(n, 0) & _isintegral(n) & fnp.greater_equal(p, 0)
            & fnp.less_equal(p, 1))


def _binom_cdf(k, n, p):
    """``P(K <= floor(k)) = I_{1-p}(n - k, k + 1)`` (``betaincc(k + 1, n - k, p)``)."""
    k = fnp.floor(k)
    return fsp.betaincc(k + 1, n - k, p)


def _binom_sf(k, n, p):
    k = fnp.floor(k)
    return fsp.betainc(k + 1, n - k, p)


BINOM = Discrete(
    "binom", support=lambda n, p: (0, n), safe_k=0, safe_shapes=(1, 0.5),
    shape_names=("n", "p"), argcheck=_binom_argcheck, logpmf=_binom_logpmf, pmf=_binom_pmf,
    cdf=_binom_cdf, sf=_binom_sf)

binom_pmf = BINOM.method("pmf", "``C(n, k) p^k (1 - p)^(n - k)``.")
binom_logpmf = BINOM.method("logpmf", "``gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + "
                            "1) + xlogy(k, p) + xlog1py(n - k, -p)``.")
binom_cdf = BINOM.method("cdf", "``betaincc(k + 1, n - k, p)``, ``k = floor(k)``; "
                         "differentiable in ``p``.")
binom_logcdf = BINOM.method("logcdf", "``log(cdf)``.")
binom_sf = BINOM.method("sf", "``betainc(k + 1, n - k, p)``.")
binom_logsf = BINOM.method("logsf", "``log(sf)``.")


BERNOULLI = Discrete(
    "bernoulli", support=(0, 1), safe_k=0, safe_shapes=(0.5,), shape_names=("p",),
    argcheck=lambda p: fnp.greater_equal(p, 0) & fnp.less_equal(p, 1),
    logpmf=lambda k, p: _binom_logpmf(k, 1.0, p), pmf=lambda k, p: _binom_pmf(k, 1.0, p),
    cdf=lambda k, p: 1 - p + fnp.zeros_like(k), sf=lambda k, p: p + fnp.zeros_like(k),
    # the smallest k with cdf(k) >= q (SciPy's bdtr comparison): 0 or 1, derivative 0
    ppf=lambda q, p: fnp.where(fnp.greater_equal(1 - p, q), 0.0, 1.0))

bernoulli_pmf = BERNOULLI.method("pmf", "``1 - p`` at 0, ``p`` at 1.")
bernoulli_logpmf = BERNOULLI.method("logpmf", "``xlogy(k, p) + xlog1py(1 - k, -p)`` at 0 and "
                                    "1.")
bernoulli_cdf = BERNOULLI.method("cdf", "``1 - p`` on ``[0, 1)``.")
bernoulli_logcdf = BERNOULLI.method("logcdf", "``log(cdf)``.")
bernoulli_sf = BERNOULLI.method("sf", "``p`` on ``[0, 1)``.")
bernoulli_logsf = BERNOULLI.method("logsf", "``log(sf)``.")
bernoulli_ppf = BERNOULLI.method("ppf", "0 where ``q <= 1 - p``, else 1 (plus loc); "
                                 "piecewise constant: derivative 0.")


def _betabinom_logpmf(k, n, a, b):
    k = fnp.floor(k)
    combiln = -fnp.log(n + 1) - fsp.betaln(n - k + 1, k + 1)
    return combiln + fsp.betaln(k + a, n - k + b) - fsp.betaln(a, b)


BETABINOM = Discrete(
    "betabinom", support=lambda n, a, b: (0, n), safe_k=0, safe_shapes=(1, 1.0, 1.0),
    shape_names=("n", "a", "b"),
    argcheck=lambda n, a, b: (fnp.greater_equal(n, 0) & _isintegral(n) & fnp.greater(a, 0)
                              & fnp.greater(b, 0)),
    logpmf=_betabinom_logpmf)

betabinom_pmf = BETABINOM.method("pmf", "``exp(logpmf)``.")
betabinom_logpmf = BETABINOM.method("logpmf", "``-log(n + 1) - betaln(n - k + 1, k + 1) + "
                                    "betaln(k + a, n - k + b) - betaln(a, b)``.")

