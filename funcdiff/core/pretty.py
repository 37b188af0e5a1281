"""Printing jaxprs the way JAX's ``make_jaxpr`` does.

Names ``a b c ... z ba bb ...`` are given at print time; binders nobody reads print as
``_``; params are sorted; params holding jaxprs print nested and indented.
"""
from __future__ import annotations

import numpy as np

from .avals import short_dtype
from .ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name(i: int) -> str:
    s = ""
    while True:
        s = _LETTERS[i % 26] + s
        i //= 26
        if i == 0:
            return s


class _Namer:
    def __init__(self):
        self.names = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            return pp_literal(v)
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = _name(len(self.names))
        return n


def pp_literal(lit: Literal) -> str:
    val = lit.val
    if isinstance(val, np.generic):
        s = repr(val.item())
    else:
        s = repr(val)
    if lit.aval.weak_type:
        return s
    return f"{s}:{short_dtype(lit.aval.dtype)}"


def _pp_param(v, indent, namer) -> str:
    if isinstance(v, ClosedJaxpr):
        v = v.jaxpr
    if isinstance(v, Jaxpr):
        return "\n" + _pp_jaxpr(v, indent + 4, _Namer())
    if isinstance(v, (tuple, list)) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
        return "(" + ",".join(_pp_param(x, indent, namer) for x in v) + ")"
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    return str(v)


def pp_eqn(eqn: Eqn, namer=None, indent=0, used=None, source=False) -> str:
    namer = namer or _Namer()

    def binder(v):
        if used is not None and v not in used:
            return f"_:{v.aval.str_short()}"
        return f"{namer(v)}:{v.aval.str_short()}"

    lhs = " ".join(binder(v) for v in eqn.outvars)
    params = ""
    if eqn.params:
        items = [f"{k}={_pp_param(eqn.params[k], indent, namer)}" for k in sorted(eqn.params)]
        params = "[" + ", ".join(items) + "]"
    rhs = " ".join(namer(v) for v in eqn.invars)
    line = f"{lhs} = {eqn.primitive.name}{params} {rhs}".rstrip()
    if source and eqn.source_info is not None:
        line += f"  # {eqn.source_info}"
    return line


def _pp_jaxpr(jaxpr: Jaxpr, indent: int, namer: _Namer, source=False) -> str:
    used = {v for e in jaxpr.eqns for v in e.invars if isinstance(v, Var)}
    used |= {v for v in jaxpr.outvars if isinstance(v, Var)}
    pad = " " * indent

    def binder(v):
        return f"{namer(v)}:{v.aval.str_short()}"

    consts = " ".join(binder(v) for v in jaxpr.constvars)
    ins = " ".join(binder(v) for v in jaxpr.invars)
    lines = [f"{pad}{{ lambda {consts}; {ins}. let"]
    for e in jaxpr.eqns:
        lines.append(pad + "    " + pp_eqn(e, namer, indent + 4, used, source))
    outs = ", ".join(namer(v) for v in jaxpr.outvars)   # JAX: (a,) and (a, b)
    lines.append(f"{pad}  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return "\n".join(lines)


def pp_jaxpr(jaxpr, source: bool = False) -> str:
    """Text of a (closed) jaxpr; ``source=True`` appends each eqn's user line."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    return _pp_jaxpr(jaxpr, 0, _Namer(), source)
