"""``eval_jaxpr``: the reference executor.

An iterative read/write loop over the eqns (no recursion, so 100,000-eqn jaxprs run)
that deletes every intermediate right after its last use, so peak memory follows the
IR's liveness.  With no trace active it calls each primitive's NumPy ``impl``; under an
enclosing trace it ``bind``s, so evaluating a transformed jaxpr on tracers records it.
"""
from __future__ import annotations

from .ir import Var
from .trace import bind, state


def eval_jaxpr(jaxpr, consts, *args):
    """Run ``jaxpr`` on ``consts`` and ``args``; returns the list of outputs."""
    env = {}
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    dying = jaxpr.last_use()
    tracing = bool(state.stack)
    for eqn, dead in zip(jaxpr.eqns, dying):
        invals = [env[v] if type(v) is Var else v.val for v in eqn.invars]
        prim = eqn.primitive
        if tracing:
            prev = state.source_override
            state.source_override = eqn.source_info
            try:
                out = bind(prim, invals, eqn.params)
            finally:
                state.source_override = prev
        else:
            out = bind(prim, invals, eqn.params)
        if prim.multiple_results:
            for v, x in zip(eqn.outvars, out):
                env[v] = x
        else:
            env[eqn.outvars[0]] = out
        for v in dead:
            del env[v]
    return [env[v] if type(v) is Var else v.val for v in jaxpr.outvars]


def eval_closed(closed, *args):
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def eval_jaxpr_impl(jaxpr, consts, *args):
    """Run ``jaxpr`` on concrete values with each primitive's NumPy ``impl``, recording
    nothing even if a trace is active: the ``impl`` of primitives that hold jaxprs."""
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn, dead in zip(jaxpr.eqns, jaxpr.last_use()):
        out = eqn.primitive.impl(*[env[v] if type(v) is Var else v.val for v in eqn.invars],
                                 **eqn.params)
        if eqn.primitive.multiple_results:
            env.update(zip(eqn.outvars, out))
        else:
            env[eqn.outvars[0]] = out
        for v in dead:
            del env[v]
    return [env[v] if type(v) is Var else v.val for v in jaxpr.outvars]
