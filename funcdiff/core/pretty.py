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


class _Text:
    """A nested jaxpr param, printed on its own lines: kept as a list of lines (joined
    once at the top), so printing a deeply nested jaxpr costs its size, not size x depth
    (1,000 nested ``jit`` calls print in milliseconds)."""

    __slots__ = ("lines",)

    def __init__(self, lines):
        self.lines = lines


def _pp_param(v, indent, namer):
    if isinstance(v, ClosedJaxpr):
        v = v.jaxpr
    if isinstance(v, Jaxpr):
        out = [""]
        _pp_jaxpr_lines(v, indent + 4, _Namer(), False, out)
        return _Text(out)
    if isinstance(v, (tuple, list)) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
        parts = [_pp_param(x, indent, namer) for x in v]
        out = ["("]
        for i, p in enumerate(parts):
            if i:
                out[-1] += ","
            out[-1] += p.lines[0]
            out.extend(p.lines[1:])
        out[-1] += ")"
        return _Text(out)
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    return str(v)


def _eqn_lines(eqn: Eqn, namer, indent, used, source):
    """The eqn as a list of lines (more than one when a param holds a jaxpr)."""

    def binder(v):
        if used is not None and v not in used:
            return f"_:{v.aval.str_short()}"
        return f"{namer(v)}:{v.aval.str_short()}"

    lhs = " ".join(binder(v) for v in eqn.outvars)
    lines = [f"{lhs} = {eqn.primitive.name}"]
    if eqn.params:
        lines[-1] += "["
        for i, k in enumerate(sorted(eqn.params)):
            p = _pp_param(eqn.params[k], indent, namer)
            lines[-1] += (", " if i else "") + f"{k}="
            if isinstance(p, _Text):
                lines[-1] += p.lines[0]
                lines.extend(p.lines[1:])
            else:
                lines[-1] += p
        lines[-1] += "]"
    rhs = " ".join(namer(v) for v in eqn.invars)
    lines[-1] = f"{lines[-1]} {rhs}".rstrip()
    if source and eqn.source_info is not None:
        lines[-1] += f"  # {eqn.source_info}"
    return lines


def pp_eqn(eqn: Eqn, namer=None, indent=0, used=None, source=False) -> str:
    return "\n".join(_eqn_lines(eqn, namer or _Namer(), indent, used, source))


def _pp_jaxpr_lines(jaxpr: Jaxpr, indent: int, namer: _Namer, source, out):
    used = {v for e in jaxpr.eqns for v in e.invars if isinstance(v, Var)}
    used |= {v for v in jaxpr.outvars if isinstance(v, Var)}
    pad = " " * indent

    def binder(v):
        return f"{namer(v)}:{v.aval.str_short()}"

    consts = " ".join(binder(v) for v in jaxpr.constvars)
    ins = " ".join(binder(v) for v in jaxpr.invars)
    out.append(f"{pad}{{ lambda {consts}; {ins}. let")
    for e in jaxpr.eqns:
        lines = _eqn_lines(e, namer, indent + 4, used, source)
        out.append(pad + "    " + lines[0])
        out.extend(lines[1:])
    outs = ", ".join(namer(v) for v in jaxpr.outvars)   # JAX: (a,) and (a, b)
    out.append(f"{pad}  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return out


def _pp_jaxpr(jaxpr: Jaxpr, indent: int, namer: _Namer, source=False) -> str:
    return "\n".join(_pp_jaxpr_lines(jaxpr, indent, namer, source, []))


def pp_jaxpr(jaxpr, source: bool = False) -> str:
    """Text of a (closed) jaxpr; ``source=True`` appends each eqn's user line."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    return _pp_jaxpr(jaxpr, 0, _Namer(), source)
