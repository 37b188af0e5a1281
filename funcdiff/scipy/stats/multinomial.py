"""``funcdiff.scipy.stats.multinomial``: ``pmf`` and ``logpmf`` with SciPy's signature
``(x, n, p)``.

``x`` holds the counts along its last axis, ``p`` the probabilities along its; ``x``,
``n`` and ``p`` broadcast over the leading axes.  As SciPy: ``x`` and ``n`` are cast to
integers (a non-integer count is out of the domain); where a row of ``p`` does not sum to
1 within ``10 eps`` its last entry is replaced by ``1 - sum(others)`` (with SciPy's
FutureWarning, where the values are known); counts outside the domain (negative,
non-integer, not summing to ``n``) give -inf (pmf 0); ``n < 0`` or ``p`` outside [0, 1]
give NaN.  Differentiable in ``p`` (to any order); ``x`` and ``n`` are integers."""
from ._multinomial import logpmf, pmf

__all__ = ["pmf", "logpmf"]


def __dir__():
    return sorted(__all__)
