"""Transposition: run a linear jaxpr backwards with each linear primitive's transpose rule.

``backward_pass`` is the interpreter (the eval loop run in reverse, with
``UndefPrimal`` marking the linear inputs); ``transpose_jaxpr`` traces it, giving the
backward jaxpr ``(residuals..., cotangents...) -> input cotangents``.  Every eqn of the
linear jaxpr reads at least one linear var (partial evaluation guarantees it); the other
operands are residuals, read from the forward values.
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
        def read(v):
            return env[v] if type(v) is Var else v.val
    for eqn in jaxpr.eqns:  # every eqn output is linear
        linear.update(eqn.outvars)

    ct_env: dict = {}
    for v, ct in zip(jaxpr.outvars, cts_out):
        if type(v) is Var and v in linear:
            _add_ct(ct_env, v, ct)

    for eqn in reversed(jaxpr.eqns):
        prim = eqn.primitive
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
