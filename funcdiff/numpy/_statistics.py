"""Statistics: ``average cov corrcoef ptp``, written as NumPy writes them (same steps,
same dtypes: ``cov`` computes in at least float64 unless ``dtype`` says otherwise), so
values match NumPy's to rounding and derivatives are exact.

Weights (``average``'s ``weights``, ``cov``'s ``aweights``/``fweights``) may be traced;
the derivative flows to them too.  NumPy's checks on weight *values* (weights summing to
zero, negative or non-integer frequency weights) are made whenever the values are known:
always outside ``jit``, never inside it (a traced value has no value there), where the
result is what the formula gives (inf or NaN).

Subgradients: ``ptp`` is ``max - min``, so tied extrema share the derivative evenly;
``corrcoef`` clips to [-1, 1] as NumPy does, which only touches values that rounding
pushed past +-1 (the diagonal, whose exact derivative is 0).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sp
from ._core import aval, implements, operand
from ._math import clip, conjugate, divide, multiply, sqrt, subtract
from ._products import diag, dot
from ._reductions import _no_out, max as _max, mean, min as _min, sum as _sum
from ._shape import _arr, _atleast, _normalize_axes, concatenate

__all__ = ["average", "cov", "corrcoef", "ptp"]

_NoValue = np._NoValue


def _shape(x):
    return aval(x).shape


def _ndim(x):
    return len(aval(x).shape)


def _cast(x, dtype):
    dtype = np.dtype(dtype)
    x = operand(x)
    return x if aval(x).dtype == dtype and not aval(x).weak_type else \
        ew.convert_element_type(x, dtype=dtype)


def _known(x):
    """``x``'s value if it is known while tracing (a constant, or a traced value outside
    ``jit``), else None."""
    if type(x) is Tracer:
        return None if x._val is None else np.asarray(x._val)
    return np.asarray(x)


def _T(x):
    return pb.transpose(x, tuple(range(_ndim(x) - 1, -1, -1)))


# --- average ---------------------------------------------------------------------------------

_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _weights(weights, a_shape, axis):
    """NumPy 2's ``_weights_are_valid``: weights of ``a``'s shape, or of the shape of
    the ``axis`` dimensions (then transposed and reshaped to broadcast).  NumPy 1.x
    takes only 1-d weights along one axis."""
    w = _arr(weights)
    if _shape(w) != a_shape:
        if axis is None:
            raise FuncdiffTypeError("Axis must be specified when shapes of a and weights "
                                    "differ.")
        if not _NUMPY2:  # pragma: no cover - NumPy 1.x
            if _ndim(w) != 1:
                raise FuncdiffTypeError("1D weights expected when shapes of a and "
                                        "weights differ.")
            if len(axis) != 1 or _shape(w)[0] != a_shape[axis[0]]:
                raise FuncdiffValueError("Length of weights not compatible with "
                                         "specified axis.")
        if _shape(w) != tuple(a_shape[ax] for ax in axis):
            raise FuncdiffValueError("Shape of weights must be consistent with shape of a "
                                     "along specified axis.")
        w = pb.transpose(w, tuple(int(i) for i in np.argsort(axis)))
        w = sp.reshape(w, tuple(s if ax in axis else 1 for ax, s in enumerate(a_shape)))
    return w


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=_NoValue):
    """NumPy's ``average``: ``mean`` without weights, else ``sum(a * w) / sum(w)`` in
    NumPy's dtype (at least float64 for integer ``a``).  ``returned=True`` also gives the
    sum of the weights (the element count without weights), broadcast to the result."""
    x = _arr(a)
    xa = aval(x)
    if axis is not None:
        axis = _normalize_axes(axis, xa.ndim, "average")
    kw = {} if keepdims is _NoValue else {"keepdims": keepdims}
    if weights is None:
        avg = mean.traced(x, axis, **kw)
        avg_dtype = aval(avg).dtype
        scl = sp.full((), avg_dtype.type(xa.size / aval(avg).size), avg_dtype)
    else:
        w = _weights(weights, xa.shape, axis)
        wa = aval(w)
        if xa.dtype.kind in "biu":
            rdt = np.result_type(xa.dtype, wa.dtype, "f8")
        else:
            rdt = np.result_type(xa.dtype, wa.dtype)
        scl = _sum.traced(w, axis=axis, dtype=rdt, **kw)
        known = _known(scl)
        if known is not None and np.any(known == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        prod = multiply(_cast(x, rdt), _cast(w, rdt))
        avg = divide(_sum.traced(prod, axis=axis, **kw), scl)
    if returned:
        if _shape(scl) != _shape(avg):
            scl = pb.broadcast_to(scl, _shape(avg))
        return avg, scl
    return avg


# --- cov, corrcoef -----------------------------------------------------------------------------

def _check_weights(w, n, name, integer):
    w = _cast(_arr(w), np.float64)
    if _ndim(w) > 1:
        raise FuncdiffValueError(f"cannot handle multidimensional {name}")
    if _shape(w)[0] != n:
        raise FuncdiffValueError(f"incompatible numbers of samples and {name}")
    known = _known(w)
    if known is not None:
        if integer and not np.all(known == np.around(known)):
            raise FuncdiffTypeError(f"{name} must be integer")
        if np.any(known < 0):
            raise FuncdiffValueError(f"{name} cannot be negative")
    return w


@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """NumPy's ``cov``: rows are variables (columns with ``rowvar=False``), normalized
    by ``N - ddof`` (``ddof`` 1 unless ``bias``), or by the weighted counts with
    ``fweights``/``aweights``."""
    if ddof is not None and ddof != int(ddof):
        raise FuncdiffValueError("ddof must be integer")
    mm = _arr(m)
    if _ndim(mm) > 2:
        raise FuncdiffValueError("m has more than 2 dimensions")
    yy = None
    if y is not None:
        yy = _arr(y)
        if _ndim(yy) > 2:
            raise FuncdiffValueError("y has more than 2 dimensions")
    if dtype is None:
        dts = [aval(mm).dtype] + ([] if yy is None else [aval(yy).dtype])
        dtype = np.result_type(*dts, np.float64)
    X = _atleast(_cast(mm, dtype), 2)
    if not rowvar and _ndim(mm) != 1:
        X = _T(X)
    if _shape(X)[0] == 0:
        return sp.full((0, 0), 0, np.float64)
    if yy is not None:
        Y = _atleast(_cast(yy, dtype), 2)
        if not rowvar and _shape(Y)[0] != 1:
            Y = _T(Y)
        X = concatenate.traced([X, Y], axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    n = _shape(X)[1]
    w = None
    if fweights is not None:
        w = _check_weights(fweights, n, "fweights", integer=True)
    aw = None
    if aweights is not None:
        aw = _check_weights(aweights, n, "aweights", integer=False)
        w = aw if w is None else multiply(w, aw)
    avg, w_sum = average.traced(X, axis=1, weights=w, returned=True)
    w_sum = sp.reshape(sp.slice_(w_sum, (0,), (1,)), ())
    if w is None:
        fact = n - ddof
    elif ddof == 0:
        fact = w_sum
    elif aw is None:
        fact = subtract(w_sum, ddof)
    else:
        fact = subtract(w_sum, divide(multiply(ddof, _sum.traced(multiply(w, aw))), w_sum))
    known = _known(fact)
    if known is not None and known <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    if type(fact) is Tracer:
        fact = ew.select(ew.le(fact, 0), np.zeros((), aval(fact).dtype)[()], fact)
    elif fact <= 0:
        fact = 0.0
    Xd = aval(X).dtype
    X = _cast(subtract(X, sp.reshape(avg, (_shape(avg)[0], 1))), Xd)   # X -= avg[:, None]
    X_T = _T(X) if w is None else _T(multiply(X, w))
    c = dot.traced(X, conjugate(X_T))
    with np.errstate(divide="ignore"):
        # (a Python float: weak, like the in-place product's cast back to c's dtype)
        scale = float(np.true_divide(1, fact)) if type(fact) is not Tracer \
            else divide(1.0, fact)
    c = _cast(multiply(c, scale), aval(c).dtype)                        # c *= 1 / fact
    shp = _shape(c)
    return sp.reshape(c, tuple(d for d in shp if d != 1))


@implements(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, bias=_NoValue, ddof=_NoValue, *, dtype=None):
    """NumPy's ``corrcoef``: ``cov`` divided by the outer product of the standard
    deviations, clipped to [-1, 1] (real and imaginary parts separately)."""
    if bias is not _NoValue or ddof is not _NoValue:
        warnings.warn("bias and ddof have no effect and are deprecated",
                      DeprecationWarning, stacklevel=3)
    c = cov.traced(x, y, rowvar, dtype=dtype)
    if _ndim(c) != 2:
        if _ndim(c) == 0:
            return divide(c, c)
        raise FuncdiffValueError("Input must be 1- or 2-d.")   # (cov never gives this)
    cdt = aval(c).dtype
    d = diag.traced(c)
    stddev = sqrt(ew.real(d) if cdt.kind == "c" else d)
    n = _shape(stddev)[0]
    c = _cast(divide(c, sp.reshape(stddev, (n, 1))), cdt)
    c = _cast(divide(c, sp.reshape(stddev, (1, n))), cdt)
    if cdt.kind == "c":
        re = clip(ew.real(c), -1, 1)
        im = clip(pb.imag(c), -1, 1)
        return _cast(pb.make_complex(re, im), cdt)
    return clip(c, -1, 1)


# --- ptp -----------------------------------------------------------------------------------

@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=_NoValue):
    """NumPy's ``ptp``: ``max - min`` along ``axis`` (tied extrema share the
    derivative evenly, as in ``max``/``min``)."""
    _no_out("ptp", out)
    keepdims = False if keepdims is _NoValue else keepdims
    x = _arr(a)
    return subtract(_max.traced(x, axis=axis, keepdims=keepdims),
                    _min.traced(x, axis=axis, keepdims=keepdims))
