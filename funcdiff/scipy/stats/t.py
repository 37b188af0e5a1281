"""``funcdiff.scipy.stats.t``: Student's t distribution, ``pdf logpdf cdf logcdf sf logsf``
with SciPy's signature ``(x, df, loc=0, scale=1)`` (``df = inf`` is the normal).

Differentiable in ``x``, ``loc``, ``scale`` to any order; ``pdf``/``logpdf`` in ``df``
too.  ``cdf``, ``sf`` and their logs are ``stdtr``, whose derivative in ``df`` has no
closed form: differentiating them with respect to ``df`` raises ``GradientError``."""
from ._t import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
