"""``funcdiff.scipy.stats.norm``: the normal distribution, ``pdf logpdf cdf logcdf sf logsf
ppf isf`` with SciPy's signature ``(x, loc=0, scale=1)`` (``q`` for ``ppf``/``isf``);
differentiable in ``x``/``q``, ``loc`` and ``scale`` to any order.  ``logcdf``/``logsf``
use ``log_ndtr`` (exact far into the tails), ``ppf``/``isf`` ``ndtri``."""
from ._norm import cdf, isf, logcdf, logpdf, logsf, pdf, ppf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def __dir__():
    return sorted(__all__)
