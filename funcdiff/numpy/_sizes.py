"""Functions whose result's *shape* depends on values (``unique``, the set operations,
``bincount``, string ``bins``): the one place that decides a shape from a value.

Outside ``jit`` a traced value's concrete value is known (``grad``/``jvp``/``vjp`` trace
with values), so the shape is read off it and the rest of the computation stays traced:
derivatives flow through the selected values.  Under ``jit``/``vmap`` values are
abstract, so these functions take JAX's static ``size=`` (and ``fill_value=``), or
``length=`` for ``bincount``; without one the error names the function and says what to
pass.
"""
from __future__ import annotations

import functools

import numpy as np

from ..core.errors import ConcretizationError
from ..core.trace import Tracer, current_source_info, leak_error
from ..primitives import elementwise as ew
from ..primitives import reduce as rd
from ..primitives import shape as sh
from ..primitives.indexing import make_indexer, scatter
from ._core import FUNCTIONS, aval

_INTP = np.dtype(np.intp)
_AT = make_indexer([("array", 0)])


def concrete_or_error(x, name, hint):
    """``x``'s value as a NumPy array, or a ``ConcretizationError`` naming ``name`` and
    saying what to pass instead (``hint``, e.g. "size=N")."""
    if type(x) is not Tracer:
        return np.asarray(x)
    if not x._trace.active:
        raise leak_error(x, f"passed to {name}")
    if x._val is None:
        raise ConcretizationError(
            f"`{name}` inside jit or vmap (at {current_source_info()}): the shape of its "
            "result depends on the values of its input, which are not known there.  "
            f"Pass {hint} as in JAX, or call `{name}` outside jit (under grad/jvp/vjp "
            "the values are known).")
    return np.asarray(x._val)


def first_true(mask, size, fill_value=0):
    """Indices of the first ``size`` True entries of the 1-D ``mask`` (intp), padded with
    ``fill_value``: JAX's ``nonzero(mask, size=size, fill_value=fill_value)[0]``.  One
    scatter: each True entry's rank (a cumsum) is its slot; the rest go to a spare slot
    that is cut off."""
    n = aval(mask).shape[0]
    if n == 0:
        return sh.full((size,), fill_value, _INTP)
    rank = ew.sub(rd.cumsum(ew.convert_element_type(mask, dtype=_INTP), 0), 1)
    slot = ew.select(ew.logical_and(mask, ew.lt(rank, size)), rank, size)
    out = scatter(sh.full((size + 1,), fill_value, _INTP), slot, sh.iota(0, n, 1, _INTP),
                  indexer=_AT)
    return sh.slice_(out, (0,), (size,))


def jax_keywords(*names):
    """For a function registered with ``implements`` that also takes JAX's keywords
    ``names`` (``size=``, ``fill_value=``, ``length=``), which NumPy's own function
    rejects: a call passing one of them runs the traced implementation, also outside
    transforms (primitive by primitive, eagerly), so ``fnp.unique(x, size=3)`` works
    everywhere."""
    def deco(f):
        @functools.wraps(f)
        def g(*args, **kwargs):
            if any(kwargs.get(n) is not None for n in names):
                return f.traced(*args, **kwargs)
            return f(*args, **kwargs)
        if f.numpy is not None:
            FUNCTIONS[f.numpy] = g     # numpy.X on a traced value dispatches through g
        return g
    return deco
