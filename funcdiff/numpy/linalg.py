"""``funcdiff.numpy.linalg``: NumPy's ``numpy.linalg`` on values that trace.

Outside transforms each function *is* NumPy's.  Inside, they bind the primitives of
``funcdiff.primitives.linalg`` (cholesky, solve, inv, eigh, slogdet) or are
compositions of primitives (norm, det, matrix_power, multi_dot), so all differentiate
to any order in forward and reverse mode.

Semantics follow the installed NumPy: dtypes as NumPy's ``_commonType`` (integers and
bools become float64, float32/complex64 stay single precision, float16 is refused),
leading batch axes ``(..., n, n)`` broadcast, and ``solve``'s right-hand side is a
vector only when it is 1-D (NumPy >= 2) or has one axis less than ``a`` (NumPy 1.x).

Derivative conventions:
* ``norm``: the 2-norm (and Frobenius, and the p-norms) have derivative 0 at the zero
  vector rather than NaN (a "double where" around the square root).
* ``det`` is ``sign * exp(logabsdet)``; its derivative at an exactly singular matrix is
  NaN (no exception), as it would be through ``slogdet``.
* ``eigh``/``eigvalsh``/``cholesky`` read one triangle of the matrix, as NumPy does,
  and differentiate exactly that function; eigenvector derivatives are undefined
  (inf/NaN) at repeated eigenvalues: see ``funcdiff.primitives.linalg.eigh``.
"""
from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from ..core.errors import FuncdiffValueError, ShapeError
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives.dot import dot_general
from ..primitives.reduce import reduce_max, reduce_min, reduce_sum
from ..primitives.shape import broadcast_to, reshape, slice_, transpose
from ._core import aval, canonical_axis, implements, operand

__all__ = ["norm", "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh",
           "matrix_power", "multi_dot", "LinAlgError", "SlogdetResult", "EighResult"]

LinAlgError = np.linalg.LinAlgError
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


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
    return x if aval(x).dtype == dtype else ew.convert_element_type(x, dtype=dtype)


def _square(name, a):
    a = operand(a)
    shape = aval(a).shape
    if len(shape) < 2:
        raise ShapeError(f"`linalg.{name}`: {len(shape)}-dimensional array given. Array "
                         "must be at least two-dimensional (shape (..., n, n))")
    if shape[-1] != shape[-2]:
        raise ShapeError(f"`linalg.{name}`: last 2 dimensions of the array must be "
                         f"square, got shape {shape}")
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
        re, im = ew.real(x), ew.imag(x)
        return ew.add(ew.mul(re, re), ew.mul(im, im))
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
    and matrix norms (None/'fro', 1, -1, inf, -inf, 2).  The 2-norm, Frobenius norm
    and p-norms have derivative 0 at 0 (not NaN).  Matrix ``ord=2`` is the square root
    of the largest eigenvalue of the smaller Gram matrix (accurate for the largest
    singular value); ``ord=-2`` and ``'nuc'`` (which need small singular values
    accurately) are not supported on traced values."""
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
            ret = ew.convert_element_type(reduce_sum(ew.abs_(x), (ax,)), dtype=rdt)
        else:
            red = reduce_max if ord == np.inf else reduce_min
            ret = red(ew.abs_(x), (ax,))
    elif ord == 0:
        ret = reduce_sum(ew.convert_element_type(ew.ne(x, 0), dtype=rdt), (ax,))
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
    if ord == 2 or ord == -2 or ord == "nuc":
        if ord != 2:
            raise FuncdiffValueError(
                f"`linalg.norm(ord={ord!r})` on traced values needs all singular values "
                "accurately, which funcdiff does not compute yet (no svd primitive).  "
                "Use ord=2, 'fro', 1 or inf, or compute the singular values outside "
                "the transform.")
        ret = _spectral_norm(x, row, col)
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
    """NumPy's ``linalg.det``, computed as ``sign * exp(logabsdet)`` from ``slogdet``
    (the same LU factorization NumPy uses).  Derivative ``det(A) tr(A^{-1} dA)``; at an
    exactly singular matrix the value is 0 and the derivative is NaN (the adjugate is
    not computed)."""
    sign, logabsdet = la.slogdet(_float_square("det", a))
    return ew.mul(sign, ew.exp(logabsdet))


# --- cholesky, eigh, eigvalsh -----------------------------------------------------------------

@implements(np.linalg.cholesky)
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
            ew.add(eye, np.zeros((), aa.dtype)[()])
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
        from .. import numpy as fnp
        return fnp.dot(a, b)
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
