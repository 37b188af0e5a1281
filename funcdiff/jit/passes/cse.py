"""Common-subexpression elimination: an eqn equal to an earlier one (same primitive,
same operands, same params) reuses its outputs.  Eqns with an effect
(``core.ir.has_effects``) are never merged: two equal prints print twice."""
from __future__ import annotations

from ...core.ir import ClosedJaxpr, Jaxpr, Var, has_effects, literal_key, param_key


def cse(closed: ClosedJaxpr) -> ClosedJaxpr:
    j = closed.jaxpr
    subst = {}
    seen = {}
    eqns = []
    for eqn in j.eqns:
        invars = [subst.get(a, a) if type(a) is Var else a for a in eqn.invars]
        params = eqn.params
        if has_effects(eqn):
            eqns.append(eqn.replace(invars=invars) if invars != eqn.invars else eqn)
            continue
        key = (eqn.primitive,
               tuple([a if type(a) is Var else literal_key(a) for a in invars]),
               tuple(sorted([(k, param_key(v)) for k, v in params.items()])) if params
               else ())
        prev = seen.get(key)
        if prev is not None:
            for v, p in zip(eqn.outvars, prev):
                subst[v] = p
            continue
        seen[key] = eqn.outvars
        eqns.append(eqn.replace(invars=invars) if invars != eqn.invars else eqn)
    outvars = [subst.get(v, v) if type(v) is Var else v for v in j.outvars]
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, outvars, eqns), closed.consts)
