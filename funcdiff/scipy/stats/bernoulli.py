"""``funcdiff.scipy.stats.bernoulli``: the Bernoulli distribution, ``pmf logpmf cdf logcdf
sf logsf ppf`` with SciPy's signature ``(k, p, loc=0)`` (``q`` for ``ppf``); the
formulas are in ``_binom``."""
from ._binom import (bernoulli_cdf as cdf, bernoulli_logcdf as logcdf, bernoulli_logpmf as
                     logpmf, bernoulli_logsf as logsf, bernoulli_pmf as pmf, bernoulli_ppf
                     as ppf, bernoulli_sf as sf)

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def __dir__():
    return sorted(__all__)
