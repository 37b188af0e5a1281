"""``funcdiff.numpy.linalg``: NumPy's ``numpy.linalg`` on values that trace.

Outside transforms each function *is* NumPy's.  Inside, they bind the primitives of
``funcdiff.primitives.linalg`` (cholesky, solve, inv, eigh, slogdet, det, svd, eig, qr)
or are compositions of primitives (norm, matrix_power, multi_dot, pinv, lstsq), so all
differentiate to any order in forward and reverse mode, vectorize (``vmap``) and
compile; plain ``numpy.linalg.<name>(traced)`` dispatches here.

Semantics follow the installed NumPy: dtypes as NumPy's ``_commonType`` (integers and
bools become float64, float32/complex64 stay single precision, float16 is refused),
leading batch axes ``(..., n, n)`` broadcast, and ``solve``'s right-hand side is a
vector only when it is 1-D (NumPy >= 2) or has one axis less than ``a`` (NumPy 1.x).
Two documented exceptions, where NumPy's result depends on the *values*: traced
``eig``/``eigvals`` are always complex (NumPy returns real arrays when every
eigenvalue is real), and ``lstsq``'s ``residuals`` under ``jit``/``vmap`` (unknown rank)
assume full column rank when ``M > N`` (outside them the rank is known and NumPy's
rule is followed exactly).

Derivative conventions:
* ``norm``: the 2-norm (and Frobenius, and the p-norms) have derivative 0 at the zero
  vector rather than NaN (a "double where" around the square root).  Matrix
  ``ord='nuc'`` and ``ord=-2`` use the singular values (``ds = Re diag(U^H dA V)``,
  finite everywhere).
* ``det``: derivative ``tr(adj(A) dA)`` with an SVD-based adjugate, finite and exact at
  singular matrices (``slogdet``'s derivative is NaN there: log|det| is -inf).
* ``eigh``/``eigvalsh``/``cholesky`` read one triangle of the matrix, as NumPy does,
  and differentiate exactly that function; eigenvector derivatives are undefined
  (inf/NaN) at repeated eigenvalues: see ``funcdiff.primitives.linalg.eigh``.
* ``svd``/``eig``/``qr``: derivatives need distinct singular values / eigenvalues /
  full rank; singular vectors and eigenvectors are defined up to sign/phase, and
  complete factors up to a basis of the complement: see ``funcdiff.primitives.linalg``
  (``svd``, ``eig``, ``qr``) for the gauge each derivative uses.
* ``pinv`` (and ``lstsq``'s solution, which is ``pinv(a) @ b``) has a custom jvp, the
  closed form ``-P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P``: exact wherever
  the numerical rank (singular values above the cutoff) is locally constant,
  including at repeated singular values.
"""
from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from .. import _np_compat
from ..core.errors import FuncdiffValueError, ShapeError
from ..primitives import base as pb, elementwise as ew, linalg as la
from ..primitives.dot import dot_general
from ..primitives.base import broadcast_to, full, reduce_sum, reshape, transpose
from ..primitives.reduce import reduce_max, reduce_min, reduce_or_p
from ..primitives.shape import iota, slice_
from . import _products
from ._core import aval, canonical_axis, implements, operand
from ._products import dot
from ..api.custom_derivatives import custom_jvp

__all__ = ["norm", "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh",
           "matrix_power", "multi_dot", "svd", "svdvals", "pinv", "eig", "eigvals", "qr",
           "lstsq", "matrix_rank", "LinAlgError", "SlogdetResult", "EighResult",
           "SVDResult", "EigResult", "QRResult"]

LinAlgError = np.linalg.LinAlgError


class _LinAlgShapeError(ShapeError, LinAlgError):
    """A shape NumPy's linalg refuses: both funcdiff's ``ShapeError`` and NumPy's
    ``LinAlgError`` (so ``except np.linalg.LinAlgError`` code keeps working)."""
_NUMPY2 = _np_compat.NUMPY2


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class EigResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


# --- helpers -------------------------------------------------------------------------------

def _linalg_dtype(name, *avals):
    """NumPy's ``_commonType``: the dtype linalg computes (and returns) in."""
    is_complex, single = False, True
    for a in avals:
        dt = a.dtype
        if dt.kind in "fc":
            if dt.kind == "c":
                is_complex = True
            if dt in (np.dtype(np.float64), np.dtype(np.complex128)):
                single = False
            elif dt not in (np.dtype(np.float32), np.dtype(np.complex64)):
                raise TypeError(f"array type {dt.name} is unsupported in linalg")
        else:
            single = False
    if is_complex:
        return np.dtype(np.complex64 if single else np.complex128)
    return np.dtype(np.float32 if single else np.float64)


def _cast(x, dtype):
    return x if aval(x).dtype == dtype else pb.convert_element_type(x, dtype=dtype)


def _square(name, a):
    a = operand(a)
    shape = aval(a).shape
    if len(shape) < 2:
        raise _LinAlgShapeError(f"`linalg.{name}`: {len(shape)}-dimensional array given. "
                                "Array must be at least two-dimensional (shape (..., n, n))")
    if shape[-1] != shape[-2]:
        raise _LinAlgShapeError(f"`linalg.{name}`: last 2 dimensions of the array must be "
                                f"square, got shape {shape}")
    return a


def _stacked_2d(name, a):
    a = operand(a)
    nd = aval(a).ndim
    if nd < 2:
        raise _LinAlgShapeError(f"`linalg.{name}`: {nd}-dimensional array given. Array "
                                "must be at least two-dimensional (shape (..., m, n))")
    return a


def _float_square(name, a):
    a = _square(name, a)
    return _cast(a, _linalg_dtype(name, aval(a)))


def _matmul2(a, b):
    """2-D @ 2-D, 2-D @ 1-D, 1-D @ 2-D, 1-D @ 1-D (np.dot on <= 2-D operands)."""
    na, nb = aval(a).ndim, aval(b).ndim
    if aval(a).shape[-1] != aval(b).shape[0 if nb == 1 else -2]:
        raise ShapeError(f"`linalg.multi_dot`: shapes {aval(a).shape} and {aval(b).shape} not aligned")
    return dot_general(a, b, (((na - 1,), (0 if nb == 1 else nb - 2,)), ((), ())))


def _safe_sqrt(s):
    """sqrt(s) whose derivative at s == 0 is 0 rather than inf/NaN (double where)."""
    zero = ew.eq(s, 0)
    one = np.ones((), aval(s).dtype)[()]
    return ew.select(zero, np.zeros((), aval(s).dtype)[()],
                     ew.sqrt(ew.select(zero, one, s)))


def _abs2(x):
    """|x|^2, real."""
    if aval(x).dtype.kind == "c":
        re, im = pb.real(x), pb.imag(x)
        return pb.add(ew.mul(re, re), ew.mul(im, im))
    return ew.mul(x, x)


def _keep(ret, shape, axes, keepdims):
    if not keepdims:
        return ret
    return reshape(ret, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _real_of(dtype):
    return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else np.dtype(dtype)


# --- norm --------------------------------------------------------------------------------------

@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """NumPy's ``linalg.norm``: vector norms (``ord`` None/2, 1, inf, -inf, 0, any p)
    and matrix norms (None/'fro', 1, -1, inf, -inf, 2, -2, 'nuc').  The 2-norm,
    Frobenius norm and p-norms have derivative 0 at 0 (not NaN).  Matrix ``ord=2`` is
    the square root of the largest eigenvalue of the smaller Gram matrix (accurate for
    the largest singular value); ``ord=-2`` (smallest singular value) and ``'nuc'``
    (their sum) come from the ``svd`` primitive."""
    x = operand(x)
    xa = aval(x)
    if xa.dtype.kind not in "fc":
        x = _cast(x, np.dtype(np.float64))
        xa = aval(x)
    nd = xa.ndim
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            flat = reshape(x, (xa.size,))
            ret = _safe_sqrt(reduce_sum(_abs2(flat), (0,)))
            return reshape(ret, (1,) * nd) if keepdims else ret
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
    if nd == 0 and axis:
        raise _axis_error(axis[0], nd)
    if len(axis) == 1:
        ax = canonical_axis(axis[0], nd)
        return _vector_norm(x, ord, ax, keepdims)
    if len(axis) == 2:
        row, col = canonical_axis(axis[0], nd), canonical_axis(axis[1], nd)
        if row == col:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, row, col, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _axis_error(axis, nd):
    exc = np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError
    return exc(int(axis), nd)


def _vector_norm(x, ord, ax, keepdims):
    xa = aval(x)
    shape = xa.shape
    rdt = _real_of(xa.dtype)
    n = shape[ax]
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf or ord == -np.inf:
        if n == 0:
            if ord == -np.inf:
                raise ValueError("zero-size array to reduction operation minimum which "
                                 "has no identity")
            ret = pb.convert_element_type(reduce_sum(ew.abs_(x), (ax,)), dtype=rdt)
        else:
            red = reduce_max if ord == np.inf else reduce_min
            ret = red(ew.abs_(x), (ax,))
    elif ord == 0:
        ret = reduce_sum(pb.convert_element_type(ew.ne(x, 0), dtype=rdt), (ax,))
    elif ord == 1:
        ret = reduce_sum(ew.abs_(x), (ax,))
    elif ord is None or ord == 2:
        ret = _safe_sqrt(reduce_sum(_abs2(x), (ax,)))
    else:
        p = ord
        s = reduce_sum(ew.power(ew.abs_(x), _exponent(p, rdt)), (ax,))
        inv_p = np.reciprocal(np.asarray(p, dtype=rdt))[()]
        # s ** (1/p), with derivative 0 (not NaN) where s == 0
        zero = ew.eq(s, 0)
        ret = ew.select(zero, np.zeros((), rdt)[()],
                        ew.power(ew.select(zero, np.ones((), rdt)[()], s), inv_p))
    return _keep(ret, shape, (ax,), keepdims)


def _exponent(p, rdt):
    """``absx **= ord`` casts ``ord`` to ``absx``'s dtype (Python ints stay exact)."""
    if isinstance(p, (bool, int, float)):
        return p
    return np.asarray(p).astype(rdt)[()]


def _matrix_norm(x, ord, row, col, keepdims):
    xa = aval(x)
    shape = xa.shape
    if ord == 2:
        ret = _spectral_norm(x, row, col)
    elif ord == -2 or ord == "nuc":
        ret = _svd_norm(x, row, col, ord)
    elif ord in (1, -1):
        red = reduce_max if ord == 1 else reduce_min
        c = col - 1 if col > row else col
        s = reduce_sum(ew.abs_(x), (row,))
        ret = _reduce_or_zero(red, s, c, ord == 1)
    elif ord in (np.inf, -np.inf):
        red = reduce_max if ord == np.inf else reduce_min
        r = row - 1 if row > col else row
        s = reduce_sum(ew.abs_(x), (col,))
        ret = _reduce_or_zero(red, s, r, ord == np.inf)
    elif ord in (None, "fro", "f"):
        ret = _safe_sqrt(reduce_sum(_abs2(x), (row, col)))
    else:
        raise ValueError("Invalid norm order for matrices.")
    return _keep(ret, shape, (row, col), keepdims)


def _svd_norm(x, row, col, ord):
    """NumPy's ``_multi_svd_norm`` with ``amin`` (ord=-2) or ``sum`` ('nuc')."""
    xa = aval(x)
    rest = [i for i in range(xa.ndim) if i not in (row, col)]
    m = transpose(x, tuple(rest) + (row, col))          # (..., m, n)
    (s,) = la.svd(m, compute_uv=False)
    last = aval(s).ndim - 1
    if ord == "nuc":
        return reduce_sum(s, (last,))
    if aval(s).shape[-1] == 0:
        raise ValueError("zero-size array to reduction operation minimum which has no "
                         "identity")
    return reduce_min(s, (last,))


def _reduce_or_zero(red, s, axis, has_initial):
    if aval(s).shape[axis] == 0:
        if not has_initial:
            raise ValueError("zero-size array to reduction operation minimum which has "
                             "no identity")
        return reduce_sum(s, (axis,))   # all zeros, the right shape (initial=0)
    return red(s, (axis,))


def _spectral_norm(x, row, col):
    xa = aval(x)
    rest = [i for i in range(xa.ndim) if i not in (row, col)]
    m = transpose(x, tuple(rest) + (row, col))          # (..., m, n)
    ma = aval(m)
    r, c = ma.shape[-2:]
    if r == 0 or c == 0:
        return reduce_sum(reduce_sum(ew.abs_(m), (ma.ndim - 1,)), (ma.ndim - 2,))
    mh = la._H(m)
    gram = la._matmul(mh, m) if c <= r else la._matmul(m, mh)   # the smaller Gram matrix
    (w,) = la.eigh(gram, compute_v=False)
    wa = aval(w)
    top = reshape(slice_(w, (0,) * (wa.ndim - 1) + (wa.shape[-1] - 1,), wa.shape),
                  wa.shape[:-1])
    zero = np.zeros((), wa.dtype)[()]
    top = ew.select(ew.lt(top, zero), zero, top)     # rounding can make it slightly < 0
    return _safe_sqrt(top)


# --- inv, solve, det, slogdet -----------------------------------------------------------------

@implements(np.linalg.inv)
def inv(a):
    """NumPy's ``linalg.inv`` (stacks of matrices too); derivative ``-A^{-1} dA A^{-1}``."""
    return la.inv(_float_square("inv", a))


@implements(np.linalg.solve)
def solve(a, b):
    """NumPy's ``linalg.solve``.  ``b`` is a vector (or a stack of vectors) if it is
    1-D (NumPy >= 2; with NumPy 1.x: if ``b.ndim == a.ndim - 1``), otherwise a stack
    of ``(n, k)`` matrices; leading axes broadcast."""
    a, b = _square("solve", a), operand(b)
    aa, ba = aval(a), aval(b)
    dtype = _linalg_dtype("solve", aa, ba)
    a, b = _cast(a, dtype), _cast(b, dtype)
    n = aa.shape[-1]
    vector = ba.ndim == 1 if _NUMPY2 else ba.ndim == aa.ndim - 1
    if vector:
        if ba.ndim == 0 or ba.shape[-1] != n:
            raise ShapeError(f"`linalg.solve`: b of shape {ba.shape} does not fit a of "
                             f"shape {aa.shape} (expected (..., {n}))")
        batch = _broadcast_batch(aa.shape[:-2], ba.shape[:-1], aa, ba)
        b2 = reshape(broadcast_to(b, batch + (n,)), batch + (n, 1))
        x = la.solve(broadcast_to(a, batch + (n, n)), b2)
        return reshape(x, batch + (n,))
    if ba.ndim < 2 or ba.shape[-2] != n:
        raise ShapeError(f"`linalg.solve`: b of shape {ba.shape} does not fit a of shape "
                         f"{aa.shape} (expected (..., {n}, k)"
                         + (")" if _NUMPY2 else " or (..., n) with one axis less than a)"))
    batch = _broadcast_batch(aa.shape[:-2], ba.shape[:-2], aa, ba)
    return la.solve(broadcast_to(a, batch + (n, n)), broadcast_to(b, batch + ba.shape[-2:]))


def _broadcast_batch(s1, s2, aa, ba):
    try:
        return tuple(np.broadcast_shapes(s1, s2))
    except ValueError:
        raise ShapeError(f"`linalg.solve`: the batch shapes of a {aa.shape} and b "
                         f"{ba.shape} do not broadcast together") from None


@implements(np.linalg.slogdet)
def slogdet(a):
    """NumPy's ``linalg.slogdet``: ``SlogdetResult(sign, logabsdet)``.  Derivative of
    ``logabsdet``: ``tr(A^{-1} dA)`` (NaN at singular matrices)."""
    sign, logabsdet = la.slogdet(_float_square("slogdet", a))
    return SlogdetResult(sign, logabsdet)


@implements(np.linalg.det)
def det(a):
    """NumPy's ``linalg.det`` (the ``det`` primitive: NumPy's LU value).  Derivative
    ``tr(adj(A) dA)`` with the adjugate from the SVD: finite and exact at singular
    matrices too (e.g. rank n-1, where ``det(A) A^{-1}`` is 0 * inf); second derivatives
    are exact everywhere as well (see ``funcdiff.primitives.linalg.adjugate``)."""
    return la.det(_float_square("det", a))


# --- cholesky, eigh, eigvalsh -----------------------------------------------------------------

@implements(np.linalg.cholesky, numpy2_kwargs=("upper",))
def cholesky(a, /, *, upper=False):
    """NumPy's ``linalg.cholesky``: lower factor ``L`` (``a = L L^H``), reading only the
    lower triangle; with ``upper=True`` the upper factor from the upper triangle."""
    a = _float_square("cholesky", a)
    if upper:
        return la._H(la.cholesky(la._H(a)))
    return la.cholesky(a)


def _uplo(UPLO):
    u = str(UPLO).upper()
    if u not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return u == "L"


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """NumPy's ``linalg.eigh``: ``EighResult(eigenvalues, eigenvectors)`` (ascending).
    Eigenvector derivatives are inf/NaN at repeated eigenvalues; see
    ``funcdiff.primitives.linalg.eigh`` for what to do instead."""
    w, v = la.eigh(_float_square("eigh", a), lower=_uplo(UPLO))
    return EighResult(w, v)


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """NumPy's ``linalg.eigvalsh``; its derivative is defined (and exact) at repeated
    eigenvalues too."""
    (w,) = la.eigh(_float_square("eigvalsh", a), lower=_uplo(UPLO), compute_v=False)
    return w


# --- matrix_power, multi_dot ----------------------------------------------------------------

@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """NumPy's ``linalg.matrix_power`` by repeated squaring (negative ``n``: of the
    inverse).  Integer matrices stay integer for ``n >= 0``."""
    a = _square("matrix_power", a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    aa = aval(a)
    if n == 0:
        eye = np.eye(aa.shape[-1], dtype=aa.dtype)
        return broadcast_to(eye, aa.shape) if aa.ndim > 2 else \
            pb.add(eye, np.zeros((), aa.dtype)[()])
    if n < 0:
        a = la.inv(_cast(a, _linalg_dtype("matrix_power", aa)))
        n = -n
    if n == 1:
        return a
    z = result = None
    while n > 0:
        z = a if z is None else la._matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else la._matmul(result, z)
    return result


@implements(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """NumPy's ``linalg.multi_dot``: the chain product in the cheapest order; the first
    array may be 1-D (a row vector), the last 1-D (a column vector)."""
    if out is not None:
        raise TypeError("`linalg.multi_dot`: out= is not supported on traced values")
    arrays = [operand(a) for a in arrays]
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        a, b = arrays
        if aval(a).ndim <= 2 and aval(b).ndim <= 2 and aval(a).ndim and aval(b).ndim:
            return _matmul2(a, b)
        return dot(a, b)
    nd_first, nd_last = aval(arrays[0]).ndim, aval(arrays[-1]).ndim
    if nd_first == 1:
        arrays[0] = reshape(arrays[0], (1,) + aval(arrays[0]).shape)
    if nd_last == 1:
        arrays[-1] = reshape(arrays[-1], aval(arrays[-1]).shape + (1,))
    for x in arrays:
        if aval(x).ndim != 2:
            raise LinAlgError(f"{aval(x).ndim}-dimensional array given. Array must be "
                              "two-dimensional")
    shapes = [aval(x).shape for x in arrays]
    if n == 3:
        (a0, a1b0), (b1c0, c1) = shapes[0], shapes[2]
        A, B, C = arrays
        if a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0):
            result = _matmul2(_matmul2(A, B), C)
        else:
            result = _matmul2(A, _matmul2(B, C))
    else:
        order = _chain_order(shapes)

        def prod(i, j):
            if i == j:
                return arrays[i]
            k = order[i][j]
            return _matmul2(prod(i, k), prod(k + 1, j))
        result = prod(0, n - 1)
    if nd_first == 1 and nd_last == 1:
        return reshape(result, ())
    if nd_first == 1 or nd_last == 1:
        return reshape(result, (aval(result).size,))
    return result


def _chain_order(shapes):
    """Optimal parenthesization (Cormen 15.2, as NumPy's ``_multi_dot_matrix_chain_order``)."""
    n = len(shapes)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    m = [[0.0] * n for _ in range(n)]
    s = [[0] * n for _ in range(n)]
    for ln in range(1, n):
        for i in range(n - ln):
            j = i + ln
            m[i][j] = np.inf
            for k in range(i, j):
                q = m[i][k] + m[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if q < m[i][j]:
                    m[i][j] = q
                    s[i][j] = k
    return s


# --- svd, svdvals, matrix_rank, pinv -----------------------------------------------------------

@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """NumPy's ``linalg.svd``: ``SVDResult(U, S, Vh)`` (or ``S`` with
    ``compute_uv=False``); ``hermitian=True`` goes through ``eigh`` and sorts by
    ``|w|`` as NumPy does.  For the derivatives (distinct singular values needed for
    ``U``/``Vh``; sign/phase and ``full_matrices`` gauges) see
    ``funcdiff.primitives.linalg.svd``."""
    a = operand(a)
    if hermitian:
        return _svd_hermitian(_float_square("svd", a), compute_uv)
    a = _stacked_2d("svd", a)
    a = _cast(a, _linalg_dtype("svd", aval(a)))
    if not compute_uv:
        return la.svd(a, compute_uv=False)[0]
    s, u, vh = la.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def _svd_hermitian(a, compute_uv):
    """NumPy's ``svd(hermitian=True)``: eigh, ``s = |w|`` sorted descending (as
    ``argsort(s)[..., ::-1]``: ties in reverse index order), signs moved into ``vh``."""
    w, u = la.eigh(a) if compute_uv else (la.eigh(a, compute_v=False)[0], None)
    wa = aval(w)
    n = wa.shape[-1]
    s = ew.abs_(w)
    # position of entry i in descending order: #{j: s_j > s_i} + #{j > i: s_j == s_i}
    later = np.triu(np.ones((n, n), dtype=bool), 1)
    before = ew.logical_or(ew.gt(la._row(s), la._col(s)),
                    ew.logical_and(ew.eq(la._row(s), la._col(s)), later))
    pos = reduce_sum(pb.convert_element_type(before, dtype=np.intp), (wa.ndim,))
    onehot = ew.eq(reshape(iota(0, n, 1, np.intp), (n, 1)), la._row(pos))  # [r, i]
    perm = pb.convert_element_type(onehot, dtype=wa.dtype)
    s_sorted = reduce_sum(ew.mul(perm, la._row(s)), (wa.ndim,))
    if not compute_uv:
        return s_sorted
    sgn = ew.select(ew.lt(w, 0), np.asarray(-1, wa.dtype)[()], np.asarray(1, wa.dtype)[()])
    sgn_sorted = reduce_sum(ew.mul(perm, la._row(sgn)), (wa.ndim,))
    u_sorted = la._matmul(u, _cast(la._mT(perm), aval(u).dtype))    # u[..., :, order]
    vh = la._H(ew.mul(u_sorted, la._row(sgn_sorted)))
    return SVDResult(u_sorted, s_sorted, vh)


if hasattr(np.linalg, "svdvals"):
    @implements(np.linalg.svdvals)
    def svdvals(x, /):
        """NumPy's ``linalg.svdvals``: ``svd(x, compute_uv=False)``."""
        return svd(x, compute_uv=False)
else:  # pragma: no cover - NumPy 1.x
    def svdvals(x, /):
        """``svd(x, compute_uv=False)`` (``numpy.linalg.svdvals`` of NumPy 2)."""
        return svd(x, compute_uv=False)


@implements(np.linalg.matrix_rank, numpy2_kwargs=("rtol",),
            numpy1=_np_compat.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """NumPy's ``linalg.matrix_rank``: the number of singular values above the tolerance
    (an integer: no derivative)."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    A = operand(A)
    if aval(A).ndim < 2:
        nz = ew.ne(A, 0)
        if aval(nz).ndim:
            nz = reduce_or_p.bind(nz, axes=tuple(range(aval(nz).ndim)))
        return pb.convert_element_type(nz, dtype=np.dtype(int))
    S = svd(A, compute_uv=False, hermitian=hermitian)
    sa = aval(S)
    if tol is None:
        if rtol is None:
            rtol = max(aval(A).shape[-2:]) * np.finfo(sa.dtype).eps
        else:
            rtol = _trailing_axis(operand(rtol))
        smax = reduce_max(S, (sa.ndim - 1,)) if sa.shape[-1] else reduce_sum(S, (sa.ndim - 1,))
        tol = ew.mul(la._col(ew.maximum(smax, np.zeros((), sa.dtype)[()])), rtol)
    else:
        tol = _trailing_axis(operand(tol))
    big = pb.convert_element_type(ew.gt(S, tol), dtype=np.intp)
    return reduce_sum(big, (sa.ndim - 1,))


def _trailing_axis(x):
    """``asarray(x)[..., newaxis]``."""
    return reshape(x, aval(x).shape + (1,))


def _pinv_value(a, rcond, hermitian):
    """NumPy's pinv on a float/complex stack ``a``: singular values above
    ``rcond * max(s)`` inverted, the others dropped."""
    rc = _trailing_axis(rcond)
    if hermitian:
        # NumPy: svd(conj(a), hermitian=True) = eigh(conj(a)); pinv = conj(V) diag(1/w) V^T
        w, v = la.eigh(pb.conj(a) if aval(a).dtype.kind == "c" else a)
        s = ew.abs_(w)
    else:
        s, u, vh = la.svd(a, full_matrices=False)
        w = s
    last = aval(s).ndim - 1
    cutoff = ew.mul(rc, reshape(reduce_max(s, (last,)), aval(s).shape[:-1] + (1,)))
    large = ew.gt(s, cutoff)
    one = np.ones((), aval(w).dtype)[()]
    winv = ew.select(large, ew.div(one, ew.select(large, w, one)),
                     np.zeros((), aval(w).dtype)[()])
    if hermitian:
        vc = pb.conj(v) if aval(v).dtype.kind == "c" else v
        return la._matmul(ew.mul(vc, la._row(winv)), la._mT(v))
    return la._matmul(ew.mul(la._H(vh), la._row(winv)), la._H(u))


def _pinv_jvp_rule(pinv_fn, hermitian):
    def rule(primals, tangents):
        a, rcond = primals
        da, _ = tangents
        p = pinv_fn(a, rcond)
        if hermitian:   # eigh reads the lower triangle: differentiate what it sees
            a, da = la._sym_from_triangle(a, True), la._sym_from_triangle(da, True)
        mm = la._matmul
        pH, daH = la._H(p), la._H(da)
        t1 = pb.neg(mm(p, mm(da, p)))                                 # -P dA P
        t2 = mm(mm(p, pH), ew.sub(daH, mm(mm(daH, a), p)))            # P P^H dA^H (I - A P)
        x = mm(daH, mm(pH, p))
        t3 = ew.sub(x, mm(p, mm(a, x)))                               # (I - P A) dA^H P^H P
        return p, pb.add(pb.add(t1, t2), t3)
    return rule


def _make_pinv(hermitian):

    def pinv_core(a, rcond):
        return _pinv_value(a, rcond, hermitian)

    pinv_core.__name__ = "pinv_hermitian" if hermitian else "pinv"
    f = custom_jvp(pinv_core)
    f.defjvp(_pinv_jvp_rule(f, hermitian))
    return f


_PINV = {False: _make_pinv(False), True: _make_pinv(True)}


@implements(np.linalg.pinv, numpy2_kwargs=("rtol",), numpy1=_np_compat.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """NumPy's ``linalg.pinv`` (``rcond``/``rtol`` as NumPy: default cutoff 1e-15 times
    the largest singular value; ``rtol=None``: ``max(m, n) * eps``).  Derivative: the
    closed form for the pseudo-inverse (custom jvp), exact where the number of singular
    values above the cutoff does not change, repeated singular values included."""
    a = operand(a)
    if rcond is None:
        if rtol is np._NoValue:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(aval(a).shape[-2:]) * np.finfo(aval(a).dtype).eps
        else:
            rcond = rtol
    elif rtol is not np._NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    a = _stacked_2d("pinv", a)
    aa = aval(a)
    m, n = aa.shape[-2:]
    if aa.size == 0 and m * n == 0:
        return full(aa.shape[:-2] + (n, m), 0, aa.dtype)
    a = _cast(a, _linalg_dtype("pinv", aa))
    if hermitian:
        _square("pinv", a)
    rcond = operand(rcond)
    if not hasattr(rcond, "aval") and not isinstance(rcond, np.ndarray):
        rcond = np.asarray(rcond)
    return _PINV[bool(hermitian)](a, rcond)


# --- lstsq ---------------------------------------------------------------------------------------

@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """NumPy's ``linalg.lstsq``: ``(x, residuals, rank, s)``, the minimum-norm solution
    with singular values at or below ``rcond * max(s)`` treated as zero (LAPACK's
    ``gelsd`` rule; ``rcond=None``: ``eps * max(M, N)``).  ``x = pinv(a, rcond) @ b``
    differentiates with ``pinv``'s closed-form jvp; ``s`` with the ``svd`` rule;
    ``rank`` is an integer.  ``residuals`` (squared 2-norms of ``b - a @ x`` per
    column) has shape ``(K,)`` when ``rank == N`` and ``M > N``, else ``(0,)``; under
    ``jit``/``vmap``, where the rank is unknown while tracing, it is computed whenever
    ``M > N`` (full rank assumed)."""
    a, b = operand(a), operand(b)
    aa, ba = aval(a), aval(b)
    is_1d = ba.ndim == 1
    if is_1d:
        b = reshape(b, ba.shape + (1,))
        ba = aval(b)
    for x in (aa, ba):
        if x.ndim != 2:
            raise _LinAlgShapeError(f"`linalg.lstsq`: {x.ndim}-dimensional array given. "
                                    "Array must be two-dimensional")
    m, n = aa.shape
    m2, n_rhs = ba.shape
    if m != m2:
        raise _LinAlgShapeError("`linalg.lstsq`: Incompatible dimensions "
                                f"(a {aa.shape}, b {aval(operand(b)).shape})")
    t = _linalg_dtype("lstsq", aa, ba)
    real_t = _real_of(t)
    a, b = _cast(a, t), _cast(b, t)
    eps = np.finfo(t).eps
    if rcond is None:
        rcond = eps * max(n, m)
    elif isinstance(rcond, str):       # NumPy 1.x's "warn" default: machine precision
        rcond = -1
    if not hasattr(rcond, "aval") and np.ndim(rcond) == 0 and rcond < 0:
        rcond = eps                     # LAPACK: rcond < 0 means machine precision
    k = min(m, n)
    if k == 0:
        x = full((n, n_rhs), 0, t)
        s = full((0,), 0, real_t)
        rank = np.int32(0)
    else:
        x = la._matmul(pinv(a, rcond=rcond), b)
        s = la.svd(a, compute_uv=False)[0]
        smax = reshape(slice_(s, (0,), (1,)), ())
        thresh = ew.mul(operand(rcond), smax)
        rank = reduce_sum(pb.convert_element_type(ew.gt(s, thresh), dtype=np.int32), (0,))
    full_rank = None
    if m > n:
        rv = getattr(rank, "_val", rank)
        full_rank = True if rv is None else int(rv) == n
    if full_rank:
        r = ew.sub(b, la._matmul(a, x))
        resids = _cast(reduce_sum(_abs2(r), (0,)), real_t)
    else:
        resids = np.array([], real_t)
    if is_1d:
        x = reshape(x, (n,))
    return x, resids, rank, s


# --- eig, eigvals, qr ---------------------------------------------------------------------------

@implements(np.linalg.eig)
def eig(a):
    """NumPy's ``linalg.eig``: ``EigResult(eigenvalues, eigenvectors)``, always complex on
    traced values (NumPy's dtype depends on whether the eigenvalues happen to be real).
    Eigenvectors are normalized as LAPACK does (unit norm, largest component real) and
    differentiate in that normalization; derivatives need distinct eigenvalues (see
    ``funcdiff.primitives.linalg.eig``)."""
    w, v = la.eig(_float_square("eig", a))
    return EigResult(w, v)


@implements(np.linalg.eigvals)
def eigvals(a):
    """NumPy's ``linalg.eigvals``, always complex on traced values; derivative
    ``diag(V^{-1} dA V)`` (simple eigenvalues)."""
    return la.eig(_float_square("eigvals", a), compute_v=False)[0]


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """NumPy's ``linalg.qr`` with ``mode`` 'reduced' (``QRResult(Q, R)``), 'complete'
    or 'r' (``R`` only).  'raw' (LAPACK's Householder reflectors) is not traced.
    Derivatives need full rank (see ``funcdiff.primitives.linalg.qr``)."""
    import warnings
    if mode not in ("reduced", "complete", "r", "raw"):
        if mode in ("f", "full"):
            warnings.warn("The 'full' option is deprecated in favor of 'reduced'.\n"
                          "For backward compatibility let mode default.",
                          DeprecationWarning, stacklevel=3)
            mode = "reduced"
        elif mode in ("e", "economic"):
            warnings.warn("The 'economic' option is deprecated.", DeprecationWarning,
                          stacklevel=3)
            mode = "economic"
        else:
            raise ValueError(f"Unrecognized mode '{mode}'")
    a = _stacked_2d("qr", a)
    if mode in ("raw", "economic"):
        raise FuncdiffValueError(
            f"`linalg.qr(mode={mode!r})` returns LAPACK's Householder reflectors, which "
            "funcdiff does not trace; use mode='reduced' (or 'complete', 'r')")
    aa = aval(a)
    a = _cast(a, _linalg_dtype("qr", aa))
    m, n = aa.shape[-2:]
    q, r = la.qr(a, full_matrices=(mode == "complete" and m > n))
    if mode == "r":
        return r
    return QRResult(q, r)


# --- cond, tensorinv, tensorsolve and the array-API functions of NumPy 2 --------------------
# NumPy 2's array-API functions (cross, diagonal, matrix_norm, vector_norm, outer,
# tensordot, trace, vecdot, matmul, matrix_transpose) exist here on NumPy 1.26 too, with
# NumPy 2's signatures: there they are funcdiff functions (compositions of primitives,
# which run eagerly on NumPy arrays), not registered for NumPy's dispatch.

def _array_api(name):
    """``implements(numpy.linalg.<name>)`` where NumPy has it; else a plain function."""
    np_fn = getattr(np.linalg, name, None)
    if np_fn is not None:
        return implements(np_fn)

    def deco(f):  # pragma: no cover - NumPy 1.x
        f.traced = f
        return f
    return deco


@implements(np.linalg.cond)
def cond(x, p=None):
    """NumPy's ``linalg.cond``: ``p`` None/2/-2 from the singular values, else
    ``norm(x, p) * norm(inv(x), p)`` (1, -1, inf, -inf, 'fro', 'nuc').  A singular
    matrix gives inf (NaN only where ``x`` has NaNs), as in NumPy."""
    x = operand(x)
    xa = aval(x)
    if xa.size == 0 and xa.ndim >= 2 and int(np.prod(xa.shape[-2:])) == 0:
        raise LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        s = svd(x, compute_uv=False)
        sa = aval(s)
        k = sa.shape[-1]
        first = reshape(slice_(s, (0,) * sa.ndim, sa.shape[:-1] + (1,)), sa.shape[:-1])
        last = reshape(slice_(s, (0,) * (sa.ndim - 1) + (k - 1,), sa.shape), sa.shape[:-1])
        num, den = (last, first) if p == -2 else (first, last)
        # a zero denominator gives inf (NumPy divides with warnings off); the double
        # select keeps the division itself, and its derivative, finite
        zero = ew.eq(den, 0)
        one, inf = (np.asarray(v, sa.dtype)[()] for v in (1, np.inf))
        r = ew.select(zero, inf, ew.div(num, ew.select(zero, one, den)))
    else:
        a = _float_square("cond", x)
        invx = la.inv(a, check=False)
        r = ew.mul(norm(a, p, axis=(-2, -1)), norm(invx, p, axis=(-2, -1)))
        # the condition number is real (NumPy 1.x returned the complex dtype)
        rdt = _linalg_dtype("cond", xa)
        r = _cast(r, _real_of(rdt) if _NUMPY2 else rdt)
    # NaN (from a singular matrix) becomes inf, unless x itself has NaNs there
    ra = aval(r)
    xnan = reduce_max(ew.convert_element_type(ew.isnan(x), dtype=np.dtype(np.int8)),
                      (xa.ndim - 2, xa.ndim - 1)) if xa.dtype.kind in "fc" else None
    bad = ew.isnan(r)
    if xnan is not None:
        bad = ew.logical_and(bad, ew.eq(xnan, 0))
    return ew.select(bad, np.asarray(np.inf, ra.dtype)[()], r)


@implements(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    """NumPy's ``linalg.tensorinv``: ``inv`` of ``a`` reshaped to a square matrix (the
    first ``ind`` axes against the rest), reshaped back."""
    a = operand(a)
    oldshape = aval(a).shape
    if ind <= 0:
        raise FuncdiffValueError("Invalid ind argument.")
    invshape = oldshape[ind:] + oldshape[:ind]
    prod = int(np.prod(oldshape[ind:], dtype=np.int64))
    size = aval(a).size
    if prod == 0 or size % prod:
        raise ShapeError(f"`linalg.tensorinv`: cannot reshape an array of shape "
                         f"{oldshape} into ({prod}, -1)")
    return reshape(inv(reshape(a, (prod, size // prod))), invshape)


@implements(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    """NumPy's ``linalg.tensorsolve``: solve ``tensordot(a, x, x.ndim) = b`` for ``x``
    (``axes``: axes of ``a`` moved to the end first)."""
    a, b = operand(a), operand(b)
    an = aval(a).ndim
    if axes is not None:
        allaxes = list(range(an))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(an, k)
        a = transpose(a, tuple(allaxes))
    bn = aval(b).ndim
    oldshape = aval(a).shape[-(an - bn):] if an - bn else aval(a).shape
    prod = int(np.prod(oldshape, dtype=np.int64))
    if aval(a).size != prod ** 2:
        raise _LinAlgShapeError(
            "Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
            "prod(a.shape[:b.ndim])")
    res = solve(reshape(a, (prod, prod)), reshape(b, (aval(b).size,)))
    return reshape(res, oldshape)


@_array_api("cross")
def cross(x1, x2, /, *, axis=-1):
    """NumPy 2's ``linalg.cross``: ``numpy.cross`` of 3-vectors along ``axis``."""
    x1, x2 = operand(x1), operand(x2)
    n1, n2 = aval(x1).shape[axis], aval(x2).shape[axis]
    if n1 != 3 or n2 != 3:
        raise ShapeError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {n1} and {n2} dimensional instead.")
    return _products.cross.traced(x1, x2, axis=axis)


@_array_api("diagonal")
def diagonal(x, /, *, offset=0):
    """NumPy 2's ``linalg.diagonal``: the diagonals of the last two axes."""
    return _products.diagonal.traced(x, offset, axis1=-2, axis2=-1)


@_array_api("trace")
def trace(x, /, *, offset=0, dtype=None):
    """NumPy 2's ``linalg.trace``: traces of the last two axes."""
    return _products.trace.traced(x, offset, axis1=-2, axis2=-1, dtype=dtype)


@_array_api("matrix_norm")
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """NumPy 2's ``linalg.matrix_norm``: ``norm`` over the last two axes."""
    return norm(x, axis=(-2, -1), keepdims=keepdims, ord=ord)


@_array_api("vector_norm")
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """NumPy 2's ``linalg.vector_norm``: a vector norm over ``axis`` (None: all axes,
    a tuple: those axes flattened together), for any ``ord`` ``norm`` takes."""
    x = operand(x)
    shape = list(aval(x).shape)
    nd = len(shape)
    if axis is None:
        x = reshape(x, (aval(x).size,))
        ax = 0
    elif isinstance(axis, tuple):
        normalized = tuple(canonical_axis(a, nd) for a in axis)
        rest = tuple(i for i in range(nd) if i not in normalized)
        x = transpose(x, normalized + rest)
        x = reshape(x, (int(np.prod([shape[i] for i in normalized], dtype=np.int64)),)
                    + tuple(shape[i] for i in rest))
        ax = 0
    else:
        ax = axis
    res = norm(x, axis=ax, ord=ord)
    if keepdims:
        axes = range(nd) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        for i in axes:
            shape[canonical_axis(i, nd)] = 1
        res = reshape(res, tuple(shape))
    return res


@_array_api("outer")
def outer(x1, x2, /):
    """NumPy 2's ``linalg.outer``: ``numpy.outer`` of two 1-d arrays."""
    x1, x2 = operand(x1), operand(x2)
    n1, n2 = aval(x1).ndim, aval(x2).ndim
    if n1 != 1 or n2 != 1:
        raise ShapeError("Input arrays must be one-dimensional, but they are "
                         f"x1.ndim={n1} and x2.ndim={n2}.")
    return _products.outer.traced(x1, x2)


@_array_api("tensordot")
def tensordot(x1, x2, /, *, axes=2):
    """NumPy 2's ``linalg.tensordot``: ``numpy.tensordot`` (``axes`` keyword-only)."""
    return _products.tensordot.traced(x1, x2, axes=axes)


@_array_api("matmul")
def matmul(x1, x2, /):
    """NumPy 2's ``linalg.matmul``: ``numpy.matmul``."""
    return _products.matmul.traced(x1, x2)


@_array_api("matrix_transpose")
def matrix_transpose(x, /):
    """NumPy 2's ``linalg.matrix_transpose``: swap the last two axes."""
    x = operand(x)
    nd = aval(x).ndim
    if nd < 2:
        raise FuncdiffValueError("Input array must be at least 2-dimensional")
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


@_array_api("vecdot")
def vecdot(x1, x2, /, *, axis=-1):
    """NumPy 2's ``linalg.vecdot``: ``sum(conj(x1) * x2)`` along ``axis`` (of each
    operand), the other axes broadcast."""
    x1, x2 = _products._arr(x1), _products._arr(x2)
    s1, s2 = aval(x1).shape, aval(x2).shape
    if not s1 or not s2:
        raise ShapeError("vecdot: Input operand does not have enough dimensions (has 0, "
                         "gufunc core with signature (n),(n)->() requires 1)")
    x1 = _products._moveaxis(x1, canonical_axis(axis, len(s1)), -1)
    x2 = _products._moveaxis(x2, canonical_axis(axis, len(s2)), -1)
    s1, s2 = aval(x1).shape, aval(x2).shape
    if s1[-1] != s2[-1]:
        raise ShapeError("vecdot: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n),(n)->() (size {s2[-1]} is different "
                         f"from {s1[-1]})")
    try:
        batch = np.broadcast_shapes(s1[:-1], s2[:-1])
    except ValueError:
        raise ShapeError(f"vecdot: shapes {s1} and {s2} do not broadcast together") \
            from None
    if aval(x1).dtype.kind == "c":
        x1 = ew.conj(x1)
    x1 = broadcast_to(x1, batch + s1[-1:])
    x2 = broadcast_to(x2, batch + s2[-1:])
    nb = len(batch)
    return _products._dot(x1, x2, (nb,), (nb,), tuple(range(nb)), tuple(range(nb)))


__all__ += ["cond", "tensorinv", "tensorsolve", "cross", "diagonal", "trace",
            "matrix_norm", "vector_norm", "outer", "tensordot", "matmul",
            "matrix_transpose", "vecdot"]


def __dir__():
    return sorted(__all__)   # dir() shows the public names only
