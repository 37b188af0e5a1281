"""Forward mode: evaluate a jaxpr on (primal, tangent) pairs with each primitive's jvp rule.

``jvp_eval`` is an interpreter.  Run eagerly (no trace active) it computes a
Jacobian-vector product with NumPy; run under a trace it *records* the jvp program, so
``jvp_jaxpr`` is just ``jvp_eval`` traced: one mechanism for both.  Tangents are
``Zero`` where symbolically zero; eqns with only zero tangents are evaluated as plain
primal ops.
"""
from __future__ import annotations

from ..core.ad_types import Zero
from ..core.errors import GradientError
from ..core.ir import ClosedJaxpr, eval_eqns, Var
from ..core.trace import memo_outputs, source_context, trace_flat
from ..primitives.base import instantiate as inst


def jvp_eval(jaxpr, consts, primals, tangents, known=None):
    """Returns ``(primal_outs, tangent_outs)``.

    ``known`` (optional) maps vars of ``jaxpr`` to values computed when it was traced:
    those eqns are not run again (the rules see the known outputs through
    ``memo_outputs``), so eager ``jvp``/``grad`` run the forward pass once.
    """
    tenv = {v: t for v, t in zip(jaxpr.invars, tangents) if type(t) is not Zero}
    def apply(eqn, invals):
        prim = eqn.primitive
        tans = [tenv.get(v) if type(v) is Var else None for v in eqn.invars]
        known_out = None
        if known is not None and not eqn.outvars:
            return []       # an effect (debug_callback): it ran when traced
        if known is not None and eqn.outvars[0] in known:
            known_out = [known[v] for v in eqn.outvars]
            if not prim.multiple_results:
                known_out = known_out[0]
        for t in tans:      # (a loop, not all(...): this runs once per eqn)
            if t is not None:
                break
        else:
            if known_out is not None:
                return known_out
            with source_context(eqn.source_info):
                return prim.bind(*invals, **eqn.params)
        if prim.jvp is None:
            raise GradientError(
                f"funcdiff cannot differentiate `{prim.name}` (no jvp rule), used at "
                f"{eqn.source_info}.  Wrap that computation in funcdiff.stop_gradient if "
                "its derivative is not needed, or give it a rule with "
                "funcdiff.custom_jvp.")
        tans = [Zero(v.aval.strengthen()) if t is None else t
                for v, t in zip(eqn.invars, tans)]
        with source_context(eqn.source_info):
            if known_out is not None:
                with memo_outputs(prim, invals, eqn.params, known_out):
                    outs, touts = prim.jvp(invals, tans, **eqn.params)
            else:
                outs, touts = prim.jvp(invals, tans, **eqn.params)
        for v, t in zip(eqn.outvars, touts if prim.multiple_results else [touts]):
            if type(t) is not Zero:
                tenv[v] = t
        # the known values are what the rule's primal outputs compute: using them leaves
        # the rule's own primal work dead (a differentiated while_loop's primal loop is
        # not run again)
        return outs if known_out is None else known_out

    p_out = eval_eqns(jaxpr, consts, primals, apply, (tenv,))
    t_out = [(tenv.get(v) if type(v) is Var else None) for v in jaxpr.outvars]
    t_out = [Zero(v.aval.strengthen()) if t is None else t
             for v, t in zip(jaxpr.outvars, t_out)]
    return p_out, t_out


def jvp_jaxpr(closed: ClosedJaxpr, nonzeros, instantiate=True):
    """IR -> IR: ``(primals..., nonzero tangents...) -> (outs..., tangent outs...)``.

    ``nonzeros[i]`` says whether input i has a tangent.  With ``instantiate`` every
    tangent output is materialised; otherwise zero ones are dropped and the returned
    ``out_nonzeros`` says which remain.
    """
    in_avals = closed.in_avals
    n = len(in_avals)
    t_avals = [a.strengthen() for a, nz in zip(in_avals, nonzeros) if nz]
    out_nz = []

    def fun(*args):
        primals, rest = list(args[:n]), iter(args[n:])
        tans = [next(rest) if nz else Zero(a.strengthen()) for a, nz in zip(in_avals, nonzeros)]
        outs, touts = jvp_eval(closed.jaxpr, closed.consts, primals, tans)
        if instantiate:
            touts = [inst(t) for t in touts]
            out_nz.extend([True] * len(touts))
        else:
            out_nz.extend(type(t) is not Zero for t in touts)
            touts = [t for t in touts if type(t) is not Zero]
        return outs + touts

    new, _, _ = trace_flat(fun, list(in_avals) + t_avals, kind="jvp")
    return new, out_nz
