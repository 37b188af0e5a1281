"""``funcdiff.scipy.stats.multivariate_normal``: ``pdf`` and ``logpdf`` with SciPy's
signature ``(x, mean=None, cov=1, allow_singular=False)``, and ``entropy(mean=None,
cov=1)``.

``mean`` is a vector (or a scalar for one dimension), ``cov`` a scalar (times the
identity), a vector (the diagonal) or a matrix, as in SciPy; ``x`` has the dimension
along its last axis; the output is squeezed.  Only the lower triangle of ``cov`` is read
(as SciPy's ``eigh``).  Differentiable in ``x``, ``mean`` and ``cov`` to any order.

``allow_singular=False``: the Cholesky factor ``L`` of ``cov``, ``-(d log(2 pi) + 2 sum
log diag(L) + |L^-1 (x - mean)|^2) / 2``; a covariance that is not positive definite
raises NumPy's ``LinAlgError`` (SciPy raises on it too).

``allow_singular=True`` (and ``entropy``): SciPy's ``_PSD`` semantics from ``eigh``:
eigenvalues below ``1e6 eps max|s|`` count as zero; the density uses the rank, the
pseudo-determinant and the pseudo-inverse, and is -inf (pdf 0) off the support (a
component in the null space beyond SciPy's tolerance).  The derivative in ``cov`` is
that of the pseudo-inverse and pseudo-determinant on the matrices of the same rank
(exact at repeated eigenvalues: no eigenvector derivatives); rank and support are
piecewise constant.  A matrix with an eigenvalue below ``-cutoff`` raises SciPy's
ValueError where the values are known."""
from ._multivariate_normal import entropy, logpdf, pdf

__all__ = ["pdf", "logpdf", "entropy"]


def __dir__():
    return sorted(__all__)
