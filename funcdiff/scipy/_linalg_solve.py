"""``funcdiff.scipy.linalg``: linear solves and the triangular factorizations (``solve``
``solve_triangular`` ``inv`` ``det`` ``cholesky`` ``cho_factor`` ``cho_solve`` ``lu``
``lu_factor`` ``lu_solve``).  See ``funcdiff.scipy.linalg`` for the conventions."""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import FuncdiffValueError
from ..core.trace import Tracer
from ..numpy._core import aval
from ..primitives import decomp as dc
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives.reduce import reduce_sum
from ..primitives.base import broadcast_to, full, reshape
from ..primitives.shape import iota, slice_
from ._linalg_util import (arr, b_core, batch_shape, blas_dtype, cast, conj,
                           det_dtype, lapack_dtype, pack, rhs, scipy_linalg, tri, unvec)

# --- solve_triangular ----------------------------------------------------------------------

_TRANS = {"N": 0, "T": 1, "C": 2, 0: 0, 1: 1, 2: 2}


@scipy_linalg("solve_triangular")
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
    a, b = arr(a), arr(b)
    A, B = aval(a), aval(b)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError("expected square matrix")
    if B.ndim == 0 or B.shape[-b_core(B)] != A.shape[-1]:
        raise ValueError(f"shapes of a {A.shape[-2:]} and b {B.shape[-b_core(B):]} are "
                         "incompatible")
    try:
        t = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}") from None
    dt = lapack_dtype(A.dtype, B.dtype)
    core = b_core(B)
    batch = batch_shape("solve_triangular", A.shape[:-2], B.shape[:-core])
    if math.prod(B.shape[-core:]) == 0:
        return full(batch + B.shape[-core:], 0, dt)
    a, b, batch, vec = rhs("solve_triangular", a, b, A.shape[-2:], B.shape, dt)
    if t == 2:
        a = conj(a)
    x = la.triangular_solve(a, b, lower=bool(lower), transpose_a=t != 0,
                            unit_diagonal=bool(unit_diagonal))
    return unvec(x, vec)


# --- cholesky, cho_factor, cho_solve --------------------------------------------------------

def _cholesky_factor(a, lower):
    """The Cholesky factor reading ``a``'s ``lower`` (else upper) triangle: ``L`` with
    ``a = L L^H``, or ``U`` with ``a = U^H U`` (``U = cholesky(a^H)^H``)."""
    if lower:
        return la.cholesky(a)
    return la._H(la.cholesky(la._H(a)))


def _atleast_2d_square(a, name_msg):
    a = arr(a)
    if aval(a).ndim < 2:       # numpy.atleast_2d
        a = reshape(a, (1,) * (2 - aval(a).ndim) + aval(a).shape)
    A = aval(a)
    if A.shape[-1] != A.shape[-2]:
        raise ValueError(name_msg.format(shape=A.shape[-2:]))
    return a


@scipy_linalg("cholesky")
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of ``a (..., M, M)``: upper ``U`` with ``a = U^H U`` (reading
    the upper triangle of ``a``), or lower ``L`` with ``a = L L^H`` when ``lower``; the
    other triangle is zero.  ``LinAlgError`` when ``a`` is not positive definite."""
    a = _atleast_2d_square(a, "Input array is expected to be square but has the shape: "
                              "{shape}.")
    A = aval(a)
    batch_shape("cholesky", A.shape[:-2])
    dt = blas_dtype(A.dtype)
    if A.shape[-1] == 0:
        return full(A.shape, 0, dt)
    return _cholesky_factor(cast(a, dt), bool(lower))


@scipy_linalg("cho_factor")
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factorization for ``cho_solve``: returns ``(c, lower)`` where the
    ``lower`` (else upper) triangle of ``c`` holds the factor (``a = L L^H`` or
    ``a = U^H U``, reading that triangle of ``a``) and the other triangle holds ``a``'s
    own entries.  Raises ``LinAlgError`` when ``a`` is not positive definite."""
    a = _atleast_2d_square(a, "Input array is expected to be square but has the shape: "
                              "{shape}.")
    A = aval(a)
    batch = batch_shape("cho_factor", A.shape[:-2])
    dt = lapack_dtype(A.dtype)
    a = cast(a, dt)
    n = A.shape[-1]
    if n == 0:
        return full(A.shape, 0, dt), lower
    lower_b = bool(lower)
    mask = np.broadcast_to(la._tri_mask(n, 0, lower_b), batch + (n, n))
    return ew.select(mask, _cholesky_factor(a, lower_b), a), lower


def _cho_solve_factor(c, b, lower):
    """``a^{-1} b`` from the Cholesky factor ``c`` of ``a`` (its ``lower`` triangle, else
    the upper one)."""
    if lower:    # L L^H x = b
        y = la.triangular_solve(c, b, lower=True)
        return la.triangular_solve(conj(c), y, lower=True, transpose_a=True)
    y = la.triangular_solve(conj(c), b, lower=False, transpose_a=True)   # U^H U x = b
    return la.triangular_solve(c, y, lower=False)


@scipy_linalg("cho_solve")
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` given ``(c, lower) = cho_factor(a)`` (only the factor's
    triangle of ``c`` is read).  ``b``: ``(..., M)`` (1-D only) or ``(..., M, N)``."""
    c, lower = c_and_lower
    lower = bool(np.all(lower)) if isinstance(lower, np.ndarray) else bool(lower)
    c, b = arr(c), arr(b)
    C, B = aval(c), aval(b)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ValueError("The factored matrix c is not square.")
    core = b_core(B) if B.ndim else 1
    if B.ndim == 0 or C.shape[-1] != B.shape[-core]:
        raise ValueError(f"incompatible dimensions ({C.shape[-2:]} and "
                         f"{B.shape[-core:]})")
    dt = lapack_dtype(C.dtype, B.dtype)
    batch = batch_shape("cho_solve", C.shape[:-2], B.shape[:-core])
    if math.prod(B.shape[-core:]) == 0:
        return full(batch + B.shape[-core:], 0, dt)
    c, b, batch, vec = rhs("cho_solve", c, b, C.shape[-2:], B.shape, dt)
    return unvec(_cho_solve_factor(c, b, lower), vec)


# --- solve ----------------------------------------------------------------------------------

_STRUCTURES = {None: "gen", "general": "gen", "gen": "gen", "diagonal": "diagonal",
               "tridiagonal": "tridiagonal", "banded": "gen",
               "upper triangular": "upper", "lower triangular": "lower",
               "pos": "pos", "positive definite": "pos", "sym": "sym",
               "symmetric": "sym", "her": "her", "hermitian": "her"}


class StructureError(FuncdiffValueError, KeyError):
    """An unknown ``assume_a``: a ``ValueError`` (``solve``'s) and a ``KeyError``
    (``inv``'s, which looks the name up in a dict)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _structure(assume_a, allowed):
    s = _STRUCTURES.get(assume_a) if isinstance(assume_a, (str, type(None))) else None
    if s is None or assume_a not in allowed:
        raise StructureError(f"{assume_a!r} is not a recognized matrix structure; use one "
                             f"of {', '.join(repr(x) for x in allowed)}")
    return s


def _symmetric_from_triangle(a, lower, hermitian):
    """The symmetric (``a^T``) or Hermitian matrix a LAPACK ``sy*``/``he*`` routine sees
    when it reads only the ``lower`` (else upper) triangle of ``a``."""
    if hermitian or aval(a).dtype.kind != "c":
        return la._sym_from_triangle(a, lower)
    strict = tri(a, lower, -1 if lower else 1)
    n = aval(a).shape[-1]
    return ew.add(ew.add(strict, la._mT(strict)),
                  ew.select(np.eye(n, dtype=bool), a, np.zeros((), aval(a).dtype)[()]))


def _solve_structured(a, b, s, lower, transposed):
    """``op(a)^{-1} b`` for ``a (..., n, n)``, ``b (..., n, k)`` with structure ``s``."""
    if s == "diagonal":
        return ew.div(b, reshape(la._diag(a), aval(a).shape[:-1] + (1,)))
    if s in ("upper", "lower"):
        return la.triangular_solve(a, b, lower=s == "lower", transpose_a=transposed)
    if s == "pos":
        return _cho_solve_factor(_cholesky_factor(a, lower), b, lower)
    if s in ("sym", "her"):
        a = _symmetric_from_triangle(a, lower, s == "her")
    elif s == "tridiagonal":
        n = aval(a).shape[-1]
        band = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) <= 1
        a = ew.select(band, a, np.zeros((), aval(a).dtype)[()])
    if transposed:
        a = la._mT(a)
    return la.solve(a, b)


_SOLVE_STRUCTURES = tuple(_STRUCTURES)


def _solve_eager(sp_fn, traced, a, b, *args, **kwargs):
    """SciPy's ``solve``; before SciPy 1.16 its tridiagonal solver fails on matrices
    smaller than 3x3 (its ``gttrf`` call): those run the traced code."""
    if kwargs.get("assume_a") == "tridiagonal" and (np.shape(a) or (1,))[-1] <= 2:
        return traced(a, b, *args, **kwargs)
    return sp_fn(a, b, *args, **kwargs)


@scipy_linalg("solve", eager=None if la.SCIPY_BATCHED else _solve_eager)
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """Solve ``a x = b`` (``a^T x = b`` with ``transposed``, real ``a`` only) for square
    ``a (..., N, N)``; ``b`` is ``(..., N)`` when 1-D, else ``(..., N, NRHS)``; batch axes
    broadcast.  ``assume_a`` picks the structure read from ``a``: 'gen' (default; also
    ``None``, which SciPy resolves by inspecting the values, and 'banded': the general
    solve gives the same solution), 'sym'/'her' (one triangle, by ``lower``), 'pos'
    (Cholesky, one triangle), 'diagonal', 'tridiagonal', 'upper triangular', 'lower
    triangular' (only those entries are read, and differentiated)."""
    s = _structure(assume_a, _SOLVE_STRUCTURES)
    a, b = arr(a), arr(b)
    if aval(a).ndim < 2:
        a = reshape(a, (1,) * (2 - aval(a).ndim) + aval(a).shape)
    if aval(b).ndim == 0:
        b = reshape(b, (1,))
    A, B = aval(a), aval(b)
    dt = lapack_dtype(A.dtype, B.dtype)
    if A.shape[-1] != A.shape[-2]:
        raise ValueError(f"Expected square matrix, got a1.shape={A.shape}")
    if dt.kind == "c" and transposed:
        raise NotImplementedError("scipy.linalg.solve can currently not solve a^T x = b "
                                  "or a^H x = b for complex matrices.")
    vec = B.ndim == 1
    b = cast(b, dt)
    if vec:
        b = reshape(b, B.shape + (1,))
    bshape = aval(b).shape
    scalar = A.size == 1
    if bshape[-2] != A.shape[-1] and not scalar:
        raise ValueError(f"incompatible shapes: a1.shape={A.shape} and b1.shape={bshape}")
    batch = np.broadcast_shapes(A.shape[:-2], bshape[:-2])
    a = broadcast_to(cast(a, dt), batch + A.shape[-2:])
    b = broadcast_to(b, batch + bshape[-2:])
    if A.size == 0 or aval(b).size == 0:
        x = full(batch + bshape[-2:], 0, dt)
    elif scalar:                 # SciPy: b / a, whatever b's length
        x = ew.div(b, a)
    else:
        x = _solve_structured(a, b, s, bool(lower), bool(transposed))
    return unvec(x, vec)


# --- inv, det ---------------------------------------------------------------------------------

_INV_STRUCTURES = (None, "general", "gen", "diagonal", "upper triangular",
                   "lower triangular", "pos", "sym", "her")


def _eye_like(a):
    A = aval(a)
    n = A.shape[-1]
    return broadcast_to(np.eye(n, dtype=A.dtype), A.shape)


@scipy_linalg("inv")
def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """The inverse of ``a (..., N, N)``; ``assume_a`` ('gen', 'diagonal', 'upper
    triangular', 'lower triangular', 'pos', 'sym', 'her') picks the entries read, as in
    ``solve``.  ``LinAlgError`` for a singular matrix."""
    s = _structure(assume_a, _INV_STRUCTURES)
    a = arr(a)
    A = aval(a)
    if A.ndim < 2:
        raise ValueError(f"Expected at least ndim=2, got a1.ndim={A.ndim}")
    if A.shape[-1] != A.shape[-2]:
        raise ValueError(f"Expected square matrix, got a1.shape={A.shape}")
    dt = blas_dtype(A.dtype)
    if A.size == 0:
        return full(A.shape, 0, dt)
    a = cast(a, dt)
    if s == "diagonal":
        d = la._diag(a)
        one = np.ones((), dt)[()]
        return ew.select(np.eye(A.shape[-1], dtype=bool),
                         reshape(ew.div(one, d), aval(d).shape + (1,)), np.zeros((), dt)[()])
    if s in ("upper", "lower"):
        return la.triangular_solve(a, _eye_like(a), lower=s == "lower")
    if s in ("pos", "sym", "her"):
        a = _symmetric_from_triangle(a, bool(lower), s != "sym")
    return la.inv(a)


@scipy_linalg("det")
def det(a, overwrite_a=False, check_finite=True):
    """The determinant of ``a (..., N, N)``, in double precision whatever the input's
    (SciPy's rule: float32 gives float64).  Derivative ``tr(adj(a) da)``, exact at
    singular matrices too (``funcdiff.primitives.linalg.det``)."""
    a = arr(a)
    A = aval(a)
    if A.ndim < 2:
        raise ValueError("The input array must be at least two-dimensional.")
    if A.shape[-1] != A.shape[-2]:
        raise ValueError("Last 2 dimensions of the array must be square but received "
                         f"shape {A.shape}.")
    dt = det_dtype(A.dtype)
    if min(A.shape) == 0:
        return full(A.shape[:-2], 1, dt)
    a = cast(a, dt)
    if A.shape[-2:] == (1, 1):
        return reshape(a, A.shape[:-2])
    return la.det(a)


# --- lu, lu_factor, lu_solve ---------------------------------------------------------------

def _lu_parts(a):
    """``(L (..., m, k), U (..., k, n), perm (..., m))`` with ``a[perm] = L U``."""
    packed, _, perm = dc.lu(a)
    m, n = aval(a).shape[-2:]
    k = min(m, n)
    lead = aval(a).ndim - 2
    L = tri(la._cols(packed, 0, k), True, -1)
    L = ew.add(L, np.eye(m, k, dtype=aval(a).dtype))
    U = tri(slice_(packed, (0,) * (lead + 2), aval(packed).shape[:-2] + (k, n)), False)
    return L, U, perm


def _onehot(perm, m):
    """``Q (..., m, m)`` bool with ``Q[i, j] = (perm[i] == j)``: ``Q @ x = x[perm]``."""
    batch = aval(perm).shape[:-1]
    return ew.eq(reshape(perm, batch + (m, 1)), reshape(iota(0, m, 1, np.int32), (1, m)))


def _apply_perm(perm, x, inverse=False):
    """``x[..., perm, :]`` (``inverse``: ``x`` with rows put back, ``y[perm] = x``), as a
    product with the 0/1 permutation matrix (exact)."""
    m = aval(x).shape[-2]
    q = ew.convert_element_type(_onehot(perm, m), dtype=aval(x).dtype)
    return la._matmul(la._mT(q) if inverse else q, x)


@scipy_linalg("lu")
def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """LU decomposition with partial pivoting of ``a (..., M, N)``: ``(P, L, U)`` with
    ``a = P @ L @ U``, ``L (..., M, K)`` unit lower triangular, ``U (..., K, N)`` upper
    triangular, ``K = min(M, N)``; ``permute_l``: ``(P @ L, U)``; ``p_indices``: ``P`` as
    int32 row indices (``a = L[P] @ U``).  Derivative: JAX's rule (the ``lu``
    primitive), exact where the pivoting is locally constant and ``U``'s leading square
    block is nonsingular."""
    a = arr(a)
    A = aval(a)
    if A.ndim < 2:
        raise ValueError("The input array must be at least two-dimensional.")
    dt = blas_dtype(A.dtype)
    a = cast(a, dt)
    *nd, m, n = A.shape
    nd = tuple(nd)
    k = min(m, n)
    rdt = np.dtype(np.float32 if dt in (np.float32, np.complex64) else np.float64)
    if min(A.shape) == 0:
        L, U = full(nd + (m, k), 0, dt), full(nd + (k, n), 0, dt)
        if permute_l:
            return L, U
        P = full(nd + (0,), 0, np.int32) if p_indices else full(nd + (0, 0), 0, rdt)
        return P, L, U
    if (m, n) == (1, 1):
        one = full(A.shape, 1, dt)
        if permute_l:
            return one, a
        return (full(nd + (1,), 0, np.int_) if p_indices else one), one, a
    L, U, perm = _lu_parts(a)
    if permute_l:
        return _apply_perm(perm, L, inverse=True), U
    if p_indices:   # the inverse permutation: a = L[P] U
        inv = reduce_sum(ew.select(_onehot(perm, m), reshape(iota(0, m, 1, np.int32),
                                                             (m, 1)), np.int32(0)),
                         (len(nd),))
        return inv, L, U
    P = ew.convert_element_type(la._mT(_onehot(perm, m)), dtype=rdt)
    return P, L, U


@scipy_linalg("lu_factor")
def lu_factor(a, overwrite_a=False, check_finite=True):
    """``(lu, piv)``: LAPACK's packed LU factors of ``a (..., M, N)`` (``L``'s unit
    diagonal implied) and the 0-based row interchanges ``piv (..., K)`` (int32; row
    ``i`` was swapped with row ``piv[i]``), for ``lu_solve``.  Differentiable in ``lu``
    (the ``lu`` primitive's rule)."""
    a = arr(a)
    A = aval(a)
    if A.ndim < 2:
        raise ValueError("expected a matrix (at least two dimensions), got shape "
                         f"{A.shape}")
    batch_shape("lu_factor", A.shape[:-2])
    if A.size == 0:
        return pack((full(A.shape, 0, A.dtype), full(A.shape[:-2] + (0,), 0, np.int32)),
                    A.shape[:-2])
    packed, piv, _ = dc.lu(cast(a, blas_dtype(A.dtype)))
    return pack((packed, piv), A.shape[:-2])


@scipy_linalg("lu_solve")
def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` (``trans`` 1: ``a^T x = b``; 2: ``a^H x = b``) given
    ``(lu, piv) = lu_factor(a)``; ``b`` is ``(..., M)`` when 1-D, else ``(..., M, N)``.
    Differentiable in ``lu`` and ``b``; ``piv`` is an integer array."""
    lu_, piv = lu_and_piv
    lu_, b = arr(lu_), arr(b)
    piv = piv if type(piv) is Tracer else np.asarray(piv)
    LU, B = aval(lu_), aval(b)
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise ValueError(f"lu must be a square matrix (..., M, M), got shape {LU.shape}")
    if trans not in (0, 1, 2):
        raise ValueError(f"trans must be 0, 1 or 2, got {trans!r}")
    core = b_core(B) if B.ndim else 1
    if B.ndim == 0 or LU.shape[-1] != B.shape[-core]:
        raise ValueError(f"Shapes of lu {LU.shape[-2:]} and b {B.shape[-core:]} are "
                         "incompatible")
    m = LU.shape[-1]
    pa = aval(piv)
    if pa.ndim < 1 or pa.shape[-1] != m or pa.dtype.kind not in "iu":
        raise ValueError(f"piv must be integer row interchanges of shape (..., {m}), "
                         f"got {pa.str_short()}")
    dt = blas_dtype(LU.dtype, B.dtype)
    batch = batch_shape("lu_solve", LU.shape[:-2], pa.shape[:-1], B.shape[:-core])
    if math.prod(B.shape[-core:]) == 0:
        return full(batch + B.shape[-core:], 0, dt)
    lu_, b, batch, vec = rhs("lu_solve", lu_, b, LU.shape[-2:], B.shape, dt)
    if type(piv) is Tracer:
        perm = dc.lu_pivots_to_permutation(piv, m)
    else:
        perm = dc.lu_pivots_to_permutation_p.impl(piv.astype(np.int32), permutation_size=m)
    perm = broadcast_to(perm, batch + (m,))
    if trans == 0:     # L U x = b[perm]
        y = la.triangular_solve(lu_, _apply_perm(perm, b), lower=True, unit_diagonal=True)
        x = la.triangular_solve(lu_, y, lower=False)
    else:              # U^T L^T (P^T x) = b
        f = conj(lu_) if trans == 2 else lu_
        y = la.triangular_solve(f, b, lower=False, transpose_a=True)
        z = la.triangular_solve(f, y, lower=True, transpose_a=True, unit_diagonal=True)
        x = _apply_perm(perm, z, inverse=True)
    return unvec(x, vec)

