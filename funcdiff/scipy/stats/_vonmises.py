"""The von Mises distribution (``funcdiff.scipy.stats.vonmises``), SciPy's formulas
(its support is the whole line: the density is 2 pi-periodic)."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous

_LOG_2PI = math.log(2 * math.pi)


def _cosm1(z):
    """``cos(z) - 1 = -2 sin(z/2)^2``, accurate near 0 (SciPy's ``cosm1``)."""
    return -2.0 * fnp.sin(0.5 * z) ** 2


DIST = Continuous(
    "vonmises", support=(-math.inf, math.inf), safe_z=0.0, safe_shapes=(1.0,),
    shape_names=("kappa",), argcheck=lambda kappa: fnp.greater_equal(kappa, 0),
    pdf=lambda z, k: fnp.exp(k * _cosm1(z)) / (2 * math.pi * fsp.i0e(k)),
    logpdf=lambda z, k: k * _cosm1(z) - _LOG_2PI - fnp.log(fsp.i0e(k)))

pdf = DIST.method("pdf", "``exp(kappa cosm1(z)) / (2 pi i0e(kappa) scale)``.")
logpdf = DIST.method("logpdf", "``kappa cosm1(z) - log(2 pi) - log(i0e(kappa)) - "
                     "log(scale)``.")
