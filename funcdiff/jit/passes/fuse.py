"""Elementwise fusion into numexpr expressions (when numexpr is installed).

A chain of elementwise eqns on large float64 arrays whose intermediates are each used
once becomes one ``numexpr_fused`` eqn evaluating a single expression: one pass over
memory, on all cores, instead of one NumPy call and one temporary per op.  The fused
eqn sits where the chain's last eqn was (every input of the chain is defined before
it).  Only float64 outputs, operands of the output's shape or finite real scalars (no
other broadcasting), no weak types.

Which primitives fuse, and how they are written, is declared on each primitive: its
``numexpr`` template (``"sin({0})"``; every template bracketed, so it is a primary
wherever it lands).

Accuracy: arithmetic (+ - * / negation, abs, square, reciprocal) is rounded by IEEE
754 in numexpr as in NumPy, so it fuses bit for bit -- with numexpr's own
rewrites turned off (``optimization='none'``: by default it turns ``x / 3.0`` into
``x * 0.333...``, which rounds differently).  Functions (sin, exp, arctan2, ...)
come from the C math library in numexpr (or Intel's VML), while NumPy uses its own SIMD
versions for some of them on some CPUs: there a fused function may differ from NumPy's
result by a few ulp (measured: 3 ulp for tanh on an AVX2 x86, where the others agree
bit for bit; reported: 2 ulp for sinh, log10, arctanh and arccosh on another CPU; both
sides are within NumPy's own accuracy bounds, and NumPy's results differ between CPUs
just the same).  Bounded
at 4 ulp per function by tests/test_jit_hostile.py; docs/jit.md tells users, with
``config.numexpr_fusion = False`` for bit-for-bit NumPy results.

Size: a template may use an operand twice (``square`` is ``({0}*{0})``), so the text of
a chain of them doubles at every step; chains are cut by the size of the expression
as written out (``MAX_OPS`` operations, ``MAX_LEAVES`` leaf occurrences), which keeps
every expression's text small whatever the chain.
"""
from __future__ import annotations

import math

import numpy as np

from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from ...core.trace import Primitive
from ..pysource import operand, string_literal

try:  # optional extra `fast`
    import numexpr as _ne
except ImportError:  # pragma: no cover - exercised in runs without numexpr
    _ne = None

FUSE_MIN_SIZE = 1 << 16   # elements: below this numexpr's call overhead dominates



def _uses(template):
    """How many times each operand is written out in a template (square's twice); zipped
    with an eqn's operands, which cuts it to the arity."""
    return template.count("{0}"), template.count("{1}")


_F64 = np.dtype(np.float64)

numexpr_fused_p = Primitive("numexpr_fused")


def _fused_impl(*args, expr, names, aval):
    return _ne.evaluate(expr, local_dict=dict(zip(names, args)), optimization="none")


numexpr_fused_p.impl = _fused_impl
numexpr_fused_p.returns_new_array = True   # numexpr.evaluate allocates its result
numexpr_fused_p.abstract_eval = lambda *avals, expr, names, aval: aval
numexpr_fused_p.cost = lambda ai, ao, **p: {"flops": ao[0].size * p["expr"].count("("),
                                            "transcendentals": 0}
numexpr_fused_p.emit = lambda args, params, gen: (
    f"{gen.const(_ne, 'ne')}.evaluate({string_literal(params['expr'])}, local_dict={{"
    + ", ".join(f"{string_literal(n)}: {a}" for n, a in zip(params["names"], args))
    + "}, optimization='none')")


# Per expression as written out: at most this many leaf occurrences (numexpr takes at
# most 32 operands) and operations (text length and numexpr's compile time grow with it)
MAX_LEAVES, MAX_OPS = 24, 64


def _literal_text(val):
    """A scalar operand as numexpr text, or None when it cannot be fused.  Python ints
    and floats, and NumPy float64 scalars, are written as float64 reprs: what NumPy
    converts them to against a float64 array (exactly, ints correctly rounded).  Ints
    beyond float64's range, infinities and NaNs (numexpr has no literal for them),
    complex numbers and bools are left to NumPy."""
    t = type(val)
    if t is not int and t is not float and t is not np.float64:
        return None
    try:
        f = float(val)
    except OverflowError:
        return None
    return operand(repr(f)) if math.isfinite(f) else None


def _eligible(eqn):
    if eqn.primitive.numexpr is None:
        return False
    out = eqn.outvars[0].aval
    if out.dtype != _F64 or out.size < FUSE_MIN_SIZE or out.weak_type:
        return False
    for a in eqn.invars:
        if type(a) is Literal:
            if _literal_text(a.val) is None:
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
    size = {}       # var -> (leaf occurrences, operations) of its expression written out
    absorbed = set()
    for e in j.eqns:
        if not _eligible(e):
            continue
        leaves, ops = 0, 1
        for a, n in zip(e.invars, _uses(e.primitive.numexpr)):
            if type(a) is Var and a in producer and uses[a] == 1 and a not in outs:
                sl, so = size[a]
                if leaves + n * sl <= MAX_LEAVES and ops + n * so <= MAX_OPS:
                    absorbed.add(a)
                    leaves, ops = leaves + n * sl, ops + n * so
                    continue
            leaves += n * (type(a) is Var)
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
                parts.append(_literal_text(a.val))
            elif a in absorbed:
                parts.append(text.pop(a))
                leaves.extend(leaves_of.pop(a))
            else:
                parts.append(a)
                leaves.append(a)
        fmt = e.primitive.numexpr
        t = fmt.format(*[p if isinstance(p, str) else _Leaf(p) for p in parts])
        if out in absorbed:
            text[out], leaves_of[out] = t, leaves
            continue
        order = list(dict.fromkeys(leaves))
        for k, v in enumerate(order):
            t = t.replace(_Leaf(v).token, f"i{k}")
        if size[out][1] <= 1:
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

