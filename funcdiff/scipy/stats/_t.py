"""The implementation of ``funcdiff.scipy.stats.t`` (see that module's docstring)."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as fnp
from .. import special as fsp
from . import _norm
from ._dist import Continuous, logcdf_from, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]

_LOG_PI = math.log(math.pi)


def _log_poch_half(h):
    """``log(poch(h, 1/2)) = gammaln(h + 1/2) - gammaln(h)``, h > 0; for h > 50 the
    asymptotic series ``log(h)/2 - 1/(8h) + 1/(192h^3) - 1/(640h^5) + 17/(14336h^7)``
    (the difference of gammaln values would lose digits)."""
    big = fnp.greater(h, 50)
    hb = fnp.where(big, h, 100.0)
    hs = fnp.where(big, 1.0, h)
    r = 1.0 / hb
    r2 = r * r
    asym = 0.5 * fnp.log(hb) - r * (1 / 8 - r2 * (1 / 192 - r2 * (1 / 640 - r2 * (17 / 14336))))
    direct = fsp.gammaln(hs + 0.5) - fsp.gammaln(hs)
    return fnp.where(big, asym, direct)


def _logpdf(z, df):
    inf = fnp.equal(df, np.inf)
    d = fnp.where(inf, 1.0, df)
    val = (_log_poch_half(0.5 * d) - 0.5 * (fnp.log(d) + _LOG_PI)
           - (d + 1) / 2 * fnp.log1p(z * z / d))
    return fnp.where(inf, _norm._logpdf(z), val)


def _pdf(z, df):
    inf = fnp.equal(df, np.inf)
    return fnp.where(inf, _norm._pdf(z), fnp.exp(_logpdf(z, df)))


def _cdf(z, df):
    return fsp.stdtr(df, z)


def _sf(z, df):
    return fsp.stdtr(df, -z)


DIST = Continuous(
    "t", support=(-math.inf, math.inf), safe_z=0.0, safe_shapes=(1.0,),
    pdf=_pdf, logpdf=_logpdf, cdf=_cdf, sf=_sf,
    # the median is 0: log(cdf) left of it, log1p(-sf) right of it (and the mirror image)
    logcdf=lambda z, df: logcdf_from(fnp.less(z, 0), _cdf(z, df), _sf(z, df)),
    logsf=lambda z, df: logcdf_from(fnp.greater(z, 0), _sf(z, df), _cdf(z, df)))


@scipy_eager("t", "pdf")
def pdf(x, df, loc=0, scale=1):
    """The t density (the normal one where ``df = inf``)."""
    return DIST("pdf", x, (df,), loc, scale)


@scipy_eager("t", "logpdf")
def logpdf(x, df, loc=0, scale=1):
    """``log(poch(df/2, 1/2)) - (log(df) + log(pi))/2 - (df+1)/2 log1p(z^2/df) -
    log(scale)``."""
    return DIST("logpdf", x, (df,), loc, scale)


@scipy_eager("t", "cdf")
def cdf(x, df, loc=0, scale=1):
    """``stdtr(df, z)``; d/ddf raises GradientError."""
    return DIST("cdf", x, (df,), loc, scale)


@scipy_eager("t", "logcdf")
def logcdf(x, df, loc=0, scale=1):
    """``log(cdf)`` left of 0, ``log1p(-sf)`` right of it (as SciPy)."""
    return DIST("logcdf", x, (df,), loc, scale)


@scipy_eager("t", "sf")
def sf(x, df, loc=0, scale=1):
    """``stdtr(df, -z)``; d/ddf raises GradientError."""
    return DIST("sf", x, (df,), loc, scale)


@scipy_eager("t", "logsf")
def logsf(x, df, loc=0, scale=1):
    """``log(sf)`` right of 0, ``log1p(-cdf)`` left of it (as SciPy)."""
    return DIST("logsf", x, (df,), loc, scale)
