"""Elementwise fusion into numexpr expressions (when numexpr is installed).

A chain of elementwise eqns on large float64 arrays whose intermediates are each used
once becomes one ``numexpr_fused`` eqn evaluating a single expression: one pass over
memory, on all cores, instead of one NumPy call and one temporary per op.  The fused
eqn sits where the chain's last eqn was (every input of the chain is defined before
it).  Only exact rewrites: the ops numexpr computes like NumPy in float64, operands of
the output's shape or Python scalars (no other broadcasting), no weak types.
"""
from __future__ import annotations

import numpy as np

from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from ...core.primitive import Primitive

try:  # optional extra `fast`
    import numexpr as _ne
except ImportError:  # pragma: no cover - exercised in runs without numexpr
    _ne = None

FUSE_MIN_SIZE = 1 << 16   # elements: below this numexpr's call overhead dominates

_UNARY = {"neg": "(-{0})", "sin": "sin({0})", "cos": "cos({0})", "tan": "tan({0})",
          "asin": "arcsin({0})", "acos": "arccos({0})", "atan": "arctan({0})",
          "sinh": "sinh({0})", "cosh": "cosh({0})", "tanh": "tanh({0})",
          "asinh": "arcsinh({0})", "acosh": "arccosh({0})", "atanh": "arctanh({0})",
          "exp": "exp({0})", "expm1": "expm1({0})", "log": "log({0})",
          "log1p": "log1p({0})", "log10": "log10({0})", "sqrt": "sqrt({0})",
          "abs": "abs({0})", "square": "({0}*{0})", "reciprocal": "(1.0/{0})"}
_BINARY = {"add": "({0}+{1})", "sub": "({0}-{1})", "mul": "({0}*{1})",
           "div": "({0}/{1})", "atan2": "arctan2({0},{1})"}
_F64 = np.dtype(np.float64)

numexpr_fused_p = Primitive("numexpr_fused")


def _fused_impl(*args, expr, names, aval):
    return _ne.evaluate(expr, local_dict=dict(zip(names, args)))


numexpr_fused_p.impl = _fused_impl
numexpr_fused_p.abstract_eval = lambda *avals, expr, names, aval: aval
numexpr_fused_p.cost = lambda ai, ao, **p: {"flops": ao[0].size * p["expr"].count("("),
                                            "transcendentals": 0}
numexpr_fused_p.emit = lambda args, params, gen: (
    f"{gen.const(_ne, 'ne')}.evaluate({params['expr']!r}, local_dict={{"
    + ", ".join(f"{n!r}: {a}" for n, a in zip(params["names"], args)) + "})")


MAX_LEAVES, MAX_OPS = 24, 64   # keep each expression within numexpr's limits


def _eligible(eqn):
    name = eqn.primitive.name
    if name not in _UNARY and name not in _BINARY:
        return False
    out = eqn.outvars[0].aval
    if out.dtype != _F64 or out.size < FUSE_MIN_SIZE or out.weak_type:
        return False
    for a in eqn.invars:
        if type(a) is Literal:
            if type(a.val) not in (int, float) or not np.isfinite(a.val):
                return False
        elif a.aval.shape != out.shape or a.aval.dtype != _F64:
            return False
    return True


def fuse_elementwise(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Rewrite single-use elementwise chains into ``numexpr_fused`` eqns."""
    if _ne is None:
        return closed
    j = closed.jaxpr
    uses: dict = {}
    for e in j.eqns:
        for a in e.invars:
            if type(a) is Var:
                uses[a] = uses.get(a, 0) + 1
    outs = {v for v in j.outvars if type(v) is Var}
    # pass 1: which eligible results get absorbed into their (single, eligible) reader
    producer = {}
    size = {}                      # var -> (n_leaves, n_ops) of its expression tree
    absorbed = set()
    for e in j.eqns:
        if not _eligible(e):
            continue
        leaves, ops = 0, 1
        for a in e.invars:
            if type(a) is Var and a in producer and uses[a] == 1 and a not in outs:
                sl, so = size[a]
                if leaves + sl <= MAX_LEAVES and ops + so <= MAX_OPS:
                    absorbed.add(a)
                    leaves, ops = leaves + sl, ops + so
                    continue
            leaves += type(a) is Var
        producer[e.outvars[0]] = e
        size[e.outvars[0]] = (leaves, ops)
    if not producer:
        return closed
    # pass 2: emit one fused eqn per chain root, at the root's place
    text, leaves_of = {}, {}
    new_eqns = []
    for e in j.eqns:
        out = e.outvars[0] if e.outvars else None
        if out not in producer:
            new_eqns.append(e)
            continue
        parts, leaves = [], []
        for a in e.invars:
            if type(a) is Literal:
                parts.append(repr(a.val))
            elif a in absorbed:
                parts.append(text.pop(a))
                leaves.extend(leaves_of.pop(a))
            else:
                parts.append(a)
                leaves.append(a)
        fmt = _UNARY.get(e.primitive.name) or _BINARY[e.primitive.name]
        t = fmt.format(*[p if isinstance(p, str) else _Leaf(p) for p in parts])
        if out in absorbed:
            text[out], leaves_of[out] = t, leaves
            continue
        order = list(dict.fromkeys(leaves))
        for k, v in enumerate(order):
            t = t.replace(_Leaf(v).token, f"i{k}")
        if t.count("(") <= 1:
            new_eqns.append(e)     # a lone op: NumPy's own call is as good
            continue
        new_eqns.append(Eqn(numexpr_fused_p, order, [out],
                            dict(expr=t, names=tuple(f"i{k}" for k in range(len(order))),
                                 aval=out.aval), e.source_info))
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars, new_eqns), closed.consts)


class _Leaf:
    """A placeholder for a leaf var inside expression text (renamed i0, i1, ... later)."""

    def __init__(self, v):
        self.token = f"<leaf{id(v)}>"

    def __format__(self, spec):
        return self.token

