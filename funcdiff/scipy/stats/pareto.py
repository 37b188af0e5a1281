"""``funcdiff.scipy.stats.pareto``: the Pareto distribution, ``pdf logpdf cdf logcdf sf
logsf ppf isf`` with SciPy's signature ``(x, b, loc=0, scale=1)`` (``q`` for
``ppf``/``isf``); the formulas are in ``_pareto``."""
from ._pareto import cdf, isf, logcdf, logpdf, logsf, pdf, ppf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def __dir__():
    return sorted(__all__)
