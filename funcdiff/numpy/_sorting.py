"""Sorting and searching: ``sort argsort lexsort sort_complex partition argpartition
searchsorted digitize count_nonzero``.

Every sort is the ``sort`` primitive (primitives/sort.py): stable, NaNs last, complex
numbers in NumPy's lexicographic order.  Conventions:

- ``argsort``/``argpartition``/``lexsort`` are always **stable** (``kind`` is accepted
  and ignored, as in JAX): with ties the indices are NumPy's ``kind='stable'`` ones,
  which its default ``'quicksort'`` need not give.
- ``partition``/``argpartition`` return the fully sorted order: one valid partition
  (NumPy leaves the order inside each side unspecified, and it differs).
- Derivatives: sorted values carry the tangent of the element that landed there (at ties
  the first one in the input comes first); ``searchsorted``, ``digitize``, the
  ``arg*`` functions and ``count_nonzero`` are integer-valued: derivative zero.
- ``searchsorted`` is a vectorized binary search (``len(a).bit_length()`` steps of a
  gather and a compare), NumPy's order (NaN last, complex lexicographic).
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sh
from ..primitives.sort import iota_along, sort as _sort
from ._core import aval, canonical_axis, implements, operand, result_type
from ._core import cast as _cast
from ._indexing import getitem
from ._reductions import sum as _sum

__all__ = ["sort", "argsort", "lexsort", "sort_complex", "partition", "argpartition",
           "searchsorted", "digitize", "count_nonzero"]

_INTP = np.dtype(np.intp)
_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable", "quick", "merge", "heap")


# --- helpers shared by the sorting family (and by _quantiles, _setops, _histograms) -----

def concrete_value(x):
    """``x``'s value as a NumPy array when it is known at trace time (a constant, or a
    tracer outside ``jit``), else None."""
    if type(x) is Tracer:
        return None if x._val is None else np.asarray(x._val)
    return np.asarray(x)


def along_last(x, axis):
    """``(x with `axis` moved last (None: flattened), axis)``: the layout the sorting
    family works in."""
    xa = aval(x)
    if axis is None:
        return sh.reshape(x, (xa.size,)), None
    ax = canonical_axis(operator.index(axis), xa.ndim)
    if ax != xa.ndim - 1:
        perm = tuple(i for i in range(xa.ndim) if i != ax) + (ax,)
        x = pb.transpose(x, perm)
    return x, ax


def restore_axis(y, ax):
    """Undo ``along_last``'s move for a result of the same rank."""
    if ax is None:
        return y
    nd = aval(y).ndim
    if ax == nd - 1:
        return y
    perm = list(range(nd - 1))
    perm.insert(ax, nd - 1)
    return pb.transpose(y, tuple(perm))


def sort_last(*xs, num_keys=1):
    """Stable sort along the last axis of every operand by the first ``num_keys``."""
    return _sort(*xs, dimension=aval(xs[0]).ndim - 1, num_keys=num_keys)


def argsort_last(x):
    """The stable sorting permutation along the last axis (intp)."""
    return sort_last(x, iota_along(aval(x).shape, aval(x).ndim - 1))[1]


def _check_kind(name, kind, order):
    if order is not None:
        raise FuncdiffTypeError(f"`{name}`: order= (sorting structured arrays by field) is "
                                "not supported on traced values")
    if kind not in _KINDS and kind != "introselect":
        raise FuncdiffValueError(f"`{name}`: sort kind must be one of 'quicksort', "
                                 f"'mergesort', 'heapsort' or 'stable' (got {kind!r})")


def _axis_error(axis, ndim):
    exc = getattr(np, "exceptions", np)
    return exc.AxisError(operator.index(axis), ndim)


def _sort_along(name, a, axis, kind, order, indices):
    _check_kind(name, kind, order)
    x = operand(a)
    if axis is not None and aval(x).ndim == 0:
        if indices:   # NumPy's argsort/argpartition of a 0-d array: array([0]) (as 1-d)
            canonical_axis(operator.index(axis), 1)
            return sh.full((1,), 0, _INTP)
        raise _axis_error(axis, 0)
    x, ax = along_last(x, axis)
    if indices:
        return restore_axis(argsort_last(x), ax)
    return restore_axis(sort_last(x)[0], ax)


# --- sort, argsort, lexsort, sort_complex ----------------------------------------------------

@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy along ``axis`` (None: flattened).  Stable; NaNs last."""
    return _sort_along("sort", a, axis, kind, order, indices=False)


@implements(np.argsort)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Indices that sort ``a`` along ``axis`` (intp), always the stable order."""
    return _sort_along("argsort", a, axis, kind, order, indices=True)


@implements(np.lexsort)
def lexsort(keys, axis=-1):
    """Indices sorting by several keys, the **last** key primary (NumPy's convention);
    ``keys`` is a sequence of arrays of one shape, or an array whose first axis indexes
    the keys."""
    if type(keys) is Tracer or isinstance(keys, np.ndarray):
        k = operand(keys)
        if aval(k).ndim == 0:
            raise FuncdiffTypeError("`lexsort`: need sequence of keys with len > 0")
        keys = [k[i] for i in range(aval(k).shape[0])]
    keys = [operand(k) for k in keys]
    if not keys:
        raise FuncdiffTypeError("`lexsort`: need sequence of keys with len > 0")
    shape = aval(keys[0]).shape
    if any(aval(k).shape != shape for k in keys):
        raise FuncdiffValueError(f"`lexsort`: all keys need to be the same shape, got "
                                 f"{[aval(k).shape for k in keys]}")
    if not shape:
        return sh.full((), 0, _INTP)
    ax = canonical_axis(operator.index(axis), len(shape))
    keys = keys[::-1]
    return _sort(*keys, iota_along(shape, ax), dimension=ax, num_keys=len(keys))[-1]


@implements(np.sort_complex)
def sort_complex(a):
    """``sort(a)`` along the last axis as complex (lexicographic: real, then imaginary
    part); dtypes as NumPy's (float32 input gives complex128, int8/int16 complex64)."""
    x = sort(a)
    dt = aval(x).dtype
    if dt.kind != "c":
        x = _cast(x, np.complex64 if dt.char in "bhBH" else
                  np.clongdouble if dt.char == "g" else np.complex128)
    return x


# --- partition, argpartition -----------------------------------------------------------------

def _check_kth(name, kth, n):
    k = concrete_value(operand(kth))
    if k is None:
        raise FuncdiffTypeError(f"`{name}`: kth must be static (a Python int or a NumPy "
                                "array), not a value traced under jit")
    if k.dtype == bool:
        raise FuncdiffTypeError(f"`{name}`: booleans unacceptable as partition index")
    if k.dtype.kind not in "iu":
        raise FuncdiffTypeError(f"`{name}`: kth must be integer, got {k.dtype.name}")
    for v in np.ravel(k):
        if n and not -n <= v < n:      # (an empty axis takes any kth, as in NumPy)
            raise FuncdiffValueError(f"kth(={v}) out of bounds ({n})")


def _partition(name, a, kth, axis, kind, order, indices):
    _check_kind(name, kind, order)
    xa = aval(operand(a))
    if axis is None:
        n = xa.size
    elif xa.ndim == 0:
        n = 1
    else:
        n = xa.shape[canonical_axis(operator.index(axis), xa.ndim)]
    _check_kth(name, kth, n)
    return _sort_along(name, a, axis, None, None, indices)


@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """A partitioned copy: the fully sorted order along ``axis`` (one valid partition;
    NumPy's order inside each side is unspecified and differs)."""
    return _partition("partition", a, kth, axis, kind, order, indices=False)


@implements(np.argpartition)
def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """Indices partitioning ``a``: the stable sorting permutation (one valid answer)."""
    return _partition("argpartition", a, kth, axis, kind, order, indices=True)


# --- searchsorted, digitize --------------------------------------------------------------------

def _real_less(x, y):
    """``x < y`` in NumPy's sort order: NaN is the largest value."""
    lt = ew.lt(x, y)
    if aval(x).dtype.kind != "f" and aval(y).dtype.kind != "f":
        return lt
    return ew.logical_or(lt, ew.logical_and(ew.isnan(y), ew.logical_not(ew.isnan(x))))


def _complex_less(x, y):
    """NumPy's complex sort order (npysort's ``CLT``): lexicographic, except that a
    value with a NaN imaginary part sorts after every value of the same NaN-class with
    a real one: ``[R + Rj, R + nanj, nan + Rj, nan + nanj]``."""
    xr, xi, yr, yi = ew.real(x), pb.imag(x), ew.real(y), pb.imag(y)
    x_ni, y_ni, x_nr, y_nr = ew.isnan(xi), ew.isnan(yi), ew.isnan(xr), ew.isnan(yr)
    lt, gt = ew.lt(xr, yr), ew.gt(xr, yr)
    eq = ew.logical_or(ew.eq(xr, yr), ew.logical_and(x_nr, y_nr))
    only_y_ni = ew.logical_and(y_ni, ew.logical_not(x_ni))
    cases = [ew.logical_and(lt, ew.logical_or(ew.logical_not(x_ni), y_ni)),
             ew.logical_and(gt, only_y_ni),
             ew.logical_and(eq, ew.logical_or(ew.lt(xi, yi), only_y_ni)),
             ew.logical_and(ew.logical_not(ew.logical_or(ew.logical_or(lt, gt), eq)), y_nr)]
    out = cases[0]
    for c in cases[1:]:
        out = ew.logical_or(out, c)
    return out


def sort_less(x, y):
    """``x`` sorts before ``y`` in NumPy's order (NaN last; complex as ``_complex_less``)."""
    if aval(x).dtype.kind == "c" or aval(y).dtype.kind == "c":
        return _complex_less(x, y)
    if aval(x).dtype == np.dtype(bool):
        return ew.logical_and(ew.logical_not(x), y)
    return _real_less(x, y)


def search_sorted(a, v, right=False):
    """Insertion indices of ``v`` (any shape) in the sorted 1-D ``a``: NumPy's
    ``searchsorted(a, v, side)``, as a binary search of static length."""
    n = aval(a).shape[0]
    vs = aval(v).shape
    lo = sh.full(vs, 0, _INTP)
    if n == 0:
        return lo
    hi = sh.full(vs, n, _INTP)
    for _ in range(n.bit_length()):
        mid = ew.floor_divide(ew.add(lo, hi), 2)
        am = getitem(a, ew.minimum(mid, n - 1))
        # left: a[mid] < v -> go right; right: a[mid] <= v, i.e. not v < a[mid]
        up = ew.logical_not(sort_less(v, am)) if right else sort_less(am, v)
        active = ew.lt(lo, hi)
        lo = ew.select(ew.logical_and(active, up), ew.add(mid, 1), lo)
        hi = ew.select(ew.logical_and(active, ew.logical_not(up)), mid, hi)
    return lo


def _common(a, v):
    dt = result_type(a, v)
    return _cast(a, dt), _cast(v, dt)


@implements(np.searchsorted)
def searchsorted(a, v, side="left", sorter=None):
    """Indices where ``v`` would be inserted into the sorted 1-D ``a`` (intp, ``v``'s
    shape).  Piecewise constant: derivative zero in ``a`` and ``v``."""
    a, v = operand(a), operand(v)
    if aval(a).ndim != 1:
        raise FuncdiffValueError(f"`searchsorted`: `a` must be 1-D, got shape "
                                 f"{aval(a).shape}")
    if side not in ("left", "right"):
        raise FuncdiffValueError(f"`searchsorted`: side must be 'left' or 'right' (got "
                                 f"{side!r})")
    if sorter is not None:
        a = getitem(a, operand(sorter))
    a, v = _common(a, v)
    return search_sorted(a, v, right=side == "right")


def _monotonicity(b):
    """+1 (non-decreasing), -1 (non-increasing) or 0, of concrete bins (NumPy's rule)."""
    d = np.diff(b)
    if np.all(d >= 0):
        return 1
    if np.all(d <= 0):
        return -1
    return 0


@implements(np.digitize)
def digitize(x, bins, right=False):
    """Indices of the bins ``x`` falls in (intp), for increasing or decreasing 1-D
    ``bins``.  Bins whose values are known are checked to be monotonic (NumPy's
    ValueError); bins traced under ``jit`` are not (their ends decide the direction).
    Derivative zero."""
    x, bins = operand(x), operand(bins)
    if aval(x).dtype.kind == "c":
        raise FuncdiffTypeError("x may not be complex")
    if aval(bins).ndim != 1:
        raise FuncdiffValueError(f"`digitize`: bins must be 1-D, got shape "
                                 f"{aval(bins).shape}")
    x, bins = _common(x, bins)
    n = aval(bins).shape[0]
    side_right = not right        # NumPy: side = 'left' if right else 'right'
    inc = search_sorted(bins, x, right=side_right)
    if n == 0:
        return inc
    dec = ew.sub(n, search_sorted(sh.rev(bins, (0,)), x, right=side_right))
    known = concrete_value(bins)
    if known is not None:
        mono = _monotonicity(known)
        if mono == 0:
            raise FuncdiffValueError("bins must be monotonically increasing or decreasing")
        return inc if mono == 1 else _cast(dec, _INTP)
    # traced bins: their direction decides (equal ends: increasing, as NumPy)
    first, last = getitem(bins, 0), getitem(bins, n - 1)
    return _cast(ew.select(ew.ge(last, first), inc, dec), _INTP)


# --- count_nonzero -----------------------------------------------------------------------------

@implements(np.count_nonzero)
def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of nonzero elements (intp), over ``axis`` (None: all)."""
    x = operand(a)
    nz = ew.convert_element_type(x, dtype=np.dtype(bool)) if aval(x).dtype.kind != "b" \
        else x
    return _sum(nz, axis=axis, dtype=_INTP, keepdims=keepdims)

