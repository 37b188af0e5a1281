"""The truncated normal distribution (``funcdiff.scipy.stats.truncnorm``): the standard
normal restricted to ``[a, b]`` (in standardized units), SciPy's log-space formulas."""
from __future__ import annotations

import math

from ... import numpy as fnp
from .. import special as fsp
from ._dist import Continuous

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_diff(log_p, log_q):
    """``log(exp(log_p) - exp(log_q))`` for ``log_p >= log_q``."""
    return log_p + fnp.log(-fnp.expm1(log_q - log_p))


def _log_gauss_mass(a, b):
    """``log(Phi(b) - Phi(a))`` for ``a < b``, as SciPy: from the left tail where ``b <=
    0``, mirrored where ``a > 0``, ``log1p(-Phi(a) - Phi(-b))`` in between.  Each case
    sees only its own points (the others get a harmless interval)."""
    left, right = fnp.less_equal(b, 0), fnp.greater(a, 0)
    central = fnp.logical_not(fnp.logical_or(left, right))
    al, bl = fnp.where(left, a, -2.0), fnp.where(left, b, -1.0)
    ar, br = fnp.where(right, a, 1.0), fnp.where(right, b, 2.0)
    ac, bc = fnp.where(central, a, -1.0), fnp.where(central, b, 1.0)
    m_left = _log_diff(fsp.log_ndtr(bl), fsp.log_ndtr(al))
    m_right = _log_diff(fsp.log_ndtr(-ar), fsp.log_ndtr(-br))
    m_central = fnp.log1p(-fsp.ndtr(ac) - fsp.ndtr(-bc))
    return fnp.where(left, m_left, fnp.where(right, m_right, m_central))


def _logpdf(z, a, b):
    return -z ** 2 / 2.0 - _LOG_SQRT_2PI - _log_gauss_mass(a, b)


def _log_cdf_sf(z, a, b):
    """``(logcdf, logsf)``; each switches to ``log1p(-exp(other))`` above -0.1, where it
    would cancel (SciPy's rule)."""
    mass = _log_gauss_mass(a, b)
    lc = _log_gauss_mass(a, z) - mass
    ls = _log_gauss_mass(z, b) - mass
    return (fnp.where(lc > -0.1, fnp.log1p(-fnp.exp(ls)), lc),
            fnp.where(ls > -0.1, fnp.log1p(-fnp.exp(lc)), ls))


def _inside(a, b):
    """A point strictly inside ``(a, b)`` (ends may be infinite): the stand-in value."""
    fa, fb = fnp.isfinite(a), fnp.isfinite(b)
    a0, b0 = fnp.where(fa, a, 0.0), fnp.where(fb, b, 0.0)
    return fnp.where(fa & fb, (a0 + b0) / 2, fnp.where(fa, a0 + 1, fnp.where(fb, b0 - 1, 0.0)))


DIST = Continuous(
    "truncnorm", support=lambda a, b: (a, b), safe_z=_inside, safe_shapes=(-1.0, 1.0),
    shape_names=("a", "b"), argcheck=fnp.less,
    pdf=lambda z, a, b: fnp.exp(_logpdf(z, a, b)), logpdf=_logpdf,
    cdf=lambda z, a, b: fnp.exp(_log_cdf_sf(z, a, b)[0]),
    sf=lambda z, a, b: fnp.exp(_log_cdf_sf(z, a, b)[1]),
    logcdf=lambda z, a, b: _log_cdf_sf(z, a, b)[0],
    logsf=lambda z, a, b: _log_cdf_sf(z, a, b)[1])

pdf = DIST.method("pdf", "``phi(z) / (Phi(b) - Phi(a)) / scale`` on ``[a, b]``.")
logpdf = DIST.method("logpdf", "``-z^2/2 - log(sqrt(2 pi)) - log(Phi(b) - Phi(a)) - "
                     "log(scale)``.")
cdf = DIST.method("cdf", "``exp(logcdf)``.")
logcdf = DIST.method("logcdf", "``log(Phi(z) - Phi(a)) - log(Phi(b) - Phi(a))`` (in log "
                     "space, as SciPy).")
sf = DIST.method("sf", "``exp(logsf)``.")
logsf = DIST.method("logsf", "``log(Phi(b) - Phi(z)) - log(Phi(b) - Phi(a))``.")
