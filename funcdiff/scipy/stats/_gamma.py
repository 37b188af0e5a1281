"""The implementation of ``funcdiff.scipy.stats.gamma`` (see that module's docstring)."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def _logpdf(z, a):
    return fsp.xlogy(a - 1.0, z) - z - fsp.gammaln(a)


def _pdf(z, a):
    """``exp(logpdf)``; at 0 ``z^(a-1) e^(-z) / Gamma(a)`` with ``power``, whose
    derivatives there are the one-sided limits (``exp`` of ``xlogy``'s ``-inf`` would give
    ``0 * inf``)."""
    end = fnp.equal(z, 0)
    inner = fnp.exp(_logpdf(fnp.where(end, 1.0, z), a))
    return fnp.where(end, fnp.power(z, a - 1.0) * fnp.exp(-z - fsp.gammaln(a)), inner)


DIST = Continuous(
    "gamma", support=(0.0, math.inf), safe_z=1.0, safe_shapes=(1.0,),
    pdf=_pdf, logpdf=_logpdf,
    cdf=lambda z, a: fsp.gammainc(a, z), sf=lambda z, a: fsp.gammaincc(a, z))


@scipy_eager("gamma", "pdf")
def pdf(x, a, loc=0, scale=1):
    """``z^(a-1) e^(-z) / (Gamma(a) scale)``."""
    return DIST("pdf", x, (a,), loc, scale)


@scipy_eager("gamma", "logpdf")
def logpdf(x, a, loc=0, scale=1):
    """``xlogy(a - 1, z) - z - gammaln(a) - log(scale)``."""
    return DIST("logpdf", x, (a,), loc, scale)


@scipy_eager("gamma", "cdf")
def cdf(x, a, loc=0, scale=1):
    """``gammainc(a, z)``; d/da raises GradientError."""
    return DIST("cdf", x, (a,), loc, scale)


@scipy_eager("gamma", "logcdf")
def logcdf(x, a, loc=0, scale=1):
    """``log(cdf)`` below the median, ``log1p(-sf)`` above."""
    return DIST("logcdf", x, (a,), loc, scale)


@scipy_eager("gamma", "sf")
def sf(x, a, loc=0, scale=1):
    """``gammaincc(a, z)``; d/da raises GradientError."""
    return DIST("sf", x, (a,), loc, scale)


@scipy_eager("gamma", "logsf")
def logsf(x, a, loc=0, scale=1):
    """``log(sf)`` above the median, ``log1p(-cdf)`` below."""
    return DIST("logsf", x, (a,), loc, scale)
