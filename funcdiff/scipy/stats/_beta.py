"""The implementation of ``funcdiff.scipy.stats.beta`` (see that module's docstring)."""
from __future__ import annotations

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def _logpdf(z, a, b):
    return fsp.xlog1py(b - 1.0, -z) + fsp.xlogy(a - 1.0, z) - fsp.betaln(a, b)


DIST = Continuous(
    "beta", support=(0.0, 1.0), safe_z=0.5, safe_shapes=(1.0, 1.0),
    pdf=lambda z, a, b: fnp.exp(_logpdf(z, a, b)), logpdf=_logpdf,
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
