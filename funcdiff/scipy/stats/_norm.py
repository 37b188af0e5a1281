"""The implementation of ``funcdiff.scipy.stats.norm`` (see that module's docstring)."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous, scipy_eager

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]

_LOG_C = 0.5 * math.log(2 * math.pi)
_C = math.sqrt(2 * math.pi)


def _pdf(z):
    return fnp.exp(-z ** 2 / 2.0) / _C


def _logpdf(z):
    return -z ** 2 / 2.0 - _LOG_C


DIST = Continuous(
    "norm", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=_pdf, logpdf=_logpdf, cdf=fsp.ndtr, sf=lambda z: fsp.ndtr(-z),
    logcdf=fsp.log_ndtr, logsf=lambda z: fsp.log_ndtr(-z),
    ppf=fsp.ndtri, isf=lambda q: -fsp.ndtri(q))


@scipy_eager("norm", "pdf")
def pdf(x, loc=0, scale=1):
    """The density ``exp(-z^2/2) / (sqrt(2 pi) scale)``, ``z = (x - loc) / scale``."""
    return DIST("pdf", x, (), loc, scale)


@scipy_eager("norm", "logpdf")
def logpdf(x, loc=0, scale=1):
    """``-z^2/2 - log(sqrt(2 pi)) - log(scale)``."""
    return DIST("logpdf", x, (), loc, scale)


@scipy_eager("norm", "cdf")
def cdf(x, loc=0, scale=1):
    """``ndtr(z)``."""
    return DIST("cdf", x, (), loc, scale)


@scipy_eager("norm", "logcdf")
def logcdf(x, loc=0, scale=1):
    """``log_ndtr(z)``."""
    return DIST("logcdf", x, (), loc, scale)


@scipy_eager("norm", "sf")
def sf(x, loc=0, scale=1):
    """``ndtr(-z)``."""
    return DIST("sf", x, (), loc, scale)


@scipy_eager("norm", "logsf")
def logsf(x, loc=0, scale=1):
    """``log_ndtr(-z)``."""
    return DIST("logsf", x, (), loc, scale)


ppf = DIST.method("ppf", "``ndtri(q) scale + loc``.")
isf = DIST.method("isf", "``-ndtri(q) scale + loc``.")
