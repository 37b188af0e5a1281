"""``funcdiff.scipy.stats.truncnorm``: the truncated normal distribution, ``pdf logpdf cdf
logcdf sf logsf`` with SciPy's signature ``(x, a, b, loc=0, scale=1)``; the formulas are
in ``_truncnorm``."""
from ._truncnorm import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
