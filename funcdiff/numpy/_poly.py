"""NumPy's legacy polynomial functions (``numpy.lib.polynomial``): ``poly polyadd
polysub polymul polydiv polyder polyint polyval polyfit roots vander``, on coefficient
vectors, highest power first.  Compositions (Horner, shifted adds, ``linalg.lstsq``,
``linalg.eigvals`` of the companion matrix), so they differentiate in every argument.

NumPy decides some *shapes and dtypes* from the *values*: ``polymul`` drops leading zero
coefficients, ``polydiv`` drops (near-)zero leading terms of the remainder, ``roots``
strips leading and trailing zeros and returns real roots as a float array, ``poly``
returns a real array when the roots come in conjugate pairs.  funcdiff does exactly the
same wherever the values are known (eagerly and under ``grad``/``jvp``/``vjp``); under
``jit``/``vmap``, where they are not, the result has the structural shape (no
trimming beyond the remainder's structural zeros; ``roots`` is then complex, and NaN
where ``p[0] == 0``, as JAX's ``strip_zeros=False``; ``poly`` of complex roots stays
complex).

Derivatives (docs/subgradients.md): ``roots`` is differentiable at simple roots,
including the zero roots NumPy appends for trailing zero coefficients (they are the
eigenvalues of that part's companion matrix); at a repeated root the derivative is
infinite, and funcdiff, like JAX, returns what the eigenvalue rule gives there: huge or
non-finite values.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb, elementwise as ew, reduce as rd, shape as sh
from ._core import aval, cast as _to, implements, operand
from ._products import matmul
from ._signal import convolve
from ._ufuncs import _strong
from .linalg import eigvals, inv, lstsq

__all__ = ["poly", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint",
           "polyval", "polyfit", "roots", "vander"]

_RankWarning = getattr(getattr(np, "exceptions", np), "RankWarning", UserWarning)


def _arr1(x):
    """``numpy.atleast_1d`` of an operand (weak scalars become strong)."""
    x = _strong(x)
    return pb.reshape(x, (1,)) if aval(x).ndim == 0 else x


def _value(x):
    """The concrete value of ``x`` (a NumPy value, or a tracer's when known), else None."""
    if type(x) is Tracer:
        return x._val
    return np.asarray(x)


def _part(x, start, stop):
    """``x[start:stop]`` of a vector (a static slice)."""
    return sh.slice_(x, (start,), (stop,))


def _at(x, i):
    return pb.reshape(sh.slice_(x, (i,), (i + 1,)), ())


def _len(x):
    return aval(x).shape[0]


def _zeros(n, dtype):
    return pb.full((n,), 0, np.dtype(dtype))


def _check_1d(name, x):
    if aval(x).ndim != 1:
        raise FuncdiffValueError(f"`{name}`: coefficients must be a 1-d array, got shape "
                                 f"{aval(x).shape}")


def _trim_leading_zeros(x):
    """``numpy.trim_zeros(x, 'f')`` (as ``poly1d`` does) when ``x``'s value is known;
    ``[0]`` if nothing is left."""
    v = _value(x)
    if v is None:
        return x
    nz = np.flatnonzero(v)
    if nz.size == 0:
        return _zeros(1, aval(x).dtype)
    return _part(x, int(nz[0]), _len(x)) if nz[0] else x


def _add_aligned(a1, a2, sign):
    """``a1 + sign * a2`` with the shorter padded by leading zeros (polyadd/polysub)."""
    a1, a2 = _arr1(a1), _arr1(a2)
    n1, n2 = _len(a1), _len(a2)
    if n2 > n1:
        a1 = sh.concatenate([_zeros(n2 - n1, aval(a1).dtype), a1], 0)
    elif n1 > n2:
        a2 = sh.concatenate([_zeros(n1 - n2, aval(a2).dtype), a2], 0)
    return pb.add(a1, a2) if sign > 0 else ew.sub(a1, a2)


@implements(np.polyadd)
def polyadd(a1, a2):
    """Like numpy.polyadd (``poly1d`` inputs are not traced)."""
    return _add_aligned(a1, a2, +1)


@implements(np.polysub)
def polysub(a1, a2):
    """Like numpy.polysub."""
    return _add_aligned(a1, a2, -1)


@implements(np.polymul)
def polymul(a1, a2):
    """Like numpy.polymul: the convolution of the coefficients after dropping leading
    zeros (where their values are known; see the module docstring)."""
    a1, a2 = _arr1(a1), _arr1(a2)
    for x in (a1, a2):
        if aval(x).ndim > 1:
            raise FuncdiffValueError("Polynomial must be 1d only.")
    return convolve(_trim_leading_zeros(a1), _trim_leading_zeros(a2))


@implements(np.polydiv)
def polydiv(u, v):
    """Like numpy.polydiv: ``(quotient, remainder)`` by long division.  The remainder's
    leading terms that NumPy finds ``allclose`` to 0 are dropped where the values are
    known; under ``jit``/``vmap`` the structural remainder (length ``len(v) - 1``) is
    returned."""
    u, v = _arr1(u), _arr1(v)
    u, v = pb.add(u, 0.0), pb.add(v, 0.0)          # NumPy: + 0.0 (ints become float)
    dt = np.result_type(aval(u).dtype, aval(v).dtype)
    m, n = _len(u) - 1, _len(v) - 1
    v0 = _at(v, 0)
    scale = ew.div(1.0, v0)
    r = _to(u, dt)
    qs = []
    for k in range(m - n + 1):
        d = ew.mul(scale, _at(r, k))
        qs.append(pb.reshape(_to(d, dt), (1,)))
        dv = ew.mul(d, v)
        r = ew.sub(r, sh.pad(dv, np.zeros((), aval(dv).dtype)[()], ((k, m - n - k, 0),)))
    q = sh.concatenate(qs, 0) if qs else _zeros(1, dt)
    r = _to(r, dt)
    rv = _value(r)
    if rv is None:
        drop = min(max(m - n + 1, 0), m)
    else:
        drop = 0
        while drop < rv.shape[0] - 1 and np.allclose(rv[drop], 0, rtol=1e-14):
            drop += 1
    return q, (_part(r, drop, m + 1) if drop else r)


@implements(np.polyder)
def polyder(p, m=1):
    """Like numpy.polyder: the ``m``-th derivative's coefficients."""
    m = int(m)
    if m < 0:
        raise FuncdiffValueError("Order of derivative must be positive (see polyint)")
    p = _strong(p)
    for _ in range(m):
        n = _len(p) - 1
        p = ew.mul(_part(p, 0, max(n, 0)), np.arange(n, 0, -1))
    return p


@implements(np.polyint)
def polyint(p, m=1, k=None):
    """Like numpy.polyint: the ``m``-th antiderivative, integration constants ``k``
    (traced constants receive their derivative)."""
    m = int(m)
    if m < 0:
        raise FuncdiffValueError("Order of integral must be positive (see polyder)")
    k = np.zeros(m, float) if k is None else k
    k = _arr1(k)
    if _len(k) == 1 and m > 1:
        k = ew.mul(_at(k, 0), np.ones(m, float))
    if _len(k) < m:
        raise FuncdiffValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = _strong(p)
    for i in range(m):
        y = ew.div(p, np.arange(_len(p), 0, -1))
        ki = pb.reshape(_at(k, i), (1,))
        dt = np.result_type(aval(y).dtype, aval(ki).dtype)
        p = sh.concatenate([_to(y, dt), _to(ki, dt)], 0)
    return p


@implements(np.polyval)
def polyval(p, x):
    """Like numpy.polyval: Horner's rule, ``y = y * x + p[i]`` from ``zeros_like(x)``
    (NumPy's own order of operations, so its values and dtypes)."""
    p = _strong(p)
    pa = aval(p)
    if pa.ndim == 0:
        raise FuncdiffTypeError("iteration over a 0-d array (polyval's p must be a "
                                "sequence of coefficients)")
    x = _strong(x)
    y = pb.full(aval(x).shape, 0, aval(x).dtype)
    rest = pa.shape[1:]    # an N-d p: its rows are the coefficients, as NumPy iterates
    for i in range(pa.shape[0]):
        row = pb.reshape(sh.slice_(p, (i,) + (0,) * len(rest), (i + 1,) + rest), rest)
        y = ew.add(ew.mul(y, x), row)
    return y


@implements(np.vander)
def vander(x, N=None, increasing=False):
    """Like numpy.vander: columns ``x**(N-1), ..., x, 1`` (or increasing), by cumulative
    products as NumPy computes them; dtype ``promote_types(x.dtype, int)``."""
    x = operand(x)
    a = aval(x)
    if a.ndim != 1:
        raise FuncdiffValueError("x must be a one-dimensional array or sequence.")
    n = a.shape[0]
    N = n if N is None else int(N)
    dt = np.promote_types(a.dtype, int)
    x = _to(x, dt)
    cols = [pb.full((n, min(N, 1)), 1, dt)]
    if N > 1:
        cols.append(rd.cumprod(pb.broadcast_to(pb.reshape(x, (n, 1)), (n, N - 1)), 1))
    v = sh.concatenate(cols, 1) if len(cols) > 1 else cols[0]
    return v if increasing else sh.rev(v, (1,))


def _companion(p):
    """The companion matrix of ``p`` (``p[0] != 0``): first row ``-p[1:] / p[0]``, ones
    below the diagonal; its eigenvalues are the roots."""
    n = _len(p) - 1
    dt = aval(p).dtype
    first = pb.reshape(ew.div(pb.neg(_part(p, 1, n + 1)), _at(p, 0)), (1, n))
    if n == 1:
        return first
    return sh.concatenate([first, np.eye(n - 1, n, dtype=dt)], 0)


@implements(np.roots)
def roots(p):
    """Like numpy.roots: the eigenvalues of the companion matrix (see the module
    docstring for what depends on the values, and for the derivative)."""
    p = _arr1(p)
    if aval(p).ndim != 1:
        raise FuncdiffValueError("Input must be a rank-1 array.")
    if aval(p).dtype.kind not in "fc":
        p = _to(p, np.float64)
    pv = _value(p)
    if pv is None:                       # jit/vmap: structural
        if _len(p) <= 1:
            return pb.full((0,), 0, np.dtype(np.float64))
        # p[0] == 0 would need trimming, which changes the shape: NaN roots instead (as
        # JAX's strip_zeros=False), computed from a harmless stand-in polynomial
        lead0 = ew.eq(_at(p, 0), 0)
        safe = ew.select(lead0, np.ones(_len(p), aval(p).dtype), p)
        r = eigvals(_companion(safe))
        return ew.select(lead0, np.asarray(np.nan, aval(r).dtype)[()], r)
    nz = np.flatnonzero(pv)
    if nz.size == 0:
        return pb.full((0,), 0, np.dtype(np.float64))
    lead, last = int(nz[0]), int(nz[-1])
    trailing = _len(p) - last - 1
    parts = []
    real = aval(p).dtype.kind != "c"
    if last > lead:
        core = eigvals(_companion(_part(p, lead, last + 1)))
        cv = _value(core)
        real = real and cv is not None and bool(np.all(cv.imag == 0))
        parts.append(core)
    if trailing:
        # the zero roots: eigenvalues of the companion of [p[last], 0, ..., 0] -- value 0,
        # with the derivative of the roots near 0 (of a simple root: -dp[-1] / p[-2])
        parts.append(eigvals(_companion(_part(p, last, _len(p)))))
    if not parts:
        return pb.full((0,), 0, np.dtype(np.float64))
    # NumPy's eigvals is real when all the (nonzero) roots are: so is the result
    parts = [pb.real(r) if real else r for r in parts]
    return sh.concatenate(parts, 0) if len(parts) > 1 else parts[0]


@implements(np.poly)
def poly(seq_of_zeros):
    """Like numpy.poly: the monic polynomial with these roots (of a square matrix: of its
    eigenvalues), by multiplying out ``(x - r)`` factors in NumPy's order."""
    z = _arr1(seq_of_zeros)
    shp = aval(z).shape
    if len(shp) == 2 and shp[0] == shp[1] and shp[0] != 0:
        z = eigvals(z)
    elif len(shp) == 1:
        z = _to(z, np.dtype(np.mintypecode(aval(z).dtype.char)))
    else:
        raise FuncdiffValueError("input must be 1d or non-empty square 2d array.")
    n = _len(z)
    if n == 0:
        return 1.0
    dt = aval(z).dtype
    a = pb.full((1,), 1, dt)
    for i in range(n):
        # convolve(a, [1, -z_i]) = [a, 0] + [0, -z_i a]
        a = pb.add(sh.concatenate([a, _zeros(1, dt)], 0),
                   sh.concatenate([_zeros(1, dt), ew.mul(pb.neg(_at(z, i)), a)], 0))
    zv = _value(z)
    if dt.kind == "c" and zv is not None:
        r = np.asarray(zv, complex)
        if np.all(np.sort(r) == np.sort(r.conjugate())):
            a = pb.real(a)
    return a


@implements(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Like numpy.polyfit: least squares on the column-scaled Vandermonde matrix with
    ``linalg.lstsq`` (differentiable in ``x``, ``y`` and ``w``).  The RankWarning needs
    the rank's value, so it is only given outside ``jit``/``vmap``."""
    order = int(deg) + 1
    x = pb.add(operand(x), 0.0)
    y = pb.add(operand(y), 0.0)
    if deg < 0:
        raise FuncdiffValueError("expected deg >= 0")
    if aval(x).ndim != 1:
        raise FuncdiffTypeError("expected 1D vector for x")
    if aval(x).size == 0:
        raise FuncdiffTypeError("expected non-empty vector for x")
    if aval(y).ndim < 1 or aval(y).ndim > 2:
        raise FuncdiffTypeError("expected 1D or 2D array for y")
    if aval(x).shape[0] != aval(y).shape[0]:
        raise FuncdiffTypeError("expected x and y to have same length")
    x, y = (_to(v, aval(v).dtype) for v in (x, y))
    n = aval(x).shape[0]
    if rcond is None:
        rcond = n * np.finfo(aval(x).dtype).eps
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        w = pb.add(operand(w), 0.0)
        w = _to(w, aval(w).dtype)
        if aval(w).ndim != 1:
            raise FuncdiffTypeError("expected a 1-d array for weights")
        if aval(w).shape[0] != aval(y).shape[0]:
            raise FuncdiffTypeError("expected w and y to have the same length")
        # NumPy scales in place: lhs and rhs keep their dtypes
        lhs = _to(ew.mul(lhs, pb.reshape(w, (n, 1))), aval(lhs).dtype)
        rhs = _to(ew.mul(rhs, pb.reshape(w, (n, 1)) if aval(rhs).ndim == 2 else w),
                  aval(rhs).dtype)
    scale = ew.sqrt(pb.reduce_sum(ew.mul(lhs, lhs), (0,)))
    lhs = ew.div(lhs, scale)
    c, resids, rank, s = lstsq(lhs, rhs, rcond)
    c = ew.div(c, scale) if aval(c).ndim == 1 else \
        ew.div(c, pb.reshape(scale, (order, 1)))
    rv = _value(rank) if type(rank) is Tracer else rank
    if rv is not None and int(rv) != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", _RankWarning, stacklevel=3)
    if full:
        return c, resids, rank, s, rcond
    if cov:
        vbase = inv(matmul(pb.transpose(lhs, (1, 0)), lhs))
        vbase = ew.div(vbase, ew.mul(pb.reshape(scale, (order, 1)),
                                     pb.reshape(scale, (1, order))))
        if cov == "unscaled":
            fac = 1
        else:
            if n <= order:
                raise FuncdiffValueError("the number of data points must exceed order to "
                                         "scale the covariance matrix")
            fac = ew.div(resids, n - order)
        if aval(y).ndim == 1:
            return c, ew.mul(vbase, fac)
        return c, ew.mul(pb.reshape(vbase, (order, order, 1)), fac)
    return c
