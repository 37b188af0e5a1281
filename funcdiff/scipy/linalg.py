"""``funcdiff.scipy.linalg``: ``solve_triangular cho_factor cho_solve sqrtm expm`` on
values that trace.

Outside transforms each function *is* SciPy's (when SciPy is importable; without it the
traced code below runs on NumPy).  Inside, they bind primitives:

* ``solve_triangular`` and ``cho_solve`` are ``triangular_solve``
  (``funcdiff.primitives.linalg``); ``cho_factor`` is ``cholesky`` plus a ``select``
  that keeps the other triangle of the input, as LAPACK's ``potrf`` leaves it (SciPy
  says that triangle holds "random data"; it is the input's entries).
* ``expm`` and ``sqrtm`` are the primitives of ``funcdiff.primitives.matfun``, whose
  values are SciPy's own and whose derivatives are exact, to any order: ``expm``'s is
  the Frechet derivative (the block-matrix identity
  ``expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]]``), ``sqrtm``'s solves the
  Sylvester equation ``X dX + dX X = dA``.

Semantics follow SciPy 1.17: leading batch axes (``b`` is a vector when it is 1-D, a
matrix ``(..., n, k)`` otherwise; batch shapes broadcast; zero-size batches raise
``ValueError`` as in SciPy); dtypes as LAPACK's: integer and bool inputs become float64,
float16 float32, and mixed operands their NumPy promotion; ``trans`` is 0/'N', 1/'T' or
2/'C'; ``lower`` defaults to False; ``expm``/``sqrtm`` of a one-element array of fewer
than two dimensions give a ``(1, 1)`` result.  ``overwrite_*`` and ``check_finite`` are
accepted and ignored under transforms (values are never overwritten).

Two documented differences under transforms, where SciPy's result depends on the values:

* ``sqrtm`` of a real matrix: SciPy returns a complex array when the principal square
  root is not real (an eigenvalue on the negative real axis) and a real one otherwise;
  traced, the output dtype must follow the input dtype, so real input gives real output
  and a matrix without a real principal root raises ``FuncdiffValueError`` (pass
  ``a.astype(complex)``).  Outside transforms, SciPy's result is returned as is.
  (For a one-element 0-d/1-d input SciPy 1.17's ``sqrtm`` returns ``[[exp(a)]]``, a
  bug; funcdiff returns the square root, as for a ``(1, 1)`` matrix.)
* ``cho_factor`` of a batch returns ``(c, lower)`` with ``lower`` a bool (SciPy's batch
  wrapper returns a list holding an array of bools).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..core.trace import Tracer
from ..numpy._core import aval
from ..primitives import base as pb, elementwise as ew, linalg as la, matfun as mf
from ..primitives.base import broadcast_to, full, reduce_sum, reshape
from ._fastpath import scipy_fast_path
from ..numpy import asarray

try:  # SciPy is optional at run time
    import scipy.linalg as _sla  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sla = None

__all__ = ["solve_triangular", "cho_factor", "cho_solve", "sqrtm", "expm", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError
_NoValue = object()


def _scipy(sp_name, eager=None):
    """Eager fast path = SciPy's ``sp_name`` (or ``eager(sp_fn, traced, ...)`` when
    given); under a trace, or without SciPy, the traced implementation."""
    if sp_name in _ONE_MATRIX and not la._SCIPY_BATCHED:
        eager = _stacks_traced(eager)
    return scipy_fast_path(getattr(_sla, sp_name, None) if _sla is not None else None,
                           eager)


# SciPy before 1.16 takes one matrix at a time in these: outside transforms a stack of
# matrices then runs the traced implementation (on NumPy values), as under transforms
_ONE_MATRIX = {"solve_triangular", "cho_factor", "cho_solve", "sqrtm"}


def _stacks_traced(eager):
    def run(sp_fn, traced, *args, **kwargs):
        arrays = [x[0] if isinstance(x, tuple) else x for x in args]   # cho_solve's (c, lower)
        if any(np.ndim(x) > 2 for x in arrays):
            return traced(*args, **kwargs)
        return sp_fn(*args, **kwargs) if eager is None else eager(sp_fn, traced, *args,
                                                                    **kwargs)
    return run


# --- operands and dtypes ------------------------------------------------------------------

def _arr(x):
    """An operand as SciPy sees it: ``np.asarray`` of anything that is not traced (Python
    scalars included: SciPy converts them to strongly typed arrays)."""
    if type(x) is Tracer:
        return x
    if isinstance(x, (list, tuple)) and any(type(e) is Tracer for e in _flat(x)):
        return asarray(x)
    return np.asarray(x)


def _flat(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def _lapack_dtype(*dtypes):
    """The dtype SciPy's LAPACK wrappers compute in for these operands."""
    dt = np.result_type(*dtypes)
    if dt.kind == "c":
        return np.dtype(np.complex64 if dt.itemsize <= 8 else np.complex128)
    if dt.kind == "f":
        return np.dtype(np.float32 if dt.itemsize <= 4 else np.float64)
    return np.dtype(np.float64)


def _cast(x, dtype):
    a = aval(x)
    if a.dtype == dtype and not a.weak_type:
        return x
    return pb.convert_element_type(x, dtype=dtype)


def _batch_shape(name, *shapes):
    batch = np.broadcast_shapes(*shapes)
    if batch and math.prod(batch) == 0:
        raise ValueError(f"`{name}` does not support zero-size batches.")
    return batch


def _conj(x):
    return pb.conj(x) if aval(x).dtype.kind == "c" else x


def _b_core(b_aval):
    """SciPy's core dims of a right-hand side: 2 when it has >= 2 axes, else 1."""
    return 2 if b_aval.ndim >= 2 else 1


def _rhs(name, a, b, a_core_shape, b_shape, dtype):
    """Broadcast ``a (..., n, n)`` and ``b`` (a vector or ``(..., n, k)``) to one batch
    shape and cast them; b becomes a matrix.  Returns (a, b, batch, vector?)."""
    core = _b_core(aval(b))
    batch = _batch_shape(name, aval(a).shape[:-2], aval(b).shape[:-core])
    n = a_core_shape[-1]
    k = 1 if core == 1 else b_shape[-1]
    a = broadcast_to(_cast(a, dtype), batch + (n, n))
    b = _cast(b, dtype)
    b = broadcast_to(reshape(b, aval(b).shape + (1,)) if core == 1 else b, batch + (n, k))
    return a, b, batch, core == 1


# --- solve_triangular ----------------------------------------------------------------------

_TRANS = {"N": 0, "T": 1, "C": 2, 0: 0, 1: 1, 2: 2}


@_scipy("solve_triangular")
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """Solve ``op(a) x = b`` for ``x``, ``a`` triangular (only its ``lower`` / upper
    triangle is read; with ``unit_diagonal`` its diagonal is taken to be ones).

    Args:
      a: ``(..., M, M)`` triangular matrix.
      b: ``(..., M)`` (1-D only) or ``(..., M, N)`` right-hand side.
      trans: ``0``/``'N'``: ``a x = b``; ``1``/``'T'``: ``a^T x = b``; ``2``/``'C'``:
        ``a^H x = b``.
      lower: use the lower triangle (default: the upper one).
      unit_diagonal: assume ones on the diagonal.
    Returns:
      ``x`` with ``b``'s shape (batch axes broadcast).
    """
    a, b = _arr(a), _arr(b)
    A, B = aval(a), aval(b)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError("expected square matrix")
    if B.ndim == 0 or B.shape[-_b_core(B)] != A.shape[-1]:
        raise ValueError(f"shapes of a {A.shape[-2:]} and b {B.shape[-_b_core(B):]} are "
                         "incompatible")
    try:
        t = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}") from None
    dt = _lapack_dtype(A.dtype, B.dtype)
    core = _b_core(B)
    batch = _batch_shape("solve_triangular", A.shape[:-2], B.shape[:-core])
    if math.prod(B.shape[-core:]) == 0:
        return full(batch + B.shape[-core:], 0, dt)
    a, b, batch, vec = _rhs("solve_triangular", a, b, A.shape[-2:], B.shape, dt)
    if t == 2:
        a = _conj(a)
    x = la.triangular_solve(a, b, lower=bool(lower), transpose_a=t != 0,
                            unit_diagonal=bool(unit_diagonal))
    return reshape(x, aval(x).shape[:-1]) if vec else x


# --- cho_factor / cho_solve --------------------------------------------------------------------

@_scipy("cho_factor")
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factorization for ``cho_solve``: returns ``(c, lower)`` where the
    ``lower`` (else upper) triangle of ``c`` holds the factor (``a = L L^H`` or
    ``a = U^H U``, reading that triangle of ``a``) and the other triangle holds ``a``'s
    own entries.  Raises ``LinAlgError`` when ``a`` is not positive definite."""
    a = _arr(a)
    if aval(a).ndim < 2:       # numpy.atleast_2d
        a = reshape(a, (1,) * (2 - aval(a).ndim) + aval(a).shape)
    A = aval(a)
    if A.shape[-1] != A.shape[-2]:
        raise ValueError("Input array is expected to be square but has the shape: "
                         f"{A.shape[-2:]}.")
    batch = _batch_shape("cho_factor", A.shape[:-2])
    dt = _lapack_dtype(A.dtype)
    a = _cast(a, dt)
    n = A.shape[-1]
    if n == 0:
        return full(A.shape, 0, dt), lower
    lower_b = bool(lower)
    if lower_b:
        factor = la.cholesky(a)
    else:                      # a = U^H U reading the upper triangle: U = cholesky(a^H)^H
        factor = la._H(la.cholesky(la._H(a)))
    mask = np.broadcast_to(la._tri_mask(n, 0, lower_b), batch + (n, n))
    return ew.select(mask, factor, a), lower


@_scipy("cho_solve")
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` given ``(c, lower) = cho_factor(a)`` (only the factor's
    triangle of ``c`` is read).  ``b``: ``(..., M)`` (1-D only) or ``(..., M, N)``."""
    c, lower = c_and_lower
    lower = bool(np.all(lower)) if isinstance(lower, np.ndarray) else bool(lower)
    c, b = _arr(c), _arr(b)
    C, B = aval(c), aval(b)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ValueError("The factored matrix c is not square.")
    core = _b_core(B) if B.ndim else 1
    if B.ndim == 0 or C.shape[-1] != B.shape[-core]:
        raise ValueError(f"incompatible dimensions ({C.shape[-2:]} and "
                         f"{B.shape[-core:]})")
    dt = _lapack_dtype(C.dtype, B.dtype)
    batch = _batch_shape("cho_solve", C.shape[:-2], B.shape[:-core])
    if math.prod(B.shape[-core:]) == 0:
        return full(batch + B.shape[-core:], 0, dt)
    c, b, batch, vec = _rhs("cho_solve", c, b, C.shape[-2:], B.shape, dt)
    if lower:    # L L^H x = b
        y = la.triangular_solve(c, b, lower=True)
        x = la.triangular_solve(_conj(c), y, lower=True, transpose_a=True)
    else:        # U^H U x = b
        y = la.triangular_solve(_conj(c), b, lower=False, transpose_a=True)
        x = la.triangular_solve(c, y, lower=False)
    return reshape(x, aval(x).shape[:-1]) if vec else x


# --- expm / sqrtm -----------------------------------------------------------------------------

def _matfun_operand(A):
    """SciPy's input handling of ``expm``/``sqrtm``: returns (operand, one_element)."""
    a = _arr(A)
    aa = aval(a)
    if aa.size == 1 and aa.ndim < 2:
        return reshape(a, (1, 1)), True
    if aa.ndim < 2:
        raise LinAlgError("The input array must be at least two-dimensional")
    if aa.shape[-1] != aa.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    return a, False


def _matfun_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype.kind == "f" and dtype.itemsize > 8:
        return np.dtype(np.float64)
    if dtype.kind == "c" and dtype.itemsize > 16:
        return np.dtype(np.complex128)
    return dtype


@_scipy("expm")
def expm(A):
    """The matrix exponential of ``A (..., n, n)`` (Pade approximation with scaling and
    squaring, SciPy's); differentiable to any order (Frechet derivatives)."""
    a, one = _matfun_operand(A)
    if one:    # SciPy: np.array([[np.exp(a.item())]]): a Python scalar's exp
        dt = np.dtype(np.complex128 if aval(a).dtype.kind == "c" else np.float64)
        return ew.exp(_cast(a, dt))
    dt = _matfun_dtype(aval(a).dtype)
    if min(aval(a).shape) == 0:
        return full(aval(a).shape, 0, dt)
    return mf.expm(_cast(a, dt))


def _sqrtm_eager(sp_fn, traced, A, disp=_NoValue, blocksize=_NoValue):
    kw = {}
    if disp is not _NoValue:
        kw["disp"] = disp
    if blocksize is not _NoValue:
        kw["blocksize"] = blocksize
    if np.size(A) == 1 and np.ndim(A) < 2:    # SciPy 1.17 returns exp here (a bug)
        A = np.reshape(A, (1, 1))
    out = sp_fn(A, **kw)
    if not la._SCIPY_BATCHED and isinstance(out, np.ndarray) and out.dtype.kind == "c" \
            and np.asarray(A).dtype.kind != "c" and not mf._negative_real_eigenvalue(A):
        # SciPy before 1.16 may give a real root as complex (round-off imaginary
        # parts); SciPy 1.16 returns it real, and so does funcdiff
        out = out.real.copy()
    return out


@_scipy("sqrtm", eager=_sqrtm_eager)
def sqrtm(A, disp=_NoValue, blocksize=_NoValue):
    """The principal square root of ``A (..., n, n)``: ``X`` with ``X @ X = A`` whose
    eigenvalues have nonnegative real parts.  Derivative: the solution of the Sylvester
    equation ``X dX + dX X = dA`` (exact; any order).  Traced, a real ``A`` must have a
    real principal root (see the module docstring).  ``disp=False`` (deprecated in SciPy)
    also returns SciPy's error estimate ``||X X - A||_F^2 / ||A||_F``."""
    if disp is not _NoValue:
        warnings.warn("The `disp` argument is deprecated and will be removed in SciPy "
                      "1.18.0.", DeprecationWarning, stacklevel=2)
    if blocksize is not _NoValue:
        warnings.warn("The `blocksize` argument is deprecated and will be removed in "
                      "SciPy 1.18.0.", DeprecationWarning, stacklevel=2)
    a0 = _arr(A)
    a, _ = _matfun_operand(A)
    dt = _matfun_dtype(aval(a).dtype)
    if min(aval(a).shape) == 0:
        x = full(aval(a).shape, 0, dt)
    else:
        x = mf.sqrtm(_cast(a, dt))
    if disp is False:
        err = la._matmul(x, x) if aval(x).ndim == 2 else None
        if err is None:
            raise ValueError("sqrtm: disp=False needs a single 2-D matrix")
        r = ew.sub(err, a0)
        num = reduce_sum(pb.real(ew.mul(r, _conj(r))) if aval(r).dtype.kind == "c"
                         else ew.mul(r, r), (0, 1))
        a_abs2 = pb.real(ew.mul(a0, _conj(a0))) if aval(a0).dtype.kind == "c" \
            else ew.mul(a0, a0)
        den = ew.sqrt(reduce_sum(_cast(a_abs2, aval(num).dtype), (0, 1)))
        return x, ew.div(num, den)
    return x
