"""The generalized normal distribution (``funcdiff.scipy.stats.gennorm``), SciPy's
formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous


def _abs_pow(z, beta):
    """``|z|^beta``, 0 at ``z = 0`` with derivative 0 there in both arguments (the
    limits for ``beta > 1``; at the kink of ``beta = 1`` the symmetric choice, as abs)."""
    zero = fnp.equal(z, 0)
    return fnp.where(zero, 0.0, fnp.exp(beta * fnp.log(fnp.where(zero, 1.0, fnp.abs(z)))))


def _logpdf(z, beta):
    return fnp.log(0.5 * beta) - fsp.gammaln(1.0 / beta) - _abs_pow(z, beta)


def _cdf(z, beta):
    """``1/2 + sign(z) (1 - gammaincc(1/beta, |z|^beta)) / 2``; at ``z = 0`` its first-order
    expansion ``1/2 + pdf(0) z`` (the product rule there is ``0 * inf``: sign's derivative
    times the infinite slope of ``|z|^beta``, which gave the derivative 0, not ``pdf(0)``)."""
    zero = fnp.equal(z, 0)
    zs = fnp.where(zero, 1.0, z)
    c = 0.5 * fnp.sign(zs)
    body = (0.5 + c) - c * fsp.gammaincc(1.0 / beta, _abs_pow(zs, beta))
    return fnp.where(zero, 0.5 + z * fnp.exp(_logpdf(fnp.zeros_like(z), beta)), body)


DIST = Continuous(
    "gennorm", support=(-math.inf, math.inf), safe_z=0.0, safe_shapes=(1.0,),
    shape_names=("beta",), pdf=lambda z, beta: fnp.exp(_logpdf(z, beta)), logpdf=_logpdf,
    cdf=_cdf, sf=lambda z, beta: _cdf(-z, beta),
    median_split=lambda z, beta: fnp.less(z, 0))

pdf = DIST.method("pdf", "``beta / (2 Gamma(1/beta) scale) exp(-|z|^beta)``.")
logpdf = DIST.method("logpdf", "``log(beta/2) - gammaln(1/beta) - |z|^beta - log(scale)``.")
cdf = DIST.method("cdf", "``1/2 + sign(z) (1 - gammaincc(1/beta, |z|^beta)) / 2``; d/dbeta "
                  "raises GradientError (gammaincc in its first argument).")
logcdf = DIST.method("logcdf", "``log(cdf)`` left of 0, ``log1p(-sf)`` right of it.")
sf = DIST.method("sf", "``cdf(-z)``.")
logsf = DIST.method("logsf", "``log(sf)`` right of 0, ``log1p(-cdf)`` left of it.")
