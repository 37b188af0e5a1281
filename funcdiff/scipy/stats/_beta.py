"""The implementation of ``funcdiff.scipy.stats.beta`` (see that module's docstring)."""
from __future__ import annotations

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def _logpdf(z, a, b):
    return fsp.xlog1py(b - 1.0, -z) + fsp.xlogy(a - 1.0, z) - fsp.betaln(a, b)


def _pdf(z, a, b):
    """``exp(logpdf)``; at the ends 0 and 1 ``z^(a-1) (1-z)^(b-1) / B(a, b)`` with
    ``power``, whose derivatives there are the one-sided limits (``exp`` of ``xlogy``'s
    ``-inf`` would give ``0 * inf``)."""
    end = fnp.logical_or(fnp.equal(z, 0), fnp.equal(z, 1))
    inner = fnp.exp(_logpdf(fnp.where(end, 0.5, z), a, b))
    at_end = fnp.power(z, a - 1.0) * fnp.power(1.0 - z, b - 1.0) * fnp.exp(-fsp.betaln(a, b))
    return fnp.where(end, at_end, inner)


DIST = Continuous(
    "beta", support=(0.0, 1.0), safe_z=0.5, safe_shapes=(1.0, 1.0),
    pdf=_pdf, logpdf=_logpdf,
    cdf=lambda z, a, b: fsp.betainc(a, b, z), sf=lambda z, a, b: fsp.betaincc(a, b, z))


@scipy_eager("beta", "pdf")
def pdf(x, a, b, loc=0, scale=1):
    """``z^(a-1) (1-z)^(b-1) / (B(a, b) scale)``."""
    return DIST("pdf", x, (a, b), loc, scale)


@scipy_eager("beta", "logpdf")
def logpdf(x, a, b, loc=0, scale=1):
    """``xlog1py(b - 1, -z) + xlogy(a - 1, z) - betaln(a, b) - log(scale)``."""
    return DIST("logpdf", x, (a, b), loc, scale)


@scipy_eager("beta", "cdf")
def cdf(x, a, b, loc=0, scale=1):
    """``betainc(a, b, z)``; d/da, d/db raise GradientError."""
    return DIST("cdf", x, (a, b), loc, scale)


@scipy_eager("beta", "logcdf")
def logcdf(x, a, b, loc=0, scale=1):
    """``log(cdf)`` below the median, ``log1p(-sf)`` above."""
    return DIST("logcdf", x, (a, b), loc, scale)


@scipy_eager("beta", "sf")
def sf(x, a, b, loc=0, scale=1):
    """``betaincc(a, b, z)``; d/da, d/db raise GradientError."""
    return DIST("sf", x, (a, b), loc, scale)


@scipy_eager("beta", "logsf")
def logsf(x, a, b, loc=0, scale=1):
    """``log(sf)`` above the median, ``log1p(-cdf)`` below."""
    return DIST("logsf", x, (a, b), loc, scale)
