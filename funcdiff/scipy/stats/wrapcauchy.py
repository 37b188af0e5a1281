"""``funcdiff.scipy.stats.wrapcauchy``: the wrapped Cauchy distribution, ``pdf logpdf cdf
ppf`` with SciPy's signature ``(x, c, loc=0, scale=1)`` (``q`` for ``ppf``); the
formulas are in ``_wrapcauchy``."""
from ._wrapcauchy import cdf, logpdf, pdf, ppf

__all__ = ["pdf", "logpdf", "cdf", "ppf"]


def __dir__():
    return sorted(__all__)
