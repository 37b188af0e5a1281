"""Constant folding: eqns whose operands are all known at compile time (literals and
constants) are evaluated once; their results become constants.  Eqns without operands
(``full``, ``iota``) are left alone: they are cheap, and folding them would make every
call share one buffer.  Eqns with an effect (``core.ir.has_effects``) run at run time,
never at compile time."""
from __future__ import annotations

import warnings

import numpy as np

from ...core.ir import ClosedJaxpr, Jaxpr, Literal, Var, has_effects, literal_or_none

_MAX_FOLD_SIZE = 1 << 20   # elements; larger results are computed at run time


def fold_constants(closed: ClosedJaxpr) -> ClosedJaxpr:
    j = closed.jaxpr
    known = dict(zip(j.constvars, closed.consts))
    if not any(isinstance(c, np.ndarray) or np.isscalar(c) for c in closed.consts) and \
            not any(all(type(a) is Literal for a in e.invars) and e.invars for e in j.eqns):
        return closed
    subst = {}
    eqns = []
    for eqn in j.eqns:
        invars = [subst.get(a, a) if type(a) is Var else a for a in eqn.invars]
        all_known = bool(invars)     # (a loop first: most eqns read a runtime value)
        for a in invars:
            if type(a) is not Literal and a not in known:
                all_known = False
                break
        # (calls are inlined instead; a primitive may decline, e.g. broadcasts, views at
        # run time that folding would materialize)
        foldable = (all_known and eqn.primitive.inline is None and eqn.primitive.foldable
                    and all(v.aval.size <= _MAX_FOLD_SIZE for v in eqn.outvars)
                    and not any(hasattr(known.get(a), "_trace") for a in invars)
                    and not has_effects(eqn))
        if foldable:
            vals = [a.val if type(a) is Literal else known[a] for a in invars]
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = eqn.primitive.impl(*vals, **eqn.params)
            except Exception:  # noqa: BLE001 - leave it to run time, which raises properly
                out = None
            if out is not None:
                outs = out if eqn.primitive.multiple_results else [out]
                for v, o in zip(eqn.outvars, outs):
                    lit = literal_or_none(o) if v.aval.shape == () else None
                    if lit is not None and lit.aval.strengthen() == v.aval.strengthen():
                        subst[v] = Literal(lit.val, v.aval)
                    else:
                        known[v] = o
                continue
        eqns.append(eqn.replace(invars=invars) if invars != eqn.invars else eqn)
    outvars = [subst.get(v, v) if type(v) is Var else v for v in j.outvars]
    constvars = [v for v in known]
    new = Jaxpr(constvars, j.invars, outvars, eqns)
    return ClosedJaxpr(new, [known[v] for v in constvars])
