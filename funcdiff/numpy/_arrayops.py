"""More of NumPy's array manipulation: ``block insert delete resize trim_zeros rollaxis
apply_along_axis apply_over_axes fill_diagonal put_along_axis diagflat``, the triangles
``tril triu`` and the grids ``meshgrid indices``.

Everything is a composition of existing primitives (slices, concatenations,
transposes, one ``gather`` or ``scatter`` where elements move individually, a ``select``
for the triangles), so each function is exact and differentiable for free.

Conventions:
- Positions are static: ``insert``/``delete`` indices, ``resize`` shapes and the ``k``
  of the triangles must be concrete.  ``insert`` and ``delete`` ask NumPy itself where
  every element goes (it runs on an array of element numbers), so every NumPy form of
  ``obj`` (int, slice, sequence, boolean mask) behaves as in NumPy.
- ``trim_zeros`` returns an array whose shape depends on the values: it needs them
  (it works under ``grad``/``jvp``/``vjp``, not under ``jit``/``vmap``).
- ``fill_diagonal`` and ``put_along_axis`` follow JAX: NumPy's versions write into
  their argument and return None, which traced (immutable) values cannot do, so
  ``inplace=False`` returns the new array; with the default ``inplace=True`` they are
  NumPy's in-place functions outside transforms and an error on traced values.
- ``apply_along_axis`` maps ``func1d`` over the other axes with ``funcdiff.vmap`` (one
  trace of ``func1d``, as in JAX), so ``func1d`` must be traceable without Python
  control flow on values under ``jit``.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ConcretizationError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, current_source_info, state
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sp
from ..api.vmap import vmap
from ._core import FUNCTIONS, aval, canonical_axis, implements, operand
from ._creation import asarray, creation
from ._indexing import _update, as_array, getitem, take
from ._sizes import concrete
from ._math import where
from ._products import diag
from ._shape import (_arr, _concat, _normalize_axes, _reshape, _slice_axis,
                     broadcast_arrays, concatenate, expand_dims, operator_index)

__all__ = ["block", "insert", "delete", "resize", "trim_zeros", "rollaxis",
           "apply_along_axis", "apply_over_axes", "fill_diagonal", "put_along_axis",
           "diagflat", "tril", "triu", "meshgrid", "indices"]


def _shape(x):
    return aval(x).shape


def _ndim(x):
    return len(aval(x).shape)


def _static(v, what):
    """A concrete NumPy value (positions and sizes are static)."""
    if type(v) is Tracer:
        return np.asarray(v.concrete_value(what))
    if isinstance(v, (list, tuple)) and any(type(e) is Tracer for e in v):
        return [np.asarray(e.concrete_value(what)) if type(e) is Tracer else e for e in v]
    return v


def _flat_gather(sources, positions):
    """The elements of the raveled ``sources`` (concatenated) at ``positions`` (a static
    integer array, the result's shape): slices where ``positions`` is one run, else
    one gather."""
    flat = [_reshape(s, (-1,)) for s in sources if aval(s).size]
    if not flat:
        return sp.full(positions.shape, 0, aval(sources[0]).dtype)
    src = flat[0] if len(flat) == 1 else sp.concatenate(flat, 0)
    pos = positions.ravel()
    n = pos.size
    if n and np.array_equal(pos, np.arange(pos[0], pos[0] + n)):
        out = _slice_axis(src, 0, int(pos[0]), int(pos[0]) + n)
    elif n == 0:
        out = _slice_axis(src, 0, 0, 0)
    else:
        out = take.traced(src, pos.astype(np.intp))
    return sp.reshape(out, positions.shape)


# --- block -----------------------------------------------------------------------------------

def _block_depths(arrays, index=()):
    """(list depth, max ndim of the leaves), with NumPy's errors for tuples, empty lists
    and mismatched depths."""
    if type(arrays) is tuple:
        raise FuncdiffTypeError(
            f"arrays{''.join(f'[{i}]' for i in index)} is a tuple. Only lists can be used "
            "to arrange blocks, and np.block does not allow implicit conversion from "
            "tuple to ndarray.")
    if type(arrays) is list:
        if not arrays:
            raise FuncdiffValueError(
                f"List at arrays{''.join(f'[{i}]' for i in index)} cannot be empty")
        results = [_block_depths(a, index + (i,)) for i, a in enumerate(arrays)]
        first = results[0][0]
        for i, (d, _) in enumerate(results):
            if d != first:
                raise FuncdiffValueError(
                    f"List depths are mismatched. First element was at depth {first + 1}, "
                    f"but there is an element at depth {d + 1} "
                    f"(arrays{''.join(f'[{j}]' for j in index + (i,))})")
        return first + 1, max(nd for _, nd in results)
    return 0, _ndim(_arr(arrays))


def _block(arrays, depth, list_ndim, result_ndim):
    if depth < list_ndim:
        parts = [_block(a, depth + 1, list_ndim, result_ndim) for a in arrays]
        return concatenate.traced(parts, axis=-(list_ndim - depth))
    x = _arr(arrays)
    shp = _shape(x)
    return sp.reshape(x, (1,) * (result_ndim - len(shp)) + shp)


@implements(np.block)
def block(arrays):
    """NumPy's ``block``: nested lists of arrays joined innermost-last (the innermost
    lists along the last axis); arrays are promoted to a common ndim first."""
    list_ndim, arr_ndim = _block_depths(arrays)
    return _block(arrays, 0, list_ndim, max(arr_ndim, list_ndim))


# --- insert, delete, resize ----------------------------------------------------------------

@implements(np.insert)
def insert(arr, obj, values, axis=None):
    """NumPy's ``insert``: ``values`` (cast to ``arr``'s dtype, broadcast as NumPy does)
    inserted before the static positions ``obj``; one gather."""
    x = _arr(arr)
    xa = aval(x)
    v = _arr(values)
    va = aval(v)
    if va.dtype != xa.dtype:
        v = ew.convert_element_type(v, dtype=xa.dtype)
    obj = _static(obj, "`insert` positions")
    # NumPy places element numbers: 0..n-1 for arr, n.. for values
    x_pos = np.arange(xa.size).reshape(xa.shape)
    v_pos = np.arange(xa.size, xa.size + va.size).reshape(va.shape)
    return _flat_gather([x, v], np.insert(x_pos, obj, v_pos, axis=axis))


@implements(np.delete)
def delete(arr, obj, axis=None):
    """NumPy's ``delete`` (static ``obj``: int, slice, sequence or boolean mask)."""
    x = _arr(arr)
    obj = _static(obj, "`delete` positions")
    if axis is None:
        if _ndim(x) != 1:
            x = _reshape(x, (-1,))
        axis = 0
    ax = canonical_axis(operator_index(axis), _ndim(x))
    keep = np.delete(np.arange(_shape(x)[ax]), obj)
    n = keep.size
    if n and np.array_equal(keep, np.arange(keep[0], keep[0] + n)):
        return _slice_axis(x, ax, int(keep[0]), int(keep[0]) + n)
    if n == 0:
        return _slice_axis(x, ax, 0, 0)
    return take.traced(x, keep.astype(np.intp), axis=ax)


@implements(np.resize)
def resize(a, new_shape):
    """NumPy's ``resize``: the raveled ``a`` repeated cyclically to fill ``new_shape``
    (zeros if ``a`` or the result is empty)."""
    x = _arr(a)
    if np.ndim(new_shape) == 0:
        new_shape = (new_shape,)
    new_shape = tuple(operator_index(d) for d in new_shape)
    size = int(np.prod(new_shape, dtype=np.int64))
    if any(d < 0 for d in new_shape):
        raise FuncdiffValueError("all elements of `new_shape` must be non-negative")
    n = aval(x).size
    if n == 0 or size == 0:
        return sp.full(new_shape, 0, aval(x).dtype)
    flat = _reshape(x, (1, n))
    reps = -(-size // n)
    flat = _reshape(pb.broadcast_to(flat, (reps, n)), (-1,))
    return sp.reshape(_slice_axis(flat, 0, 0, size), new_shape)


# --- trim_zeros, rollaxis --------------------------------------------------------------------

@implements(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """NumPy's ``trim_zeros`` (``axis`` as in NumPy >= 2.2).  The result's shape
    depends on the values, so it needs them: fine under ``grad``/``jvp``/``vjp``, a
    ``ConcretizationError`` under ``jit``/``vmap``."""
    x = _arr(filt)
    if type(x) is Tracer and x._val is None and x._trace.active:
        raise ConcretizationError(
            f"`trim_zeros` of a traced {aval(x).str_short()} value under jit or vmap (at "
            f"{current_source_info()}): the length of its result depends on the values, "
            "which are not known there.  Call it outside jit/vmap (under grad/jvp/vjp the "
            "values are known), or slice with static bounds.")
    value = concrete(x, "trim_zeros")
    trim = trim.lower()
    if trim not in ("fb", "bf", "f", "b"):
        raise FuncdiffValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nd = value.ndim
    axes = tuple(range(nd)) if axis is None else _normalize_axes(axis, nd, "trim_zeros")
    if not axes:
        return x
    nz = np.argwhere(value)
    if nz.size == 0:
        start = stop = np.zeros(nd, dtype=np.intp)
    else:
        start, stop = nz.min(axis=0), nz.max(axis=0) + 1
        if "f" not in trim:
            start = (None,) * nd
        if "b" not in trim:
            stop = (None,) * nd
    return getitem(x, tuple(slice(start[ax], stop[ax]) if ax in axes else slice(None)
                            for ax in range(nd)))


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """NumPy's ``rollaxis``: move ``axis`` to before position ``start``."""
    x = _arr(a)
    n = _ndim(x)
    axis = canonical_axis(operator_index(axis), n)
    start = operator_index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise _axis_error_msg(f"'start' arg requires {-n} <= start < {n + 1}, but "
                              f"{start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return x
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return pb.transpose(x, tuple(axes))


def _axis_error_msg(msg):
    exc = np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError  # type: ignore
    return exc(msg)


# --- apply_along_axis, apply_over_axes ---------------------------------------------------------

@implements(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """NumPy's ``apply_along_axis``: ``func1d`` on every 1-d slice along ``axis``, its
    result's axes replacing ``axis``.  The slices are mapped with ``funcdiff.vmap``
    (``func1d`` is traced once), as JAX does."""
    x = _arr(arr)
    n = _ndim(x)
    ax = canonical_axis(operator_index(axis), n)
    x = pb.transpose(x, tuple(i for i in range(n) if i != ax) + (ax,))
    batch = _shape(x)[:-1]
    if any(d == 0 for d in batch):
        raise FuncdiffValueError("Cannot apply_along_axis when any iteration dimensions "
                                 "are 0")
    rows = _reshape(x, (int(np.prod(batch, dtype=np.int64)), _shape(x)[-1]))
    out = vmap(lambda row: asarray(func1d(row, *args, **kwargs)))(rows)
    res_shape = _shape(out)[1:]
    out = sp.reshape(out, batch + res_shape)
    k, r = len(batch), len(res_shape)
    perm = tuple(range(ax)) + tuple(range(k, k + r)) + tuple(range(ax, k))
    return pb.transpose(out, perm)


@implements(np.apply_over_axes)
def apply_over_axes(func, a, axes):
    """NumPy's ``apply_over_axes``: ``func(a, axis)`` for each axis in turn, keeping
    the number of dimensions (a reduced axis is put back with length 1)."""
    val = _arr(a)
    N = _ndim(val)
    if np.ndim(axes) == 0:
        axes = (axes,)
    for axis in axes:
        if axis < 0:
            axis = N + axis
        res = asarray(func(val, axis))
        if _ndim(res) != _ndim(val):
            res = expand_dims.traced(res, axis)
            if _ndim(res) != _ndim(val):
                raise FuncdiffValueError("function is not returning an array of the "
                                         "correct shape")
        val = res
    return val


# --- fill_diagonal, put_along_axis (functional, as in JAX) -----------------------------------

def _not_inplace(name, example):
    return FuncdiffTypeError(
        f"`{name}` on a traced value: NumPy's {name} writes into its argument and returns "
        f"None, but traced values are immutable.  Use the functional form, which returns "
        f"the new array: `a = funcdiff.numpy.{example}` (as jax.numpy's inplace=False).")


def _functional(np_fn):
    """Register ``f``, which has its own eager path (NumPy's in-place function, or a
    copy), for NumPy's dispatch on traced values."""
    def deco(f):
        f.traced = f
        f.numpy = np_fn
        FUNCTIONS[np_fn] = f
        return f
    return deco


def _inplace_or_copy(np_fn, a, inplace, *args):
    """The eager path: NumPy's in-place function, or (``inplace=False``) on a copy that
    is returned."""
    if inplace:
        return np_fn(a, *args)
    out = np.array(a, copy=True)
    np_fn(out, *args)
    return as_array(out)


def _fill_diagonal_traced(a, val, wrap):
    x = _arr(a)
    shp = _shape(x)
    if len(shp) < 2:
        raise FuncdiffValueError("array must be at least 2-d")
    size = aval(x).size
    if len(shp) == 2:
        step = shp[1] + 1
        end = size if wrap else min(size, shp[1] * shp[1])
    else:
        if len(set(shp)) != 1:
            raise FuncdiffValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(shp[:-1]).sum())
        end = size
    pos = np.arange(0, end, step)
    v = _arr(val)
    vn = aval(v).size
    if vn == 0 or pos.size == 0:
        return x
    # a.flat[pos] = val repeats val cyclically (NumPy's flat assignment)
    vals = _flat_gather([v], np.arange(pos.size) % vn)
    flat = _update("set", _reshape(x, (-1,)), pos, vals, None)
    return sp.reshape(flat, shp)


@_functional(np.fill_diagonal)
def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """NumPy's ``fill_diagonal``; ``inplace=False`` (JAX's keyword) returns a new array
    instead of writing into ``a``, and is the only form traced values allow.  ``val``
    may be traced (it is differentiable) and is repeated cyclically, as in NumPy."""
    if not state.stack:
        return _inplace_or_copy(np.fill_diagonal, a, inplace, val, wrap)
    if inplace:
        raise _not_inplace("fill_diagonal", "fill_diagonal(a, val, inplace=False)")
    return _fill_diagonal_traced(a, val, wrap)


def _put_along_axis_traced(arr, indices, values, axis, mode):
    x = _arr(arr)
    ind = operand(indices)
    if type(ind) is not Tracer:
        ind = np.asarray(ind)
    ia = aval(ind)
    if ia.dtype.kind not in "iu":
        raise FuncdiffTypeError("`indices` must be an integer array")
    shp = _shape(x)
    if axis is None:
        if ia.ndim != 1:
            raise FuncdiffValueError("when axis=None, `indices` must have a single "
                                     "dimension.")
        flat = _reshape(x, (-1,))
        return sp.reshape(_update("set", flat, (ind,), values, mode), shp)
    if len(shp) != ia.ndim:
        raise FuncdiffValueError("`indices` and `arr` must have the same number of "
                                 "dimensions")
    ax = canonical_axis(operator_index(axis), len(shp))
    fancy = []
    for dim in range(len(shp)):
        if dim == ax:
            fancy.append(ind)
        else:
            fancy.append(np.arange(shp[dim]).reshape(
                (1,) * dim + (-1,) + (1,) * (len(shp) - dim - 1)))
    return _update("set", x, tuple(fancy), values, mode)


@_functional(np.put_along_axis)
def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """NumPy's ``put_along_axis``; ``inplace=False`` (JAX's keyword) returns a new
    array, the only form traced values allow.  Duplicate indices: the last value wins
    (NumPy's order); ``values`` is differentiable."""
    if not state.stack:
        if mode is not None:
            raise FuncdiffValueError("`put_along_axis`: mode= is only for traced values "
                                     "(JAX's keyword); NumPy raises for out-of-bounds "
                                     "indices")
        return _inplace_or_copy(np.put_along_axis, arr, inplace, indices, values, axis)
    if inplace:
        raise _not_inplace("put_along_axis",
                           "put_along_axis(arr, indices, values, axis, inplace=False)")
    return _put_along_axis_traced(arr, indices, values, axis, mode)


@implements(np.diagflat)
def diagflat(v, k=0):
    """NumPy's ``diagflat``: ``diag(ravel(v), k)``."""
    return diag.traced(_reshape(_arr(v), (-1,)), k)


# --- tril, triu ------------------------------------------------------------------------------

def _tri_mask(m, k, upper):
    x = _arr(m)
    shp = _shape(x)
    if not shp:
        raise FuncdiffValueError(f"`{'triu' if upper else 'tril'}` needs an array of at "
                                 "least one dimension")
    n, mm = (shp[-1], shp[-1]) if len(shp) == 1 else shp[-2:]
    k = operator_index(_static(k, "the diagonal `k`"))
    if upper:
        mask = ~np.tri(n, mm, k=k - 1, dtype=bool)
    else:
        mask = np.tri(n, mm, k=k, dtype=bool)
    return where(mask, x, np.zeros((), aval(x).dtype)[()])


@implements(np.tril)
def tril(m, k=0):
    """NumPy's ``tril``: zeros above the ``k``-th diagonal of the last two axes (a 1-d
    ``m`` is broadcast to a square matrix first, as in NumPy)."""
    return _tri_mask(m, k, upper=False)


@implements(np.triu)
def triu(m, k=0):
    """NumPy's ``triu``: zeros below the ``k``-th diagonal of the last two axes."""
    return _tri_mask(m, k, upper=True)


# --- meshgrid, indices -----------------------------------------------------------------------

@implements(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """NumPy's ``meshgrid`` (``indexing`` 'xy' or 'ij', ``sparse``; ``copy`` has no
    effect on immutable traced values).  Returns the container NumPy returns (a tuple
    in NumPy 2, a list in 1.x)."""
    if indexing not in ("xy", "ij"):
        raise FuncdiffValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    s0 = (1,) * ndim
    out = [_reshape(_arr(x), s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        out[0] = _reshape(out[0], (1, -1) + s0[2:])
        out[1] = _reshape(out[1], (-1, 1) + s0[2:])
    if not sparse:
        out = list(broadcast_arrays.traced(*out))
    kind = type(np.meshgrid(*[np.zeros(1)] * ndim, copy=copy, sparse=sparse,
                            indexing=indexing))
    return kind(out)


@creation(np.indices)
def indices(dimensions, dtype=int, sparse=False):
    """NumPy's ``indices``: the index grid of ``dimensions`` (stacked, or a tuple of
    broadcastable arrays when ``sparse``)."""
    dims = tuple(operator_index(d) for d in dimensions)
    dt = np.dtype(dtype)
    n = len(dims)
    res = []
    for i, d in enumerate(dims):
        shape = (1,) * i + (d,) + (1,) * (n - i - 1)
        idx = sp.reshape(sp.iota(0, d, 1, dt), shape)
        if not sparse:
            idx = pb.broadcast_to(idx, dims)
        res.append(idx)
    if sparse:
        return tuple(res)
    if not res:
        return sp.full((0,), 0, dt)
    return _concat([sp.reshape(r, (1,) + dims) for r in res], 0, "indices")
