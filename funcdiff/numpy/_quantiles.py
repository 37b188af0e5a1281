"""Order statistics: ``median percentile quantile`` and ``nanmedian nanpercentile
nanquantile``, with all of NumPy's ``method=`` options (Hyndman and Fan's nine and
``lower higher nearest midpoint``), ``axis`` (int or tuple), ``keepdims`` and
``weights=`` (``inverted_cdf``).

Each is a stable sort along the reduced axes (flattened last) followed by NumPy's own
index arithmetic, replicated operation for operation so that values and dtypes equal
NumPy's: the virtual index of each method, ``_get_indexes``' clamping, the ``gamma``
fix-ups, and ``_lerp`` (``a + (b - a) * g``, or ``b - (b - a) * (1 - g)`` for
``g >= 0.5``).  A slice holding a NaN gives NaN (the ``nan*`` versions drop NaNs: their
per-slice count replaces ``n``).  ``q`` may be traced.

Derivatives flow through the selected order statistics: ``(1 - g)`` to the lower and
``g`` to the upper one for the interpolating methods, 1 to the single one otherwise
(``median`` of an even count: 1/2 each).  Among tied elements the one earlier in the
input takes the lower sorted position (stable sort), so at a tie the derivative goes to
one of them, not split.  The derivative in ``q`` is the slope ``(b - a) * dg/dq``
(zero for the discrete methods); ``weights`` only select, so their derivative is zero.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffIndexError, FuncdiffTypeError, FuncdiffValueError
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import reduce as rd
from ..primitives import shape as sh
from ..primitives.sort import take_along_axis
from ._core import aval, canonical_axes, canonical_axis, implements, operand
from ._core import cast as _cast
from ._reductions import mean as _mean, nanmean as _nanmean
from ._sorting import concrete_value, sort_last

__all__ = ["median", "percentile", "quantile", "nanmedian", "nanpercentile",
           "nanquantile"]

_INTP = np.dtype(np.intp)
_NoValue = np._NoValue

# (alpha, beta) of the continuous methods H&F 4-9 (NumPy's _compute_virtual_index)
_ALPHA_BETA = {"interpolated_inverted_cdf": (0, 1), "hazen": (0.5, 0.5),
               "weibull": (0, 0), "median_unbiased": (1 / 3.0, 1 / 3.0),
               "normal_unbiased": (3 / 8.0, 3 / 8.0)}
_DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "midpoint", "nearest")


# --- layout: reduced axes flattened last -------------------------------------------------------

def _flatten_axes(x, axis):
    """``(x with the reduced axes moved last and merged into one, keepdims shape)``."""
    xa = aval(x)
    if axis is None:
        return sh.reshape(x, (xa.size,)), (1,) * xa.ndim
    if isinstance(axis, (tuple, list)):
        axis = tuple(operator.index(a) for a in axis)
    else:
        axis = operator.index(axis)
    axes = canonical_axes(axis, xa.ndim)
    keep = [i for i in range(xa.ndim) if i not in axes]
    if list(keep) + list(axes) != list(range(xa.ndim)):
        x = pb.transpose(x, tuple(keep) + tuple(axes))
    kept = tuple(xa.shape[i] for i in keep)
    n = int(np.prod([xa.shape[i] for i in axes], dtype=np.int64))
    kd = tuple(1 if i in axes else d for i, d in enumerate(xa.shape))
    return sh.reshape(x, kept + (n,)), kd


def _no_out(name, out):
    if out is not None:
        raise FuncdiffTypeError(f"`{name}`: out= is not supported on traced values (arrays "
                                "are immutable under transforms); use the returned value")


def _last(s):
    """``s[..., -1]``."""
    n = aval(s).shape[-1]
    return sh.reshape(sh.slice_(s, (0,) * (aval(s).ndim - 1) + (n - 1,), aval(s).shape),
                      aval(s).shape[:-1])


def _pick(s, idx, qshape):
    """``s[b..., idx[q..., b...]]`` arranged as ``qshape + batch`` (``idx`` broadcasts
    to ``qshape + batch``)."""
    batch = aval(s).shape[:-1]
    nb, nq = len(batch), len(qshape)
    if aval(idx).ndim == nq:
        idx = sh.reshape(idx, qshape + (1,) * nb)
    idx = pb.broadcast_to(idx, qshape + batch)
    idx = pb.transpose(idx, tuple(range(nq, nq + nb)) + tuple(range(nq)))
    m = int(np.prod(qshape, dtype=np.int64))
    out = take_along_axis(s, sh.reshape(idx, batch + (m,)), nb)
    out = sh.reshape(out, batch + qshape)
    return pb.transpose(out, tuple(range(nb, nb + nq)) + tuple(range(nb)))


# --- NumPy's index arithmetic -----------------------------------------------------------------

def _to_boundaries(index, cond):
    """NumPy's ``_discrete_interpolation_to_boundaries``."""
    prev = ew.floor(index)
    gamma = ew.sub(index, prev)
    res = _cast(ew.select(cond(gamma, index), prev, ew.add(prev, 1)), _INTP)
    return ew.maximum(res, 0)


def _virtual_index(method, n, q):
    """The (float, or intp for the discrete methods) index into the sorted sample."""
    if method == "linear":
        return ew.mul(ew.sub(n, 1), q)
    if method in ("lower", "higher", "nearest"):
        f = {"lower": ew.floor, "higher": ew.ceil, "nearest": ew.round_}[method]
        return _cast(f(ew.mul(ew.sub(n, 1), q)), _INTP)
    if method == "midpoint":
        v = ew.mul(ew.sub(n, 1), q)
        return ew.mul(0.5, ew.add(ew.floor(v), ew.ceil(v)))
    if method == "inverted_cdf":
        return _to_boundaries(ew.sub(ew.mul(n, q), 1), lambda g, _: ew.eq(g, 0))
    if method == "averaged_inverted_cdf":
        return ew.sub(ew.mul(n, q), 1)
    if method == "closest_observation":
        return _to_boundaries(
            ew.sub(ew.sub(ew.mul(n, q), 1), 0.5),
            lambda g, i: ew.logical_and(ew.eq(g, 0), ew.eq(ew.rem(ew.floor(i), 2), 1)))
    alpha, beta = _ALPHA_BETA[method]
    return ew.sub(ew.add(ew.mul(n, q), ew.add(alpha, ew.mul(q, 1 - alpha - beta))), 1)


def _fix_gamma(method, gamma, v):
    if method == "midpoint":
        return ew.select(ew.eq(ew.rem(v, 1), 0), 0.0, 0.5)
    if method == "averaged_inverted_cdf":
        return ew.select(ew.eq(gamma, 0), 0.5, 1.0)
    return gamma


def _interpolate(s, n, last, v, method, qshape, weak_q):
    """NumPy's ``_get_indexes`` + ``_get_gamma`` + ``_lerp`` at virtual index ``v``;
    ``last`` is the index of the last valid element (``n - 1``)."""
    prev = ew.floor(v)
    nxt = ew.add(prev, 1)
    above = ew.ge(v, ew.sub(n, 1))
    below = ew.lt(v, 0)
    prev = ew.select(below, 0.0, ew.select(above, -1.0, prev))
    nxt = ew.select(below, 0.0, ew.select(above, -1.0, nxt))
    if aval(v).dtype.kind == "f":
        bad = ew.isnan(v)
        prev, nxt = ew.select(bad, -1.0, prev), ew.select(bad, -1.0, nxt)
    prev, nxt = _cast(prev, _INTP), _cast(nxt, _INTP)
    gamma = _cast(_fix_gamma(method, ew.sub(v, prev), v), aval(v).dtype)
    gamma_ge = ew.ge(gamma, 0.5)
    one_minus = ew.sub(1, gamma)
    if weak_q:
        # NumPy uses float(gamma), a weak Python float: (1 - gamma) is computed in
        # float64, and both are rounded to the data's float type when multiplied
        dt = aval(s).dtype if aval(s).dtype.kind == "f" else np.dtype(np.float64)
        gamma, one_minus = _cast(gamma, dt), _cast(one_minus, dt)
    a = _pick(s, _index(prev, last), qshape)
    b = _pick(s, _index(nxt, last), qshape)
    nb = aval(s).ndim - 1
    if aval(gamma).ndim == len(qshape) and nb:
        pad = qshape + (1,) * nb
        gamma, one_minus, gamma_ge = (sh.reshape(t, pad) for t in (gamma, one_minus,
                                                                   gamma_ge))
    diff = ew.sub(b, a)
    low = ew.add(a, ew.mul(diff, gamma))
    high = ew.sub(b, ew.mul(diff, one_minus))
    return ew.select(gamma_ge, high, low)


def _index(i, last):
    """A sorted-sample index where -1 means the last valid element."""
    return ew.select(ew.lt(i, 0), ew.add(ew.add(last, 1), i), i)


def _weighted(s, w, q, qshape, empty):
    """``inverted_cdf`` with weights (NumPy's weighted branch): the first sorted element
    whose normalized cumulative weight reaches ``q``.  ``empty``: the all-NaN slices of
    the nan* versions (their weights are not checked; their result is NaN)."""
    n = aval(s).shape[-1]
    nb = aval(s).ndim - 1
    cdf = rd.cumsum(_cast(w, np.float64), nb)
    total = _last(cdf)
    known = concrete_value(total)
    if known is not None:
        with np.errstate(all="ignore"):
            bad = np.isnan(known / known)
        skip = None if empty is None else concrete_value(empty)
        if np.any(bad & ~skip if skip is not None else bad):
            raise FuncdiffValueError("Weights included NaN, inf or were all zero.")
    cdf = ew.div(cdf, sh.reshape(total, aval(total).shape + (1,)))
    if aval(q).dtype.kind == "f":
        cdf = _cast(cdf, aval(q).dtype)
    # leading zero weights: NumPy sets zero cdf entries to -1 so that q = 0 picks the
    # first element of positive weight (zeros only occur as a leading run)
    cdf = ew.select(ew.eq(cdf, 0), -1.0, cdf)
    qb = sh.reshape(q, qshape + (1,) * (nb + 1))
    count = rd.reduce_sum(_cast(ew.lt(cdf, qb), _INTP), (len(qshape) + nb,))
    return _pick(s, ew.minimum(count, n - 1), qshape)


def _check_weights(name, w, a, axis, method):
    if method != "inverted_cdf":
        raise FuncdiffValueError(f"Only method 'inverted_cdf' supports weights. Got: "
                                 f"{method}.")
    w = operand(w)
    wa, xa = aval(w), aval(a)
    if wa.shape != xa.shape:
        if axis is None:
            raise FuncdiffTypeError("Axis must be specified when shapes of a and weights "
                                    "differ.")
        axes = tuple(canonical_axis(operator.index(a_), xa.ndim) for a_ in
                     (axis if isinstance(axis, (tuple, list)) else (axis,)))
        if wa.shape != tuple(xa.shape[ax] for ax in axes):
            raise FuncdiffValueError("Shape of weights must be consistent with shape of a "
                                     "along specified axis.")
        order = np.argsort(axes)
        w = pb.transpose(w, tuple(int(i) for i in order))
        w = sh.reshape(w, tuple(s_ if ax in axes else 1 for ax, s_ in enumerate(xa.shape)))
        w = pb.broadcast_to(w, xa.shape)
    known = concrete_value(w)
    if known is not None and np.any(known < 0):
        raise FuncdiffValueError("Weights must be non-negative.")
    return w


# --- the shared driver ---------------------------------------------------------------------------

def _quantile(name, a, q, axis, out, method, keepdims, weights, *, percent, nan):
    _no_out(name, out)
    if method not in METHODS:
        raise FuncdiffValueError(f"{method!r} is not a valid method. Use one of: "
                                 f"{METHODS}")
    weak_q = type(q) in (int, float)
    x = operand(a)
    if aval(x).dtype.kind == "c":
        raise FuncdiffTypeError("a must be an array of real numbers")
    q = operand(q)
    if percent:
        q = ew.div(q, 100)
    known = concrete_value(q)
    if known is not None and not (np.all(known >= 0) and np.all(known <= 1)):
        raise FuncdiffValueError("Percentiles must be in the range [0, 100]" if percent
                                 else "Quantiles must be in the range [0, 1]")
    qshape = aval(q).shape
    if len(qshape) > 2:
        raise FuncdiffValueError("q must be a scalar or 1d")
    if weights is not None:
        weights = _check_weights(name, weights, x, axis, method)
    xa = aval(x)
    keepdims = False if keepdims is _NoValue else keepdims
    if nan and xa.size == 0:
        return _nanmean(x, axis=axis, keepdims=keepdims)   # NumPy's choice
    xs, kd = _flatten_axes(x, axis)
    n = aval(xs).shape[-1]
    if n == 0:
        raise FuncdiffIndexError(f"`{name}`: index -1 is out of bounds for axis 0 with "
                                 "size 0 (an empty reduction)")
    nb = aval(xs).ndim - 1
    isfloat = xa.dtype.kind == "f"
    nan_mask = ew.isnan(xs) if isfloat else None
    # nan*: the number of non-NaN values per slice plays NumPy's n
    count = rd.reduce_sum(_cast(ew.logical_not(nan_mask), _INTP), (nb,)) \
        if nan and isfloat else None
    if weights is not None:
        w, _ = _flatten_axes(weights, axis)
        if count is not None:
            w = ew.select(nan_mask, 0, w)
        s, w_sorted = sort_last(xs, w)
        r = _weighted(s, w_sorted, q, qshape, None if count is None else ew.eq(count, 0))
    else:
        s = sort_last(xs)[0]
        if count is not None:
            # (a Python int in NumPy's per-slice call: here in q's float type)
            n_ = _cast(count, aval(q).dtype) if aval(q).dtype.kind == "f" else count
            v = _virtual_index(method, n_, sh.reshape(q, qshape + (1,) * nb))
            last = ew.sub(count, 1)
        else:
            n_ = n
            v = _virtual_index(method, n, q)
            last = n - 1
        if method in _DISCRETE or method == "linear" and aval(v).dtype.kind in "iu":
            r = _pick(s, ew.minimum(ew.maximum(_index(v, last), 0), n - 1), qshape)
        else:
            r = _interpolate(s, n_, last, v, method, qshape, weak_q)
    if count is not None:
        r = ew.select(ew.eq(count, 0), np.asarray(np.nan, aval(r).dtype)[()], r)
    elif isfloat:
        lastv = _last(s)
        r = ew.select(ew.isnan(lastv), _cast(lastv, aval(r).dtype), r)
    if keepdims:
        r = sh.reshape(r, qshape + kd)
    return r


@implements(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    """The ``q``-th quantiles along ``axis`` (result shape ``q.shape + rest``), every
    NumPy ``method``; differentiable in ``a`` and ``q``."""
    return _quantile("quantile", a, q, axis, out, method, keepdims, weights,
                     percent=False, nan=False)


@implements(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    """``quantile(a, q / 100, ...)``."""
    return _quantile("percentile", a, q, axis, out, method, keepdims, weights,
                     percent=True, nan=False)


@implements(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=_NoValue, *, weights=None):
    """``quantile`` ignoring NaNs (NaN for an all-NaN slice)."""
    return _quantile("nanquantile", a, q, axis, out, method, keepdims, weights,
                     percent=False, nan=True)


@implements(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=_NoValue, *, weights=None):
    """``percentile`` ignoring NaNs (NaN for an all-NaN slice)."""
    return _quantile("nanpercentile", a, q, axis, out, method, keepdims, weights,
                     percent=True, nan=True)


# --- median ---------------------------------------------------------------------------------------

def _median(name, a, axis, out, keepdims, nan):
    _no_out(name, out)
    x = operand(a)
    xa = aval(x)
    keepdims = False if keepdims is _NoValue else keepdims
    if nan and xa.size == 0:
        return _nanmean(x, axis=axis, keepdims=keepdims)
    xs, kd = _flatten_axes(x, axis)
    n = aval(xs).shape[-1]
    nb = aval(xs).ndim - 1
    batch = aval(xs).shape[:-1]
    isfloat = xa.dtype.kind in "fc"
    if n == 0:
        r = _mean(xs, axis=-1)      # NaN (NumPy: the mean of an empty slice)
    elif nan and isfloat:
        s = sort_last(xs)[0]
        count = rd.reduce_sum(_cast(ew.logical_not(ew.isnan(xs)), _INTP), (nb,))
        lo = ew.floor_divide(ew.sub(count, 1), 2)
        hi = ew.floor_divide(count, 2)
        a_lo, a_hi = (_pick(s, _index(i, ew.sub(count, 1)), ()) for i in (lo, hi))
        two = _mean(sh.concatenate([sh.reshape(a_lo, batch + (1,)),
                                    sh.reshape(a_hi, batch + (1,))], nb), axis=-1)
        r = ew.select(ew.eq(lo, hi), _cast(a_lo, aval(two).dtype), two)
        r = ew.select(ew.eq(count, 0), np.asarray(np.nan, aval(r).dtype)[()], r)
    else:
        s = sort_last(xs)[0]
        h = n // 2
        start = h if n % 2 else h - 1
        mid = sh.slice_(s, (0,) * nb + (start,), batch + (h + 1,))
        r = _mean(mid, axis=-1)
        if isfloat:
            lastv = _last(s)
            r = ew.select(ew.isnan(lastv), _cast(lastv, aval(r).dtype), r)
    if keepdims:
        r = sh.reshape(r, kd)
    return r


@implements(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median along ``axis`` (int, tuple or None): the middle sorted element, or the
    mean of the two middle ones; NumPy's dtypes (ints give float64).  The derivative goes
    to the middle element(s) (1/2 each for an even count)."""
    return _median("median", a, axis, out, keepdims, nan=False)


@implements(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NoValue):
    """``median`` ignoring NaNs (NaN for an all-NaN slice); NaNs get derivative 0."""
    return _median("nanmedian", a, axis, out, keepdims, nan=True)

