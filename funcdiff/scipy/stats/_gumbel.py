"""The right- and left-skewed Gumbel distributions (``funcdiff.scipy.stats.gumbel_r``,
``gumbel_l``), SciPy's formulas; ``gumbel_l`` is ``gumbel_r`` mirrored."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous


def _r_logpdf(z):
    return -z - fnp.exp(-z)


def _l_logpdf(z):
    return z - fnp.exp(z)


R = Continuous(
    "gumbel_r", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=lambda z: fnp.exp(_r_logpdf(z)), logpdf=_r_logpdf,
    cdf=lambda z: fnp.exp(-fnp.exp(-z)), logcdf=lambda z: -fnp.exp(-z),
    sf=lambda z: -fnp.expm1(-fnp.exp(-z)),
    ppf=lambda q: -fnp.log(-fnp.log(q)), isf=lambda q: -fnp.log(-fnp.log1p(-q)))

L = Continuous(
    "gumbel_l", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=lambda z: fnp.exp(_l_logpdf(z)), logpdf=_l_logpdf,
    cdf=lambda z: -fnp.expm1(-fnp.exp(z)), sf=lambda z: fnp.exp(-fnp.exp(z)),
    logsf=lambda z: -fnp.exp(z),
    ppf=lambda q: fnp.log(-fnp.log1p(-q)), isf=lambda q: fnp.log(-fnp.log(q)))

_SPLIT = "``log(cdf)`` below the median, ``log1p(-sf)`` above."

r_pdf = R.method("pdf", "``exp(-z - exp(-z)) / scale``, ``z = (x - loc) / scale``.")
r_logpdf = R.method("logpdf", "``-z - exp(-z) - log(scale)``.")
r_cdf = R.method("cdf", "``exp(-exp(-z))``.")
r_logcdf = R.method("logcdf", "``-exp(-z)``.")
r_sf = R.method("sf", "``-expm1(-exp(-z))``.")
r_logsf = R.method("logsf", "``log(sf)`` above the median, ``log1p(-cdf)`` below.")
r_ppf = R.method("ppf", "``-log(-log(q)) scale + loc``.")
r_isf = R.method("isf", "``-log(-log1p(-q)) scale + loc``.")

l_pdf = L.method("pdf", "``exp(z - exp(z)) / scale``, ``z = (x - loc) / scale``.")
l_logpdf = L.method("logpdf", "``z - exp(z) - log(scale)``.")
l_cdf = L.method("cdf", "``-expm1(-exp(z))``.")
l_logcdf = L.method("logcdf", _SPLIT)
l_sf = L.method("sf", "``exp(-exp(z))``.")
l_logsf = L.method("logsf", "``-exp(z)``.")
l_ppf = L.method("ppf", "``log(-log1p(-q)) scale + loc``.")
l_isf = L.method("isf", "``log(-log(q)) scale + loc``.")
