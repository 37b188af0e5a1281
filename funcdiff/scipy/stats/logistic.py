"""``funcdiff.scipy.stats.logistic``: the logistic distribution, ``pdf logpdf cdf logcdf sf
logsf ppf isf`` with SciPy's signature ``(x, loc=0, scale=1)`` (``q`` for
``ppf``/``isf``); the formulas are in ``_logistic``."""
from ._logistic import cdf, isf, logcdf, logpdf, logsf, pdf, ppf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def __dir__():
    return sorted(__all__)
