"""``funcdiff.scipy.stats.gamma``: the gamma distribution, ``pdf logpdf cdf logcdf sf logsf``
with SciPy's signature ``(x, a, loc=0, scale=1)``.

Differentiable in ``x``, ``loc``, ``scale`` to any order, and ``pdf``/``logpdf`` in the
shape ``a`` too.  ``cdf``/``sf`` are ``gammainc``/``gammaincc``, whose derivative in ``a``
has no closed form: differentiating them with respect to ``a`` raises ``GradientError``."""
from ._gamma import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
