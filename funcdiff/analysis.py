"""Cost analysis: flops, bytes and peak memory of a jaxpr, from each primitive's ``cost``
rule and the executor's liveness-based freeing schedule (the same ``last_use`` the
interpreter and the generated code follow)."""
from __future__ import annotations

import functools

from .core.ir import ClosedJaxpr, Var


def _eqn_cost(eqn):
    avals_in = [v.aval for v in eqn.invars]
    avals_out = [v.aval for v in eqn.outvars]
    rule = eqn.primitive.cost
    if rule is None:
        sub = eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr")
        if sub is not None:
            c = jaxpr_cost(sub)
            return {"flops": c["flops"], "transcendentals": c["transcendentals"]}
        return {"flops": sum(a.size for a in avals_out), "transcendentals": 0}
    return rule(avals_in, avals_out, **eqn.params)


def jaxpr_cost(jaxpr) -> dict:
    """``flops``, ``transcendentals``, ``bytes_accessed``, ``peak_bytes`` (largest total of
    live intermediates, inputs and consts included), ``n_eqns``."""
    consts_bytes = 0
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    flops = trans = accessed = 0
    live = {}
    for v in list(jaxpr.constvars) + list(jaxpr.invars):
        live[v] = v.aval.nbytes
    consts_bytes = sum(v.aval.nbytes for v in jaxpr.constvars)
    cur = sum(live.values())
    peak = cur
    outs = {v for v in jaxpr.outvars if type(v) is Var}
    for eqn, dead in zip(jaxpr.eqns, jaxpr.last_use()):
        c = _eqn_cost(eqn)
        flops += int(c.get("flops", 0))
        trans += int(c.get("transcendentals", 0))
        accessed += sum(v.aval.nbytes for v in eqn.invars) + \
            sum(v.aval.nbytes for v in eqn.outvars)
        for v in eqn.outvars:
            live[v] = v.aval.nbytes
            cur += v.aval.nbytes
        peak = max(peak, cur)
        for v in dead:
            if v in live and v not in outs:
                cur -= live.pop(v)
    return {"flops": flops, "transcendentals": trans, "bytes_accessed": accessed,
            "peak_bytes": peak, "consts_bytes": consts_bytes, "n_eqns": len(jaxpr.eqns)}


def cost_analysis(f):
    """``cost_analysis(f)(*args)`` -> dict of predicted costs of running ``f`` (any
    function, transformed or not) on arguments like ``args``."""
    from .api import make_jaxpr

    @functools.wraps(f)
    def wrapped(*args):
        closed = make_jaxpr(f)(*args)
        from .jit.passes import optimize
        return jaxpr_cost(optimize(closed))

    return wrapped
