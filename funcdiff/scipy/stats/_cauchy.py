"""The Cauchy distribution (``funcdiff.scipy.stats.cauchy``), SciPy's formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous

_LOG_PI = math.log(math.pi)


def _logpdf(z):
    """``-log(pi) - log1p(z^2)``, as ``-log(pi) - 2 log|z| - log1p(1/z^2)`` for |z| >= 1
    (no overflow of z^2), as SciPy."""
    a = fnp.abs(z)
    small = fnp.less(a, 1)
    a_small, a_big = fnp.where(small, a, 0.5), fnp.where(small, 2.0, a)
    return fnp.where(small, -_LOG_PI - fnp.log1p(a_small ** 2),
                     -_LOG_PI - (2 * fnp.log(a_big) + fnp.log1p((1 / a_big) ** 2)))


def _ppf(q):
    """``tan(pi (q - 1/2))``, computed where it is accurate: ``-1/tan(pi q)`` below 1/4,
    ``1/tan(pi (1 - q))`` above 3/4 (1 - q is exact there)."""
    lo, hi = fnp.less(q, 0.25), fnp.greater(q, 0.75)
    mid = fnp.logical_not(fnp.logical_or(lo, hi))
    q_lo, q_hi, q_mid = fnp.where(lo, q, 0.1), fnp.where(hi, q, 0.9), fnp.where(mid, q, 0.5)
    return fnp.where(lo, -1 / fnp.tan(math.pi * q_lo),
                     fnp.where(hi, 1 / fnp.tan(math.pi * (1 - q_hi)),
                               fnp.tan(math.pi * (q_mid - 0.5))))


DIST = Continuous(
    "cauchy", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=lambda z: 1.0 / math.pi / (1.0 + z * z), logpdf=_logpdf,
    cdf=lambda z: fnp.arctan2(1.0, -z) / math.pi, sf=lambda z: fnp.arctan2(1.0, z) / math.pi,
    ppf=_ppf, isf=lambda q: -_ppf(q))

pdf = DIST.method("pdf", "``1 / (pi (1 + z^2) scale)``, ``z = (x - loc) / scale``.")
logpdf = DIST.method("logpdf", "``-log(pi) - log1p(z^2) - log(scale)``.")
cdf = DIST.method("cdf", "``arctan2(1, -z) / pi``.")
logcdf = DIST.method("logcdf", "``log(cdf)`` below the median, ``log1p(-sf)`` above.")
sf = DIST.method("sf", "``arctan2(1, z) / pi``.")
logsf = DIST.method("logsf", "``log(sf)`` above the median, ``log1p(-cdf)`` below.")
ppf = DIST.method("ppf", "``tan(pi (q - 1/2)) scale + loc``.")
isf = DIST.method("isf", "``-tan(pi (q - 1/2)) scale + loc``.")
