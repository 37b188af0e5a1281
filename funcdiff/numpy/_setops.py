"""``unique`` (and ``unique_all unique_counts unique_inverse unique_values``) and the set
operations ``intersect1d union1d setdiff1d setxor1d isin``.

Everything is a stable sort (the ``sort`` primitive, keyed also on a validity flag where
entries are padding) followed by masks and gathers, so values, orders, indices and
counts equal NumPy's (``unique``'s ``return_index`` is the *first* occurrence, as NumPy
with ``kind='mergesort'``).  The number of results depends on the values (``isin``'s
does not): outside ``jit`` it is read off the concrete mask (_sizes.py) and the result
is a gather, so derivatives flow to the selected elements (each unique value to its
first occurrence; an intersection's value to its element of ``ar1``).  Under
``jit``/``vmap`` pass JAX's ``size=`` (the result is cut or padded to that length) and
optionally ``fill_value=`` (default: the smallest result, as in JAX; 0 for
``setdiff1d``); padded indices of ``intersect1d(return_indices=True)`` are
out-of-bounds (``len(ar1)``, ``len(ar2)``), padded counts 0.  ``unique_values`` and the
``unique_*`` functions return sorted values (NumPy 2.3+ leaves their order unspecified).
"""
from __future__ import annotations

import operator
from collections import namedtuple

import numpy as np

from ..core.errors import FuncdiffValueError
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import reduce as rd
from ..primitives import shape as sh
from ..primitives.indexing import make_indexer, scatter
from ..primitives.sort import iota_along, sort as _sort
from ._core import aval, canonical_axis, implements, operand, result_type
from ._core import cast as _cast
from ._indexing import getitem
from ._sizes import concrete, implements_sized, true_positions
from ._sorting import search_sorted, sort_last

__all__ = ["unique", "unique_all", "unique_counts", "unique_inverse", "unique_values",
           "intersect1d", "union1d", "setdiff1d", "setxor1d", "isin"]

_INTP = np.dtype(np.intp)
_BOOL = np.dtype(bool)
_AT = make_indexer([("array", 0)])
_SIZE_HINT = "size=N (a static length; the result is cut or padded with fill_value=)"


# --- helpers -------------------------------------------------------------------------------

def _ravel(x):
    x = operand(x)
    return sh.reshape(x, (aval(x).size,))


def _iota(n):
    return sh.iota(0, n, 1, _INTP)


def _shift(x, lo, hi):
    """``x[lo:len + hi]`` along axis 0 (``hi`` <= 0)."""
    n = aval(x).shape[0]
    return sh.slice_(x, (lo,) + (0,) * (aval(x).ndim - 1), (n + hi,) + aval(x).shape[1:])


def _differs(a, b, equal_nan):
    """``a != b``, with NaN equal to NaN when ``equal_nan`` (floats, complex)."""
    ne = ew.ne(a, b)
    if equal_nan and aval(a).dtype.kind in "fc":
        ne = ew.logical_and(ne, ew.logical_not(ew.logical_and(ew.isnan(a), ew.isnan(b))))
    return ne


def _cat(*xs):
    return sh.concatenate(list(xs), 0)


def _true(n):
    return sh.full((n,), True, _BOOL)


def _pick(mask, size, name):
    """``(indices of the first `size` True entries of mask, their number)``; with
    ``size`` None, all of them (the mask's value decides how many)."""
    count = rd.reduce_sum(_cast(mask, _INTP), (0,))
    if size is None:
        size = int(concrete(count, name, "pass " + _SIZE_HINT))
    return true_positions(mask, size)[0], count, size


def _fill(vals, count, size, fill_value):
    """Entries past ``count`` set to ``fill_value``, or (None) to the smallest of the
    valid entries, as JAX does."""
    if size == 0:
        return vals
    keep = ew.lt(_iota(size), count)
    if aval(vals).ndim > 1:
        keep = sh.reshape(keep, (size,) + (1,) * (aval(vals).ndim - 1))
    if fill_value is None:
        top = rd.reduce_max(vals, tuple(range(aval(vals).ndim)))
        vals = ew.select(keep, vals, top)
        fill = rd.reduce_min(vals, tuple(range(aval(vals).ndim)))
    else:
        fill = _cast(operand(fill_value), aval(vals).dtype)
    return ew.select(keep, vals, fill)


def _check_size(size):
    if size is None:
        return None
    size = operator.index(size)
    if size < 0:
        raise FuncdiffValueError(f"size must be non-negative, got {size}")
    return size


# --- unique ----------------------------------------------------------------------------------

def _sorted_groups(x, axis, equal_nan):
    """``(aux, perm, mask)``: ``x``'s elements (rows along ``axis`` moved first, when
    given) stably sorted, the permutation, and True at the first of each group of
    equal ones."""
    n = aval(x).shape[0]
    if n == 0:
        return x, _iota(0), sh.full((0,), False, _BOOL)
    if axis is None:
        aux, perm = sort_last(x, iota_along(aval(x).shape, 0))
        neq = _differs(_shift(aux, 1, 0), _shift(aux, 0, -1), equal_nan)
    else:
        m = int(np.prod(aval(x).shape[1:], dtype=np.int64))
        rows = sh.reshape(x, (n, m))
        if m == 0:          # empty rows are all equal, as in NumPy
            perm = _iota(n)
            aux = rows
            neq = sh.full((n - 1,), False, _BOOL)
        else:
            cols = [getitem(rows, (slice(None), j)) for j in range(m)]
            perm = _sort(*cols, _iota(n), dimension=0, num_keys=m)[-1]
            aux = getitem(rows, perm)
            # rows differ where any column does; NaN != NaN (NumPy compares the
            # structured rows field by field)
            neq = rd.reduce_or_p.bind(ew.ne(_shift(aux, 1, 0), _shift(aux, 0, -1)),
                                      axes=(1,))
        aux = sh.reshape(aux, (n,) + aval(x).shape[1:])
    return aux, perm, _cat(_true(1), neq)


_INVERSE_KEEPS_SHAPE = np.unique(np.zeros((1, 1)), return_inverse=True)[1].ndim == 2


def _unique(name, ar, return_index, return_inverse, return_counts, axis, equal_nan, size,
            fill_value):
    size = _check_size(size)
    x = operand(ar)
    shape = aval(x).shape
    if axis is None or len(shape) == 1:
        if axis is not None:
            canonical_axis(operator.index(axis), 1)
        x, ax = _ravel(x), None
    else:
        ax = canonical_axis(operator.index(axis), len(shape))
        if ax:
            x = pb.transpose(x, (ax,) + tuple(i for i in range(len(shape)) if i != ax))
    n = aval(x).shape[0]
    if n == 0 and size:
        if fill_value is None:
            raise FuncdiffValueError(f"`{name}`: for an empty input with size={size}, "
                                     "fill_value must be given")
    aux, perm, mask = _sorted_groups(x, ax, equal_nan and ax is None)
    ind, count, size_ = _pick(mask, size, name)
    vals = getitem(aux, ind) if n else sh.full((size_,) + aval(aux).shape[1:],
                                              0, aval(aux).dtype)
    if size is not None and (fill_value is not None or not n):
        vals = _fill(vals, count, size_, fill_value)
    if ax:
        nd = aval(vals).ndim
        vals = pb.transpose(vals, tuple(range(1, ax + 1)) + (0,) + tuple(range(ax + 1, nd)))
    out = [vals]
    if return_index:
        out.append(getitem(perm, ind) if n else sh.full((size_,), 0, _INTP))
    if return_inverse:
        ranks = ew.sub(rd.cumsum(_cast(mask, _INTP), 0), 1)
        inv = scatter(sh.full((n,), 0, _INTP), perm, ranks, indexer=_AT)
        if ax is None and _INVERSE_KEEPS_SHAPE:
            inv = sh.reshape(inv, shape)
        out.append(inv)
    if return_counts:
        edges = true_positions(mask, size_ + 1, n)[0]
        out.append(ew.sub(_shift(edges, 1, 0), _shift(edges, 0, -1)))
    return out[0] if len(out) == 1 else tuple(out)


@implements_sized(np.unique, ("size", "fill_value"))
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True, size=None, fill_value=None):  # noqa: A002
    """The sorted unique elements (rows along ``axis``), with NumPy's optional first
    indices, inverse and counts.  Under ``jit`` pass ``size=`` (JAX's keyword): the
    first ``size`` unique values, padded with ``fill_value`` (default the smallest)."""
    return _unique("unique", ar, return_index, return_inverse, return_counts, axis,
                   equal_nan, size, fill_value)


def _array_api(np_name, fields, flags):
    np_fn = getattr(np, np_name, None)
    mod = getattr(np.lib, "_arraysetops_impl", None)
    result = getattr(mod, "".join(w.title() for w in np_name.split("_")) + "Result", None) \
        if fields else None
    if result is None and len(fields) > 1:
        result = namedtuple("".join(w.title() for w in np_name.split("_")) + "Result",
                            fields)

    def f(x, /, *, size=None, fill_value=None):
        out = _unique(np_name, x, *flags, None, False, size, fill_value)
        return result(*out) if len(fields) > 1 else out
    f.__name__ = f.__qualname__ = np_name
    f.__doc__ = (f"NumPy 2's ``{np_name}``: ``unique`` with ``equal_nan=False`` (sorted "
                 "values); ``size=``/``fill_value=`` as ``unique``.")
    return implements_sized(np_fn)(f)


unique_all = _array_api("unique_all", ("values", "indices", "inverse_indices", "counts"),
                        (True, True, True))
unique_counts = _array_api("unique_counts", ("values", "counts"), (False, False, True))
unique_inverse = _array_api("unique_inverse", ("values", "inverse_indices"),
                            (False, True, False))
unique_values = _array_api("unique_values", ("values",), (False, False, False))


# --- membership ------------------------------------------------------------------------------

def _member(a, b):
    """Whether each element of ``a`` (any shape) equals some element of the 1-D ``b``:
    binary search in ``sort(b)``."""
    nb = aval(b).shape[0]
    if nb == 0:
        return sh.full(aval(a).shape, False, _BOOL)
    s = sort_last(b)[0]
    pos = ew.minimum(search_sorted(s, a), nb - 1)
    return ew.eq(getitem(s, pos), a)


@implements(np.isin)
def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` is in ``test_elements`` (boolean, the shape
    of ``element``; NaN is never in anything).  Not value-dependent: works under jit."""
    if kind not in (None, "sort", "table"):
        raise FuncdiffValueError(f"Invalid kind: '{kind}'. Please use None, 'sort' or "
                                 "'table'.")
    a, b = operand(element), _ravel(test_elements)
    if kind == "table" and not all(aval(v).dtype.kind in "biu" for v in (a, b)):
        raise FuncdiffValueError("The 'table' method is only supported for boolean or "
                                 "integer arrays. Please select 'sort' or None for kind.")
    dt = result_type(a, b)
    r = _member(_cast(a, dt), _cast(b, dt))
    return ew.logical_not(r) if invert else r


# --- set operations --------------------------------------------------------------------------

def _unique_padded(x, size, name, return_index=False):
    """``(values, first indices, valid, count)`` of ``unique(x)`` at a static length:
    exactly the unique ones (``size`` None: values known), or ``len(x)`` entries with the
    valid ones first (under ``jit``)."""
    n = aval(x).shape[0]
    aux, perm, mask = _sorted_groups(x, None, True)
    ind, count, length = _pick(mask, None if size is None else n, name)
    vals = getitem(aux, ind) if n else x
    idx = getitem(perm, ind) if n else sh.full((0,), 0, _INTP)
    valid = _true(length) if size is None else ew.lt(_iota(length), count)
    return vals, idx, valid, count


def _as_set(x, assume_unique, size, name):
    x = _ravel(x)
    if assume_unique:
        n = aval(x).shape[0]
        return x, _iota(n), _true(n), n
    return _unique_padded(x, size, name)


def _merge_sorted(v1, ok1, v2, ok2):
    """``v1, v2`` concatenated and stably sorted, padding (``~ok``) last:
    ``(aux, perm, valid)``."""
    v = _cat(v1, v2)
    ok = _cat(ok1, ok2)
    pad, aux, perm = _sort(ew.logical_not(ok), v, _iota(aval(v).shape[0]), dimension=0,
                           num_keys=2)
    return aux, perm, ew.logical_not(pad)


def _common_1d(ar1, ar2):
    a, b = _ravel(ar1), _ravel(ar2)
    dt = result_type(a, b)
    return _cast(a, dt), _cast(b, dt)


@implements_sized(np.intersect1d, ("size", "fill_value"))
def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """Sorted unique values in both arrays (and, with ``return_indices``, their first
    indices in each).  ``size``/``fill_value`` as ``unique``."""
    size = _check_size(size)
    a, b = _common_1d(ar1, ar2)
    n1, n2 = aval(a).shape[0], aval(b).shape[0]
    u1, i1, ok1, _ = _as_set(a, assume_unique, size, "intersect1d")
    u2, i2, ok2, _ = _as_set(b, assume_unique, size, "intersect1d")
    aux, perm, valid = _merge_sorted(u1, ok1, u2, ok2)
    total = aval(aux).shape[0]
    if total == 0:
        vals = aux if size is None else sh.full((size,), 0 if fill_value is None else
                                                fill_value, aval(aux).dtype)
        if not return_indices:
            return vals
        empty = sh.full((aval(vals).shape[0],), 0, _INTP)
        return vals, empty, empty
    same = ew.logical_and(ew.eq(_shift(aux, 1, 0), _shift(aux, 0, -1)), _shift(valid, 1, 0))
    ind, count, length = _pick(same, size, "intersect1d")
    vals = getitem(_shift(aux, 0, -1), ind)
    if size is not None:
        vals = _fill(vals, count, length, fill_value)
    if not return_indices:
        return vals
    l1 = aval(u1).shape[0]
    j1 = getitem(_shift(perm, 0, -1), ind)
    j2 = ew.sub(getitem(_shift(perm, 1, 0), ind), l1)
    j1 = getitem(i1, ew.minimum(j1, max(l1 - 1, 0))) if l1 else j1
    j2 = getitem(i2, ew.minimum(ew.maximum(j2, 0), max(aval(u2).shape[0] - 1, 0))) \
        if aval(u2).shape[0] else j2
    if size is not None:
        keep = ew.lt(_iota(length), count)
        j1, j2 = ew.select(keep, j1, n1), ew.select(keep, j2, n2)
    return vals, j1, j2


@implements_sized(np.union1d, ("size", "fill_value"))
def union1d(ar1, ar2, *, size=None, fill_value=None):
    """Sorted unique values in either array: ``unique(concatenate(ravel))``."""
    a, b = operand(ar1), operand(ar2)
    dt = result_type(a, b)
    return _unique("union1d", _cat(_cast(_ravel(a), dt), _cast(_ravel(b), dt)), False,
                   False, False, None, True, size, fill_value)


@implements_sized(np.setdiff1d, ("size", "fill_value"))
def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Unique values of ``ar1`` not in ``ar2`` (sorted; in ``ar1``'s order with
    ``assume_unique``).  ``size=`` as ``unique``; padding with ``fill_value`` (default
    0, as JAX)."""
    size = _check_size(size)
    a, b = _ravel(ar1), _ravel(ar2)
    u1, _, ok1, _ = _as_set(a, assume_unique, size, "setdiff1d")
    keep = ew.logical_and(ok1, ew.logical_not(_member(u1, _cast(b, result_type(u1, b)))
                                              if aval(b).shape[0] else
                                              sh.full(aval(u1).shape, False, _BOOL)))
    if aval(u1).shape[0] == 0:
        return u1 if size is None else sh.full((size,), 0 if fill_value is None else
                                               fill_value, aval(u1).dtype)
    ind, count, length = _pick(keep, size, "setdiff1d")
    vals = getitem(u1, ind)
    if size is not None:
        vals = _fill(vals, count, length, 0 if fill_value is None else fill_value)
    return vals


@implements_sized(np.setxor1d, ("size", "fill_value"))
def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted values in exactly one of the arrays.  ``size``/``fill_value`` as
    ``unique``."""
    size = _check_size(size)
    a, b = _common_1d(ar1, ar2)
    u1, _, ok1, _ = _as_set(a, assume_unique, size, "setxor1d")
    u2, _, ok2, _ = _as_set(b, assume_unique, size, "setxor1d")
    aux, _, valid = _merge_sorted(u1, ok1, u2, ok2)
    total = aval(aux).shape[0]
    if total == 0:
        return aux if size is None else sh.full((size,), 0 if fill_value is None else
                                                fill_value, aval(aux).dtype)
    new = ew.ne(_shift(aux, 1, 0), _shift(aux, 0, -1))       # aux[i] != aux[i - 1]
    left = _cat(_true(1), new)
    right = _cat(ew.logical_or(new, ew.logical_not(_shift(valid, 1, 0))), _true(1))
    keep = ew.logical_and(valid, ew.logical_and(left, right))
    ind, count, length = _pick(keep, size, "setxor1d")
    vals = getitem(aux, ind)
    if size is not None:
        vals = _fill(vals, count, length, fill_value)
    return vals

