"""Optimizing passes: each is IR -> IR (a ``ClosedJaxpr`` in, a new one out), runs on its
own, and preserves semantics.  ``optimize`` runs them as a named pipeline to a fixed
point."""
from __future__ import annotations

from ...config import config
from .block import blocked_fusion
from .cse import cse
from .dce import dce
from .fold import fold_constants
from .fuse import fuse_elementwise
from .inline import inline_calls
from .masks import lift_two_valued
from .simplify import simplify

PIPELINE = [("inline", inline_calls), ("simplify", simplify), ("fold", fold_constants),
            ("cse", cse), ("dce", dce)]


def optimize(closed, max_rounds=4, trace=None):
    """Run the pipeline until the eqn count stops shrinking (at most ``max_rounds``).
    ``trace`` (a list) receives ``(pass name, n_eqns after)`` for inspection."""
    n_prev = None
    for _ in range(max_rounds):
        for name, p in PIPELINE:
            closed = p(closed)
            if trace is not None:
                trace.append((name, len(closed.jaxpr.eqns)))
        n = len(closed.jaxpr.eqns)
        if n == n_prev:
            break
        n_prev = n
    return closed


def lower(closed):
    """The full pipeline jit compiles: ``optimize``; arithmetic on two-valued constants
    (identity seeds) carried as two small branches; then fusion (when enabled):
    cache-blocked loops for elementwise groups over large arrays, numexpr expressions
    for the chains left."""
    closed = optimize(closed)
    lifted = lift_two_valued(closed)
    if lifted is not closed:      # the branches' arithmetic simplifies again (1.0 * x)
        closed = optimize(lifted)
    closed = blocked_fusion(closed)
    return fuse_elementwise(closed) if config.numexpr_fusion else closed


__all__ = ["optimize", "lower", "fuse_elementwise", "blocked_fusion", "lift_two_valued", "inline_calls", "simplify", "fold_constants", "cse", "dce",
           "PIPELINE"]
