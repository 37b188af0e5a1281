"""``funcdiff.scipy.stats.beta``: the beta distribution, ``pdf logpdf cdf logcdf sf logsf``
with SciPy's signature ``(x, a, b, loc=0, scale=1)``.

Differentiable in ``x``, ``loc``, ``scale`` to any order, and ``pdf``/``logpdf`` in the
shapes ``a``, ``b`` too.  ``cdf``/``sf`` are ``betainc``/``betaincc``, whose derivatives in
``a`` and ``b`` have no closed form: asking for them raises ``GradientError``.  The pdf is
``exp(logpdf)`` (SciPy uses Boost's pdf: equal to rounding for moderate parameters)."""
from ._beta import cdf, logcdf, logpdf, logsf, pdf, sf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def __dir__():
    return sorted(__all__)
