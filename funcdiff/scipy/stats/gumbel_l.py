"""``funcdiff.scipy.stats.gumbel_l``: the left-skewed Gumbel distribution, ``pdf logpdf cdf
logcdf sf logsf ppf isf`` with SciPy's signature ``(x, loc=0, scale=1)`` (``q`` for
``ppf``/``isf``); the formulas are in ``_gumbel``."""
from ._gumbel import (l_cdf as cdf, l_isf as isf, l_logcdf as logcdf, l_logpdf as logpdf,
                      l_logsf as logsf, l_pdf as pdf, l_ppf as ppf, l_sf as sf)

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def __dir__():
    return sorted(__all__)
