"""The implementation of ``funcdiff.scipy.stats.chi2`` (see that module's docstring)."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def _logpdf(z, df):
    return fsp.xlogy(df / 2. - 1, z) - z / 2. - fsp.gammaln(df / 2.) - (np.log(2) * df) / 2.


def _pdf(z, df):
    """``exp(logpdf)``; at 0 ``z^(df/2-1) e^(-z/2) / (2^(df/2) Gamma(df/2))`` with
    ``power``, whose derivatives there are the one-sided limits (as gamma's)."""
    end = fnp.equal(z, 0)
    inner = fnp.exp(_logpdf(fnp.where(end, 1.0, z), df))
    norm = -z / 2. - fsp.gammaln(df / 2.) - (np.log(2) * df) / 2.
    return fnp.where(end, fnp.power(z, df / 2. - 1) * fnp.exp(norm), inner)


DIST = Continuous(
    "chi2", support=(0.0, math.inf), safe_z=1.0, safe_shapes=(2.0,),
    pdf=_pdf, logpdf=_logpdf,
    cdf=lambda z, df: fsp.gammainc(df / 2, z / 2),
    sf=lambda z, df: fsp.gammaincc(df / 2, z / 2))


@scipy_eager("chi2", "pdf")
def pdf(x, df, loc=0, scale=1):
    """``z^(df/2-1) e^(-z/2) / (2^(df/2) Gamma(df/2) scale)``."""
    return DIST("pdf", x, (df,), loc, scale)


@scipy_eager("chi2", "logpdf")
def logpdf(x, df, loc=0, scale=1):
    """``xlogy(df/2 - 1, z) - z/2 - gammaln(df/2) - df log(2)/2 - log(scale)``."""
    return DIST("logpdf", x, (df,), loc, scale)


@scipy_eager("chi2", "cdf")
def cdf(x, df, loc=0, scale=1):
    """``gammainc(df/2, z/2)``; d/ddf raises GradientError."""
    return DIST("cdf", x, (df,), loc, scale)


@scipy_eager("chi2", "logcdf")
def logcdf(x, df, loc=0, scale=1):
    """``log(cdf)`` below the median, ``log1p(-sf)`` above."""
    return DIST("logcdf", x, (df,), loc, scale)


@scipy_eager("chi2", "sf")
def sf(x, df, loc=0, scale=1):
    """``gammaincc(df/2, z/2)``; d/ddf raises GradientError."""
    return DIST("sf", x, (df,), loc, scale)


@scipy_eager("chi2", "logsf")
def logsf(x, df, loc=0, scale=1):
    """``log(sf)`` above the median, ``log1p(-cdf)`` below."""
    return DIST("logsf", x, (df,), loc, scale)
