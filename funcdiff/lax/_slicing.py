"""``lax.select``, ``dynamic_slice``, ``dynamic_update_slice``, ``dynamic_index_in_dim``
with JAX's semantics, built on the existing primitives: ``select`` (NumPy's ``where``)
and indexing (a basic slice for concrete start indices, a ``gather`` / ``scatter`` for
traced ones), so they differentiate, batch and compile like any indexing.

Start indices follow JAX: a negative index counts from the end (once), then every index
is clamped so that the slice fits, ``0 <= start <= dim - size``: never an error at run
time, never a short slice.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, ShapeError
from ..core.trace import Tracer, get_aval
from ..primitives.base import convert_element_type
from ..primitives.elementwise import select as _select
from ..api._flat import leaf_operand
from .. import numpy as fnp
from ..numpy._indexing import as_array, getitem


def _operand(x, what, op):
    x = leaf_operand(x, f"`lax.{op}` {what}")
    return x, get_aval(x)


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """Choose elementwise between two arrays by a boolean array, as ``jax.lax.select``.

    Parameters
    ----------
    pred : bool array or scalar
        The choice, of the operands' shape (or a scalar).
    on_true, on_false : array_like
        The operands, of one shape and dtype.

    Returns
    -------
    array
        ``on_true`` where ``pred`` is True, else ``on_false``.

    Raises
    ------
    FuncdiffTypeError
        If ``pred`` is not boolean or the operands' dtypes differ.
    ShapeError
        If the shapes differ (no broadcasting, as in JAX).

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.select(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    [1. 4.]

    See Also
    --------
    funcdiff.numpy.where : with broadcasting.
    cond : branch on a scalar.
    """
    pred, pa = _operand(pred, "pred", "select")
    on_true, ta = _operand(on_true, "on_true", "select")
    on_false, fa = _operand(on_false, "on_false", "select")
    if pa.dtype != np.bool_:
        raise FuncdiffTypeError(f"`lax.select`: pred must be boolean, got {pa.str_short()}. "
                                "Compare first, e.g. lax.select(x > 0, a, b).")
    if ta.shape != fa.shape:
        raise ShapeError(f"`lax.select`: on_true and on_false must have one shape, got "
                         f"{ta.str_short()} and {fa.str_short()}; broadcast them first "
                         "(or use funcdiff.numpy.where, which broadcasts).")
    if ta.dtype != fa.dtype:
        if not (ta.weak_type or fa.weak_type):
            raise FuncdiffTypeError(
                f"`lax.select`: on_true and on_false must have one dtype, got "
                f"{ta.str_short()} and {fa.str_short()}; cast one (x.astype(...)).")
        if ta.weak_type and not fa.weak_type:
            on_true = convert_element_type(on_true, dtype=fa.dtype)
        else:
            on_false = convert_element_type(on_false, dtype=ta.dtype)
    if pa.shape not in ((), ta.shape):
        raise ShapeError(f"`lax.select`: pred must be a scalar or of the cases' shape "
                         f"{ta.shape}, got {pa.str_short()}.")
    return _select(pred, on_true, on_false)


def _start_indices(start_indices, xa: ShapedArray, sizes, op):
    """Each start index as a Python int (concrete) or a scalar integer tracer, wrapped
    once if negative and clamped to ``[0, dim - size]``."""
    if isinstance(start_indices, (Tracer, np.ndarray)):   # a 1-d integer array
        a = get_aval(start_indices)
        starts = [start_indices[i] for i in range(a.shape[0])] if a.ndim == 1 else None
    elif isinstance(start_indices, (list, tuple)):
        starts = list(start_indices)
    else:
        starts = None
    if starts is None or len(starts) != xa.ndim:
        got = "a scalar" if starts is None else f"{len(starts)} indices"
        raise ShapeError(f"`lax.{op}`: an operand of shape {xa.shape} needs {xa.ndim} start "
                         f"indices (a sequence, one per axis), got {got}.")
    out = []
    for k, (s, dim, size) in enumerate(zip(starts, xa.shape, sizes)):
        if isinstance(s, numbers.Integral) or (isinstance(s, np.ndarray) and s.ndim == 0
                                               and s.dtype.kind in "iu"):
            s = int(s)
            s = s + dim if s < 0 else s
            out.append(min(max(s, 0), dim - size))
            continue
        a = get_aval(leaf_operand(s, f"`lax.{op}` start index {k}"))
        if a.ndim != 0 or a.dtype.kind not in "iu":
            raise FuncdiffTypeError(f"`lax.{op}`: start index {k} must be a scalar integer, "
                                    f"got {a.str_short()}.")
        s = fnp.where(s < 0, s + dim, s)
        out.append(fnp.clip(s, 0, dim - size))
    return out


def _index(starts, sizes, shape):
    """The index of the block at ``starts`` of ``sizes``: basic slices when every start
    is concrete, else an open mesh of integer arrays over the axes up to the last one
    sliced (the rest whole), as ``np.ix_`` would make."""
    if all(type(s) is int for s in starts):
        return tuple(slice(s, s + n) for s, n in zip(starts, sizes))
    last = max((k for k, (n, d) in enumerate(zip(sizes, shape)) if n != d), default=-1)
    m = last + 1
    idx = []
    for k in range(m):
        shape_k = [1] * m
        shape_k[k] = sizes[k]
        idx.append(fnp.reshape(starts[k] + fnp.arange(sizes[k]), shape_k))
    return tuple(idx)


def dynamic_slice(operand: Any, start_indices: Any, slice_sizes: Any) -> Any:
    """A block of an array at start indices that may be traced, as ``jax.lax.dynamic_slice``.

    The start indices (a loop counter, a ``jit`` argument) are clamped so the block
    fits: ``[0, dim - size]``, as in JAX.

    Parameters
    ----------
    operand : array_like
        The array.
    start_indices : sequence of int scalars or 1-d integer array
        One start per axis, traced or not.
    slice_sizes : sequence of int
        The block's shape (static).

    Returns
    -------
    array
        The block, of shape ``slice_sizes``.

    Raises
    ------
    ShapeError
        If the number of indices or sizes is not ``operand.ndim`` or a size exceeds
        its axis.
    FuncdiffTypeError
        If an index is not an integer.

    Examples
    --------
    >>> from funcdiff import lax
    >>> f = fd.jit(lambda x, i: lax.dynamic_slice(x, (i,), (3,)))
    >>> print(f(np.arange(10.0), 2), f(np.arange(10.0), 8))
    [2. 3. 4.] [7. 8. 9.]

    See Also
    --------
    dynamic_update_slice : write a block.
    dynamic_slice_in_dim : along one axis.
    """
    x, xa = _operand(operand, "operand", "dynamic_slice")
    sizes = _sizes(slice_sizes, xa, "dynamic_slice")
    starts = _start_indices(start_indices, xa, sizes, "dynamic_slice")
    out = getitem(x, _index(starts, sizes, xa.shape))
    return out if type(out) is Tracer else np.array(out)   # (eagerly: a copy, no view)


def _sizes(slice_sizes, xa, op):
    sizes = [slice_sizes] if isinstance(slice_sizes, numbers.Integral) else list(slice_sizes)
    if len(sizes) != xa.ndim or not all(isinstance(n, numbers.Integral) for n in sizes):
        raise ShapeError(f"`lax.{op}`: slice_sizes must be {xa.ndim} ints (one per axis of "
                         f"the operand's shape {xa.shape}), got {slice_sizes!r}.")
    sizes = [int(n) for n in sizes]
    for k, (n, d) in enumerate(zip(sizes, xa.shape)):
        if not 0 <= n <= d:
            raise ShapeError(f"`lax.{op}`: slice size {n} on axis {k} does not fit an "
                             f"operand of shape {xa.shape} (0 <= size <= {d}).")
    return sizes


def dynamic_update_slice(operand: Any, update: Any, start_indices: Any) -> Any:
    """An array with a block replaced, at start indices that may be traced.

    As ``jax.lax.dynamic_update_slice``; the start indices are clamped so the block
    fits.  Functional: ``operand`` is not modified.

    Parameters
    ----------
    operand : array_like
        The array.
    update : array_like
        The block, of ``operand``'s rank and dtype.
    start_indices : sequence of int scalars or 1-d integer array
        One start per axis, traced or not.

    Returns
    -------
    array
        ``operand`` with the block at ``start_indices`` replaced by ``update``.

    Raises
    ------
    ShapeError
        If ``update``'s rank differs or it does not fit.
    FuncdiffTypeError
        If the dtypes differ or an index is not an integer.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.dynamic_update_slice(np.zeros(5), np.ones(2), (4,)))   # clamped to 3
    [0. 0. 0. 1. 1.]

    See Also
    --------
    dynamic_slice : read a block.
    """
    x, xa = _operand(operand, "operand", "dynamic_update_slice")
    u, ua = _operand(update, "update", "dynamic_update_slice")
    if ua.ndim != xa.ndim:
        raise ShapeError(f"`lax.dynamic_update_slice`: the update ({ua.str_short()}) must "
                         f"have the operand's rank ({xa.str_short()}).")
    if ua.dtype != xa.dtype:
        raise FuncdiffTypeError(
            f"`lax.dynamic_update_slice`: the update ({ua.str_short()}) must have the "
            f"operand's dtype ({xa.str_short()}); cast it with .astype.")
    sizes = _sizes(ua.shape, xa, "dynamic_update_slice")
    starts = _start_indices(start_indices, xa, sizes, "dynamic_update_slice")
    idx = _index(starts, sizes, xa.shape)
    out = (x if type(x) is Tracer else as_array(np.asarray(x))).at[idx].set(u)
    return out if type(out) is Tracer else np.asarray(out)


def dynamic_slice_in_dim(operand: Any, start_index: Any, slice_size: int,
                         axis: int = 0) -> Any:
    """``dynamic_slice`` along one axis, the other axes whole.

    Parameters
    ----------
    operand : array_like
        The array.
    start_index : int scalar
        The start along ``axis`` (clamped), traced or not.
    slice_size : int
        The number of elements along ``axis``.
    axis : int, default 0
        The axis.

    Returns
    -------
    array
        The block.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.dynamic_slice_in_dim(np.arange(6.0).reshape(2, 3), 1, 2, axis=1))
    [[1. 2.]
     [4. 5.]]

    See Also
    --------
    dynamic_slice : a block along every axis.
    dynamic_index_in_dim : one element.
    """
    x, xa = _operand(operand, "operand", "dynamic_slice_in_dim")
    axis = _axis(axis, xa, "dynamic_slice_in_dim")
    starts = [0] * xa.ndim
    starts[axis] = start_index
    sizes = list(xa.shape)
    sizes[axis] = slice_size
    return dynamic_slice(x, starts, sizes)


def dynamic_index_in_dim(operand: Any, index: Any, axis: int = 0,
                         keepdims: bool = True) -> Any:
    """Element ``index`` along ``axis`` (clamped; may be traced), as in JAX.

    Parameters
    ----------
    operand : array_like
        The array.
    index : int scalar
        The index along ``axis``, traced or not; negative counts from the end.
    axis : int, default 0
        The axis.
    keepdims : bool, default True
        Keep the axis, with length 1.

    Returns
    -------
    array
        The slice.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.dynamic_index_in_dim(np.arange(6.0).reshape(2, 3), -1, axis=1,
    ...                                keepdims=False))
    [2. 5.]

    See Also
    --------
    dynamic_slice_in_dim : several elements.
    """
    x, xa = _operand(operand, "operand", "dynamic_index_in_dim")
    axis = _axis(axis, xa, "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(x, index, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis)


def _axis(axis, xa, op):
    if not isinstance(axis, numbers.Integral) or not -xa.ndim <= axis < xa.ndim:
        raise ShapeError(f"`lax.{op}`: axis {axis!r} is out of range for an operand of "
                         f"shape {xa.shape}.")
    return int(axis) % xa.ndim
