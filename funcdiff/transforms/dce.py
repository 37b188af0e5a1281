"""Dead-code elimination: drop eqns whose outputs nobody needs, except those with an
effect (``core.ir.has_effects``: a ``debug_callback``, or control flow holding one)."""
from __future__ import annotations

from ..core.ir import ClosedJaxpr, Jaxpr, Var, has_effects, jaxpr_has_effects


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
                break
        else:
            if not has_effects(eqn):
                continue
        eqns.append(eqn)
        for a in eqn.invars:
            if type(a) is Var:
                add(a)
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


def drop_effects(jaxpr: Jaxpr) -> Jaxpr:
    """``jaxpr`` without its effects: ``effectful`` eqns removed, here and inside the
    jaxprs in eqn params (branches, loop bodies, calls).  For programs replaying a
    computation whose effects already happened: eager ``grad`` linearizes a forward
    trace that ran with concrete values (and printed), so the jvp program built from it
    must not print again."""
    if not jaxpr_has_effects(jaxpr):
        return jaxpr
    eqns = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.effectful:
            continue
        if has_effects(eqn):
            eqn = eqn.replace(params={k: _drop_in_param(v) for k, v in eqn.params.items()})
        eqns.append(eqn)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


def _drop_in_param(v):
    if isinstance(v, Jaxpr):
        return drop_effects(v)
    if isinstance(v, ClosedJaxpr):
        return ClosedJaxpr(drop_effects(v.jaxpr), v.consts)
    if isinstance(v, (tuple, list)) and any(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
        return type(v)(_drop_in_param(x) for x in v)
    return v
