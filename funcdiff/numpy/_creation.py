"""Array creation: ``array asarray asanyarray ascontiguousarray copy zeros ones full empty
zeros_like ones_like full_like empty_like arange linspace eye identity tri``.

Outside transforms these are NumPy's own functions, returning ``funcdiff.numpy.Array``
(an ``ndarray`` with ``.at[]``).  Inside a trace every call records at least one eqn,
even when all its arguments are constants, so the result is a traced value and
``zeros(n).at[i].set(v)`` works under every transform.  ``empty`` and ``empty_like``
give zeros when traced (their contents are unspecified in NumPy anyway).

Lists and tuples may mix traced values and numbers, nested (``array([x, 2.0 * x])``):
elements are converted with NumPy's own rules for sequences (a Python float is a
float64 there, not a weak scalar: ``np.array([float32(1), 2.0])`` is float64), cast to
the common dtype and stacked with ``reshape`` + ``concatenate``, so derivatives flow
to every traced element.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb, elementwise as ew, shape as sh
from ..primitives.base import result_dtype
from ._core import (_contains_tracer, _record, aval, canonical_axis, cast as _cast,
                    implements, operand, to_array)
from ._indexing import as_array


def creation(np_fn, **kw):
    """``implements`` for functions that make arrays: outside transforms they return a
    ``funcdiff.numpy.Array`` (an ``ndarray`` with ``.at[]``)."""
    return implements(np_fn, eager_wrap=as_array, **kw)

__all__ = ["array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones",
           "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange",
           "linspace", "eye", "identity", "tri"]


# --- helpers -------------------------------------------------------------------------------

def _shape_tuple(shape):
    if isinstance(shape, (list, tuple)):
        return tuple(operator.index(d) for d in shape)
    return (operator.index(shape),)


def _check_shape(name, shape):
    if any(d < 0 for d in shape):
        raise FuncdiffValueError(f"`{name}`: negative dimensions are not allowed "
                                 f"(shape {shape})")
    return shape


# --- array, asarray, copy ---------------------------------------------------------------------

@creation(np.array)
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0,  # noqa: A002
          ndmax=0, like=None):
    """NumPy's ``array``: a traced value is returned as is (cast if ``dtype`` asks);
    (nested) lists mixing traced values and numbers are stacked, so derivatives flow to
    each traced element."""
    return to_array(object, dtype, ndmin)


@creation(np.asarray)
def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """NumPy's ``asarray``: as ``array`` (traced values pass through unchanged)."""
    return to_array(a, dtype)


@creation(np.asanyarray)
def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """NumPy's ``asanyarray``: as ``asarray``."""
    return to_array(a, dtype)


@creation(np.ascontiguousarray)
def ascontiguousarray(a, dtype=None, *, like=None):
    """NumPy's ``ascontiguousarray`` (at least 1-d): as ``asarray`` with ``ndmin=1``."""
    return to_array(a, dtype, ndmin=1)


@creation(np.copy)
def copy(a, order="K", subok=False):
    """NumPy's ``copy``.  Traced values are immutable, so a traced input is returned
    itself; the derivative is the identity."""
    return to_array(a)


# --- zeros, ones, full, empty -------------------------------------------------------------------

def _constant(name, shape, value, dtype):
    shape = _check_shape(name, _shape_tuple(shape))
    return pb.full(shape, value, np.dtype(float if dtype is None else dtype))


@creation(np.zeros)
def zeros(shape, dtype=None, order="C", *, device=None, like=None):
    """An array of zeros (float64 by default), recorded as a ``full`` eqn when traced."""
    return _constant("zeros", shape, 0, dtype)


@creation(np.ones, numpy2_kwargs=("device",))
def ones(shape, dtype=None, order="C", *, device=None, like=None):
    """An array of ones (float64 by default), recorded as a ``full`` eqn when traced."""
    return _constant("ones", shape, 1, dtype)


@creation(np.empty)
def empty(shape, dtype=None, order="C", *, device=None, like=None):
    """NumPy's ``empty``; zeros when traced (NumPy leaves the contents unspecified)."""
    return _constant("empty", shape, 0, dtype)


def _fill(name, shape, fill_value, dtype):
    """``fill_value`` broadcast to ``shape`` as ``dtype`` (None: the fill's dtype).
    Traced fill values keep their derivative."""
    shape = _check_shape(name, shape)
    if _contains_tracer(fill_value):
        v = operand(fill_value)
        dt = np.dtype(dtype) if dtype is not None else aval(v).dtype
        return _record(pb.broadcast_to(_cast(v, dt), shape))
    v = np.asarray(fill_value)
    dt = np.dtype(dtype) if dtype is not None else v.dtype
    v = v.astype(dt)
    if v.ndim == 0:
        return pb.full(shape, v.item(), dt)
    return _record(pb.broadcast_to(v, shape))


@creation(np.full, numpy2_kwargs=("device",))
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """An array of ``shape`` filled with ``fill_value`` (which may be traced, or an array
    that broadcasts to ``shape``); the dtype is the fill value's unless given."""
    return _fill("full", _shape_tuple(shape), fill_value, dtype)


def _like(a, dtype, shape):
    x = operand(a)
    xa = aval(x)
    dt = np.dtype(dtype) if dtype is not None else xa.dtype
    shp = xa.shape if shape is None else _shape_tuple(shape)
    return dt, shp


@creation(np.zeros_like, numpy2_kwargs=("device",))
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with ``a``'s shape and dtype (no dependence on ``a``'s values)."""
    dt, shp = _like(a, dtype, shape)
    return pb.full(_check_shape("zeros_like", shp), 0, dt)


@creation(np.ones_like, numpy2_kwargs=("device",))
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with ``a``'s shape and dtype (no dependence on ``a``'s values)."""
    dt, shp = _like(a, dtype, shape)
    return pb.full(_check_shape("ones_like", shp), 1, dt)


@creation(np.empty_like)
def empty_like(prototype, /, dtype=None, order="K", subok=True, shape=None, *,
               device=None):
    """NumPy's ``empty_like``; zeros when traced."""
    dt, shp = _like(prototype, dtype, shape)
    return pb.full(_check_shape("empty_like", shp), 0, dt)


@creation(np.full_like, numpy2_kwargs=("device",))
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *,
              device=None):
    """``fill_value`` (possibly traced) cast to ``a``'s dtype (unsafely, as NumPy's
    ``copyto``) with ``a``'s shape."""
    dt, shp = _like(a, dtype, shape)
    return _fill("full_like", shp, fill_value, dt)


def _add3(a, b, c):
    return a + b + c


# --- ranges ------------------------------------------------------------------------------------

def _concrete(v, what):
    if type(v) is Tracer:
        return v.concrete_value(what)
    return v


@creation(np.arange)
def arange(start=None, stop=None, step=None, dtype=None, *, device=None, like=None):
    """``arange([start,] stop[, step], dtype=None)``: the length must be known, so traced
    bounds need concrete values (outside ``jit``; under ``jit`` mark them static).  A
    traced floating ``start`` or ``step`` keeps its derivative: the result is then
    ``start + step * [0, 1, ..., n-1]``."""
    if stop is None:
        if start is None:
            raise TypeError("arange() requires stop to be specified.")
        start, stop = 0, start
    if start is None:
        start = 0
    what = "funcdiff.numpy.arange (its length depends on its bounds)"
    c_start, c_stop = _concrete(start, what), _concrete(stop, what)
    c_step = 1 if step is None else _concrete(step, what)
    ref = np.arange(c_start, c_stop, c_step, dtype=dtype)
    n, dt = ref.shape[0], ref.dtype
    traced = [v for v in (start, step) if type(v) is Tracer and aval(v).dtype.kind in "fc"]
    if traced and dt.kind in "fc":
        i = sh.iota(0, n, 1, dt)
        s = _cast(operand(start), dt)
        d = _cast(operand(1 if step is None else step), dt)
        return pb.add(s, ew.mul(i, d))
    if all(type(v) in (int, float) for v in (c_start, c_stop, c_step)):
        return sh.iota(c_start, c_stop, c_step, dt)
    # NumPy scalars (or concrete values of tracers) step in their own precision, e.g.
    # float32(0) + 0.3 is float32(0.3): record NumPy's exact values
    return _record(ref)


@creation(np.linspace, numpy2_kwargs=("device",))
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` (NumPy's algorithm:
    ``start + arange(num) * (stop - start) / div``, last value exactly ``stop`` when
    ``endpoint``).  ``start`` and ``stop`` may be traced arrays (the new axis goes at
    ``axis``) and are differentiated through; integer dtypes are floored."""
    num = operator.index(num)
    if num < 0:
        raise FuncdiffValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    s, e = operand(start), operand(stop)
    weak_f = ShapedArray((), np.float64, weak_type=True)
    dt = result_dtype(_add3, aval(s), aval(e), weak_f)
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
    s, e = _cast(s, dt), _cast(e, dt)
    bshape = np.broadcast_shapes(aval(s).shape, aval(e).shape)
    s, e = pb.broadcast_to(s, bshape), pb.broadcast_to(e, bshape)
    delta = ew.sub(e, s)
    y = pb.reshape(sh.iota(0, num, 1, dt), (num,) + (1,) * len(bshape))
    if div > 0:
        step = ew.div(delta, float(div))
        y = ew.mul(y, step)
    else:
        step = pb.full(bshape, np.nan, dt)
        y = ew.mul(y, delta)
    y = pb.add(y, s)
    if endpoint and num > 1:
        zeros_ = (0,) * len(bshape)
        head = sh.slice_(y, (0,) + zeros_, (num - 1,) + bshape)
        y = sh.concatenate([head, pb.reshape(e, (1,) + bshape)], 0)
    y = pb.broadcast_to(y, (num,) + bshape)
    nd = 1 + len(bshape)
    ax = canonical_axis(axis, nd)
    if ax != 0:
        perm = list(range(1, nd))
        perm.insert(ax, 0)
        y = pb.transpose(y, perm)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind in "iub":
            y = ew.floor(y)
        y = _cast(y, dtype)
    y = _record(y)
    if retstep:
        return y, step
    return y


# --- eye, identity, tri ---------------------------------------------------------------------------

def _grid(N, M, k):
    N = operator.index(N)
    M = N if M is None else operator.index(M)
    k = operator.index(k)
    _check_shape("eye", (N, M))
    idx = np.dtype(np.intp)
    rows = pb.reshape(sh.iota(0, N, 1, idx), (N, 1))
    cols = pb.reshape(sh.iota(0, M, 1, idx), (1, M))
    return pb.add(rows, k) if k else rows, cols


@creation(np.eye, numpy2_kwargs=("device",))
def eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    """Ones on the ``k``-th diagonal of an ``N x M`` array, zeros elsewhere."""
    r, c = _grid(N, M, k)
    return pb.convert_element_type(ew.eq(r, c), dtype=np.dtype(dtype))


@creation(np.identity)
def identity(n, dtype=None, *, like=None):
    """The ``n x n`` identity (float64 by default)."""
    return eye(n, dtype=float if dtype is None else dtype)


@creation(np.tri)
def tri(N, M=None, k=0, dtype=float, *, like=None):
    """Ones at and below the ``k``-th diagonal of an ``N x M`` array, zeros above."""
    r, c = _grid(N, M, k)
    return pb.convert_element_type(ew.ge(r, c), dtype=np.dtype(dtype))
