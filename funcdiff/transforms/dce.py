"""Dead-code elimination: drop eqns whose outputs nobody needs (all primitives are pure)."""
from __future__ import annotations

from ..core.ir import Jaxpr, Var


def dce_jaxpr(jaxpr: Jaxpr, used_outputs=None, prune_invars=False):
    """Return a jaxpr without dead eqns (and, with ``prune_invars``, without unused
    invars, plus the mask of invars kept).  ``used_outputs`` masks the outputs kept."""
    outvars = jaxpr.outvars if used_outputs is None else [
        v for v, u in zip(jaxpr.outvars, used_outputs) if u]
    live = {v for v in outvars if type(v) is Var}
    eqns = []
    add = live.add
    for eqn in reversed(jaxpr.eqns):
        for v in eqn.outvars:        # (loops, not generator expressions: hot on big IR)
            if v in live:
                eqns.append(eqn)
                for a in eqn.invars:
                    if type(a) is Var:
                        add(a)
                break
    eqns.reverse()
    if prune_invars:
        kept = [v in live for v in jaxpr.invars]
        invars = [v for v, k in zip(jaxpr.invars, kept) if k]
    else:
        kept = [True] * len(jaxpr.invars)
        invars = jaxpr.invars
    constvars = [v for v in jaxpr.constvars if v in live] if prune_invars else jaxpr.constvars
    out = Jaxpr(constvars, invars, outvars, eqns)
    return (out, kept) if prune_invars else out
