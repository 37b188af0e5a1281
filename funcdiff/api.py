"""The public transforms.  Each one flattens pytrees at the boundary, then works on
IR: trace -> transform the jaxpr -> evaluate (or compile)."""
from __future__ import annotations

import functools

from .core.trace import trace_flat
from ._flat import flatten_args, flatten_fun, leaf_aval


def make_jaxpr(f, static_argnums=()):
    """``make_jaxpr(f)(*args)`` -> the ClosedJaxpr of ``f`` at these argument shapes
    (traced abstractly, as under ``jit``); print it to read it."""
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else \
        tuple(static_argnums)

    @functools.wraps(f)
    def wrapped(*args):
        static = {i: args[i] for i in static_argnums}
        dyn = [a for i, a in enumerate(args) if i not in static]

        def g(*dyn_args):
            it = iter(dyn_args)
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            return f(*full)

        leaves, in_tree = flatten_args(dyn)
        flat_f, store = flatten_fun(g, in_tree)
        closed, _, _ = trace_flat(flat_f, [leaf_aval(x) for x in leaves], kind="make_jaxpr")
        return closed

    return wrapped
