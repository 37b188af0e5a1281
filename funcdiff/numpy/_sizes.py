"""Results whose length depends on values (``nonzero``, ``argwhere``, ``flatnonzero``,
``where(c)``, ``compress``, ``extract``, boolean masks; ``unique`` and the set operations
may use it too): one rule, JAX's.

* ``size=None``: the values decide the shape.  Outside ``jit``/``vmap`` they are known --
  eagerly, and under ``grad``/``jvp``/``vjp``, which trace with concrete values -- so the
  function computes the indices from them (``concrete``); the values it selects stay
  traced, so derivatives flow through them.  Inside ``jit``/``vmap`` the values are
  unknown and ``concrete`` raises ``ConcretizationError`` naming the function and saying
  to pass ``size=``.
* ``size=n`` (a static int): the result has length ``n`` whatever the values --
  truncated when more entries qualify, padded with ``fill_value`` when fewer -- and works
  under every transform (``true_positions`` computes the positions with a cumsum and
  one scatter, static shapes throughout).

``implements_sized`` registers such a function: without ``size=``/``fill_value=`` the
eager fast path is NumPy itself; with them (NumPy has no such keywords) the funcdiff
implementation runs, eagerly too.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from ..core.errors import ConcretizationError, FuncdiffError, FuncdiffTypeError, \
    FuncdiffValueError
from ..core.trace import Tracer, current_source_info, leak_error, state
from ..primitives import elementwise as ew
from ..primitives import shape as sh
from ..primitives.indexing import make_indexer, scatter
from ..primitives.reduce import cumsum
from ._core import FUNCTIONS, _locate, aval, implements, operand

SIZE_KWARGS = ("size", "fill_value")


def implements_sized(np_fn, jax_kwargs=SIZE_KWARGS):
    """``implements(np_fn)`` for a function that also takes JAX's keyword-only
    ``jax_kwargs`` (``size=``, ``fill_value=``), which NumPy does not: with any of them
    given (not None) an eager call runs the funcdiff implementation instead of NumPy."""

    def deco(traced):
        f = implements(np_fn)(traced)

        @functools.wraps(traced)
        def g(*args, **kwargs):
            if not state.stack and any(kwargs.get(k) is not None for k in jax_kwargs):
                try:
                    return traced(*args, **kwargs)
                except FuncdiffError as e:
                    _locate(e, traced.__name__)
                    raise
            return f(*args, **kwargs)

        g.traced, g.numpy = traced, np_fn
        if np_fn is not None:      # (a NumPy 2 function missing on NumPy 1.x)
            FUNCTIONS[np_fn] = g
        return g

    return deco


def static_size(size, name):
    """``size=`` as a non-negative Python int (None stays None); a traced size is an
    error, since it would decide the result's shape."""
    if size is None:
        return None
    if type(size) is Tracer:
        raise ConcretizationError(
            f"`{name}`: size= must be a static Python int, got a traced "
            f"{size.aval.str_short()} value (at {current_source_info()}).  It decides the "
            "result's shape; pass a number (under jit, mark it static with "
            "jit(f, static_argnames=...)).")
    try:
        n = operator.index(size)
    except TypeError:
        raise FuncdiffTypeError(f"`{name}`: size= must be an int, got "
                                f"{type(size).__name__} {size!r}") from None
    if n < 0:
        raise FuncdiffValueError(f"`{name}`: size= must be >= 0, got {n}")
    return n


def concrete(x, name, fix="pass size=N (the result's length: longer results are "
                          "truncated, shorter ones padded with fill_value=)"):
    """The value of ``x`` (a NumPy array), when the result's shape depends on it.
    Known outside jit/vmap; inside, ``ConcretizationError`` naming ``name`` and ``fix``."""
    x = operand(x)
    if type(x) is not Tracer:
        return np.asarray(x)
    if not x._trace.active:
        raise leak_error(x, f"passed to {name}")
    if x._val is None:
        raise ConcretizationError(
            f"`{name}` of a traced {x.aval.str_short()} value inside jit or vmap (at "
            f"{current_source_info()}): the result's shape depends on the values, which "
            f"are not known there.  To use it under jit/vmap, {fix}; or call it outside "
            "jit (grad, jvp and vjp know the values), or keep shapes static with "
            "funcdiff.numpy.where(mask, x, 0).")
    return np.asarray(x._val)


def known(x):
    """The value of ``x`` (a NumPy array) if known -- NumPy values, and tracers outside
    jit/vmap -- else None."""
    x = operand(x)
    if type(x) is not Tracer:
        return np.asarray(x)
    return None if x._val is None else np.asarray(x._val)


def true_positions(mask, size, fill_value=0):
    """``(positions, count)`` for a 1-d boolean ``mask`` (traced or not):
    ``positions`` (intp, length ``size``) holds the indices of the first ``size`` True
    entries in increasing order, then ``fill_value`` (JAX's ``nonzero(mask, size=,
    fill_value=)``); ``count`` (0-d intp) is the number of True
    entries (not capped at ``size``).  A cumsum ranks the True entries; one scatter puts
    each of the first ``size`` at its rank (the others go to a dropped extra slot)."""
    n = aval(mask).shape[0]
    if n == 0:
        return sh.full((size,), fill_value, np.intp), np.intp(0)
    rank = cumsum(ew.convert_element_type(mask, dtype=np.intp), 0)   # 1, 2, ... at Trues
    count = sh.reshape(sh.slice_(rank, [n - 1], [n]), ())
    keep = ew.logical_and(mask, ew.le(rank, size))
    slot = ew.select(keep, ew.sub(rank, 1), size)
    out = scatter(sh.full((size + 1,), fill_value, np.intp), slot, sh.iota(0, n, 1, np.intp),
                  indexer=make_indexer([("array", 0)]))
    return sh.slice_(out, [0], [size]), count


def padded(values, count, size, fill_value, axis=0):
    """``values`` (length ``size`` along ``axis``) with the entries from ``count`` on
    replaced by ``fill_value`` (cast to ``values``' dtype, as JAX does)."""
    va = aval(values)
    k = sh.iota(0, size, 1, np.intp)
    k = sh.reshape(k, (size,) + (1,) * (va.ndim - axis - 1))
    fill = operand(fill_value)
    if aval(fill).ndim:
        raise FuncdiffValueError(f"fill_value must be a scalar, got an array of shape "
                                 f"{aval(fill).shape}")
    if aval(fill).dtype != va.dtype or aval(fill).weak_type:
        fill = ew.convert_element_type(fill, dtype=va.dtype)
    return ew.select(ew.lt(k, count), values, fill)
