"""``mode``, ``rankdata`` and ``sem`` of ``funcdiff.scipy.stats``.

``mode`` and ``rankdata`` compare every pair of elements along the axis (O(n^2) time and
memory per slice): funcdiff has no sort primitive yet, and comparisons differentiate and
batch like everything else.  Ranks are piecewise constant in the data: their derivative
is 0.  The mode is the smallest most frequent value; its derivative is split evenly among
the occurrences of that value (they all equal it: the ``min`` reduction's tie rule).

Value-dependent dtypes (docs/scientific.md): SciPy returns int64 ranks (methods other
than 'average') and counts unless NaNs are present, and float64 then.  Where the values
are known (outside ``jit``) funcdiff does the same; under ``jit`` a floating input gives
float64 ranks for every method (and with ``nan_policy='omit'`` float64 counts and the mode in
the dtype SciPy gives when NaNs were omitted).
"""
from __future__ import annotations

import functools
import warnings
from collections import namedtuple

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffValueError
from .._special import _concrete
from ._dist import _stats, scipy_function

ModeResult = namedtuple("ModeResult", ["mode", "count"])

_NAN_POLICIES = ("propagate", "omit", "raise")
_METHODS = ("average", "min", "max", "dense", "ordinal")
_I64 = np.dtype(np.int64)


def _check_nan_policy(nan_policy):
    if nan_policy not in _NAN_POLICIES:
        raise FuncdiffValueError(f"nan_policy must be one of {set(_NAN_POLICIES)}, got "
                                 f"{nan_policy!r}")


def _any_nan(x):
    """Whether ``x`` has a NaN: True/False where its value is known, None under jit."""
    if x.dtype.kind not in "fc":
        return False
    v = _concrete(x)
    return None if v is None else bool(np.isnan(v).any())


def _raise_on_nan(x, nan_policy):
    if nan_policy == "raise" and _any_nan(x):
        raise FuncdiffValueError("The input contains nan values")


def _last(a, axis):
    """``a`` with ``axis`` moved last (``None``: raveled), and that axis as an int."""
    a = fnp.asarray(a)
    if axis is None:
        return fnp.ravel(a), 0
    axis = int(axis)
    if not -a.ndim <= axis < max(a.ndim, 1):
        raise FuncdiffValueError(f"axis {axis} is out of bounds for array of dimension "
                                 f"{a.ndim}")
    return (fnp.moveaxis(a, axis, -1) if a.ndim else fnp.reshape(a, (1,))), axis


def _same(x):
    """``x_i == x_j`` for every pair along the last axis, NaNs equal to each other (as
    SciPy groups them): shape ``(..., n, n)``."""
    xi, xj = x[..., :, None], x[..., None, :]
    eq = fnp.equal(xi, xj)
    if x.dtype.kind in "fc":
        eq = eq | (fnp.isnan(xi) & fnp.isnan(xj))
    return eq


@scipy_function("mode")
def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The smallest most frequent value along ``axis`` and its count, as SciPy's
    ``ModeResult(mode, count)`` (NaNs count as one value, larger than every number).
    ``nan_policy='omit'`` leaves NaNs out; ``'raise'`` raises where the values are known.
    Differentiable in the data: the derivative is split evenly among the occurrences of
    the mode."""
    _check_nan_policy(nan_policy)
    a = fnp.asarray(a)
    if a.dtype.kind not in "iufc":
        raise FuncdiffValueError("Argument `a` is not recognized as numeric (SciPy's mode "
                                 f"takes numbers), got {a.dtype}")
    _raise_on_nan(a, nan_policy)
    x, ax = _last(a, axis)
    if x.shape[-1] == 0 or x.size == 0:
        out_shape = x.shape[:-1]
        m, c = fnp.full(out_shape, np.nan), fnp.zeros(out_shape)
        return ModeResult(*_keep(m, c, a, axis, ax, keepdims))
    omit = nan_policy == "omit" and x.dtype.kind in "fc"
    valid = fnp.logical_not(fnp.isnan(x)) if x.dtype.kind in "fc" else fnp.ones_like(x, bool)
    eq = _same(x)
    if omit:
        eq = eq & valid[..., :, None]
    counts = fnp.sum(eq, axis=-1)
    top = fnp.max(counts, axis=-1)
    cand = fnp.equal(counts, top[..., None])
    numbers = cand & valid
    big = np.inf if x.dtype.kind in "fc" else np.iinfo(x.dtype).max
    smallest = fnp.min(fnp.where(numbers, x, fnp.asarray(big, x.dtype)), axis=-1)
    m = fnp.where(fnp.any(numbers, axis=-1), smallest, fnp.asarray(np.nan, x.dtype)) \
        if x.dtype.kind in "fc" else smallest
    case = "plain"
    if omit:
        v = _concrete(x)
        nan = None if v is None else np.isnan(v)
        case = "nan" if nan is None else "all nan" if nan.all() else \
            "nan" if nan.any() else "plain"        # (under jit NaNs are assumed)
    m_dt, c_dt = _mode_dtypes(x.dtype, a.ndim <= 1 or axis is None, case)
    return ModeResult(*_keep(m.astype(m_dt), top.astype(c_dt), a, axis, ax, keepdims))


@functools.lru_cache(maxsize=None)
def _mode_dtypes(dtype, one_slice, case):
    """The dtypes of SciPy's ``(mode, count)`` for one slice or many, without NaNs
    ("plain"), with some omitted ("nan") or only NaNs ("all nan"), found by asking the
    installed SciPy about a small sample (they changed in SciPy 1.16); SciPy 1.16's
    without SciPy."""
    if _stats is None:
        floaty = case == "all nan" or (case == "nan" and not one_slice)
        return dtype, np.dtype(np.float64 if floaty else np.int64)
    sample = np.ones(3 if one_slice else (3, 2), dtype)
    if case == "all nan":
        sample[...] = np.nan
    elif case == "nan":
        sample.flat[0] = np.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        r = _stats.mode(sample, axis=None if one_slice else 0,
                        nan_policy="omit" if case != "plain" else "propagate")
    return np.asarray(r.mode).dtype, np.asarray(r.count).dtype


def _keep(m, c, a, axis, ax, keepdims):
    if not keepdims:
        return m, c
    if axis is None:
        shape = (1,) * a.ndim
    else:
        shape = list(a.shape)
        shape[ax] = 1
    return fnp.reshape(m, shape), fnp.reshape(c, shape)


@scipy_function("rankdata")
def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """Ranks from 1 along ``axis`` (all elements, raveled, for ``None``), ties by
    ``method``: 'average' (float64), 'min', 'max', 'dense', 'ordinal' (int64; float64
    where NaNs make it so, see the module docstring).  With ``nan_policy='propagate'`` a
    slice holding a NaN is all NaN; 'omit' makes only the NaNs NaN.  Piecewise constant:
    derivative 0."""
    if method not in _METHODS:
        raise FuncdiffValueError(f'unknown method "{method}"')
    _check_nan_policy(nan_policy)
    a = fnp.asarray(a)
    _raise_on_nan(a, nan_policy)
    if axis is None:
        x, ax = fnp.ravel(a), -1
    else:
        x, ax = _last(a, axis)
    if x.size == 0:
        return fnp.zeros(x.shape, np.float64 if method == "average" else _I64)
    xi, xj = x[..., :, None], x[..., None, :]
    less = fnp.sum(fnp.less(xj, xi), axis=-1)
    eq = fnp.equal(xj, xi)
    ties = fnp.sum(eq, axis=-1)
    n = x.shape[-1]
    if method == "average":
        ranks = less + (ties + 1) / 2.0
    elif method == "min":
        ranks = less + 1
    elif method == "max":
        ranks = less + ties
    elif method == "ordinal":
        before = np.tri(n, n, -1, dtype=bool)          # j < i
        ranks = less + fnp.sum(eq & before, axis=-1) + 1
    else:   # dense: the number of distinct smaller values, + 1
        first = fnp.logical_not(fnp.any(eq & np.tri(n, n, -1, dtype=bool), axis=-1))
        ranks = fnp.sum(fnp.less(xj, xi) & first[..., None, :], axis=-1) + 1
    if method != "average":
        ranks = ranks.astype(_I64)
    has_nan = _any_nan(x)
    if has_nan is None or has_nan:
        nan = fnp.isnan(x)
        where_nan = nan if nan_policy == "omit" else fnp.any(nan, axis=-1, keepdims=True)
        ranks = fnp.where(where_nan, np.nan, ranks.astype(np.float64))
    return ranks if axis is None else fnp.moveaxis(ranks, -1, ax)


@scipy_function("sem")
def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean, ``std(a, ddof) / sqrt(n)`` along ``axis`` (all
    elements for ``None``), NaN for fewer than 2 values where SciPy says so (one sample,
    or NaNs omitted; under jit ``'omit'`` always checks); ``nan_policy='omit'``
    leaves NaNs out of ``n``, the mean and the spread.  float32 stays float32; integers
    give float64.  Differentiable."""
    _check_nan_policy(nan_policy)
    a = fnp.asarray(a)
    _raise_on_nan(a, nan_policy)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    ndim = a.ndim
    if axis is None:
        x, axis = fnp.ravel(a), 0
    else:
        x = a
    if nan_policy == "omit" and x.dtype.kind in "fc":
        keep = fnp.logical_not(fnp.isnan(x))
        n = fnp.sum(keep, axis=axis, keepdims=True).astype(x.dtype)
        xs = fnp.where(keep, x, 0)
        mean = fnp.sum(xs, axis=axis, keepdims=True) / n
        dev2 = fnp.where(keep, (x - mean) ** 2, 0)
    else:
        n = np.asarray(x.shape[axis] if x.ndim else 1, x.dtype)
        mean = fnp.mean(x, axis=axis, keepdims=True)
        dev2 = (x - mean) ** 2
    var = fnp.sum(dev2, axis=axis, keepdims=True) / (n - ddof)
    out = fnp.sqrt(var / n)
    # SciPy calls a sample of fewer than 2 values too small (NaN) where it looks at each
    # sample on its own: one sample (1-D, or axis=None), or 'omit' with NaNs present
    has_nan = _any_nan(x)
    if ndim <= 1 or x.ndim == 1 or (nan_policy == "omit" and has_nan is not False):
        out = fnp.where(n < 2, np.nan, out).astype(x.dtype)
    if keepdims:
        return fnp.reshape(out, (1,) * ndim) if x.ndim != ndim else out
    return fnp.squeeze(out, axis=axis)
