"""The decorator every ``funcdiff.scipy`` module uses to put SciPy itself on the eager
path."""
from __future__ import annotations

import functools

from ..core.trace import state
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
