"""``funcdiff.scipy.stats.chi2``: the chi-squared distribution, ``pdf logpdf cdf logcdf sf
logsf`` with SciPy's signature ``(x, df, loc=0, scale=1)``.

Differentiable in ``x``, ``loc``, ``scale`` to any order, and ``pdf``/``logpdf`` in ``df``
too.  ``cdf``/``sf`` are ``gammainc(df/2, z/2)``/``gammaincc(df/2, z/2)`` (SciPy's
``chdtr``/``chdtrc``): differentiating them with respect to ``df`` raises
``GradientError``."""
from ._chi2 import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
