"""The uniform distribution on ``[loc, loc + scale]`` (``funcdiff.scipy.stats.uniform``)."""
from __future__ import annotations

from ... import numpy as fnp
from ._dist import Continuous

DIST = Continuous(
    "uniform", support=(0.0, 1.0), safe_z=0.5,
    pdf=lambda z: fnp.ones_like(z), logpdf=lambda z: fnp.zeros_like(z),
    cdf=lambda z: z, sf=lambda z: 1.0 - z, logcdf=lambda z: fnp.log(z),
    logsf=lambda z: fnp.log1p(-z), ppf=lambda q: q, isf=lambda q: 1.0 - q)

pdf = DIST.method("pdf", "``1 / scale`` on ``[loc, loc + scale]``.")
logpdf = DIST.method("logpdf", "``-log(scale)`` on the support.")
cdf = DIST.method("cdf", "``z = (x - loc) / scale`` on the support.")
logcdf = DIST.method("logcdf", "``log(z)``.")
sf = DIST.method("sf", "``1 - z``.")
logsf = DIST.method("logsf", "``log1p(-z)``.")
ppf = DIST.method("ppf", "``q scale + loc``.")
isf = DIST.method("isf", "``(1 - q) scale + loc``.")
