"""The wrapped Cauchy distribution on ``[0, 2 pi]`` (``funcdiff.scipy.stats.wrapcauchy``),
SciPy's formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from ._dist import Continuous


def _pdf(z, c):
    return (1.0 - c * c) / (2 * math.pi * (1 + c * c - 2 * c * fnp.cos(z)))


def _cdf(z, c):
    """``arctan(cr tan(z/2))/pi`` below pi, ``1 - arctan(cr tan((2 pi - z)/2))/pi``
    above, ``cr = (1 + c)/(1 - c)`` (each side sees only its own points)."""
    cr = (1 + c) / (1 - c)
    low = fnp.less(z, math.pi)
    z1, z2 = fnp.where(low, z, 0.5 * math.pi), fnp.where(low, 1.5 * math.pi, z)
    return fnp.where(low, fnp.arctan(cr * fnp.tan(z1 / 2)) / math.pi,
                     1 - fnp.arctan(cr * fnp.tan((2 * math.pi - z2) / 2)) / math.pi)


def _ppf(q, c):
    val = (1.0 - c) / (1.0 + c)
    low = fnp.less(q, 0.5)
    q1, q2 = fnp.where(low, q, 0.25), fnp.where(low, 0.75, q)
    return fnp.where(low, 2 * fnp.arctan(val * fnp.tan(math.pi * q1)),
                     2 * math.pi - 2 * fnp.arctan(val * fnp.tan(math.pi * (1 - q2))))


DIST = Continuous(
    "wrapcauchy", support=(0.0, 2 * math.pi), safe_z=math.pi, safe_shapes=(0.5,),
    shape_names=("c",),
    argcheck=lambda c: fnp.logical_and(fnp.greater(c, 0), fnp.less(c, 1)),
    pdf=_pdf, logpdf=lambda z, c: fnp.log(_pdf(z, c)), cdf=_cdf, ppf=_ppf)

pdf = DIST.method("pdf", "``(1 - c^2) / (2 pi (1 + c^2 - 2 c cos z) scale)`` on ``[0, 2 "
                  "pi]``.")
logpdf = DIST.method("logpdf", "``log(pdf)``.")
cdf = DIST.method("cdf", "``arctan((1 + c)/(1 - c) tan(z/2)) / pi`` (folded above pi).")
ppf = DIST.method("ppf", "the inverse of the cdf, times scale plus loc.")
