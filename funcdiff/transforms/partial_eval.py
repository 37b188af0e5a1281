"""Partial evaluation: split a jaxpr by dataflow into a known and an unknown part.

Given which inputs are unknown (for linearization: the tangents), every eqn that reads an
unknown var is unknown; the rest are known.  Known vars read by unknown eqns become
*residuals*: outputs of the known jaxpr and leading inputs of the unknown one::

    known:   (constvars; known invars)      -> (known outs..., residuals...)
    unknown: (residuals..., unknown invars) -> (unknown outs...)

Primitives that hold jaxprs (calls, checkpoint, control flow) may define
``partial_eval(eqn, unknowns_in) -> (known_eqns, unknown_eqns, residual vars)`` to split
themselves instead of going entirely to the unknown side.
"""
from __future__ import annotations

from ..core.errors import FuncdiffError
from ..core.ir import Jaxpr, Literal, Var


def partial_eval_jaxpr(jaxpr: Jaxpr, unknowns_in, instantiate):
    """Split ``jaxpr``.  ``instantiate[i]`` forces output i to the unknown side (a known
    value there becomes a residual passed through); ``instantiate=None`` sends each
    output where its dataflow puts it.  Returns
    ``(known_jaxpr, unknown_jaxpr, out_unknowns, residuals)``."""
    unknown = {v for v, u in zip(jaxpr.invars, unknowns_in) if u}
    known_eqns, unknown_eqns = [], []
    for eqn in jaxpr.eqns:
        ins_unknown = [type(v) is Var and v in unknown for v in eqn.invars]
        if not any(ins_unknown):
            known_eqns.append(eqn)
            continue
        rule = eqn.primitive.partial_eval
        if rule is not None and not all(ins_unknown):
            k_eqns, u_eqns, u_outs = rule(eqn, ins_unknown)
            known_eqns.extend(k_eqns)
            unknown_eqns.extend(u_eqns)
            unknown.update(u_outs)
        else:
            unknown_eqns.append(eqn)
            unknown.update(eqn.outvars)

    out_unknowns = []
    if instantiate is None:
        instantiate = [None] * len(jaxpr.outvars)
    for v, inst in zip(jaxpr.outvars, instantiate):
        is_unknown = type(v) is Var and v in unknown
        if inst is None:
            out_unknowns.append(is_unknown)
            continue
        if is_unknown and not inst:
            raise FuncdiffError("partial_eval: an output expected known depends on unknown "
                                "inputs")
        out_unknowns.append(bool(inst))

    # residuals: known vars read on the unknown side, in first-use order
    residuals, seen = [], set()

    def note(v):
        if type(v) is Var and v not in unknown and v not in seen:
            seen.add(v)
            residuals.append(v)

    for eqn in unknown_eqns:
        for v in eqn.invars:
            note(v)
    for v, u in zip(jaxpr.outvars, out_unknowns):
        if u:
            note(v)

    known_outs = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known = Jaxpr(jaxpr.constvars, [v for v, u in zip(jaxpr.invars, unknowns_in) if not u],
                  known_outs + residuals, known_eqns)
    # the unknown side gets fresh binders for residuals so each jaxpr is self-contained
    unknown_jaxpr = Jaxpr([], residuals + [v for v, u in zip(jaxpr.invars, unknowns_in) if u],
                          [v for v, u in zip(jaxpr.outvars, out_unknowns) if u], unknown_eqns)
    return known, unknown_jaxpr, out_unknowns, residuals


def is_literal(v) -> bool:
    return isinstance(v, Literal)
