"""Index tricks: ``r_``, ``c_``, ``s_``, ``ix_``, ``ravel_multi_index``,
``unravel_index``, the index helpers ``diag_indices(_from)``, ``tril_indices(_from)``,
``triu_indices(_from)``, ``mask_indices``, and ``fromfunction``.

``numpy.r_[...]`` / ``numpy.c_[...]`` with traced parts work too, though NumPy's
``AxisConcatenator`` converts each part with ``numpy.array`` (which no protocol
dispatches): for a tracer, ``Tracer.__array__`` sees that this code is the caller and
returns a stand-in (``_ConcatPart``, a zero-memory array of the tracer's shape and dtype
remembering the tracer); NumPy reshapes and casts the stand-ins and calls
``numpy.concatenate``, which dispatches to ``_ConcatPart.__array_function__``: each
stand-in becomes its tracer, reshaped and cast the same way (NumPy only adds length-1
axes, so a reshape is exact), and ``funcdiff.numpy.concatenate`` joins them.
``funcdiff.numpy.r_`` / ``c_`` are the same objects, returning ``Array`` outside
transforms; ``s_`` is NumPy's (it only builds index tuples, which may hold tracers).

Integer indices computed here are checked as NumPy checks them: at trace time when
their values are known, else when the program runs (``_in_bounds``).
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import ConcretizationError, FuncdiffError, FuncdiffTypeError, \
    FuncdiffValueError
from ..core.trace import Tracer, current_source_info, state
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sh
from ..primitives.indexing import gather, make_indexer
from ._core import aval, cast, implements, operand
from ._indexing import as_array, nonzero
from ._shape import broadcast_arrays, concatenate
from ._sizes import concrete, implements_sized, known

__all__ = ["r_", "c_", "s_", "ix_", "ravel_multi_index", "unravel_index", "diag_indices",
           "diag_indices_from", "mask_indices", "tril_indices", "tril_indices_from",
           "triu_indices", "triu_indices_from", "fromfunction"]


def _static(v, name, what):
    """``v``, or the value of a traced ``v`` where it is known; unknown (jit, vmap), an
    error naming ``name``'s ``what``, which decides the result's shape."""
    if type(v) is not Tracer:
        return v
    if v._val is None:
        raise ConcretizationError(
            f"`{name}`: {what} must be a static int (it decides the result's shape), got a "
            f"traced {v.aval.str_short()} value inside jit or vmap (at "
            f"{current_source_info()}).  Pass a number (under jit, mark the argument "
            "static with jit(f, static_argnums=...)).")
    return v._val


def _static_int(v, name, what):
    """``v`` as a Python int (``_static``)."""
    v = _static(v, name, what)
    try:
        return operator.index(v)
    except TypeError:
        raise FuncdiffTypeError(f"`{name}`: {what} must be an int, got "
                                f"{type(v).__name__} {v!r}") from None


def _in_bounds(i, n, error):
    """``i`` (intp), checked to lie in ``[0, n)``: at once when its value is known
    (``error(bad entry)`` is raised), else when the program runs -- ``i`` plus a gather
    of a zero-stride zero array of length ``n`` at ``i`` (negative entries moved out of
    range first), which raises NumPy's IndexError there."""
    val = known(i)
    if val is not None:
        bad = (val < 0) | (val >= n)
        if np.any(bad):
            raise error(val[bad].flat[0])
        return i
    probe = pb.broadcast_to(sh.full((), 0, np.intp), (n,))
    j = ew.select(ew.lt(i, 0), n, i)
    return ew.add(i, gather(probe, j, indexer=make_indexer([("array", 0)])))


def _int_operand(x, name):
    """An index operand as intp: integers and booleans (as NumPy allows)."""
    x = operand(x)
    if aval(x).dtype.kind not in "biu":
        raise FuncdiffTypeError(f"`{name}`: only int indices permitted (got "
                                f"{aval(x).str_short()})")
    return cast(x, np.intp)


# --- r_, c_, s_ --------------------------------------------------------------------------------

_CONCAT_CODE = type(np.r_).__getitem__.__code__    # AxisConcatenator.__getitem__


def called_from_axis_concatenator(frame) -> bool:
    """Whether ``frame`` (the caller of ``Tracer.__array__``) is NumPy's r_/c_ code."""
    return frame is not None and frame.f_code is _CONCAT_CODE


class _ConcatPart(np.ndarray):
    """What ``numpy.array(tracer)`` gives inside ``numpy.r_[...]`` / ``c_[...]``: an
    array of the tracer's shape and dtype (zeros, zero strides) that remembers the
    tracer, and turns back into it in ``numpy.concatenate``.  It never leaves
    ``AxisConcatenator.__getitem__``."""

    _fd_tracer = None

    def __array_finalize__(self, obj):
        self._fd_tracer = getattr(obj, "_fd_tracer", None)

    def __array_function__(self, func, types, args, kwargs):
        if func is not np.concatenate:
            raise FuncdiffTypeError(
                f"numpy.{getattr(func, '__name__', func)} on a part of numpy.r_/c_ that is "
                "traced: only the concatenation is supported; use funcdiff.numpy.r_ / c_ "
                "with ordinary parts.")
        parts = [_restore(a) for a in args[0]]
        return concatenate(parts, *args[1:], **kwargs)

    def __array_ufunc__(self, *args, **kwargs):
        raise FuncdiffTypeError("a traced part of numpy.r_/c_ was used outside the "
                                "concatenation")


def concat_part(t: Tracer, dtype=None):
    """The stand-in for ``t`` that ``Tracer.__array__`` returns to r_/c_."""
    dt = t.dtype if dtype is None else np.dtype(dtype)
    p = np.broadcast_to(np.zeros((), dt), t.shape).view(_ConcatPart)
    p._fd_tracer = t
    return p


def _restore(a):
    if not isinstance(a, _ConcatPart) or a._fd_tracer is None:
        return a
    t = a._fd_tracer
    # NumPy's AxisConcatenator only adds length-1 axes (ndmin) and moves them (trans1d)
    if [d for d in a.shape if d != 1] != [d for d in t.shape if d != 1]:
        raise FuncdiffError(f"internal: r_/c_ part of shape {t.shape} became {a.shape}")
    return sh.reshape(cast(t, a.dtype), a.shape)


class RClass(type(np.r_)):
    """``funcdiff.numpy.r_``: NumPy's ``r_``, with traced parts (see the module
    docstring), returning ``Array`` outside transforms."""

    def __getitem__(self, key):
        return _as_array(super().__getitem__(key))


class CClass(type(np.c_)):
    """``funcdiff.numpy.c_``: NumPy's ``c_``, as ``r_``."""

    def __getitem__(self, key):
        return _as_array(super().__getitem__(key))


def _as_array(out):
    return as_array(out) if isinstance(out, np.ndarray) and not state.stack else out


r_ = RClass()
c_ = CClass()
s_ = np.s_


# --- ix_ -----------------------------------------------------------------------------------------

@implements(np.ix_)
def ix_(*args):
    """NumPy's ``ix_``: each 1-d index reshaped to broadcast along its own axis (a
    boolean one becomes its ``nonzero``, which needs its values: not under jit/vmap)."""
    out = []
    nd = len(args)
    for k, new in enumerate(args):
        new = operand(new)
        if type(new) is not Tracer:
            new = np.asarray(new)
            if new.size == 0:
                new = new.astype(np.intp)
        a = aval(new)
        if a.ndim != 1:
            raise FuncdiffValueError("`ix_`: cross index must be 1 dimensional (got shape "
                                     f"{a.shape})")
        if a.dtype == np.bool_:
            new = np.nonzero(concrete(new, "ix_", "pass integer indices instead, e.g. "
                                      "fnp.nonzero(mask, size=N)[0]"))[0]
        n = aval(new).shape[0]
        out.append(sh.reshape(new, (1,) * k + (n,) + (1,) * (nd - k - 1)))
    return tuple(out)


# --- ravel_multi_index, unravel_index --------------------------------------------------------

_MODES = ("raise", "wrap", "clip")


@implements(np.ravel_multi_index)
def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """NumPy's ``ravel_multi_index`` (``mode`` per axis or one for all): the flat index
    of each tuple of coordinates; ``"raise"`` checks bounds (when the program runs if
    the coordinates are unknown)."""
    dims = tuple(_static_int(d, "ravel_multi_index", "dims") for d in
                 (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if len(multi_index) != len(dims):
        raise FuncdiffValueError(f"`ravel_multi_index`: parameter multi_index must be a "
                                 f"sequence of length {len(dims)}")
    modes = tuple(mode) if isinstance(mode, (tuple, list)) else (mode,) * len(dims)
    if len(modes) != len(dims) or any(m not in _MODES for m in modes):
        raise FuncdiffValueError(f"`ravel_multi_index`: clipmode must be one of 'clip', "
                                 f"'raise', or 'wrap' (got {mode!r})")
    if order not in ("C", "F"):
        raise FuncdiffValueError(f"`ravel_multi_index`: order must be 'C' or 'F', got "
                                 f"{order!r}")
    idx = broadcast_arrays(*[_int_operand(i, "ravel_multi_index") for i in multi_index])
    if order == "C":
        strides = np.cumprod((1,) + dims[:0:-1])[::-1]
    else:
        strides = np.cumprod((1,) + dims[:-1])
    out = None
    for i, d, m, s in zip(idx, dims, modes, strides):
        if m == "wrap":
            i = ew.rem(i, d) if d else i
        elif m == "clip":
            i = ew.minimum(ew.maximum(i, 0), d - 1)
        else:
            i = _in_bounds(i, d, lambda bad: FuncdiffValueError(
                "`ravel_multi_index`: invalid entry in coordinates array"))
        term = ew.mul(i, int(s)) if s != 1 else i
        out = term if out is None else ew.add(out, term)
    if out is None:
        return np.intp(0)
    return out


@implements(np.unravel_index)
def unravel_index(indices, shape, order="C"):
    """NumPy's ``unravel_index``: the coordinates of flat indices in an array of
    ``shape``; out-of-bounds indices raise (when the program runs if unknown)."""
    shape = tuple(_static_int(d, "unravel_index", "shape") for d in
                  (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if order not in ("C", "F"):
        raise FuncdiffValueError(f"`unravel_index`: order must be 'C' or 'F', got {order!r}")
    i = _int_operand(indices, "unravel_index")
    size = int(np.prod(shape, dtype=np.int64))
    if not shape:
        val = known(i)
        if val is None or aval(i).ndim:
            raise FuncdiffValueError("`unravel_index`: multiple indices are not supported "
                                     "for 0d arrays")
        np.unravel_index(val, ())      # NumPy's own error for a nonzero index
        return ()
    i = _in_bounds(i, size, lambda bad: FuncdiffValueError(
        f"`unravel_index`: index {bad} is out of bounds for array with size {size}"))
    axes = range(len(shape)) if order == "F" else range(len(shape) - 1, -1, -1)
    out = [None] * len(shape)
    rest = i
    for k in axes:
        d = shape[k]
        out[k] = ew.rem(rest, d)
        rest = ew.floor_divide(rest, d)
    return tuple(out)


# --- index helpers of diagonals and triangles ------------------------------------------------

@implements(np.diag_indices)
def diag_indices(n, ndim=2):
    """NumPy's ``diag_indices`` (static sizes)."""
    return np.diag_indices(_static(n, "diag_indices", "n"),
                           _static(ndim, "diag_indices", "ndim"))


@implements(np.diag_indices_from)
def diag_indices_from(arr):
    """NumPy's ``diag_indices_from``: only ``arr``'s shape is used."""
    shape = aval(operand(arr)).shape
    if len(shape) < 2:
        raise FuncdiffValueError("`diag_indices_from`: input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise FuncdiffValueError("`diag_indices_from`: all dimensions of input must be of "
                                 f"equal length (got shape {shape})")
    return np.diag_indices(shape[0], len(shape))


def _tri_indices(np_fn, name, n, k, m):
    return np_fn(_static(n, name, "n"), _static(k, name, "k"), _static(m, name, "m"))


def _tri_from(np_fn, name, arr, k):
    shape = aval(operand(arr)).shape
    if len(shape) != 2:
        raise FuncdiffValueError(f"`{name}`: input array must be 2-d (got shape {shape})")
    return np_fn(shape[0], _static(k, name, "k"), shape[1])


@implements(np.tril_indices)
def tril_indices(n, k=0, m=None):
    """NumPy's ``tril_indices`` (static sizes)."""
    return _tri_indices(np.tril_indices, "tril_indices", n, k, m)


@implements(np.triu_indices)
def triu_indices(n, k=0, m=None):
    """NumPy's ``triu_indices`` (static sizes)."""
    return _tri_indices(np.triu_indices, "triu_indices", n, k, m)


@implements(np.tril_indices_from)
def tril_indices_from(arr, k=0):
    """NumPy's ``tril_indices_from``: only ``arr``'s shape is used."""
    return _tri_from(np.tril_indices, "tril_indices_from", arr, k)


@implements(np.triu_indices_from)
def triu_indices_from(arr, k=0):
    """NumPy's ``triu_indices_from``: only ``arr``'s shape is used."""
    return _tri_from(np.triu_indices, "triu_indices_from", arr, k)


@implements_sized(np.mask_indices, ("size",))
def mask_indices(n, mask_func, k=0, *, size=None):
    """NumPy's ``mask_indices``: ``nonzero(mask_func(ones((n, n), int), k))``; the mask is
    usually static (``numpy.triu``), else it needs its values or JAX's ``size=``."""
    n = _static(n, "mask_indices", "n")
    a = mask_func(np.ones((n, n), int), k)
    return nonzero(ew.ne(operand(a), 0), size=size)


@implements(np.fromfunction)
def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    """NumPy's ``fromfunction``: ``function(*indices(shape, dtype), **kwargs)`` -- the
    coordinate arrays are constants, so traced values ``function`` closes over are
    differentiated as usual."""
    shape = tuple(_static_int(d, "fromfunction", "shape") for d in shape)
    grids = np.indices(shape, dtype=dtype)
    return function(*[as_array(g) for g in grids], **kwargs)
