"""Dead-code elimination (eqns with effects kept: ``transforms.dce``), and unused
constants dropped."""
from __future__ import annotations

from ...core.ir import ClosedJaxpr, Jaxpr
from ...transforms.dce import dce_jaxpr


def dce(closed: ClosedJaxpr) -> ClosedJaxpr:
    j = dce_jaxpr(closed.jaxpr)
    used = {v for e in j.eqns for v in e.invars} | set(j.outvars)
    keep = [(v, c) for v, c in zip(j.constvars, closed.consts) if v in used]
    return ClosedJaxpr(Jaxpr([v for v, _ in keep], j.invars, j.outvars, j.eqns),
                       [c for _, c in keep])
