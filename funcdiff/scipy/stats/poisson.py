"""``funcdiff.scipy.stats.poisson``: the Poisson distribution, ``pmf logpmf cdf logcdf sf
logsf`` with SciPy's signature ``(k, mu, loc=0)``, and ``entropy(mu, loc=0)``.

Differentiable in ``mu`` to any order (``d/dmu cdf(k) = -pmf(k)``, exactly, through
``gammaincc``'s x-derivative).  ``k`` is integer-valued: the pmf is only defined on the
integers and the cdf is a step function of ``k``, so their derivatives with respect to
``k`` (and ``loc``) are 0."""
from ._poisson import cdf, entropy, logcdf, logpmf, logsf, pmf, sf

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "entropy"]


def __dir__():
    return sorted(__all__)
