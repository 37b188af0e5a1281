"""``funcdiff.scipy.stats.dirichlet``: ``pdf(x, alpha)`` and ``logpdf(x, alpha)`` as SciPy's.

``alpha`` is one-dimensional (K,); ``x`` has the K components along its *first* axis,
shape (K, ...), or K-1 of them (the last is then ``1 - sum``), as in SciPy; the output
is squeezed (a scalar for one point).  Differentiable in ``x`` and ``alpha`` to any order.

SciPy's input checks (alpha > 0, 0 <= x <= 1, x summing to 1 within 1e-9, x > 0 where
alpha < 1) raise the same ValueErrors wherever the values are known -- everywhere except
under ``jit``, where an invalid input gives NaN or infinities instead."""
from ._dirichlet import logpdf, pdf

__all__ = ["pdf", "logpdf"]


def __dir__():
    return sorted(__all__)
