"""``funcdiff.scipy.stats.nbinom``: the negative binomial distribution, ``pmf logpmf cdf
logcdf sf logsf`` with SciPy's signature ``(k, n, p, loc=0)``; the formulas are in
``_geom``."""
from ._geom import (nbinom_cdf as cdf, nbinom_logcdf as logcdf, nbinom_logpmf as logpmf,
                    nbinom_logsf as logsf, nbinom_pmf as pmf, nbinom_sf as sf)

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
