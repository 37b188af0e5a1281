"""The Laplace distribution (``funcdiff.scipy.stats.laplace``), SciPy's formulas written
so that neither side of a ``where`` overflows (``exp`` of the non-positive part only)."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous

_LOG_HALF = math.log(0.5)


def _halves(z):
    pos = fnp.greater(z, 0)
    return pos, fnp.where(pos, z, 0.0), fnp.where(pos, 0.0, z)


def _cdf(z):
    """``1 - exp(-z)/2`` right of 0, ``exp(z)/2`` left (SciPy's)."""
    pos, zp, zn = _halves(z)
    return fnp.where(pos, 1.0 - 0.5 * fnp.exp(-zp), 0.5 * fnp.exp(zn))


def _logcdf(z):
    pos, zp, zn = _halves(z)
    return fnp.where(pos, fnp.log1p(-0.5 * fnp.exp(-zp)), _LOG_HALF + zn)


def _ppf(q):
    """``log(2q)`` below 1/2, ``-log(2(1 - q))`` above."""
    up = fnp.greater(q, 0.5)
    return fnp.where(up, -fnp.log(2 * (1 - fnp.where(up, q, 0.75))),
                     fnp.log(2 * fnp.where(up, 0.25, q)))


DIST = Continuous(
    "laplace", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=lambda z: 0.5 * fnp.exp(-fnp.abs(z)), logpdf=lambda z: _LOG_HALF - fnp.abs(z),
    cdf=_cdf, sf=lambda z: _cdf(-z), logcdf=_logcdf, logsf=lambda z: _logcdf(-z),
    ppf=_ppf, isf=lambda q: -_ppf(q))

pdf = DIST.method("pdf", "``exp(-|z|) / (2 scale)``, ``z = (x - loc) / scale``.")
logpdf = DIST.method("logpdf", "``log(1/2) - |z| - log(scale)`` (finite where SciPy's "
                     "``log(pdf)`` underflows, |z| > 745).")
cdf = DIST.method("cdf", "``exp(z)/2`` left of 0, ``1 - exp(-z)/2`` right of it.")
logcdf = DIST.method("logcdf", "``z + log(1/2)`` left of 0, ``log1p(-exp(-z)/2)`` right.")
sf = DIST.method("sf", "``cdf(-z)``.")
logsf = DIST.method("logsf", "``logcdf(-z)``.")
ppf = DIST.method("ppf", "``log(2q)`` below 1/2, ``-log(2(1 - q))`` above; times scale "
                  "plus loc.")
isf = DIST.method("isf", "``-ppf(q)`` (standardized).")
