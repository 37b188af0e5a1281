"""The NaN-ignoring reductions ``nanmax nanmin nanargmax nanargmin nanprod nancumsum
nancumprod nanvar nanstd`` (``nansum``/``nanmean`` are in _reductions, the order
statistics in _quantiles).

Each replaces the NaNs by the operation's identity (``-inf`` for max, 1 for products, 0
for sums) with a ``select`` before reducing, so NaN positions get derivative exactly 0
(never NaN) and the rest follow the plain reduction's conventions (ties of
``nanmax``/``nanmin`` share the derivative evenly).  All-NaN slices give NaN as in
NumPy (``nanargmax``/``nanargmin`` raise NumPy's ValueError when the values are known,
and return -1 for such a slice under ``jit``, as JAX does); ``nanvar``/``nanstd`` give
NaN where the degrees of freedom ``count - ddof`` are <= 0.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffValueError
from ..primitives import elementwise as ew
from ._core import aval, implements, operand
from ._reductions import (_NoValue, _given, _nan_to, _no_out, all as _all, argmax as _argmax,
                          nan_axis_0d,
                          argmin as _argmin, cumprod as _cumprod, cumsum as _cumsum,
                          max as _max, min as _min, prod as _prod, std as _std,
                          sum as _sum, var as _var)
from ._sorting import concrete_value

__all__ = ["nanmax", "nanmin", "nanargmax", "nanargmin", "nanprod", "nancumsum",
           "nancumprod", "nanvar", "nanstd"]

_INTP = np.dtype(np.intp)


def _kd(keepdims):
    return False if keepdims is _NoValue else keepdims


def _is_float(x):
    return aval(x).dtype.kind in "fc"


def _all_nan(x, axis, keepdims, where=_NoValue):
    """Whether every (unmasked) element of each slice is NaN."""
    nan = ew.isnan(x)
    if _given(where) and where is not None and where is not True:
        nan = ew.logical_or(nan, ew.logical_not(operand(where)))
    return _all(nan, axis=axis, keepdims=keepdims)


def _nan_extremum(name, reducer, fill, a, axis, out, keepdims, initial, where):
    _no_out(name, out)
    x = operand(a)
    kd = _kd(keepdims)
    if not _is_float(x):
        return reducer(x, axis=axis, keepdims=kd, initial=initial, where=where)
    if aval(x).dtype.kind == "c":
        # NumPy's fmax/fmin.reduce: a complex NaN (either part) is skipped, so it is
        # replaced by the extreme of the lexicographic order, (fill, fill)
        fill = complex(fill, fill)
    r = reducer(_nan_to(x, fill), axis=axis, keepdims=kd, initial=initial, where=where)
    if _given(initial) and initial is not None:
        return r      # NumPy's fmax/fmin with an initial value: never NaN
    return ew.select(_all_nan(x, axis, kd, where), np.asarray(np.nan, aval(r).dtype)[()], r)


@implements(np.nanmax)
def nanmax(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    """``max`` ignoring NaNs (NaN for an all-NaN slice); ties share the derivative."""
    return _nan_extremum("nanmax", _max, -np.inf, a, axis, out, keepdims, initial, where)


@implements(np.nanmin)
def nanmin(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    """``min`` ignoring NaNs (NaN for an all-NaN slice); ties share the derivative."""
    return _nan_extremum("nanmin", _min, np.inf, a, axis, out, keepdims, initial, where)


def _nan_arg(name, arg, fill, a, axis, out, keepdims):
    _no_out(name, out)
    x = operand(a)
    kd = _kd(keepdims)
    if not _is_float(x):     # (complex NaNs become fill + 0j, as NumPy's _replace_nan)
        return arg(x, axis=axis, keepdims=kd)
    r = arg(_nan_to(x, fill), axis=axis, keepdims=kd)
    bad = _all_nan(x, axis, kd)
    known = concrete_value(bad)
    if known is not None:
        if np.any(known):
            raise FuncdiffValueError("All-NaN slice encountered")
        return r
    return ew.select(bad, np.intp(-1), r)


@implements(np.nanargmax)
def nanargmax(a, axis=None, out=None, *, keepdims=_NoValue):
    """Index of the largest non-NaN value (intp).  An all-NaN slice is NumPy's
    ValueError, or -1 under ``jit`` (its values unknown), as in JAX."""
    return _nan_arg("nanargmax", _argmax, -np.inf, a, axis, out, keepdims)


@implements(np.nanargmin)
def nanargmin(a, axis=None, out=None, *, keepdims=_NoValue):
    """Index of the smallest non-NaN value (intp); all-NaN slices as ``nanargmax``."""
    return _nan_arg("nanargmin", _argmin, np.inf, a, axis, out, keepdims)


@implements(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue,
            where=_NoValue):
    """``prod`` with NaNs as 1 (their derivative is 0)."""
    return _prod(_nan_to(operand(a), 1), axis=axis, dtype=dtype, out=out,
                 keepdims=_kd(keepdims), initial=initial, where=where)


@implements(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    """``cumsum`` with NaNs as 0 (their derivative is 0)."""
    return _cumsum(_nan_to(operand(a), 0), axis=axis, dtype=dtype, out=out)


@implements(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    """``cumprod`` with NaNs as 1 (their derivative is 0)."""
    return _cumprod(_nan_to(operand(a), 1), axis=axis, dtype=dtype, out=out)


def _nan_moment(name, fn, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    _no_out(name, out)
    x = operand(a)
    kd = _kd(keepdims)
    kw = dict(axis=axis, dtype=dtype, ddof=ddof, keepdims=kd, mean=mean,
              correction=correction)
    if not _is_float(x):
        return fn(x, where=where, **kw)
    kw["axis"] = axis = nan_axis_0d(axis, len(aval(x).shape))
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise FuncdiffValueError("If a is inexact, then dtype must be inexact")
    ok = ew.logical_not(ew.isnan(x))
    if _given(where) and where is not None and where is not True:
        ok = ew.logical_and(ok, operand(where))
    r = fn(_nan_to(x, 0), where=ok, **kw)
    dof = ew.sub(_sum(ok, axis=axis, dtype=_INTP, keepdims=kd),
                 correction if _given(correction) and correction is not None else ddof)
    return ew.select(ew.le(dof, 0), np.asarray(np.nan, aval(r).dtype)[()], r)


@implements(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *,
           where=_NoValue, mean=_NoValue, correction=_NoValue):
    """``var`` of the non-NaN elements; NaN where ``count - ddof <= 0``."""
    return _nan_moment("nanvar", _var, a, axis, dtype, out, ddof, keepdims, where, mean,
                       correction)


@implements(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *,
           where=_NoValue, mean=_NoValue, correction=_NoValue):
    """``std`` of the non-NaN elements (derivative 0 where the variance is 0, as
    ``std``); NaN where ``count - ddof <= 0``."""
    return _nan_moment("nanstd", _std, a, axis, dtype, out, ddof, keepdims, where, mean,
                       correction)
