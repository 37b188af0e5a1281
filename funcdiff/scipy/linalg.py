"""``funcdiff.scipy.linalg``: SciPy's ``scipy.linalg`` on values that trace.

Outside transforms each function *is* SciPy's (when SciPy is importable; without it the
traced code runs on NumPy, except ``schur``/``hessenberg``/``rsf2csf``, which need
LAPACK's routines).  Inside ``grad``/``jvp``/``vmap``/``jit`` they bind primitives:
``funcdiff.primitives.linalg`` (cholesky, triangular_solve, solve, inv, det, eigh, svd,
qr, eig), ``funcdiff.primitives.decomp`` (lu, schur, hessenberg, rsf2csf) and
``funcdiff.primitives.matfun`` (expm, expm_frechet, sqrtm, sylvester, funm), or are
compositions of them, so they differentiate (to any order), batch and compile.

Semantics follow the installed SciPy (1.17): signatures and keywords (``overwrite_*``
and ``check_finite`` are accepted and ignored under transforms: values are never
overwritten); leading batch axes, broadcast between operands, with SciPy's zero-size
batch ``ValueError`` (a right-hand side ``b`` is a vector when 1-D, else ``(..., n,
k)``); SciPy's dtypes, which differ by function (LAPACK's routine choice: bools, small
integers, float16 and float32 give single precision in most decompositions; ``det`` and
``expm_frechet`` always return double precision); a batch returns its outputs as a list
(SciPy's batch wrapper), a single matrix as a tuple.

Derivatives, where they differ from the obvious:

* ``cholesky``/``cho_factor``, ``eigh``, and ``solve``/``inv`` with ``assume_a`` 'sym',
  'her', 'pos' or a triangular/diagonal/tridiagonal structure read only part of the
  matrix, as LAPACK does, and differentiate exactly that function.
* ``lu``/``lu_factor``: JAX's rule (pivots locally constant).  ``det``: ``tr(adj(A)
  dA)``, exact at singular matrices.  ``polar``: a Sylvester equation (exact at
  repeated singular values).  ``funm``: the Daleckii-Krein formula, tracing ``func``.
* ``schur``, ``hessenberg`` and ``rsf2csf`` have no derivative (``GradientError`` when
  one is used), as in JAX: their factors are not unique.
* Eigenvectors and singular vectors need distinct eigenvalues / singular values.

Documented differences on traced values, where SciPy's result depends on the values:
``sqrtm`` and ``funm`` of a real matrix are real (``FuncdiffValueError`` when the result
is not; SciPy returns a complex array); ``eig``'s eigenvectors are always complex;
``eigh(subset_by_value=...)`` and ``eigh_tridiagonal(select='v')`` need the values (not
under ``jit``); ``qr(mode='raw')``, ``qr(pivoting=True)``, ``eig`` with ``b`` or
``left=True`` are not supported on traced values; ``svd(lapack_driver='gesvd')`` is
computed by ``gesdd``.  (``sqrtm`` of a one-element 0-d/1-d input: SciPy 1.17 returns
``[[exp(a)]]``, a bug; funcdiff returns the square root.)
"""
from ._linalg_decomp import (eig, eigh, eigh_tridiagonal, eigvals, eigvalsh, hessenberg,
                             lstsq, norm, pinv, polar, qr, qr_multiply, rsf2csf, schur,
                             svd)
from ._linalg_matfun import (coshm, cosm, expm, expm_frechet, funm, sinhm, sinm,
                             solve_sylvester, sqrtm, tanhm, tanm)
from ._linalg_solve import (cho_factor, cho_solve, cholesky, det, inv, lu, lu_factor,
                            lu_solve, solve, solve_triangular)
from ._linalg_special import (block_diag, circulant, companion, convolution_matrix, dft,
                              fiedler, fiedler_companion, hadamard, hankel, helmert,
                              hilbert, invhilbert, invpascal, leslie, pascal, toeplitz)
from ._linalg_util import LinAlgError

__all__ = [
    "LinAlgError",
    # solves and triangular factorizations
    "solve", "solve_triangular", "inv", "det", "cholesky", "cho_factor", "cho_solve",
    "lu", "lu_factor", "lu_solve",
    # decompositions
    "eigh", "eigvalsh", "eig", "eigvals", "eigh_tridiagonal", "svd", "qr",
    "qr_multiply", "polar", "schur", "rsf2csf", "hessenberg", "pinv", "lstsq", "norm",
    # matrix functions and equations
    "expm", "expm_frechet", "sqrtm", "funm", "sinm", "cosm", "tanm", "sinhm", "coshm",
    "tanhm", "solve_sylvester",
    # special matrices
    "block_diag", "circulant", "companion", "convolution_matrix", "dft", "fiedler",
    "fiedler_companion", "hadamard", "hankel", "helmert", "hilbert", "invhilbert",
    "invpascal", "leslie", "pascal", "toeplitz",
]


def __dir__():
    return sorted(__all__)
