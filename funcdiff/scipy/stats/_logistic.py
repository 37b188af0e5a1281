"""The logistic distribution (``funcdiff.scipy.stats.logistic``), SciPy's formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous


def _logpdf(z):
    """``-z - 2 log(1 + exp(-z))`` (SciPy writes it with ``|z|``; this form is smooth
    at 0, so the second derivative there is right) without overflow."""
    return -z - 2.0 * fnp.logaddexp(0.0, -z)


DIST = Continuous(
    "logistic", support=(-math.inf, math.inf), safe_z=0.0,
    pdf=lambda z: fnp.exp(_logpdf(z)), logpdf=_logpdf,
    cdf=fsp.expit, logcdf=fsp.log_expit, sf=lambda z: fsp.expit(-z),
    logsf=lambda z: fsp.log_expit(-z), ppf=fsp.logit, isf=lambda q: -fsp.logit(q))

pdf = DIST.method("pdf", "``exp(-z) / (1 + exp(-z))^2 / scale``.")
logpdf = DIST.method("logpdf", "``-z - 2 log1p(exp(-z)) - log(scale)``.")
cdf = DIST.method("cdf", "``expit(z)``.")
logcdf = DIST.method("logcdf", "``log_expit(z)``.")
sf = DIST.method("sf", "``expit(-z)``.")
logsf = DIST.method("logsf", "``log_expit(-z)``.")
ppf = DIST.method("ppf", "``logit(q) scale + loc``.")
isf = DIST.method("isf", "``-logit(q) scale + loc``.")
