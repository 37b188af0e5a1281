"""The Pareto distribution (``funcdiff.scipy.stats.pareto``), SciPy's formulas in log
form (``z^(-b) = exp(-b log z)``)."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous


def _logpdf(z, b):
    return fnp.log(b) - (b + 1.0) * fnp.log(z)


DIST = Continuous(
    "pareto", support=(1.0, math.inf), safe_z=2.0, safe_shapes=(1.0,), shape_names=("b",),
    pdf=lambda z, b: b * fnp.exp(-(b + 1.0) * fnp.log(z)), logpdf=_logpdf,
    cdf=lambda z, b: -fnp.expm1(-b * fnp.log(z)), sf=lambda z, b: fnp.exp(-b * fnp.log(z)),
    logsf=lambda z, b: -b * fnp.log(z),
    ppf=lambda q, b: fnp.exp(-fnp.log1p(-q) / b), isf=lambda q, b: fnp.exp(-fnp.log(q) / b))

pdf = DIST.method("pdf", "``b z^(-b-1) / scale`` for ``z >= 1``.")
logpdf = DIST.method("logpdf", "``log(b) - (b + 1) log(z) - log(scale)``.")
cdf = DIST.method("cdf", "``1 - z^(-b)``.")
logcdf = DIST.method("logcdf", "``log(cdf)`` below the median, ``log1p(-sf)`` above.")
sf = DIST.method("sf", "``z^(-b)``.")
logsf = DIST.method("logsf", "``-b log(z)``.")
ppf = DIST.method("ppf", "``(1 - q)^(-1/b) scale + loc``.")
isf = DIST.method("isf", "``q^(-1/b) scale + loc``.")
