"""Reductions (``sum mean prod max min var std all any argmax argmin nansum nanmean``),
cumulative ops (``cumsum cumprod``) and NumPy's ufunc methods ``add.reduce``,
``multiply.reduce``, ``maximum.reduce``, ``minimum.reduce``, ``add.accumulate`` and
``multiply.accumulate`` (registered in ``UFUNC_METHODS`` for ``__array_ufunc__``).

Conventions:
- dtypes are NumPy's, asked of NumPy itself on a one-element sample (``sum`` of bool or
  int8 is int64, ``mean`` of ints is float64, of float16 is float16 computed in float32,
  ``var`` of complex is real, ...).  A Python scalar operand gives a strong result
  (``np.sum(2.0)`` is a ``float64``).
- ``where=`` masks are supported (boolean, broadcast to the operand's shape, as in
  NumPy); ``max``/``min`` need ``initial=`` with a mask, as in NumPy.  ``out=`` is
  rejected: arrays are immutable under transforms.
- Subgradients: ``max``/``min`` split the tangent evenly among tied extrema (the
  convention of ``maximum``/``minimum``); ``prod``/``cumprod`` are exact at zeros;
  ``std`` where the variance is exactly 0 has derivative 0 (see ``std``).
"""
from __future__ import annotations

import builtins
import functools
import operator
import warnings

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb, elementwise as ew, reduce as rd, shape as sh
from ._core import (UFUNC_METHODS, aval, canonical_axes, canonical_axis, cast as _cast,
                    implements, operand)

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "cumsum",
           "cumprod", "argmax", "argmin", "all", "any", "nansum", "nanmean",
           "cumulative_sum", "cumulative_prod"]

_NoValue = np._NoValue
_BOOL = np.dtype(bool)
_INTP = np.dtype(np.intp)
_ALL_AXES = [tuple(range(n)) for n in range(65)]


# --- helpers -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _np_dtype(fn, dtype):
    """The dtype NumPy's ``fn`` gives on a one-element array of ``dtype``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(fn(np.ones((1,), dtype))).dtype


def _sum_dtype(dtype):
    return _np_dtype(np.add.reduce, np.dtype(dtype))


def _prod_dtype(dtype):
    return _np_dtype(np.multiply.reduce, np.dtype(dtype))


def _no_out(name, out):
    if out is not None and not (isinstance(out, tuple) and builtins.all(
            o is None for o in out)):
        raise FuncdiffTypeError(
            f"`{name}`: out= is not supported on traced values (arrays are immutable "
            "under transforms).  Use the returned value instead.")


def _given(v):
    return v is not _NoValue


def _strong(x):
    return _cast(x, aval(x).dtype)


def nan_axis_0d(axis, ndim_):
    """The nan* reductions of a float 0-d array take an int ``axis`` 0 or -1, meaning all
    axes (NumPy computes them with ``sum``, which does), unlike ``mean``/``var``/``std``."""
    if ndim_ == 0 and not isinstance(axis, (tuple, list)) and axis is not None and \
            operator.index(axis) in (0, -1):
        return None
    return axis


def _scalar_of(v, dtype):
    """A static scalar (e.g. ``initial``) cast to ``dtype`` as NumPy casts it."""
    if isinstance(v, Tracer):
        return _cast(v, dtype)
    return np.asarray(v).astype(dtype)[()]


def _axes(axis, ndim_, strict=False):
    """Canonical sorted axes.  ``strict``: 0-d arrays accept no axis (as ``np.mean``);
    otherwise axis 0 / -1 of a 0-d array mean "all axes" (as ``np.sum``)."""
    if strict and ndim_ == 0 and axis is not None and axis != ():
        for a in (axis if isinstance(axis, (tuple, list)) else (axis,)):
            raise np.exceptions.AxisError(operator.index(a), 0) if hasattr(
                np, "exceptions") else np.AxisError(operator.index(a), 0)
    if isinstance(axis, (tuple, list)):
        axis = tuple(operator.index(a) for a in axis)
    elif axis is not None:
        axis = operator.index(axis)
    axes = canonical_axes(axis, ndim_)
    return tuple(a for a in axes if a < ndim_)


def _keep(r, shape, axes, keepdims):
    if keepdims:
        return pb.reshape(r, pb._keepdims_shape(shape, axes))
    return r


def _mask(where, shape, name):
    """A boolean ``where=`` mask broadcast to ``shape`` (None when there is no mask)."""
    if where is _NoValue or where is True:
        return None
    w = operand(where)
    wa = aval(w)
    if wa.dtype != _BOOL:
        raise FuncdiffTypeError(f"`{name}`: where= must be a boolean mask, got "
                                f"{wa.str_short()} (NumPy casts it to bool only under "
                                "the 'safe' rule)")
    return pb.broadcast_to(w, shape)


def _reduced_size(shape, axes):
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _count(shape, axes, mask, dtype):
    """Number of elements each reduction sees, as a scalar or (with a mask) an array."""
    if mask is None:
        return _reduced_size(shape, axes)
    return pb.reduce_sum(_cast(mask, dtype), axes)


# --- sum, prod -----------------------------------------------------------------------------

# The common case of a loss -- sum or mean of a traced float array, no options -- binds
# reduce_sum directly: the same eqns the general path records, without its option handling.

def _plain_float(a, min_itemsize):
    """``a`` is a traced, strongly typed float/complex array of >= 1 axis whose sum
    accumulates in its own dtype (itemsize >= ``min_itemsize``)."""
    if type(a) is not Tracer:
        return False
    xa = a.ir_var.aval
    return bool(xa.shape) and xa.dtype.kind in "fc" and \
        xa.dtype.itemsize >= min_itemsize and not xa.weak_type


def _sum_all(a):
    return pb.reduce_sum_p.bind(a, axes=_ALL_AXES[len(a.ir_var.aval.shape)])


def _sum_like(name, reducer, combine, identity, dtype_rule, a, axis, dtype, out, keepdims,
              initial, where):
    _no_out(name, out)
    x = operand(a)
    xa = aval(x)
    axes = _axes(axis, xa.ndim)
    dt = np.dtype(dtype) if dtype is not None else dtype_rule(xa.dtype)
    x = _cast(x, dt)
    m = _mask(where, xa.shape, name)
    if m is not None:
        x = ew.select(m, x, np.asarray(identity, dt)[()])
    r = reducer(x, axes)
    if _given(initial) and initial is not None:
        r = combine(r, _scalar_of(initial, dt))
    r = _strong(r)
    return _keep(r, xa.shape, axes, keepdims)


@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue,  # noqa: A001
        where=_NoValue):
    """Sum over ``axis`` (None, int or tuple), NumPy's signature and dtype rule (bool and
    small ints accumulate in the platform int).  Linear: the derivative broadcasts."""
    if axis is None and dtype is None and out is None and not keepdims and \
            initial is _NoValue and where is _NoValue and _plain_float(a, 2):
        return _sum_all(a)
    return _sum_like("sum", pb.reduce_sum, pb.add, 0, _sum_dtype, a, axis, dtype, out,
                     keepdims, initial, where)


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue,
         where=_NoValue):
    """Product over ``axis``; the derivative is exact at zeros (products of the other
    elements, no division)."""
    return _sum_like("prod", rd.reduce_prod, ew.mul, 1, _prod_dtype, a, axis, dtype, out,
                     keepdims, initial, where)



def _nan_to(x, value):
    xa = aval(x)
    if xa.dtype.kind not in "fc":
        return x
    return ew.select(ew.isnan(x), np.asarray(value, xa.dtype)[()], x)


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue,
           where=_NoValue):
    """``sum`` treating NaNs as zero (their derivative is 0)."""
    return sum(_nan_to(operand(a), 0), axis=axis, dtype=dtype, out=out, keepdims=keepdims,
               initial=initial, where=where)


# --- mean, var, std ----------------------------------------------------------------------

def _mean_dtypes(in_dtype, dtype):
    """(accumulation dtype, result dtype) as in NumPy's ``_mean``."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        return dtype, dtype
    if in_dtype.kind in "biu":
        return np.dtype(np.float64), np.dtype(np.float64)
    if in_dtype == np.float16:
        return np.dtype(np.float32), in_dtype
    return in_dtype, in_dtype


def _divide(s, n, dtype):
    """``s / n`` computed in ``s``'s dtype (NumPy divides in place, casting unsafely)."""
    if isinstance(n, int):
        n = float(n)
    else:
        n = _cast(n, aval(s).dtype if aval(s).dtype.kind in "fc" else np.float64)
    return _cast(ew.div(s, n), dtype)


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NoValue):
    """Arithmetic mean; ints and bools give float64, float16 accumulates in float32 and
    returns float16 (NumPy's rules).  An empty reduction gives NaN, as in NumPy."""
    if axis is None and dtype is None and out is None and not keepdims and \
            where is _NoValue and _plain_float(a, 4) and a.ir_var.aval.size:
        return ew.div(_sum_all(a), float(a.ir_var.aval.size))
    _no_out("mean", out)
    x = operand(a)
    xa = aval(x)
    axes = _axes(axis, xa.ndim, strict=True)
    acc, res = _mean_dtypes(xa.dtype, dtype)
    m = _mask(where, xa.shape, "mean")
    s = sum(x, axis=axes, dtype=acc, where=True if m is None else m)
    n = _count(xa.shape, axes, m, np.intp)
    n_div, empty = _safe_count(n)
    r = _nan_where_empty(_divide(s, n_div, res), n, empty)
    return _keep(_strong(r), xa.shape, axes, keepdims)


def _safe_count(n):
    """``(divisor, empty)`` for a count ``n`` (an int, or an array under a ``where=``
    mask): an empty slice's mean or variance is NumPy's 0/0 = NaN, a constant, so it is
    divided by 1 instead (``empty`` says where) and made NaN by ``_nan_where_empty``;
    dividing by 0 would make its derivatives NaN, forward and reverse."""
    if isinstance(n, int):
        return n, None
    empty = ew.eq(n, 0)
    return ew.select(empty, 1, n), empty


def _nan_where_empty(r, n, empty):
    if empty is None and n != 0:
        return r
    dt = aval(r).dtype
    with np.errstate(all="ignore"):
        nan = (np.zeros((), dt) / np.zeros((), dt))[()]     # NumPy's 0/0 in that dtype
    if empty is None:
        return sh.full(aval(r).shape, nan, dt)
    return ew.select(empty, nan, r)


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NoValue):
    """``mean`` of the non-NaN elements (NaN where all are NaN); NaNs get derivative 0."""
    _no_out("nanmean", out)
    x = operand(a)
    xa = aval(x)
    if xa.dtype.kind not in "fc":
        return mean(x, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    ok = ew.logical_not(ew.isnan(x))
    m = _mask(where, xa.shape, "nanmean")
    if m is not None:
        ok = ew.logical_and(ok, m)
    return mean(x, axis=nan_axis_0d(axis, xa.ndim), dtype=dtype, keepdims=keepdims, where=ok)


def _ddof(ddof, correction):
    if _given(correction) and correction is not None:
        if ddof != 0:
            raise FuncdiffValueError("ddof and correction can't be provided simultaneously.")
        return correction
    return ddof


@implements(np.var, numpy2_kwargs=("mean", "correction"))
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NoValue,
        mean=_NoValue, correction=_NoValue):  # noqa: A002 - NumPy's keyword
    """Variance ``sum(|x - mean|**2) / max(n - ddof, 0)`` as NumPy computes it (ints and
    bools in float64, complex input gives a real result; ``correction`` is an alias of
    ``ddof``; ``mean=`` supplies a precomputed mean with keepdims shape)."""
    _no_out("var", out)
    ddof = _ddof(ddof, correction)
    x = operand(a)
    xa = aval(x)
    axes = _axes(axis, xa.ndim, strict=True)
    dt = np.dtype(dtype) if dtype is not None else (
        np.dtype(np.float64) if xa.dtype.kind in "biu" else xa.dtype)
    x = _cast(x, dt)
    m = _mask(where, xa.shape, "var")
    w = True if m is None else m
    n = _count(xa.shape, axes, m, np.intp)
    n_div, empty = _safe_count(n)
    if _given(mean) and mean is not None:
        mu = operand(mean)
    else:
        mu = _divide(sum(x, axis=axes, keepdims=True, where=w),
                     n if isinstance(n, int) else pb.reshape(
                         n_div, pb._keepdims_shape(xa.shape, axes)), dt)
    d = ew.sub(x, mu)
    if aval(d).dtype.kind == "c":
        sq = pb.add(ew.square(pb.real(d)), ew.square(pb.imag(d)))
    else:
        sq = ew.mul(d, d)
    s = sum(sq, axis=axes, where=w)
    if isinstance(n, int):
        rc = builtins.max(n - ddof, 0)
    else:
        rc = ew.select(empty, 1, ew.maximum(ew.sub(n, ddof), 0))
    r = _nan_where_empty(_divide(s, rc, aval(s).dtype), n, empty)
    return _keep(_strong(r), xa.shape, axes, keepdims)


@implements(np.std, numpy2_kwargs=("mean", "correction"))
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NoValue,
        mean=_NoValue, correction=_NoValue):  # noqa: A002 - NumPy's keyword
    """``sqrt(var(...))``.

    Subgradient: where the variance is exactly 0 (a constant input), ``std`` is not
    differentiable (``std(c + t v) = |t| std(v)``).  JAX returns NaN there; funcdiff
    returns 0 (the same choice as ``abs'(0) = 0``), computed without any NaN in the
    intermediate values, so first and higher derivatives stay finite.  Elsewhere the
    derivative is the usual ``(x - mean) / ((n - ddof) std)``."""
    v = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where,
            mean=mean, correction=correction)
    zero = ew.eq(v, 0)
    nan = ew.isnan(v)      # (an empty slice: v is NaN, its own tangent 0: keep both)
    safe = ew.select(ew.logical_or(zero, nan), np.ones((), aval(v).dtype)[()], v)
    return ew.select(zero, np.zeros((), aval(v).dtype)[()],
                     ew.select(nan, v, ew.sqrt(safe)))


# --- max, min ----------------------------------------------------------------------------

def _extremum(name, ufunc_name, reducer, combine, a, axis, out, keepdims, initial, where):
    _no_out(name, out)
    x = _strong(operand(a))
    xa = aval(x)
    axes = _axes(axis, xa.ndim)
    has_init = _given(initial) and initial is not None
    m = _mask(where, xa.shape, name)
    if m is not None and not has_init:
        raise FuncdiffValueError(
            f"reduction operation '{ufunc_name}' does not have an identity, so to use a "
            "where mask one has to specify 'initial'")
    init = _scalar_of(initial, xa.dtype) if has_init else None
    out_shape = pb._reduce_shape(xa, axes)
    if _reduced_size(xa.shape, axes) == 0 and axes:
        if not has_init:
            raise FuncdiffValueError(
                f"zero-size array to reduction operation {ufunc_name} which has no "
                "identity")
        r = pb.broadcast_to(init, out_shape) if isinstance(init, Tracer) else \
            pb.full(out_shape, init.item(), xa.dtype)
        return _keep(r, xa.shape, axes, keepdims)
    if m is not None:
        x = ew.select(m, x, init)
    r = reducer(x, axes)
    if has_init:
        r = combine(r, init)
    return _keep(r, xa.shape, axes, keepdims)


@implements(np.max)
def max(a, axis=None, out=None, keepdims=False, initial=_NoValue,  # noqa: A001
        where=_NoValue):
    """Maximum over ``axis``; the tangent is split evenly among tied maxima.  An empty
    reduction without ``initial`` is a ValueError, as in NumPy."""
    return _extremum("max", "maximum", rd.reduce_max, ew.maximum, a, axis, out, keepdims,
                     initial, where)


@implements(np.min)
def min(a, axis=None, out=None, keepdims=False, initial=_NoValue,  # noqa: A001
        where=_NoValue):
    """Minimum over ``axis``; the tangent is split evenly among tied minima."""
    return _extremum("min", "minimum", rd.reduce_min, ew.minimum, a, axis, out, keepdims,
                     initial, where)


amax = implements(np.amax)(max.traced) if np.amax is not np.max else max
amin = implements(np.amin)(min.traced) if np.amin is not np.min else min


# --- all, any ----------------------------------------------------------------------------

def _reduce_and(x, axes):
    return rd.reduce_and_p.bind(x, axes=tuple(axes))


def _reduce_or(x, axes):
    return rd.reduce_or_p.bind(x, axes=tuple(axes))


def _logical(name, reducer, identity, a, axis, out, keepdims, where):
    _no_out(name, out)
    x = operand(a)
    xa = aval(x)
    axes = _axes(axis, xa.ndim)
    if xa.dtype != _BOOL:
        x = ew.ne(x, 0)
    m = _mask(where, xa.shape, name)
    if m is not None:
        x = ew.select(m, x, identity)
    if axes:
        r = reducer(x, axes)
    else:
        r = _cast(x, _BOOL)
    return _keep(r, xa.shape, axes, keepdims)


@implements(np.all)
def all(a, axis=None, out=None, keepdims=False, *, where=_NoValue):  # noqa: A001
    """Whether all elements along ``axis`` are nonzero (boolean; no derivative)."""
    return _logical("all", _reduce_and, True, a, axis, out, keepdims, where)


@implements(np.any)
def any(a, axis=None, out=None, keepdims=False, *, where=_NoValue):  # noqa: A001
    """Whether any element along ``axis`` is nonzero (boolean; no derivative)."""
    return _logical("any", _reduce_or, False, a, axis, out, keepdims, where)


# --- argmax, argmin ------------------------------------------------------------------------

def _flat_or_axis(x, xa, axis):
    """``(x, axis)`` for a function along one axis: flattened (axis 0) when ``axis`` is
    None or ``x`` is 0-d (where only axis 0 or -1 is valid, as in NumPy)."""
    if axis is None or xa.ndim == 0:
        if axis is not None:
            canonical_axis(operator.index(axis), 0)
        return pb.reshape(x, (xa.size,)), 0
    return x, canonical_axis(operator.index(axis), xa.ndim)


def _arg(name, prim, a, axis, out, keepdims):
    _no_out(name, out)
    x = operand(a)
    xa = aval(x)
    shape = xa.shape
    x, ax = _flat_or_axis(x, xa, axis)
    xs = aval(x).shape
    out_shape = xs[:ax] + xs[ax + 1:]
    if xs[ax] == 0:
        raise FuncdiffValueError(f"attempt to get {name} of an empty sequence")
    if int(np.prod(out_shape, dtype=np.int64)) == 0:
        # (the argmax primitive rejects every size-0 operand; NumPy allows this one)
        r = pb.full(out_shape, 0, _INTP)
    else:
        r = prim.bind(x, axis=ax, index_dtype=_INTP)
    if keepdims:
        if axis is None:
            r = pb.reshape(r, (1,) * len(shape))
        else:
            r = pb.reshape(r, xs[:ax] + (1,) + xs[ax + 1:])
    return r


@implements(np.argmax)
def argmax(a, axis=None, out=None, *, keepdims=False):
    """Index of the (first) maximum along ``axis`` (flattened when None); intp result,
    no derivative."""
    return _arg("argmax", rd.argmax_p, a, axis, out, keepdims)


@implements(np.argmin)
def argmin(a, axis=None, out=None, *, keepdims=False):
    """Index of the (first) minimum along ``axis`` (flattened when None); intp result,
    no derivative."""
    return _arg("argmin", rd.argmin_p, a, axis, out, keepdims)


# --- cumsum, cumprod -------------------------------------------------------------------------

def _cumulative(name, bind, dtype_rule, a, axis, dtype, out):
    _no_out(name, out)
    x = operand(a)
    xa = aval(x)
    x, ax = _flat_or_axis(x, xa, axis)
    dt = np.dtype(dtype) if dtype is not None else dtype_rule(xa.dtype)
    x = _cast(x, dt)
    if aval(x).shape[ax] == 0:
        return _strong(x)
    return bind(x, ax)


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (None flattens); NumPy's dtype rule (small ints
    accumulate in the platform int).  Linear: the transpose is a reversed cumsum."""
    return _cumulative("cumsum", rd.cumsum, _sum_dtype, a, axis, dtype, out)


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (None flattens); the derivative is exact at
    zeros."""
    return _cumulative("cumprod", rd.cumprod, _prod_dtype, a, axis, dtype, out)


def _cumulative_include(name, fn, identity, x, axis, dtype, out, include_initial):
    """NumPy 2.1's ``cumulative_sum`` / ``cumulative_prod``."""
    x = operand(x)
    xa = aval(x)
    if axis is None:
        if xa.ndim > 1:
            raise FuncdiffValueError(f"`{name}`: axis must be given for arrays with more "
                                     "than one dimension")
        axis = 0
    if xa.ndim == 0:   # NumPy treats a 0-d array as a 1-element vector
        x = sh.reshape(x, (1,))
        xa = aval(x)
    ax = canonical_axis(operator.index(axis), xa.ndim)
    r = fn(x, axis=ax, dtype=dtype, out=out)
    if include_initial:
        ra = aval(r)
        first = list(ra.shape)
        first[ax] = 1
        r = sh.concatenate([pb.full(first, identity, ra.dtype), r], ax)
    return r


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """NumPy 2.1's ``cumulative_sum``: ``cumsum`` with an optional leading 0."""
    return _cumulative_include("cumulative_sum", cumsum, 0, x, axis, dtype, out,
                               include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """NumPy 2.1's ``cumulative_prod``: ``cumprod`` with an optional leading 1."""
    return _cumulative_include("cumulative_prod", cumprod, 1, x, axis, dtype, out,
                               include_initial)


# NumPy >= 2.1: NumPy's own functions on the eager path (and dispatch to these); older
# NumPy has none, and these run on NumPy values as they are
if hasattr(np, "cumulative_sum"):
    cumulative_sum = implements(np.cumulative_sum)(cumulative_sum)
    cumulative_prod = implements(np.cumulative_prod)(cumulative_prod)


# --- ufunc methods (``np.add.reduce(tracer)`` etc. via ``__array_ufunc__``) -------------------

def _ufunc_reduce(fn, has_dtype=True):
    def reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=_NoValue,
               where=True):
        kw = dict(axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)
        if has_dtype:
            kw["dtype"] = dtype
        elif dtype is not None:
            return fn(_cast(operand(array), dtype), **kw)
        return fn(array, **kw)
    reduce.__doc__ = f"NumPy's ufunc ``reduce`` (axis defaults to 0), via ``{fn.__name__}``."
    return reduce


def _ufunc_accumulate(fn):
    def accumulate(array, axis=0, dtype=None, out=None):
        x = operand(array)
        if aval(x).ndim == 0:
            raise FuncdiffTypeError("cannot accumulate on a scalar")
        return fn(x, axis=axis, dtype=dtype, out=out)
    accumulate.__doc__ = f"NumPy's ufunc ``accumulate`` (axis 0 by default), via " \
                         f"``{fn.__name__}``."
    return accumulate


UFUNC_METHODS[(np.add, "reduce")] = _ufunc_reduce(sum.traced)
UFUNC_METHODS[(np.multiply, "reduce")] = _ufunc_reduce(prod.traced)
UFUNC_METHODS[(np.maximum, "reduce")] = _ufunc_reduce(max.traced, has_dtype=False)
UFUNC_METHODS[(np.minimum, "reduce")] = _ufunc_reduce(min.traced, has_dtype=False)
UFUNC_METHODS[(np.add, "accumulate")] = _ufunc_accumulate(cumsum.traced)
UFUNC_METHODS[(np.multiply, "accumulate")] = _ufunc_accumulate(cumprod.traced)
ShapedArray  # noqa: B018 - re-exported name kept for type hints
