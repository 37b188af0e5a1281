"""``debug_callback``: a Python function called on NumPy values for its effect (printing,
logging), with no outputs: what ``funcdiff.debug.print`` and ``funcdiff.debug.callback``
bind.

It is the one ``effectful`` primitive: no pass drops it (it has no outputs anyone
reads), merges two of it, folds it at compile time or replays it (a checkpoint's
backward recompute does not print again).  Outside transforms it runs at once; traced
by ``jit`` it runs each time the program does, on the actual values.

Rules: ``jvp`` calls back on the primal values and adds no tangent (the forward pass
prints primals; derivatives are unchanged); with no outputs it has nothing to
transpose (reverse mode skips it).  ``batch`` calls back once per example, as JAX's
rule does (``vmap`` of a print prints each example).  ``emit``: generated code calls
the callback, held as a global of the generated function (never pasted as source).
"""
from __future__ import annotations

import numpy as np

from ..core.source import state
from ..core.trace import Primitive
from .base import axis_size

debug_callback_p = Primitive("debug_callback", multiple_results=True)
debug_callback_p.doc = "callback(*operands) run in Python for its effect (no outputs)"
debug_callback_p.effectful = True
debug_callback_p.foldable = False
debug_callback_p.cacheable = False   # it calls user code (and its param is a callable)


def _impl(*args, callback):
    stack = state.stack
    if not stack:
        callback(*args)
        return []
    # user code on concrete values, run outside the traces around it: eager grad runs
    # the callback while tracing its forward pass, and funcdiff called in it (say
    # fnp.linalg.norm(y) for a log line) must compute, not record into that trace
    saved, memo = stack[:], state.memo
    del stack[:]
    state.memo = None
    try:
        callback(*args)
    finally:
        stack[:] = saved
        state.memo = memo
    return []


def _jvp(primals, tangents, *, callback):
    debug_callback_p.bind(*primals, callback=callback)
    return [], []


class PerExample:
    """``callback`` called once per example of batched operands (``dims``: each
    operand's batch axis or None), in order: ``vmap``'s rule."""

    __slots__ = ("callback", "dims")

    def __init__(self, callback, dims):
        self.callback = callback
        self.dims = tuple(dims)

    def __call__(self, *args):
        size = axis_size(args, self.dims)
        for i in range(size):
            self.callback(*[x if d is None else np.take(x, i, axis=d)
                            for x, d in zip(args, self.dims)])

    def __repr__(self):
        return f"vmap({self.callback!r}, in_axes={self.dims})"


def _batch(args, dims, *, callback):
    debug_callback_p.bind(*args, callback=PerExample(callback, dims))
    return [], []


def _emit(args, params, gen):
    return f"{gen.const(params['callback'], 'debug_callback')}({', '.join(args)})"


debug_callback_p.impl = _impl
debug_callback_p.abstract_eval = lambda *avals, callback: []
debug_callback_p.jvp = _jvp
debug_callback_p.batch = _batch
debug_callback_p.cost = lambda avals_in, avals_out, **_: {"flops": 0, "transcendentals": 0}
debug_callback_p.emit = _emit
