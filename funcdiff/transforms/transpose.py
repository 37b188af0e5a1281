"""Transposition: run a linear jaxpr backwards with each linear primitive's transpose rule.

``backward_pass`` is the interpreter (the eval loop run in reverse, with
``UndefPrimal`` marking the linear inputs); ``transpose_jaxpr`` traces it, giving the
backward jaxpr ``(residuals..., cotangents...) -> input cotangents``.  An eqn of the
linear jaxpr that reads no linear var computes from residuals only (eager
linearization replays ``1 - y**2`` from ``y`` there instead of saving it): it runs
when the reverse sweep first needs its result; the others run backwards.
"""
from __future__ import annotations

from ..core.ad_types import UndefPrimal, Zero
from ..core.errors import GradientError
from ..core.ir import Jaxpr, Var
from ..core.trace import source_context, trace_flat
from ..primitives.base import add, instantiate


def _add_ct(env, v, ct):
    if ct is None or type(ct) is Zero:
        return
    prev = env.get(v)
    if prev is None:
        env[v] = ct
    else:
        env[v] = add(prev, ct)


def _run_pending(v, pending, env):
    """Compute ``v`` (and what it needs) from the pending non-linear eqns, iteratively
    (a deep chain must not hit Python's recursion limit)."""
    stack = [pending[v]]
    while stack:
        eqn = stack[-1]
        missing = [a for a in eqn.invars if type(a) is Var and a not in env]
        if missing:
            stack.extend(pending[a] for a in missing)
            continue
        stack.pop()
        if eqn.outvars[0] in env:
            continue
        with source_context(eqn.source_info):
            out = eqn.primitive.bind(*[a.val if type(a) is not Var else env[a]
                                       for a in eqn.invars], **eqn.params)
        env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]))


def backward_pass(jaxpr: Jaxpr, consts, args, cts_out, read=None, where=""):
    """``args`` gives values for non-linear invars and ``UndefPrimal`` for linear ones;
    returns cotangents for the linear invars (``Zero`` where nothing flowed) and None for
    the others.  ``read(var)``, when given, supplies the non-linear operands instead of
    ``consts``/``args`` (checkpoint recomputes them on demand); ``where`` is added to the
    error message."""
    env = dict(zip(jaxpr.constvars, consts))
    linear = set()
    for v, x in zip(jaxpr.invars, args):
        if type(x) is UndefPrimal:
            linear.add(v)
        else:
            env[v] = x
    if read is None:
        # eqns reading no linear var compute from residuals only (eager linearization
        # replays ``1 - y**2`` there): each runs when the reverse sweep first reads its
        # result, so it lives only while it is needed
        pending = {}
        for eqn in jaxpr.eqns:
            for v in eqn.invars:
                if type(v) is Var and v in linear:
                    linear.update(eqn.outvars)
                    break
            else:
                for v in eqn.outvars:
                    pending[v] = eqn

        def read(v):
            if type(v) is not Var:
                return v.val
            if v not in env:
                _run_pending(v, pending, env)
            return env[v]
    else:       # (checkpoint: ``read`` recomputes the non-linear values on demand)
        for eqn in jaxpr.eqns:
            linear.update(eqn.outvars)

    ct_env: dict = {}
    for v, ct in zip(jaxpr.outvars, cts_out):
        if type(v) is Var and v in linear:
            _add_ct(ct_env, v, ct)

    for eqn in reversed(jaxpr.eqns):
        prim = eqn.primitive
        if eqn.outvars and eqn.outvars[0] not in linear:
            continue        # (non-linear: computed by ``read`` when needed)
        if prim.effectful and any(type(v) is Var and v in linear for v in eqn.invars):
            # (as JAX: reverse mode runs the linear program backwards, where a callback
            # of tangents has no meaning; skipping it would drop the print silently)
            raise GradientError(
                f"reverse mode cannot run `{prim.name}` (at {eqn.source_info}){where}: it "
                "is called on a tangent (e.g. funcdiff.debug.print inside a custom_jvp "
                "rule, on the tangent), which reverse mode never computes.  Print primal "
                "values, or use forward mode (jvp/jacfwd) to see tangents.")
        cts = [ct_env.pop(v, None) for v in eqn.outvars]
        if all(c is None for c in cts):
            continue
        if prim.transpose is None:
            raise GradientError(
                f"reverse mode cannot transpose `{prim.name}` (used at {eqn.source_info})"
                f"{where}: it is not linear in the differentiated inputs.  This is a "
                "funcdiff bug if it comes from built-in functions; for custom rules, make "
                "the tangent computation linear.")
        invals = [UndefPrimal(v.aval) if (type(v) is Var and v in linear) else read(v)
                  for v in eqn.invars]
        if prim.multiple_results:
            ct_arg = [Zero(v.aval.strengthen()) if c is None else c
                      for v, c in zip(eqn.outvars, cts)]
        else:
            ct_arg = cts[0]
        with source_context(eqn.source_info):
            cts_in = prim.transpose(ct_arg, *invals, **eqn.params)
        for v, x, c in zip(eqn.invars, invals, cts_in):
            if type(x) is UndefPrimal:
                _add_ct(ct_env, v, c)
    return [ct_env.get(v, Zero(v.aval.strengthen())) if type(x) is UndefPrimal else None
            for v, x in zip(jaxpr.invars, args)]


def transpose_jaxpr(jaxpr: Jaxpr, num_res: int, ct_avals=None):
    """IR -> IR: a jaxpr ``(residuals..., linear inputs...) -> outs`` linear in the
    inputs becomes ``(residuals..., cts...) -> (input cts...)``, with zeros instantiated."""
    res_avals = [v.aval for v in jaxpr.invars[:num_res]]
    lin_avals = [v.aval for v in jaxpr.invars[num_res:]]
    if ct_avals is None:
        ct_avals = [v.aval.strengthen() for v in jaxpr.outvars]

    def fun(*args):
        res, cts = list(args[:num_res]), list(args[num_res:])
        ins = res + [UndefPrimal(a) for a in lin_avals]
        out = backward_pass(jaxpr, [], ins, cts)[num_res:]
        return [instantiate(c) for c in out]

    closed, _, _ = trace_flat(fun, res_avals + list(ct_avals), kind="transpose")
    return closed
