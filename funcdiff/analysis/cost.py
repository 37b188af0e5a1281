"""Cost analysis: what running a jaxpr costs, predicted from the IR alone.

``jaxpr_cost(jaxpr)`` returns a dict:

=================  =================================================================
``flops``          floating-point operations, from each primitive's ``cost`` rule:
                   ``dot_general`` 2*m*n*k, elementwise one per output element (a
                   transcendental included), reductions one per input element, shape
                   ops none; eqns holding jaxprs (calls, checkpoint) add up their body
``transcendentals``  the elementwise ops among those that are transcendental (exp, log,
                   sin, tanh, ...), counted separately as XLA does
``bytes_accessed`` bytes read plus bytes written by every eqn that moves data (views:
                   reshape, transpose, broadcast, slice, ... move none)
``peak_bytes``     the largest total of live intermediates (outputs included, inputs
                   and constants not: they exist before the call) while the generated
                   code runs: each value freed after its last use, views sharing their
                   base's buffer, large elementwise results written ``out=`` into a
                   dying operand's buffer -- ``jit``'s memory model
                   (``funcdiff.jit.memory``), which its code generator follows, so it
                   is what ``tracemalloc`` measures for ``jit(f)``
``saved_bytes``    what a reverse pass of this function keeps from its forward half to
                   its backward half: the bytes of the residuals of ``vjp`` w.r.t. every
                   floating-point input (arguments and constants, which exist anyway,
                   not counted), from linearizing the program before ``jit``'s
                   optimizations; ``checkpoint`` lowers it
``n_eqns``         eqns at top level (``n_eqns_total`` counts those inside calls too)
=================  =================================================================

plus ``input_bytes``, ``output_bytes`` and ``consts_bytes``.  ``funcdiff.cost_analysis(f)``
(``funcdiff.api.jit``) traces ``f`` (any function, transformed or not:
``cost_analysis(jacfwd(f))``), runs ``jit``'s optimization pipeline and returns
``jaxpr_cost`` of the result, the same numbers as ``jit(f).lower(*args).cost_analysis()``.
"""
from __future__ import annotations

import threading

from ..core.ir import ClosedJaxpr, Jaxpr, Var
from ..jit.memory import alias_source, owns, viewed_vars
from .residuals import saved_residuals_jaxpr


def _sub_jaxprs(eqn):
    """The jaxprs an eqn holds (calls: one; control flow: several)."""
    out = []
    for v in eqn.params.values():
        if isinstance(v, ClosedJaxpr):
            out.append(v.jaxpr)
        elif isinstance(v, Jaxpr):
            out.append(v)
        elif isinstance(v, (tuple, list)) and v and all(
                isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
            out.extend(x.jaxpr if isinstance(x, ClosedJaxpr) else x for x in v)
    return out


def _eqn_cost(eqn):
    """(flops, transcendentals, bytes_accessed, transient peak bytes, n_eqns inside).

    Eqns holding jaxprs: flops from the primitive's own rule when it has one (control
    flow knows its trip count), else the bodies' sum (times ``length``; the dearest
    branch of a ``cond``); bytes and eqn counts from the bodies; the transient peak is
    the largest body peak (a body's intermediates live only while it runs)."""
    rule = eqn.primitive.cost
    subs = _sub_jaxprs(eqn)
    avals_in = [v.aval for v in eqn.invars]
    avals_out = [v.aval for v in eqn.outvars]
    if subs:
        costs = [_cost(s) for s in subs]
        reps = int(eqn.params.get("length", 1) or 1)
        if "branches" in eqn.params:        # one branch runs: count the dearest
            c = max(costs, key=lambda c: c["flops"])
            f, t, acc = c["flops"], c["transcendentals"], c["bytes_accessed"]
        else:
            f = reps * sum(c["flops"] for c in costs)
            t = reps * sum(c["transcendentals"] for c in costs)
            acc = reps * sum(c["bytes_accessed"] for c in costs)
        peak = max(c["peak_bytes"] for c in costs)
        if rule is not None:     # (control flow: knows how its bodies' costs combine;
            # a blocked loop, what it reads, writes and keeps while it runs)
            r = rule(avals_in, avals_out, sub_cost=_cost, **eqn.params)
            f, t = int(r.get("flops", f)), int(r.get("transcendentals", t))
            acc, peak = int(r.get("bytes_accessed", acc)), int(r.get("peak_bytes", peak))
        return (f, t, acc, peak, 1 + sum(c["n_eqns_total"] for c in costs))
    if rule is None:
        c = {"flops": sum(a.size for a in avals_out), "transcendentals": 0}
    else:
        c = rule(avals_in, avals_out, **eqn.params)
    if eqn.primitive.returns_view:
        accessed = 0
    else:
        accessed = sum(a.nbytes for a in avals_in) + sum(a.nbytes for a in avals_out)
    return (int(c.get("flops", 0)), int(c.get("transcendentals", 0)),
            int(c.get("bytes_accessed", accessed)), 0, 1)


def _cost(jaxpr) -> dict:
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    flops = trans = accessed = n_total = 0
    outputs = {v for v in jaxpr.outvars if type(v) is Var}
    viewed = viewed_vars(jaxpr)
    external = set(jaxpr.invars) | set(jaxpr.constvars)
    buf_of = {v: v for v in external}
    refs = {v: 1 for v in external}
    size = {}
    owned = set()
    cur = peak = 0

    def release(v):
        nonlocal cur
        b = buf_of.pop(v, None)
        if b is None:
            return
        refs[b] -= 1
        if refs[b] == 0 and b not in external:
            cur -= size.pop(b)

    for eqn, dead in zip(jaxpr.eqns, jaxpr.last_use()):
        f, t, acc, transient, n_in = _eqn_cost(eqn)
        flops += f
        trans += t
        accessed += acc
        n_total += n_in
        peak = max(peak, cur + transient)
        dead_set = set(dead)
        for i, out in enumerate(eqn.outvars):
            src = alias_source(eqn, i, owned, viewed, dead_set, outputs)
            if src is not None and src in buf_of:
                b = buf_of[src]
                buf_of[out] = b
                refs[b] += 1
            else:
                buf_of[out] = out
                refs[out] = 1
                size[out] = out.aval.nbytes
                cur += out.aval.nbytes
            if owns(eqn, out):
                owned.add(out)
        peak = max(peak, cur)
        for v in dead:
            if v not in outputs:
                release(v)
    return {"flops": flops, "transcendentals": trans, "bytes_accessed": accessed,
            "peak_bytes": peak, "n_eqns": len(jaxpr.eqns), "n_eqns_total": n_total}


def saved_bytes(jaxpr) -> int | None:
    """Bytes of the residuals a reverse pass of ``jaxpr`` keeps (intermediates only;
    arguments and constants exist anyway), or None when it cannot be differentiated."""
    try:
        res = saved_residuals_jaxpr(jaxpr)
    except Exception:  # noqa: BLE001 - e.g. a primitive without a jvp rule
        return None
    return sum(r.nbytes for r in res if r.kind == "intermediate")


_depth = threading.local()


def jaxpr_cost(jaxpr, saved=None, saved_from=None) -> dict:
    """The cost dict of a (closed) jaxpr: see the module docstring.  ``saved_bytes``
    linearizes the jaxpr (a little tracing): it is computed at top level only, unless
    ``saved`` says otherwise (primitives' cost rules call this on their bodies).
    ``saved_from``: the same program before optimization, to linearize instead (an
    optimized jaxpr may hold primitives with no derivative, e.g. numexpr-fused
    expressions)."""
    j = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    depth = getattr(_depth, "n", 0)
    if saved is None:
        saved = depth == 0
    _depth.n = depth + 1
    try:
        out = _cost(j)
    finally:
        _depth.n = depth
    out["input_bytes"] = sum(v.aval.nbytes for v in j.invars)
    out["consts_bytes"] = sum(v.aval.nbytes for v in j.constvars)
    out["output_bytes"] = sum(v.aval.nbytes for v in {v for v in j.outvars
                                                      if type(v) is Var})
    if saved:
        out["saved_bytes"] = saved_bytes(jaxpr if saved_from is None else saved_from)
    return out
