"""``funcdiff.scipy.stats.vonmises``: the von Mises distribution, ``pdf logpdf`` with
SciPy's signature ``(x, kappa, loc=0, scale=1)``; the formulas are in ``_vonmises``."""
from ._vonmises import logpdf, pdf

__all__ = ["pdf", "logpdf"]


def __dir__():
    return sorted(__all__)
