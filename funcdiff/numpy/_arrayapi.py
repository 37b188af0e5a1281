"""The array-API spellings of NumPy 2 at top level: ``astype permute_dims
matrix_transpose concat unstack vecdot matvec vecmat`` (compositions of transposes,
slices and ``matmul``; ``numpy.linalg``'s spellings live in ``funcdiff.numpy.linalg``).

``vecdot``, ``matvec`` and ``vecmat`` are NumPy gufuncs: their core axes are the last
ones unless ``axes=`` (or ``vecdot``'s ``axis=``) says otherwise; the vector of
``vecdot`` and ``vecmat`` is conjugated, as in NumPy.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..primitives import base as pb, shape as sh
from ._core import FUNCTIONS, aval, canonical_axis, implements, operand
from ._math import _no_out
from ._products import matmul
from ._shape import concatenate, moveaxis, swapaxes, transpose

__all__: list[str] = []


def _export(np_name):
    """Register under ``numpy.<np_name>`` when this NumPy has it (NumPy >= 2.x).  Where
    NumPy's spelling is another name for a function funcdiff already has
    (``numpy.concat is numpy.concatenate``), that function is the spelling."""
    def deco(f):
        np_fn = getattr(np, np_name, None)
        if np_fn is not None:
            f = FUNCTIONS[np_fn] if np_fn in FUNCTIONS else implements(np_fn)(f)
        globals()[np_name] = f
        __all__.append(np_name)
        return f
    return deco


@_export("astype")
def astype(x, dtype, /, *, copy=True, device=None):
    """Like numpy.astype: ``x`` converted to ``dtype`` (complex to real keeps the real
    part; so does its derivative)."""
    x = operand(x)
    dtype = np.dtype(dtype)
    a = aval(x)
    if a.dtype == dtype and not a.weak_type:
        return x
    return pb.convert_element_type(x, dtype=dtype)


@_export("permute_dims")
def permute_dims(a, axes=None):
    """Like numpy.permute_dims (``transpose``)."""
    return transpose(a, axes)


@_export("matrix_transpose")
def matrix_transpose(x, /):
    """Like numpy.matrix_transpose: swap the last two axes."""
    x = operand(x)
    if aval(x).ndim < 2:
        raise FuncdiffValueError("Input array must be at least 2-dimensional")
    return swapaxes(x, -1, -2)


@_export("concat")
def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Like numpy.concat (``concatenate``)."""
    return concatenate(arrays, axis=axis, out=out, dtype=dtype, casting=casting)


@_export("unstack")
def unstack(x, /, *, axis=0):
    """Like numpy.unstack: the slices of ``x`` along ``axis``, as a tuple."""
    x = operand(x)
    shape = aval(x).shape
    if not shape:
        raise FuncdiffValueError("Input array must be at least 1-d.")
    ax = canonical_axis(axis, len(shape))
    x = moveaxis(x, ax, 0)
    rest = aval(x).shape[1:]
    return tuple(pb.reshape(sh.slice_(x, (i,) + (0,) * len(rest), (i + 1,) + rest), rest)
                 for i in range(shape[ax]))


def _core(name, ax, nd, k):
    """One operand's core axes from its ``axes=`` entry (an int or a tuple)."""
    ax = tuple(ax) if isinstance(ax, (tuple, list)) else (ax,)
    if len(ax) != k:
        raise FuncdiffValueError(f"`{name}`: expected {k} core axes, got {ax}")
    return tuple(canonical_axis(a, nd) for a in ax)


def _gufunc(name, ncore, compute, x1, x2, out, dtype, axes, axis, keepdims=False):
    """Move the core axes of both operands last (NumPy's ``axes=``/``axis=``),
    ``compute`` in NumPy's default layout, and put the output's core axes where
    ``axes`` (or ``keepdims``) asks."""
    _no_out(name, out, True, {})
    if axes is not None and axis is not None:
        raise FuncdiffTypeError(f"`{name}`: cannot specify both 'axis' and 'axes'")
    x, y = operand(x1), operand(x2)
    if dtype is not None:
        x, y = (pb.convert_element_type(v, dtype=np.dtype(dtype)) for v in (x, y))
    nds = (aval(x).ndim, aval(y).ndim)
    for i, (n, k) in enumerate(zip(nds, ncore)):
        if n < k:
            raise FuncdiffValueError(
                f"{name}: Input operand {i} does not have enough dimensions (has {n}, "
                f"gufunc core requires {k})")
    if axis is not None:
        axes = [(axis,), (axis,)] + ([] if keepdims else [()])
    axes = None if axes is None else list(axes)
    if axes is not None and len(axes) not in (2, 3):
        raise FuncdiffValueError(f"`{name}`: axes= needs one entry per operand and "
                                 f"output, got {len(axes)}")
    moved = []
    for i, (v, nd, k) in enumerate(zip((x, y), nds, ncore)):
        if axes is not None:
            v = moveaxis(v, _core(name, axes[i], nd, k), tuple(range(nd - k, nd)))
        moved.append(v)
    r = compute(*moved)
    k_out = ncore[2]
    if keepdims:
        if k_out:
            raise FuncdiffValueError(f"`{name}`: keepdims= needs a scalar core output")
        r = pb.reshape(r, aval(r).shape + (1,))
        k_out = 1
        axes = None if axis is None else [None, None, (axis,)]
    nr = aval(r).ndim
    if axes is not None and len(axes) == 3 and k_out:
        r = moveaxis(r, tuple(range(nr - k_out, nr)), _core(name, axes[2], nr, k_out))
    return r


def _row(v):
    return pb.reshape(v, aval(v).shape[:-1] + (1, aval(v).shape[-1]))


def _col(v):
    return pb.reshape(v, aval(v).shape + (1,))


def _conj(v):
    return pb.conj(v) if aval(v).dtype.kind == "c" else v


def _drop(r, *axes):
    shape = aval(r).shape
    nd = len(shape)
    return pb.reshape(r, tuple(d for i, d in enumerate(shape) if i - nd not in axes))


def _vecdot(x, y):
    if aval(x).shape[-1] != aval(y).shape[-1]:
        raise FuncdiffValueError(f"vecdot: core dimensions differ: shapes {aval(x).shape} "
                                 f"and {aval(y).shape}")
    return _drop(matmul(_row(_conj(x)), _col(y)), -2, -1)


def _matvec(a, v):
    return _drop(matmul(a, _col(v)), -1)


def _vecmat(v, a):
    return _drop(matmul(_row(_conj(v)), a), -2)


@_export("vecdot")
def vecdot(x1, x2, /, out=None, *, axis=None, axes=None, keepdims=False, dtype=None,
           casting="same_kind", order="K", subok=True, signature=None):
    """Like numpy.vecdot: ``sum(conj(x1) * x2, axis)`` with broadcasting."""
    return _gufunc("vecdot", (1, 1, 0), _vecdot, x1, x2, out, dtype, axes, axis,
                   keepdims)


@_export("matvec")
def matvec(x1, x2, /, out=None, *, axes=None, dtype=None, casting="same_kind", order="K",
           subok=True, signature=None):
    """Like numpy.matvec: the matrix-vector product ``x1 @ x2`` over the last axes."""
    return _gufunc("matvec", (2, 1, 1), _matvec, x1, x2, out, dtype, axes, None)


@_export("vecmat")
def vecmat(x1, x2, /, out=None, *, axes=None, dtype=None, casting="same_kind", order="K",
           subok=True, signature=None):
    """Like numpy.vecmat: the vector-matrix product ``conj(x1) @ x2``."""
    return _gufunc("vecmat", (1, 2, 1), _vecmat, x1, x2, out, dtype, axes, None)
