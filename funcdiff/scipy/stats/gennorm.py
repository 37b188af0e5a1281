"""``funcdiff.scipy.stats.gennorm``: the generalized normal distribution, ``pdf logpdf cdf
logcdf sf logsf`` with SciPy's signature ``(x, beta, loc=0, scale=1)``; the formulas are
in ``_gennorm``."""
from ._gennorm import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
