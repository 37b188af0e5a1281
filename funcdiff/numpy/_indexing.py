"""Indexing: ``x[idx]`` on traced values, JAX's functional updates ``x.at[idx].set(v)``
(also ``.add .subtract .multiply .min .max .get``), ``take``, ``take_along_axis`` and
the value-dependent ``nonzero``, ``flatnonzero``, ``argwhere`` (JAX's ``size=`` makes
them work under ``jit``/``vmap``: see ``_sizes``).

Index kinds follow NumPy: ints, slices (negative steps too), ``None``, ``...``, integer
arrays and lists (fancy indexing, ``x[[0, 0, 2]]``), integer tracers (a 0-d one acts as an
integer, as a 0-d integer array does in NumPy) and boolean masks.  A boolean mask needs
its value, since it decides the result's shape: outside ``jit`` it is known and becomes
integer arrays (``np.nonzero``); under ``jit``/``vmap`` it is an error that says to use
``funcdiff.numpy.where(mask, x, 0)``, ``nonzero(mask, size=n)`` or a static mask.

Indices made only of static ints, slices, ``None`` and ``...`` are "basic": they lower to
``slice`` / ``rev`` / ``reshape``, which are cheaper than ``gather`` and transpose to a
``pad``.  Anything with an integer array lowers to one ``gather`` (primitives/indexing.py),
whose rules are NumPy's own indexing.

``.at[idx]`` updates never mutate their input: outside transforms they return a new
``funcdiff.numpy.Array``.  Updates are cast to the array's dtype and broadcast to the
indexed shape, as NumPy assignment does.  With duplicate indices ``.set`` keeps the last
update (NumPy's order), while ``.add``/``.subtract``/``.multiply``/``.min``/``.max``
combine all of them (NumPy's ``ufunc.at``).
"""
from __future__ import annotations

import operator
import warnings

import numpy as np

from ..core import arraylib
from ..core.errors import (ArrayLibraryError, FuncdiffIndexError, FuncdiffTypeError,
                           FuncdiffValueError, NonConcreteBooleanIndexError, ShapeError)
from ..core.trace import Tracer, current_source_info, leak_error, state
from ..primitives import base as pb, elementwise as ew
from ..primitives.indexing import SCATTERS, gather, indexed_shape, make_indexer
from ..primitives.base import full, reshape
from ..primitives.shape import concatenate, rev, slice_
from ._core import aval, canonical_axis, implements, operand
from ._sizes import concrete, implements_sized, padded, static_size, true_positions

__all__ = ["take", "take_along_axis", "nonzero", "flatnonzero", "argwhere"]

_INVALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
            "integer or boolean arrays are valid indices")


# --- parsing an index ------------------------------------------------------------------------

def _bool_scalar(e) -> bool:
    return type(e) is bool or isinstance(e, np.bool_)


def _mask_value(t: Tracer, what):
    """The concrete value of a boolean tracer used as a mask, or a clear error."""
    if not t._trace.active:
        raise leak_error(t, what)
    if t._val is None:
        raise NonConcreteBooleanIndexError(
            f"{what} with a traced boolean mask of shape {t.shape} inside jit or vmap (at "
            f"{current_source_info()}): the result's shape depends on how many entries are "
            "True, which is not known there.  Keep the shape with "
            "funcdiff.numpy.where(mask, x, 0) (for x.at[mask].set(v): fnp.where(mask, v, "
            "x)), or select a fixed number of entries: x[fnp.nonzero(mask, size=n, "
            "fill_value=...)] (fnp.compress and fnp.extract take size= too).  Or make the "
            "mask a static (NumPy) value, or index outside jit (grad, jvp and vjp know the "
            "mask).")
    return np.asarray(t._val)


def _slice_bound(v):
    if v is None:
        return None
    if type(v) is Tracer:
        return operator.index(v)        # its value, or ConcretizationError under jit
    try:
        return operator.index(v)
    except TypeError:
        raise FuncdiffTypeError(
            "slice indices must be integers or None or have an __index__ method, got "
            f"{type(v).__name__}") from None


def _classify(e, what):
    """One index element -> ("int", i) / ("slice", a, b, s) / ("newaxis",) /
    ("ellipsis",) / ("array", operand) / ("mask", ndarray) / ("bool0", bool)."""
    if e is None:
        return ("newaxis",)
    if e is Ellipsis:
        return ("ellipsis",)
    if isinstance(e, slice):
        a, b, s = _slice_bound(e.start), _slice_bound(e.stop), _slice_bound(e.step)
        if s == 0:
            raise FuncdiffValueError("slice step cannot be zero")
        return ("slice", a, b, s)
    if _bool_scalar(e):
        return ("bool0", bool(e))
    if isinstance(e, (int, np.integer)):
        return ("int", int(e))
    if type(e) is Tracer:
        kind = e.dtype.kind
        if kind == "b":
            m = _mask_value(e, what)
            return ("bool0", bool(m)) if m.ndim == 0 else ("mask", m)
        if kind in "iu":
            return ("array", e)
        raise FuncdiffIndexError(f"{_INVALID}; got a traced {e.aval.str_short()} value")
    if isinstance(e, (list, tuple)):
        if not e:
            return ("array", np.zeros((0,), np.intp))   # x[[]]: an empty integer index
        e = operand(e)
        if type(e) is Tracer:
            return _classify(e, what)
        e = np.asarray(e)
    if isinstance(e, np.ndarray):
        kind = e.dtype.kind
        if kind == "b":
            return ("bool0", bool(e)) if e.ndim == 0 else ("mask", np.asarray(e))
        if kind in "iu":
            return ("int", int(e)) if e.ndim == 0 else ("array", np.asarray(e))
        raise FuncdiffIndexError(f"{_INVALID}; got an array of dtype {e.dtype.name}")
    if arraylib.is_foreign(e):
        # (operator.index would compute it, or fail for more than one element)
        raise ArrayLibraryError(
            f"{what} a traced array with a {arraylib.type_name(e)} index the function "
            "closes over: funcdiff indexes with NumPy integers or traced values only.  "
            "Pass the index as an argument of the function (it is then traced), or "
            "convert it first (numpy.asarray(idx)).")
    if hasattr(e, "__index__") and not isinstance(e, (float, complex, np.inexact)):
        return ("int", operator.index(e))
    raise FuncdiffIndexError(f"{_INVALID}; got {type(e).__name__} {e!r}")


def _parse(shape, idx, what):
    """Parse a NumPy index against an array of ``shape``: returns (entries, arrays,
    bool0) with masks already expanded into integer arrays; ``entries`` hold
    ("array", k) placeholders for ``arrays``; ``bool0`` lists the positions of 0-d
    boolean indices (entries there are ("newaxis",) stand-ins)."""
    raw = [_classify(e, what) for e in (idx if isinstance(idx, tuple) else (idx,))]
    ndim = len(shape)
    if sum(1 for r in raw if r[0] == "ellipsis") > 1:
        raise FuncdiffIndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(r[1].ndim if r[0] == "mask" else 1
                   for r in raw if r[0] in ("int", "slice", "array", "mask"))
    if consumed > ndim:
        raise FuncdiffIndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} "
            "were indexed")
    entries, arrays, bool0 = [], [], []
    axis = 0
    for r in raw:
        kind = r[0]
        if kind == "ellipsis":
            axis += ndim - consumed
            entries.append(r)
        elif kind == "newaxis":
            entries.append(r)
        elif kind == "bool0":
            bool0.append((len(entries), r[1]))
            entries.append(("newaxis",))
        elif kind == "mask":
            m = r[1]
            for i, d in enumerate(m.shape):
                if shape[axis + i] != d:
                    raise FuncdiffIndexError(
                        f"boolean index did not match indexed array along axis {axis + i}; "
                        f"size of axis is {shape[axis + i]} but size of corresponding "
                        f"boolean axis is {d}")
            for nz in np.nonzero(m):
                entries.append(("array", len(arrays)))
                arrays.append(nz)
            axis += m.ndim
        elif kind == "array":
            entries.append(("array", len(arrays)))
            arrays.append(r[1])
            axis += 1
        else:
            entries.append(r)
            axis += 1
    return entries, arrays, bool0


# --- getitem ------------------------------------------------------------------------------------

def _basic_getitem(x, indexer):
    """Static ints/slices/None/...: one slice_, one rev, one reshape (each skipped when
    it would do nothing)."""
    xa = aval(x)
    out_shape = indexed_shape("getitem", xa, indexer, [])
    n_cons = sum(1 for e in indexer if e[0] in ("int", "slice"))
    per_axis = []
    for e in indexer:
        if e[0] == "ellipsis":
            per_axis += [("slice", None, None, None)] * (xa.ndim - n_cons)
        elif e[0] != "newaxis":
            per_axis.append(e)
    per_axis += [("slice", None, None, None)] * (xa.ndim - len(per_axis))
    start, limit, strides, flip = [], [], [], []
    for ax, (e, n) in enumerate(zip(per_axis, xa.shape)):
        if e[0] == "int":
            i = e[1] % n
            start.append(i), limit.append(i + 1), strides.append(1)
            continue
        a, b, s = slice(*e[1:]).indices(n)
        count = len(range(a, b, s))
        if count == 0:
            start.append(0), limit.append(0), strides.append(1)
        elif s > 0:
            start.append(a), limit.append(a + (count - 1) * s + 1), strides.append(s)
        else:
            last = a + (count - 1) * s
            start.append(last), limit.append(a + 1), strides.append(-s)
            if count > 1:
                flip.append(ax)
    y = slice_(x, start, limit, strides)
    y = rev(y, flip)
    return reshape(y, out_shape)


def _insert_bool0(y, entries, bool0, x_ndim):
    """Finish 0-d boolean indices, which were indexed as None: keep the new axis (True)
    or empty it (False)."""
    falses = [pos for pos, v in bool0 if not v]
    if not falses:
        return y
    n_cons = sum(1 for e in entries if e[0] in ("int", "slice"))
    out_axis, axes = 0, {}
    for i, e in enumerate(entries):
        if e[0] == "newaxis":
            axes[i] = out_axis
            out_axis += 1
        elif e[0] == "slice":
            out_axis += 1
        elif e[0] == "ellipsis":
            out_axis += x_ndim - n_cons
    idx = [slice(None)] * aval(y).ndim
    for pos in falses:
        idx[axes[pos]] = slice(0, 0)
    return _basic_getitem(y, make_indexer([("slice", s.start, s.stop, s.step)
                                           for s in idx]))


# --- funcdiff.numpy.Array: what creation functions return outside transforms -----------

class Array(np.ndarray):
    """What funcdiff.numpy's creation functions return outside transforms: a plain
    ``ndarray`` plus JAX's functional ``.at[idx].set(v)`` updates, so code written for
    transforms also runs when called plainly.  Results of NumPy operations on it stay
    ``Array``; ``numpy.asarray`` turns it back into a base ``ndarray``.

    Indexed by a traced value (``a[i]`` inside ``jit``, ``vmap``, a loop body), it is a
    constant of the trace and the indexing is recorded (a ``gather``), as a ``jax.Array``
    would be; a plain ``ndarray`` cannot do this (NumPy needs the index's value)."""

    @property
    def at(self):
        return _IndexUpdateHelper(self)

    def __getitem__(self, idx):
        # (hot: plain indexing pays two type checks; tracers exist only inside a trace)
        t = type(idx)
        if t is Tracer or ((t is tuple or t is list or t is slice)
                           and _has_traced_index(idx)):
            return getitem(self, idx)
        return _ndarray_getitem(self, idx)


_ndarray_getitem = np.ndarray.__getitem__


def _has_traced_index(idx) -> bool:
    """Whether an index (tuple, list, slice bounds included) holds a tracer."""
    t = type(idx)
    if t is Tracer:
        return True
    if t is tuple or t is list:
        return any(_has_traced_index(e) for e in idx)
    if t is slice:
        return Tracer in (type(idx.start), type(idx.stop), type(idx.step))
    return False


def as_array(x):
    """Eager results of creation functions: an ``Array`` view (0-d stays as NumPy gives)."""
    if isinstance(x, np.ndarray) and type(x) is not Array:
        return x.view(Array)
    return x


def getitem(x, idx):
    """``x[idx]`` with NumPy's semantics; traced when a trace is active."""
    if not state.stack:
        return np.asarray(x)[idx]
    x = operand(x)
    xa = aval(x)
    entries, arrays, bool0 = _parse(xa.shape, idx, "indexing")
    if bool0 and arrays:
        raise FuncdiffIndexError(
            "a boolean scalar index (True/False) combined with array indices is not "
            "supported on traced values; index in two steps")
    indexer = make_indexer(entries)
    if not arrays:
        y = _basic_getitem(x, indexer)
        return _insert_bool0(y, entries, bool0, xa.ndim) if bool0 else y
    return gather(x, *arrays, indexer=indexer)


# --- .at[idx] ------------------------------------------------------------------------------------

class _IndexUpdateHelper:
    """``x.at``: ``x.at[idx]`` gives an ``_IndexUpdateRef`` (JAX's API)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


def _check_mode(mode, what):
    if mode not in (None, "raise", "promise_in_bounds"):
        raise FuncdiffValueError(
            f"`.at[].{what}(mode={mode!r})` is not supported: funcdiff follows NumPy and "
            "raises IndexError for out-of-bounds indices (mode=None).  Clip the indices "
            "yourself, e.g. with funcdiff.numpy.clip(i, 0, n - 1).")


class _IndexUpdateRef:
    """``x.at[idx]``: functional versions of ``x[idx]`` and ``x[idx] op= v``.

    ``indices_are_sorted`` and ``unique_indices`` are accepted for JAX compatibility and
    ignored (they are hints); ``mode`` must be None (out-of-bounds raises)."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
            fill_value=None):
        """``x[idx]`` (a new array)."""
        _check_mode(mode, "get")
        if fill_value is not None:
            raise FuncdiffValueError("`.at[].get(fill_value=...)` is not supported")
        if not state.stack:
            out = np.asarray(self.array)[self.index]
            return as_array(out.copy()) if isinstance(out, np.ndarray) else out
        return getitem(self.array, self.index)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = values``; with duplicate indices the last one wins."""
        return _update("set", self.array, self.index, values, mode)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``values`` added at ``idx``; duplicate indices accumulate."""
        return _update("add", self.array, self.index, values, mode)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False,
                 mode=None):
        """``x`` with ``values`` subtracted at ``idx``; duplicate indices accumulate."""
        return _update("add", self.array, self.index, _negated(values), mode)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False,
                 mode=None):
        """``x`` with ``x[idx]`` multiplied by ``values``; duplicates multiply together."""
        return _update("multiply", self.array, self.index, values, mode)

    mul = multiply

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = minimum(x[idx], values)``, over all duplicates."""
        return _update("min", self.array, self.index, values, mode)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = maximum(x[idx], values)``, over all duplicates."""
        return _update("max", self.array, self.index, values, mode)


def _negated(values):
    v = operand(values)
    if type(v) is Tracer or state.stack:
        return pb.neg(v)
    return np.negative(v)


def _update(op, x, idx, values, mode):
    _check_mode(mode, op)
    eager = not state.stack
    x = operand(x)
    xa = aval(x)
    entries, arrays, bool0 = _parse(xa.shape, idx, f"`.at[].{op}`")
    if bool0:
        raise FuncdiffIndexError(
            f"`.at[].{op}`: a boolean scalar index (True/False) is not supported; use "
            "x.at[...] (or nothing) instead")
    indexer = make_indexer(entries)
    shape = indexed_shape(f".at[].{op}", xa, indexer, [aval(a) for a in arrays])
    v = operand(values)
    va = aval(v)
    if va.ndim > len(shape):
        # NumPy assignment drops leading length-1 axes of the values
        extra = va.ndim - len(shape)
        if any(d != 1 for d in va.shape[:extra]):
            raise ShapeError(f"`.at[].{op}`: could not broadcast values of shape "
                             f"{va.shape} into the indexed shape {shape}")
        v = reshape(v, va.shape[extra:])
        va = aval(v)
    try:
        ok = np.broadcast_shapes(va.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"`.at[].{op}`: could not broadcast values of shape {va.shape} "
                         f"into the indexed shape {shape} (array of shape {xa.shape})")
    if va.dtype != xa.dtype:
        v = pb.convert_element_type(v, dtype=xa.dtype)
        if not isinstance(v, (np.ndarray, Tracer)):
            v = np.asarray(v, xa.dtype)
    out = SCATTERS[op](x, *arrays, v, indexer=indexer)
    return as_array(out) if eager else out


# --- take, take_along_axis -----------------------------------------------------------------------

def _int_indices(indices, what):
    ind = operand(indices)
    if type(ind) is not Tracer:
        ind = np.asarray(ind)
        if ind.size == 0 and ind.dtype.kind == "f":
            ind = ind.astype(np.intp)
    if aval(ind).dtype.kind not in "iu":
        raise FuncdiffTypeError(f"`{what}`: indices must be integers, got dtype "
                                f"{aval(ind).dtype.name}")
    return ind


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """NumPy's ``take``: ``a[..., indices, ...]`` along ``axis`` (``a.ravel()`` if None).

    ``mode="raise"`` (NumPy's default) raises for out-of-bounds indices; ``"wrap"`` and
    ``"clip"`` are as in NumPy (``clip`` clips negative indices to 0)."""
    if out is not None:
        raise FuncdiffTypeError("`take`: out= is not supported on traced values (arrays "
                                "are immutable under transforms); use the returned value")
    a = operand(a)
    if axis is None:
        a = reshape(a, (aval(a).size,))
        axis = 0
    n_dim = aval(a).ndim
    axis = canonical_axis(axis, n_dim)
    ind = _int_indices(indices, "take")
    n = aval(a).shape[axis]
    mode = "raise" if mode is None else mode
    if mode in ("wrap", "clip"):
        if n == 0 and aval(ind).size:
            raise FuncdiffIndexError("cannot do a non-empty take from an empty axes.")
        if n:
            ind = ew.rem(ind, n) if mode == "wrap" else \
                ew.minimum(ew.maximum(ind, 0), n - 1)
    elif mode != "raise":
        raise FuncdiffValueError(f"`take`: mode must be 'raise', 'wrap' or 'clip', "
                                 f"got {mode!r}")
    return getitem(a, (slice(None),) * axis + (ind,))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """NumPy's ``take_along_axis`` (one ``gather``)."""
    arr = operand(arr)
    ind = operand(indices)
    if type(ind) is not Tracer:
        ind = np.asarray(ind)
    ia = aval(ind)
    if ia.dtype.kind not in "iu":
        raise FuncdiffIndexError("`indices` must be an integer array")
    if axis is None:
        if ia.ndim != 1:
            raise FuncdiffValueError("when axis=None, `indices` must have a single "
                                     "dimension.")
        arr = reshape(arr, (aval(arr).size,))
        axis = 0
    shape = aval(arr).shape
    if len(shape) != ia.ndim:
        raise FuncdiffValueError("`indices` and `arr` must have the same number of "
                                 "dimensions")
    axis = canonical_axis(axis, len(shape))
    fancy = []
    for dim, n in enumerate(shape):
        if dim == axis:
            fancy.append(ind)
        else:
            ind_shape = (1,) * dim + (-1,) + (1,) * (len(shape) - dim - 1)
            fancy.append(np.arange(n).reshape(ind_shape))
    return getitem(arr, tuple(fancy))


# --- value-dependent shapes: concrete values, or JAX's size= ---------------------------------

def _nonzero_0d_allowed() -> bool:
    """Whether this NumPy still accepts ``nonzero`` of a 0-d array (deprecated in 1.17,
    an error since 2.1), so the traced version agrees with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            np.nonzero(np.ones((), bool))
        except ValueError:
            return False
    return True


_NONZERO_0D_OK = _nonzero_0d_allowed()


def _nonzero_sized(x, size, fill_value, name):
    """``nonzero(x, size=size, fill_value=fill_value)`` for an array of ndim >= 1."""
    xa = aval(x)
    mask = x if xa.dtype == np.bool_ else ew.ne(x, 0)
    flat = reshape(mask, (xa.size,))
    pos, count = true_positions(flat, size)
    fills = fill_value if isinstance(fill_value, tuple) else (fill_value,) * xa.ndim
    if len(fills) != xa.ndim:
        raise FuncdiffValueError(f"`{name}`: fill_value must be a scalar or a tuple of "
                                 f"length {xa.ndim}; got {fill_value!r}")
    strides = np.cumprod((1,) + xa.shape[:0:-1])[::-1]
    out = []
    for stride, n, fill in zip(strides, xa.shape, fills):
        if xa.ndim == 1 or xa.size == 0:
            i = pos                     # (all padding when x is empty)
        else:
            i = ew.rem(ew.floor_divide(pos, int(stride)), n)
        out.append(i if fill is None else padded(i, count, size, fill))
    return tuple(out)


def _at_least_1d(x, name):
    if aval(x).ndim:
        return x
    if not _NONZERO_0D_OK:
        raise FuncdiffValueError(
            f"`{name}`: calling nonzero on 0d arrays is not allowed (as in NumPy).  Use "
            "np.atleast_1d(scalar).nonzero() instead.")
    return reshape(x, (1,))


@implements_sized(np.nonzero)
def nonzero(a, *, size=None, fill_value=None):
    """NumPy's ``nonzero``, plus JAX's ``size=``/``fill_value=``: the indices of the
    first ``size`` nonzero entries, padded with ``fill_value`` (default 0; a scalar or
    one per axis).  Without ``size=`` the values are needed (not available under
    ``jit``/``vmap``; see ``_sizes``).  The indices carry no derivative."""
    return _nonzero(a, size, fill_value, "nonzero")


def _nonzero(a, size, fill_value, name):
    """``nonzero`` (also ``where(c)``): errors name ``name``."""
    size = static_size(size, name)
    x = _at_least_1d(operand(a), name)
    if size is None:
        return np.nonzero(concrete(x, name))
    return _nonzero_sized(x, size, fill_value, name)


@implements_sized(np.flatnonzero)
def flatnonzero(a, *, size=None, fill_value=None):
    """NumPy's ``flatnonzero`` (``nonzero(ravel(a))[0]``), with ``size=``/``fill_value=``
    as ``nonzero``."""
    size = static_size(size, "flatnonzero")
    x = operand(a)
    x = reshape(x, (aval(x).size,))
    if size is None:
        return np.flatnonzero(concrete(x, "flatnonzero"))
    return _nonzero_sized(x, size, fill_value, "flatnonzero")[0]


@implements_sized(np.argwhere)
def argwhere(a, *, size=None, fill_value=None):
    """NumPy's ``argwhere`` (one row of indices per nonzero entry), with
    ``size=``/``fill_value=`` as ``nonzero`` (the result is ``(size, a.ndim)``)."""
    size = static_size(size, "argwhere")
    x = operand(a)
    if size is None:
        return np.argwhere(concrete(x, "argwhere"))
    if aval(x).ndim == 0:      # as JAX: (size, 0)
        return full((size, 0), 0, np.intp)
    cols = _nonzero_sized(x, size, fill_value, "argwhere")
    return concatenate([reshape(c, (size, 1)) for c in cols], 1)
