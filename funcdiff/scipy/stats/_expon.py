"""The exponential distribution (``funcdiff.scipy.stats.expon``), SciPy's formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous

DIST = Continuous(
    "expon", support=(0.0, math.inf), safe_z=1.0,
    pdf=lambda z: fnp.exp(-z), logpdf=lambda z: -z, cdf=lambda z: -fnp.expm1(-z),
    sf=lambda z: fnp.exp(-z), logsf=lambda z: -z, ppf=lambda q: -fnp.log1p(-q),
    isf=lambda q: -fnp.log(q))

pdf = DIST.method("pdf", "``exp(-z) / scale``, ``z = (x - loc) / scale >= 0``.")
logpdf = DIST.method("logpdf", "``-z - log(scale)``.")
cdf = DIST.method("cdf", "``-expm1(-z)``.")
logcdf = DIST.method("logcdf", "``log(cdf)`` below the median, ``log1p(-sf)`` above.")
sf = DIST.method("sf", "``exp(-z)``.")
logsf = DIST.method("logsf", "``-z``.")
ppf = DIST.method("ppf", "``-log1p(-q) scale + loc``.")
isf = DIST.method("isf", "``-log(q) scale + loc``.")
