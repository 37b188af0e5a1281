"""``funcdiff.scipy.stats.gumbel_r``: the right-skewed Gumbel distribution, ``pdf logpdf
cdf logcdf sf logsf ppf isf`` with SciPy's signature ``(x, loc=0, scale=1)`` (``q`` for
``ppf``/``isf``); the formulas are in ``_gumbel``."""
from ._gumbel import (r_cdf as cdf, r_isf as isf, r_logcdf as logcdf, r_logpdf as logpdf,
                      r_logsf as logsf, r_pdf as pdf, r_ppf as ppf, r_sf as sf)

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def __dir__():
    return sorted(__all__)
