"""Algebraic simplification: a table of local rewrites, one rule a line, each commented
with its algebra.  A rule sees an eqn (operands already rewritten) and the defining eqn
of each operand, and returns a replacement atom, a replacement eqn, or None.  Rules are
IEEE-safe: ``x * 0`` is not rewritten (NaN and inf times 0 are NaN), nor is ``x + 0.0``
(``-0.0 + 0.0`` is ``0.0``; the neutral element of float addition is ``-0.0``)."""
from __future__ import annotations

import math

import numpy as np

from ...core import arraylib
from ...core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from ...primitives.elementwise import mul_p


def _is_const(a, value):
    if type(a) is Literal:
        try:
            return bool(a.val == value)
        except Exception:  # noqa: BLE001
            return False
    return False


def _same_aval(a, out):
    return a.aval.shape == out.aval.shape and a.aval.dtype == out.aval.dtype


def _is_neutral(y, defs, out, sub=False):
    """Whether ``x + y == x`` (``x - y == x`` with ``sub``) for every ``x``: ``y`` is a
    zero (a literal, or a ``full`` of one) and, for floating outputs, a zero of the sign
    that keeps ``x``'s: ``x + (-0.0)`` and ``x - 0.0`` are ``x``, but ``-0.0 + 0.0`` is
    ``0.0``.  (For complex outputs both parts count: a real zero's imaginary part is
    ``+0``.)"""
    if type(y) is Literal:
        z = y.val
    else:
        e = defs.get(y)
        if e is None or e.primitive.name != "full" or isinstance(e.params["value"], bool):
            return False
        z = e.params["value"]
    if not _is_zero(z):
        return False
    kind = out.aval.dtype.kind
    if kind not in "fc":
        return True
    c = complex(z)
    want_negative = not sub
    return (math.copysign(1.0, c.real) < 0) == want_negative and (
        kind != "c" or (math.copysign(1.0, c.imag) < 0) == want_negative)


def _is_zero(v):
    try:
        return bool(v == 0)
    except Exception:  # noqa: BLE001
        return False


def _rule_identity(eqn, defs):
    name = eqn.primitive.name
    out = eqn.outvars[0]
    ins = eqn.invars
    if name == "mul":
        x, y = ins
        if _is_const(y, 1) and _same_aval(x, out):
            return x                                   # x * 1 -> x
        if _is_const(x, 1) and _same_aval(y, out):
            return y                                   # 1 * x -> x
    if name == "add":
        x, y = ins
        if _is_neutral(y, defs, out) and _same_aval(x, out):
            return x                                   # x + (-0) -> x
        if _is_neutral(x, defs, out) and _same_aval(y, out):
            return y                                   # (-0) + x -> x
    if name == "sub":
        x, y = ins
        if _is_neutral(y, defs, out, sub=True) and _same_aval(x, out):
            return x                                   # x - (+0) -> x
    if name == "div":
        x, y = ins
        if _is_const(y, 1) and _same_aval(x, out):
            return x                                   # x / 1 -> x
    if name == "neg":
        e = defs.get(ins[0])
        if e is not None and e.primitive.name == "neg":
            return e.invars[0]                         # -(-x) -> x
    if name == "convert_element_type":
        x = ins[0]
        if x.aval.dtype == out.aval.dtype and x.aval.weak_type == out.aval.weak_type:
            return x                                   # convert to own dtype -> x
    if name == "transpose":
        e = defs.get(ins[0])
        if e is not None and e.primitive.name == "transpose":
            p1, p2 = e.params["perm"], eqn.params["perm"]
            perm = tuple(p1[i] for i in p2)            # transpose(transpose(x)) -> one
            if perm == tuple(range(len(perm))):
                return e.invars[0]
            return eqn.replace(invars=[e.invars[0]], params={"perm": perm})
        if e is not None and e.primitive.name == "dot_general" and \
                eqn.params["perm"] == (1, 0):
            (lc, rc), (lb, rb) = e.params["dimension_numbers"]
            a, b = e.invars
            if not lb and a.aval.ndim == 2 and b.aval.ndim == 2 and len(lc) == 1:
                # (A B)^T -> B^T A^T: one product written in the layout wanted
                return eqn.replace(primitive=e.primitive, invars=[b, a],
                                   params={"dimension_numbers": ((rc, lc), ((), ()))})
    if name == "reshape":
        e = defs.get(ins[0])
        if e is not None and e.primitive.name == "reshape":
            src = e.invars[0]                          # reshape(reshape(x)) -> reshape(x)
            if src.aval.shape == out.aval.shape:
                return src
            return eqn.replace(invars=[src])
    if name == "reduce_sum":
        e = defs.get(ins[0])
        if e is not None and e.primitive.name == "broadcast_to":
            src = e.invars[0]
            lead = len(e.params["shape"]) - src.aval.ndim
            if eqn.params["axes"] == tuple(range(lead)) and src.aval.shape == \
                    e.params["shape"][lead:] and src.aval.dtype.kind in "fc":
                n = int(np.prod(e.params["shape"][:lead], dtype=np.int64))
                lit = Literal(np.asarray(n, src.aval.dtype)[()])
                # sum over broadcast leading axes -> x * count
                return eqn.replace(primitive=mul_p, invars=[src, lit], params={})
    return None


def _scalar_of(a, defs, consts, depth=0):
    """A Literal equal to ``a`` everywhere when ``a`` is a broadcast/reshape of one
    constant scalar, else None."""
    if type(a) is Literal:
        return a
    if a in consts:
        if arraylib.is_foreign(consts[a]):
            return None   # (np.asarray would compute a closed-over Dask array)
        c = np.asarray(consts[a])
        if c.size == 1:
            return Literal(c.reshape(())[()])
        return None
    e = defs.get(a)
    if e is not None and e.primitive.name in ("broadcast_to", "reshape") and depth < 8:
        return _scalar_of(e.invars[0], defs, consts, depth + 1)
    return None


def _rule_scalar_operand(eqn, defs, consts):
    """op(x, broadcast(s)) -> op(x, s) when x already has the output's shape: NumPy
    broadcasts the scalar itself, so the broadcast array is never built."""
    prim = eqn.primitive
    if prim.ufunc is None or len(eqn.invars) != 2:
        return None
    out = eqn.outvars[0]
    for i in (0, 1):
        a, other = eqn.invars[i], eqn.invars[1 - i]
        if type(a) is Literal or other.aval.shape != out.aval.shape:
            continue
        if other.aval.dtype != out.aval.dtype or a.aval.dtype != out.aval.dtype:
            continue
        s = _scalar_of(a, defs, consts)
        if s is not None and s.aval.dtype == out.aval.dtype:
            ins = list(eqn.invars)
            ins[i] = s
            return eqn.replace(invars=ins)
    return None


def _implicit_source(a, defs, out_aval, depth=0):
    """The var ``a`` was broadcast from, when NumPy's implicit broadcasting against an
    operand of ``out_aval``'s shape gives the same values: ``a`` is a ``broadcast_to``
    (or a ``reshape`` that only adds leading 1s) of a strongly typed value of the output
    dtype.  None otherwise."""
    e = defs.get(a) if type(a) is Var else None
    if e is None or depth >= 8:
        return None
    name = e.primitive.name
    if name != "broadcast_to" and name != "reshape":
        return None
    src = e.invars[0]
    if type(src) is not Var or src.aval.weak_type or src.aval.dtype != out_aval.dtype:
        return None
    if name == "reshape":
        sa, ra = src.aval.shape, a.aval.shape
        k = len(ra) - len(sa)
        if k < 0 or ra[k:] != sa or any(d != 1 for d in ra[:k]):
            return None
    deeper = _implicit_source(src, defs, out_aval, depth + 1)
    return src if deeper is None else deeper


_BROADCASTS = ("broadcast_to", "reshape")


def _rule_broadcast_operand(eqn, defs, consts):
    """op(x, broadcast_to(y)) -> op(x, y) when NumPy's broadcasting of x and y gives the
    output's shape and dtype: NumPy broadcasts y itself (e.g. the scalar cotangent of
    grad's backward pass, or a (1, 1) seed against a vector)."""
    if len(eqn.invars) != 2:
        return None
    da, db = defs.get(eqn.invars[0]), defs.get(eqn.invars[1])   # (cheap filter first)
    if (da is None or da.primitive.name not in _BROADCASTS) and (
            db is None or db.primitive.name not in _BROADCASTS):
        return None
    prim = eqn.primitive
    if prim.ufunc is None:
        return None
    out = eqn.outvars[0]
    oa = out.aval
    if oa.weak_type:
        return None
    for i in (0, 1):
        a, other = eqn.invars[i], eqn.invars[1 - i]
        if type(a) is Literal or other.aval.dtype != oa.dtype or a.aval.dtype != oa.dtype:
            continue
        src = _implicit_source(a, defs, oa)
        # (NumPy's broadcasting of src against the other operand gives the output shape:
        # the other operand has it, or src only fills the leading axes it lacks)
        if src is not None and (other.aval.shape == oa.shape or (
                type(other) is Var and
                np.broadcast_shapes(src.aval.shape, other.aval.shape) == oa.shape)):
            ins = list(eqn.invars)
            ins[i] = src
            return eqn.replace(invars=ins)
    return None


def _rule_select_const(eqn, defs, consts):
    """select(True, a, b) -> a; select(False, a, b) -> b (when shapes already match)."""
    if eqn.primitive.name != "select":
        return None
    p, a, b = eqn.invars
    if type(p) is not Literal:
        return None
    pick = a if bool(p.val) else b
    out = eqn.outvars[0]
    return pick if _same_aval(pick, out) else None


RULES = [lambda e, d, c: _rule_identity(e, d), _rule_scalar_operand, _rule_broadcast_operand,
         _rule_select_const]


def simplify(closed: ClosedJaxpr) -> ClosedJaxpr:
    j = closed.jaxpr
    subst = {}
    defs = {}
    consts = dict(zip(j.constvars, closed.consts))
    eqns = []
    for eqn in j.eqns:
        invars = [subst.get(a, a) if type(a) is Var else a for a in eqn.invars]
        eqn = eqn.replace(invars=invars) if invars != eqn.invars else eqn
        replaced = None
        if not eqn.primitive.multiple_results:
            for rule in RULES:
                replaced = rule(eqn, defs, consts)
                if replaced is not None:
                    break
        if replaced is None:
            eqns.append(eqn)
            for v in eqn.outvars:
                defs[v] = eqn
        elif isinstance(replaced, (Var, Literal)):
            subst[eqn.outvars[0]] = replaced
        else:
            eqns.append(replaced)
            defs[replaced.outvars[0]] = replaced
    outvars = [subst.get(v, v) if type(v) is Var else v for v in j.outvars]
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, outvars, eqns), closed.consts)
