"""Inlining: splice the jaxprs of call-like eqns (nested ``jit``, custom_jvp/vjp calls,
checkpoint) into the caller.  Iterative (a work list, not recursion), so 1,000 nested
calls inline fine.  A primitive opts in with ``prim.inline(eqn) -> (jaxpr, operands)``."""
from __future__ import annotations

from collections import deque

from ...core.ir import ClosedJaxpr, Jaxpr, Var


def inline_calls(closed: ClosedJaxpr) -> ClosedJaxpr:
    j = closed.jaxpr
    if not any(e.primitive.inline for e in j.eqns):
        return closed
    subst = {}

    def sub(a):
        while type(a) is Var and a in subst:
            a = subst[a]
        return a

    work = deque(j.eqns)
    out = []
    while work:
        eqn = work.popleft()
        inline = eqn.primitive.inline
        if inline is None:
            out.append(eqn.replace(invars=[sub(a) for a in eqn.invars]))
            continue
        sub_jaxpr, operands = inline(eqn)
        env = {}
        for v, a in zip(sub_jaxpr.invars, operands):
            env[v] = sub(a)

        def rn(a):
            return env.get(a, a) if type(a) is Var else a

        renamed = []
        for e in sub_jaxpr.eqns:
            new_out = [Var(v.aval) for v in e.outvars]
            renamed.append(e.replace(invars=[rn(a) for a in e.invars], outvars=new_out))
            env.update(zip(e.outvars, new_out))
        for v, so in zip(eqn.outvars, sub_jaxpr.outvars):
            subst[v] = rn(so)
        work.extendleft(reversed(renamed))
    new = Jaxpr(j.constvars, j.invars, [sub(v) for v in j.outvars], out)
    return ClosedJaxpr(new, closed.consts)
