"""``funcdiff.scipy.stats.binom``: the binomial distribution, ``pmf logpmf cdf logcdf sf
logsf`` with SciPy's signature ``(k, n, p, loc=0)``; the formulas are in ``_binom``."""
from ._binom import (binom_cdf as cdf, binom_logcdf as logcdf, binom_logpmf as logpmf,
                     binom_logsf as logsf, binom_pmf as pmf, binom_sf as sf)

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
