"""The decorator every ``funcdiff.scipy`` module uses to put SciPy itself on the eager
path, and the conversion of array arguments SciPy's functions share."""
from __future__ import annotations

import functools

import numpy as np

from .. import numpy as fnp
from ..core.trace import Tracer, state
from ..numpy._core import FUNCTIONS


def scipy_fast_path(sp_fn, eager=None):
    """Outside any transform, call SciPy's ``sp_fn`` (or ``eager(sp_fn, traced, ...)``,
    for a function whose SciPy spelling needs adapting); under a trace, or without SciPy
    (``sp_fn`` None), the traced implementation.  ``sp_fn`` is registered for NumPy's
    dispatch protocols, so ``scipy.X(traced)`` reaches the traced implementation."""
    def deco(traced):
        traced.traced = traced
        if sp_fn is None:
            traced.numpy = None
            return traced

        @functools.wraps(traced)
        def f(*args, **kwargs):
            if not state.stack:
                if eager is not None:
                    return eager(sp_fn, traced, *args, **kwargs)
                return sp_fn(*args, **kwargs)
            return traced(*args, **kwargs)
        f.traced = traced
        f.numpy = sp_fn
        FUNCTIONS[sp_fn] = f
        return f
    return deco


def scipy_function(module, name, eager=None):
    """``scipy_fast_path`` for SciPy's ``module.name`` (``module`` None: SciPy is not
    installed, or the name is missing from this SciPy)."""
    return scipy_fast_path(getattr(module, name, None) if module is not None else None,
                           eager)


def array_arg(x):
    """An array argument as SciPy takes it: traced values as they are, lists (which
    may hold traced values) stacked by ``funcdiff.numpy``, anything else
    ``numpy.asarray`` (Python scalars become strongly typed arrays, as in SciPy)."""
    if type(x) is Tracer:
        return x
    if isinstance(x, (list, tuple)):
        return fnp.asarray(x)
    return np.asarray(x)
