"""``funcdiff.scipy.stats.betabinom``: the beta-binomial distribution, ``pmf logpmf`` with
SciPy's signature ``(k, n, a, b, loc=0)``; the formulas are in ``_binom``."""
from ._binom import betabinom_logpmf as logpmf, betabinom_pmf as pmf

__all__ = ["pmf", "logpmf"]


def __dir__():
    return sorted(__all__)
