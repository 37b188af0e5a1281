"""What the control-flow primitives (``cond``, ``while_loop`` with ``while_lin``, ``scan``)
share: operand helpers, the checks of their sub-jaxprs' signatures, and the transforms of
a const-free sub-jaxpr with masks saying which inputs and outputs take part (jvp,
transpose, batching), built on the generic transforms in ``funcdiff.transforms``."""
from __future__ import annotations

import numpy as np

from ..core.ad_types import UndefPrimal, Zero
from ..core.errors import FuncdiffTypeError
from ..core.interpret import eval_jaxpr
from ..core.ir import Eqn, Jaxpr, Literal, Var
from ..core.trace import trace_flat
from ..primitives.base import (aval, broadcast_to, convert_element_type, full, full_p,
                               matchaxis, moveaxis, reshape)
from ..primitives.reduce import reduce_or_p
from ..transforms.jvp import jvp_eval
from ..transforms.partial_eval import partial_eval_jaxpr
from ..transforms.transpose import backward_pass
from ..transforms.vmap import batch_eval, batched_aval

_PY = (bool, int, float, complex)


def same_aval(a, b) -> bool:
    """Equal shape and dtype (weak types may differ)."""
    return a.shape == b.shape and a.dtype == b.dtype


def coerce(vals, avals):
    """Strongly typed 0-d results are NumPy scalars, never Python scalars (which NumPy
    would treat as weakly typed later on)."""
    out = []
    for x, a in zip(vals, avals):
        if type(x) in _PY and not a.weak_type:
            x = a.dtype.type(x)
        out.append(x)
    return out


def copy_array(x):
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def zeros(a):
    return full(a.shape, 0, a.dtype)


def fit_aval(x, a):
    """Make ``x`` have exactly aval ``a`` (broadcast, cast, weak type)."""
    xa = aval(x)
    if xa.shape != a.shape:
        x = broadcast_to(x, a.shape)
    if xa.dtype != a.dtype or xa.weak_type != a.weak_type:
        x = convert_element_type(x, dtype=a.dtype, weak_type=a.weak_type)
    return x


def instantiate_as(t, a):
    """A tangent/cotangent as an array of aval ``a`` (symbolic zeros become zeros)."""
    if type(t) is Zero:
        return zeros(a)
    return fit_aval(t, a)


def nonzero(ts):
    return [type(t) is not Zero for t in ts]


def split(seq, *counts):
    out, i = [], 0
    for n in counts:
        out.append(list(seq[i:i + n]))
        i += n
    out.append(list(seq[i:]))
    return out


def zero_atom(a):
    """``(eqns, atom)`` for a zero of aval ``a`` built directly as IR."""
    if a.shape == ():
        val = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[a.dtype.kind]
        return [], Literal(val if a.weak_type else a.dtype.type(val), a)
    v = Var(a)
    return [Eqn(full_p, [], [v], dict(shape=a.shape, value=0, dtype=a.dtype))], v


# --- sub-jaxpr transforms ------------------------------------------------------------------

def jvp_sub(jaxpr, nonzeros, instantiate):
    """Forward mode of a const-free jaxpr.  Returns ``(closed, out_nz)``: ``closed`` maps
    ``(primals..., nonzero tangents...)`` to ``(outs..., tangents of out_nz outputs...)``;
    outputs with ``instantiate[i]`` always get a (possibly zero) tangent."""
    in_avals = [v.aval for v in jaxpr.invars]
    t_avals = [a.strengthen() for a, nz in zip(in_avals, nonzeros) if nz]
    n = len(in_avals)
    out_nz = []

    def fun(*args):
        it = iter(args[n:])
        tans = [next(it) if nz else Zero(a.strengthen()) for a, nz in zip(in_avals, nonzeros)]
        outs, touts = jvp_eval(jaxpr, [], list(args[:n]), tans)
        res = []
        del out_nz[:]
        for v, t, inst in zip(jaxpr.outvars, touts, instantiate):
            if type(t) is Zero and not inst:
                out_nz.append(False)
                continue
            out_nz.append(True)
            res.append(instantiate_as(t, v.aval.strengthen()))
        return list(outs) + res

    closed, _, _ = trace_flat(fun, in_avals + t_avals, kind="jvp")
    return closed, list(out_nz)


class LoopJvp:
    """The jvp of a loop body ``(consts, carry, xs) -> (carry, ys)`` with the set of carries
    that have tangents iterated to a fixpoint.  Attributes hold the var groups of the
    new jaxpr so each caller can order its invars as its primitive needs:
    ``extra`` (captured consts, values in ``extra_vals``), ``consts dconsts carry dcarry
    xs dxs`` (invars), ``out_carry out_dcarry ys dys`` (outvars), ``eqns``."""

    def __init__(self, jaxpr, n_consts, n_carry, nonzeros):
        nc, nk = n_consts, n_carry
        n_in = len(jaxpr.invars)
        n_out = len(jaxpr.outvars)
        c_nz = list(nonzeros[:nc])
        k_nz = list(nonzeros[nc:nc + nk])
        x_nz = list(nonzeros[nc + nk:])
        while True:
            closed, out_nz = jvp_sub(jaxpr, c_nz + k_nz + x_nz, k_nz + [False] * (n_out - nk))
            new = [a or b for a, b in zip(k_nz, out_nz[:nk])]
            if new == k_nz:
                break
            k_nz = new
        j = closed.jaxpr
        self.c_nz, self.k_nz, self.x_nz = c_nz, k_nz, x_nz
        self.ys_nz = out_nz[nk:]
        prim_in, tan_in = j.invars[:n_in], iter(j.invars[n_in:])
        self.extra, self.extra_vals = list(j.constvars), list(closed.consts)
        self.consts, self.carry, self.xs = split(prim_in, nc, nk)
        self.dconsts = [next(tan_in) for z in c_nz if z]
        self.dcarry = [next(tan_in) for z in k_nz if z]
        self.dxs = [next(tan_in) for z in x_nz if z]
        prim_out, tan_out = j.outvars[:n_out], iter(j.outvars[n_out:])
        self.out_carry, self.ys = prim_out[:nk], prim_out[nk:]
        self.out_dcarry = [next(tan_out) for z in k_nz if z]
        self.dys = [next(tan_out) for z in self.ys_nz if z]
        self.eqns = j.eqns

    def jaxpr(self, invars, outvars):
        return Jaxpr([], invars, outvars, self.eqns)


def backward_sub(jaxpr, lin, nonlin_vals, cts):
    """Cotangents of the linear invars (``lin[i]``) of ``jaxpr`` for output cotangents
    ``cts``.  The non-linear part (anything not reading a linear input) is evaluated
    first from ``nonlin_vals``, so ``backward_pass`` only sees linear eqns."""
    known_j, lin_j, _, _ = partial_eval_jaxpr(jaxpr, list(lin), [True] * len(jaxpr.outvars))
    res = eval_jaxpr(known_j, [], *nonlin_vals)
    args = list(res) + [UndefPrimal(v.aval) for v, l in zip(jaxpr.invars, lin) if l]
    out = backward_pass(lin_j, [], args, list(cts))
    return out[len(res):]


def transpose_sub(jaxpr, lin, ct_nz):
    """Trace the transpose of ``jaxpr`` w.r.t. its invars with ``lin[i]``:
    ``(non-linear inputs..., nonzero output cts...) -> (cts of linear inputs...)``."""
    res_avals = [v.aval for v, l in zip(jaxpr.invars, lin) if not l]
    lin_avals = [v.aval.strengthen() for v, l in zip(jaxpr.invars, lin) if l]
    out_avals = [v.aval.strengthen() for v in jaxpr.outvars]
    n_res = len(res_avals)

    def fun(*args):
        it = iter(args[n_res:])
        cts = [next(it) if nz else Zero(a) for a, nz in zip(out_avals, ct_nz)]
        in_cts = backward_sub(jaxpr, lin, list(args[:n_res]), cts)
        return [instantiate_as(c, a) for c, a in zip(in_cts, lin_avals)]

    closed, _, _ = trace_flat(fun, res_avals + [a for a, nz in zip(out_avals, ct_nz) if nz],
                              kind="transpose")
    return closed


def check_cond_jaxpr(name, cond_jaxpr):
    outs = [v.aval for v in cond_jaxpr.outvars]
    if len(outs) != 1 or outs[0].shape != () or outs[0].dtype != np.dtype(bool):
        got = ", ".join(a.str_short() for a in outs)
        raise FuncdiffTypeError(f"`{name}`: cond_jaxpr must return one boolean scalar, got "
                                f"({got})")


def check_group(name, what, avals, binders):
    if len(avals) != len(binders):
        raise FuncdiffTypeError(f"`{name}`: {what} has {len(binders)} binders but got "
                                f"{len(avals)} operands")
    for k, (a, v) in enumerate(zip(avals, binders)):
        if not same_aval(a, v.aval):
            raise FuncdiffTypeError(f"`{name}`: {what} operand {k} is {a.str_short()} but the "
                                    f"jaxpr expects {v.aval.str_short()}")


def check_carry(name, in_binders, outs):
    if len(in_binders) != len(outs):
        raise FuncdiffTypeError(f"`{name}`: the body takes {len(in_binders)} carries but "
                                f"returns {len(outs)}")
    for k, (v, o) in enumerate(zip(in_binders, outs)):
        if not same_aval(v.aval, o.aval):
            raise FuncdiffTypeError(f"`{name}`: carry {k} enters the body as "
                                    f"{v.aval.str_short()} but leaves it as "
                                    f"{o.aval.str_short()}")


def extend_cond(cond_jaxpr, extra_avals):
    """The cond jaxpr with extra (ignored) carry binders appended."""
    return Jaxpr([], cond_jaxpr.invars + [Var(a) for a in extra_avals], cond_jaxpr.outvars,
                 cond_jaxpr.eqns)


def carry_fixpoint(body, consts_uk, carry_uk, xs_uk=()):
    """Which carries are unknown: those unknown on entry, plus every carry whose body
    output becomes unknown, iterated until nothing changes."""
    nk = len(carry_uk)
    carry_uk = list(carry_uk)
    while True:
        _, _, out_uk, _ = partial_eval_jaxpr(body, list(consts_uk) + carry_uk + list(xs_uk),
                                             None)
        new = [a or b for a, b in zip(carry_uk, out_uk[:nk])]
        if new == carry_uk:
            return carry_uk
        carry_uk = new


def used_vars(jaxpr):
    used = {v for e in jaxpr.eqns for v in e.invars if type(v) is Var}
    return used | {v for v in jaxpr.outvars if type(v) is Var}


def batch_sub(jaxpr, in_mapped, size, out_mapped=None):
    """vmap of a const-free jaxpr whose mapped inputs have their batch axis first.
    Returns ``(closed, out_mapped)``.  With ``out_mapped`` given, those outputs are mapped
    at axis 0 (broadcast if the rules left them unmapped); otherwise it reports which
    outputs came out mapped (moved to axis 0)."""
    in_avals = [batched_aval(v.aval, 0 if m else None, size)
                for v, m in zip(jaxpr.invars, in_mapped)]
    got = []

    def fun(*args):
        outs, odims = batch_eval(jaxpr, [], list(args), [0 if m else None for m in in_mapped],
                                 size)
        got[:] = [d is not None for d in odims]
        want = got if out_mapped is None else out_mapped
        for d, w in zip(odims, want):
            assert w or d is None, "control-flow batching: a mapped output expected unmapped"
        return [matchaxis(o, d, 0, size) if w else o for o, d, w in zip(outs, odims, want)]

    closed, _, _ = trace_flat(fun, in_avals, kind="vmap")
    return closed, list(got if out_mapped is None else out_mapped)


def batch_front(x, d):
    return x if d is None else moveaxis(x, d, 0)


def mapped_front(x, d, size):
    return matchaxis(x, d, 0, size)


def batch_fixpoint(jaxpr, consts_m, carry_m, xs_m, size):
    nk = len(carry_m)
    carry_m = list(carry_m)
    while True:
        _, om = batch_sub(jaxpr, list(consts_m) + carry_m + list(xs_m), size)
        new = [a or b for a, b in zip(carry_m, om[:nk])]
        if new == carry_m:
            return carry_m, om[nk:]
        carry_m = new


def bcast_pred(pred, x):
    """A per-example boolean ``pred`` (shape ``(B,)``) reshaped to broadcast against the
    mapped ``x`` (batch axis first)."""
    n = aval(x).ndim
    return reshape(pred, aval(pred).shape + (1,) * (n - 1)) if n > 1 else pred


def any_trace(cond_closed):
    """``(*args) -> any(cond(*args))`` for a batched predicate."""

    def fun(*args):
        (p,) = eval_jaxpr(cond_closed.jaxpr, cond_closed.consts, *args)
        return [reduce_or_p.bind(p, axes=(0,))]
    closed, _, _ = trace_flat(fun, cond_closed.in_avals, kind="vmap")
    return closed
