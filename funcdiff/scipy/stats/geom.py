"""``funcdiff.scipy.stats.geom``: the geometric distribution, ``pmf logpmf cdf logcdf sf
logsf ppf`` with SciPy's signature ``(k, p, loc=0)`` (``q`` for ``ppf``); the formulas
are in ``_geom``."""
from ._geom import (geom_cdf as cdf, geom_logcdf as logcdf, geom_logpmf as logpmf,
                    geom_logsf as logsf, geom_pmf as pmf, geom_ppf as ppf, geom_sf as sf)

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def __dir__():
    return sorted(__all__)
