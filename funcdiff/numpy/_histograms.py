"""Interpolation and binning: ``interp bincount histogram histogram_bin_edges
histogram2d histogramdd``.

``interp`` follows NumPy's C loop case by case (NaN ``x`` gives NaN; left of the first
knot ``left``, right of the last ``right``; on a knot ``fp`` there; else
``slope * (x - xp[j]) + fp[j]``, with NumPy's fallbacks when that is NaN), in float64
(complex128 for complex ``fp``).  Its derivative in ``x`` is the segment's slope (at a
knot the segment to its right, at the last knot the one to its left, as JAX's ``interp``;
0 outside ``[xp[0], xp[-1]]``), in ``fp`` the interpolation weights, and in ``xp`` that
of the same formula.

Counts (``bincount``, ``histogram``...) are piecewise constant in the data and the
edges: derivative zero there.  ``bincount``'s weights and a histogram's ``weights``
enter linearly (their derivative is a gather); ``density=True`` and the returned edges
depend on the data through ``min``/``max`` (when no ``range`` is given) and are
differentiated through.  The result's length of ``bincount`` (``max(x) + 1``) and string
``bins`` ('auto', 'fd', ...) need the values: known outside ``jit``; under ``jit`` pass
``length=`` (JAX's keyword) or an integer number of bins.

Weighted counts accumulate in float64 by one scatter-add in data order (NumPy's
``bincount``); NumPy's weighted histogram with *array* bins sums via sorted cumulative
sums instead, so those values agree to rounding, not bit for bit.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sh
from ..primitives.indexing import make_indexer, scatter_add
from ._core import aval, operand
from ._core import cast as _cast
from ._core import implements
from ._creation import linspace
from ._indexing import getitem
from ._reductions import max as _max, min as _min, sum as _sum
from ._sizes import concrete, implements_sized
from ._sorting import argsort_last, concrete_value, search_sorted

__all__ = ["interp", "bincount", "histogram", "histogram_bin_edges", "histogram2d",
           "histogramdd"]

_INTP = np.dtype(np.intp)
_F64 = np.dtype(np.float64)
_AT = make_indexer([("array", 0)])


# --- interp ----------------------------------------------------------------------------------

def _interp_real(x, xp, fp, left, right):
    """NumPy's ``arr_interp`` for real ``fp`` (all float64)."""
    n = aval(xp).shape[0]
    s = search_sorted(xp, x, right=True)             # xp[s - 1] <= x < xp[s]
    first, last = getitem(xp, 0), getitem(xp, n - 1)
    f_first, f_last = getitem(fp, 0), getitem(fp, n - 1)
    r = f_last                                       # one knot, x == xp[0]
    if n > 1:
        j = ew.minimum(ew.maximum(ew.sub(s, 1), 0), n - 2)
        j1 = ew.add(j, 1)
        xj, xj1, fj, fj1 = (getitem(v, i) for v, i in ((xp, j), (xp, j1), (fp, j),
                                                       (fp, j1)))
        df, dx = ew.sub(fj1, fj), ew.sub(xj1, xj)
        slope = ew.div(df, dx)
        v = ew.add(ew.mul(slope, ew.sub(x, xj)), fj)
        v = ew.select(ew.isnan(v), ew.add(ew.mul(slope, ew.sub(x, xj1)), fj1), v)
        v = ew.select(ew.logical_and(ew.isnan(v), ew.eq(fj, fj1)), fj, v)
        # on a knot: fp there (derivative in x: the slope of the segment to the right)
        safe = ew.select(ew.isfinite(slope), slope, 0.0)
        v = ew.select(ew.eq(x, xj), ew.add(fj, ew.mul(safe, ew.sub(x, xj))), v)
        # on the last knot: fp[-1], with the slope of the segment to its left
        r = ew.select(ew.lt(s, n), v, ew.add(fj1, ew.mul(safe, ew.sub(x, xj1))))
    r = ew.select(ew.gt(x, last), f_last if right is None else right, r)
    r = ew.select(ew.lt(x, first), f_first if left is None else left, r)
    return ew.select(ew.isnan(x), x, r)


@implements(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """One-dimensional piecewise-linear interpolation (NumPy's values, float64 or
    complex128).  Differentiable in ``x`` (the segment's slope; at a knot the right
    segment's), ``fp``, ``xp``, ``left`` and ``right``."""
    fp = operand(fp)
    cplx = aval(fp).dtype.kind == "c"
    x, xp = operand(x), operand(xp)
    for v in (x, xp):    # NumPy casts them to float64 'safe'ly: complex is an error
        if aval(v).dtype.kind == "c":
            raise FuncdiffTypeError(f"Cannot cast array data from {aval(v).dtype!r} to "
                                    "dtype('float64') according to the rule 'safe'")
    if not cplx:
        for v in (left, right):
            if v is not None and aval(operand(v)).dtype.kind == "c":
                raise FuncdiffTypeError("interp: must be real number, not complex (left= "
                                        "and right= of a real fp)")
    x, xp = _cast(x, _F64), _cast(xp, _F64)
    fp = _cast(fp, np.complex128 if cplx else _F64)
    if aval(xp).ndim != 1 or aval(fp).ndim != 1:
        raise FuncdiffValueError("Data points must be 1-D sequences")
    if aval(xp).shape[0] != aval(fp).shape[0]:
        raise FuncdiffValueError("fp and xp are not of the same length")
    if aval(xp).shape[0] == 0:
        raise FuncdiffValueError("array of sample points is empty")
    if period is not None:
        p = concrete_value(operand(period))
        if p is not None and p == 0:
            raise FuncdiffValueError("period must be a non-zero value")
        period = _cast(ew.abs_(operand(period)), _F64)   # |period| first: complex too
        left = right = None
        x, xp = ew.rem(x, period), ew.rem(xp, period)
        order = argsort_last(xp)
        xp, fp = getitem(xp, order), getitem(fp, order)
        n = aval(xp).shape[0]
        xp = sh.concatenate([ew.sub(sh.slice_(xp, (n - 1,), (n,)), period), xp,
                             ew.add(sh.slice_(xp, (0,), (1,)), period)], 0)
        fp = sh.concatenate([sh.slice_(fp, (n - 1,), (n,)), fp, sh.slice_(fp, (0,), (1,))],
                            0)
    if left is not None:
        left = _cast(operand(left), aval(fp).dtype)
    if right is not None:
        right = _cast(operand(right), aval(fp).dtype)
    if not cplx:
        return _interp_real(x, xp, fp, left, right)
    parts = [_interp_real(x, xp, part(fp), None if b is None else part(b),
                          None if c is None else part(c))
             for part in (ew.real, pb.imag) for b, c in [(left, right)]]
    return pb.make_complex(*parts)


# --- bincount --------------------------------------------------------------------------------

def _count_into(index, valid, length, weights, dtype):
    """``bincount`` of ``index`` where ``valid`` (others dropped) into ``length`` bins,
    accumulating ``weights`` (or ones) in ``dtype``: one scatter-add into a spare slot."""
    slot = ew.select(valid, index, length)
    w = sh.full(aval(index).shape, 1, dtype) if weights is None else _cast(weights, dtype)
    out = scatter_add(sh.full((length + 1,), 0, dtype), slot, w, indexer=_AT)
    return sh.slice_(out, (0,), (length,))


@implements_sized(np.bincount, ("length",))
def bincount(x, /, weights=None, minlength=0, *, length=None):
    """Occurrences of each value of the non-negative 1-D integer ``x`` (intp; float64
    with ``weights``, which are differentiated through).  The length ``max(x) + 1``
    needs ``x``'s values; under ``jit`` pass JAX's static ``length=`` (then negative
    values count as 0 and values >= ``length`` are dropped, as in JAX)."""
    x = operand(x)
    xa = aval(x)
    if xa.dtype.kind not in "iub":
        raise FuncdiffTypeError(f"Cannot cast array data from dtype('{xa.dtype}') to "
                                f"dtype('{_INTP}') according to the rule 'safe'")
    if xa.ndim != 1:
        raise FuncdiffValueError("object too deep for desired array" if xa.ndim > 1 else
                                 "object of too small depth for desired array")
    minlength = operator.index(minlength)
    if minlength < 0:
        raise FuncdiffValueError("'minlength' must not be negative")
    if weights is not None:
        weights = operand(weights)
        if aval(weights).shape != xa.shape:
            raise FuncdiffValueError("The weights and list don't have the same length.")
        if aval(weights).dtype.kind == "c":
            raise FuncdiffTypeError("Cannot cast array data from dtype('complex128') to "
                                    "dtype('float64') according to the rule 'safe'")
    x = _cast(x, _INTP)
    if length is None:
        v = concrete(x, "bincount", "pass length=N (the number of bins)")
        if v.size and v.min() < 0:
            raise FuncdiffValueError("'list' argument must have no negative elements")
        if not v.size:            # NumPy: integer zeros, even with weights
            return sh.full((minlength,), 0, _INTP)
        length = max(minlength, int(v.max()) + 1)
        valid = True
    else:
        length = operator.index(length)
        x = ew.maximum(x, 0)
        valid = ew.lt(x, length)
    dtype = _INTP if weights is None else _F64
    return _count_into(x, pb.broadcast_to(valid, xa.shape), length, weights, dtype)


# --- histogram ------------------------------------------------------------------------------

def _outer_edges(a, range_, name):
    """NumPy's ``_get_outer_edges``: ``range`` or the data's min and max (a degenerate
    range widened by 1/2 each way)."""
    if range_ is not None:
        first, last = range_
        fk, lk = concrete_value(operand(first)), concrete_value(operand(last))
        if fk is not None and lk is not None:
            if fk > lk:
                raise FuncdiffValueError("max must be larger than min in range parameter.")
            if not (np.isfinite(fk) and np.isfinite(lk)):
                raise FuncdiffValueError(f"supplied range of [{fk}, {lk}] is not finite")
            if fk == lk:
                return first - 0.5, last + 0.5
            return first + 0.0, last + 0.0
        first, last = operand(first), operand(last)
    elif aval(a).size == 0:
        return 0.0, 1.0
    else:
        first, last = _min(a), _max(a)
        fk, lk = concrete_value(first), concrete_value(last)
        if fk is not None and not (np.isfinite(fk) and np.isfinite(lk)):
            raise FuncdiffValueError(f"autodetected range of [{fk}, {lk}] is not finite")
    same = ew.eq(first, last)
    return ew.select(same, ew.sub(first, 0.5), first), ew.select(same, ew.add(last, 0.5),
                                                                   last)


_ESTIMATORS = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")


def _n_auto_bins(a, bins, range_, weights, name):
    """The number of bins NumPy's estimator ``bins`` (a string) picks (needs values)."""
    if bins not in _ESTIMATORS:
        raise FuncdiffValueError(f"{bins!r} is not a valid estimator for `bins`")
    if weights is not None:
        raise FuncdiffTypeError("Automated estimation of the number of bins is not "
                                "supported for weighted data")
    hint = "an integer number of bins (bins=N) instead of an estimator's name"
    v = concrete(a, name, "pass " + hint)
    r = None if range_ is None else tuple(concrete(operand(e), name, "pass " + hint)[()]
                                          for e in range_)
    try:
        return np.histogram_bin_edges(v, bins=bins, range=r).size - 1
    except ValueError as e:       # NumPy's own checks (range, finiteness, too many bins)
        raise FuncdiffValueError(str(e)) from None


def _bin_edges(a, bins, range_, weights, name):
    """``(edges, n_bins)`` as NumPy's ``_get_bin_edges`` (``a`` raveled)."""
    if isinstance(bins, str):
        n = _n_auto_bins(a, bins, range_, weights, name)
    elif np.ndim(bins) == 0 and type(bins) is not Tracer:
        try:
            n = operator.index(bins)
        except TypeError as e:
            raise FuncdiffTypeError("`bins` must be an integer, a string, or an "
                                    "array") from e
        if n < 1:
            raise FuncdiffValueError("`bins` must be positive, when an integer")
    else:
        edges = operand(bins)
        if aval(edges).ndim != 1:
            raise FuncdiffValueError("`bins` must be 1d, when an array")
        known = concrete_value(edges)
        if known is not None and np.any(known[:-1] > known[1:]):
            raise FuncdiffValueError("`bins` must increase monotonically, when an array")
        return edges, aval(edges).shape[0] - 1
    first, last = _outer_edges(a, range_, name)
    dt = np.result_type(*(aval(operand(v)).dtype if not isinstance(v, (int, float))
                          else v for v in (first, last)), aval(a).dtype)
    if dt.kind in "iub":
        dt = np.result_type(dt, float)
    edges = linspace(first, last, n + 1, endpoint=True, dtype=dt)
    known = concrete_value(edges)
    if known is not None and np.any(known[:-1] >= known[1:]):
        raise FuncdiffValueError(f"Too many bins for data range. Cannot create {n} "
                                 "finite-sized bins.")
    return edges, n


def _ravel_data(a, weights):
    a = operand(a)
    if aval(a).dtype == np.dtype(bool):
        a = _cast(a, np.uint8)
    if weights is not None:
        weights = operand(weights)
        if aval(weights).shape != aval(a).shape:
            raise FuncdiffValueError("weights should have the same shape as a.")
        weights = sh.reshape(weights, (aval(weights).size,))
    return sh.reshape(a, (aval(a).size,)), weights


def _bin_index(a, edges, n):
    """Bin of each value: ``edges[i] <= a < edges[i + 1]``, the last bin closed; and
    whether it is in ``[edges[0], edges[-1]]``."""
    first, last = getitem(edges, 0), getitem(edges, n)
    idx = ew.sub(search_sorted(edges, a, right=True), 1)
    idx = ew.minimum(idx, n - 1)
    valid = ew.logical_and(ew.ge(a, first), ew.le(a, last))
    return idx, valid


@implements(np.histogram_bin_edges)
def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """The edges ``histogram`` would use (differentiable in the data through its min and
    max when no ``range`` is given)."""
    a, weights = _ravel_data(a, weights)
    return _bin_edges(a, bins, range, weights, "histogram_bin_edges")[0]


@implements(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """``(counts, edges)`` as NumPy's (counts intp, or the weights' dtype); the counts
    have derivative zero in the data, the weights enter linearly."""
    a, weights = _ravel_data(a, weights)
    edges, n = _bin_edges(a, bins, range, weights, "histogram")
    idx, valid = _bin_index(a, edges, n)
    if weights is None:
        counts = _count_into(idx, valid, n, None, _INTP)
    else:
        wdt = aval(weights).dtype
        acc = np.complex128 if wdt.kind == "c" else _F64
        counts = _cast(_count_into(idx, valid, n, weights, acc), wdt)
    if density:
        widths = _cast(ew.sub(sh.slice_(edges, (1,), (n + 1,)), sh.slice_(edges, (0,), (n,))),
                       _F64)
        return ew.div(ew.div(counts, widths), _sum(counts)), edges
    return counts, edges


def _sample_columns(sample):
    """NumPy's ``histogramdd`` sample layout: an (N, D) array, or a sequence of D
    arrays of length N."""
    if type(sample) is Tracer or isinstance(sample, np.ndarray):
        s = operand(sample)
        if aval(s).ndim == 2:
            return [getitem(s, (slice(None), i)) for i in range(aval(s).shape[1])]
        s = sh.reshape(s, (aval(s).size,)) if aval(s).ndim < 2 else s
        return [s]
    cols = [operand(c) for c in sample]
    dt = np.result_type(*[aval(c).dtype for c in cols])   # np.atleast_2d(sample) promotes
    return [_cast(sh.reshape(c, (aval(c).size,)), dt) for c in cols]


@implements(np.histogramdd)
def histogramdd(sample, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """D-dimensional histogram (float64 counts) and the list of D edge arrays."""
    cols = _sample_columns(sample)
    d = len(cols)
    try:
        if len(bins) != d:
            raise FuncdiffValueError("The dimension of bins must be equal to the dimension "
                                     "of the sample x.")
    except TypeError:
        bins = d * [bins]
    if range is None:
        range = (None,) * d  # noqa: A001
    elif len(range) != d:
        raise FuncdiffValueError("range argument must have one entry per dimension")
    edges, nbin = [], []
    for i, (c, b, r) in enumerate(zip(cols, bins, range)):
        if np.ndim(b) == 0 and type(b) is not Tracer:
            if b < 1:
                raise FuncdiffValueError(f"`bins[{i}]` must be positive, when an integer")
            try:
                k = operator.index(b)
            except TypeError as e:
                raise FuncdiffTypeError(f"`bins[{i}]` must be an integer, when a "
                                        "scalar") from e
            lo, hi = _outer_edges(c, r, "histogramdd")
            e = linspace(lo, hi, k + 1)
        else:
            e = operand(b)
            if aval(e).ndim != 1:
                raise FuncdiffValueError(f"`bins[{i}]` must be a scalar or 1d array")
            known = concrete_value(e)
            if known is not None and np.any(known[:-1] > known[1:]):
                raise FuncdiffValueError(f"`bins[{i}]` must be monotonically increasing, "
                                         "when an array")
        edges.append(e)
        nbin.append(aval(e).shape[0] + 1)          # an outlier bin on each side
    # flat index into the (nbin_0, ..., nbin_{D-1}) grid of bins with outliers
    flat = None
    for c, e, m in zip(cols, edges, nbin):
        k = search_sorted(e, c, right=True)
        k = ew.select(ew.eq(c, getitem(e, m - 2)), ew.sub(k, 1), k)
        flat = k if flat is None else ew.add(ew.mul(flat, m), k)
    total = int(np.prod(nbin, dtype=np.int64))
    if weights is not None:
        weights = _cast(operand(weights), _F64)
    hist = _count_into(flat, sh.full(aval(flat).shape, True, np.dtype(bool)), total,
                       weights, _F64)
    hist = sh.reshape(hist, tuple(nbin))
    hist = sh.slice_(hist, (1,) * d, tuple(m - 1 for m in nbin))
    if density:
        s = _sum(hist)
        for i, e in enumerate(edges):
            m = nbin[i] - 2
            de = ew.sub(sh.slice_(e, (1,), (m + 1,)), sh.slice_(e, (0,), (m,)))
            shape = [1] * d
            shape[i] = m
            hist = ew.div(hist, sh.reshape(de, tuple(shape)))
        hist = ew.div(hist, s)
    return hist, edges


@implements(np.histogram2d)
def histogram2d(x, y, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """``(H, xedges, yedges)``: ``histogramdd`` of the pairs ``(x, y)``."""
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n not in (1, 2):
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]
