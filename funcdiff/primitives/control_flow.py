"""Control-flow primitives: ``cond``, ``while_loop``, ``scan``, and ``while_lin`` /
``while_lin_transpose`` (the tangent and cotangent halves of a differentiated
``while_loop``).

Conventions.  Every sub-function is a const-free ``Jaxpr`` held in params (closure
conversion: whatever the traced function captured is passed as leading operands), so
params never hold tracers and sub-programs compare by identity.  Every rule calls the
generic transforms (``jvp_eval``, ``partial_eval_jaxpr``, ``backward_pass``) on the
sub-jaxprs; nothing here knows about particular primitives.

======================  =====================================================================
``cond``                operands ``index, *ops``; ``branches`` (tuple of ``ops -> outs``).
                        Runs ``branches[index]`` (the index is clamped into range).
``while_loop``          operands ``*cond_consts, *body_consts, *init``; ``cond_jaxpr``
                        (``cond_consts, carry -> bool[]``), ``body_jaxpr`` (``body_consts,
                        carry -> carry``), ``cond_nconsts``, ``body_nconsts``.
``scan``                operands ``*consts, *init, *xs``; ``jaxpr`` (``consts, carry, x ->
                        carry, y``), ``length``, ``reverse``, ``num_consts``, ``num_carry``.
                        Returns ``*carry, *ys`` (each y stacked along a new leading axis).
``while_lin``           operands ``*cond_consts, *fwd_consts, *fwd_init, *lin_consts,
                        *lin_init``; ``cond_jaxpr`` (``cond_consts, k -> bool[]``),
                        ``fwd_jaxpr`` (``fwd_consts, k -> k, *res``), ``lin_jaxpr`` (``*res,
                        lin_consts, t -> t``), ``cond_nconsts fwd_nconsts lin_nconsts``.
                        Runs the forward loop on ``k`` and, after each iteration, applies
                        ``lin_jaxpr`` to that iteration's residuals: returns the final ``t``.
``while_lin_transpose`` the same operands and params; runs the forward loop pushing each
                        iteration's residuals on a stack (the trip count is learned at run
                        time), then pops them, applying ``lin_jaxpr`` in reverse order.
======================  =====================================================================

Reverse mode through ``while_loop`` (which XLA-bound JAX cannot do): partial evaluation
splits the differentiated loop into the plain primal ``while_loop`` (known) and one
``while_lin`` eqn (unknown, linear in the tangents).  Transposing ``while_lin`` gives
``while_lin_transpose`` and vice versa: the forward loop is re-run to regenerate the
residuals.  When the body is wrapped in ``checkpoint``, partial evaluation of the body
makes the residuals just the carries, so the stack holds only those.  Reverse-over-reverse
through ``while_loop`` is not supported (``GradientError``); forward-over-reverse is
(``hessian``, ``hvp``).
"""
from __future__ import annotations

import numpy as np

from ..core.ad_types import UndefPrimal, Zero, is_undefined
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, GradientError
from ..core.ir import Eqn, Jaxpr, Literal, Var
from ..core.trace import Primitive, trace_flat
from .base import aval

_PY = (bool, int, float, complex)


# =========================================================================================
# shared helpers
# =========================================================================================

def _compiled(jaxpr, name):
    from ..jit import compiled
    return compiled(jaxpr, name)


def _same(a, b) -> bool:
    """Equal shape and dtype (weak types may differ)."""
    return a.shape == b.shape and a.dtype == b.dtype


def _coerce(vals, avals):
    """Strongly typed 0-d results are NumPy scalars, never Python scalars (which NumPy
    would treat as weakly typed later on)."""
    out = []
    for x, a in zip(vals, avals):
        if type(x) in _PY and not a.weak_type:
            x = a.dtype.type(x)
        out.append(x)
    return out


def _copy(x):
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def _closure_convert(closed, pos=0):
    """``(jaxpr, consts)``: ``closed``'s constvars become invars at position ``pos``."""
    j = closed.jaxpr
    if not j.constvars:
        return j, []
    invars = j.invars[:pos] + j.constvars + j.invars[pos:]
    return Jaxpr([], invars, j.outvars, j.eqns), list(closed.consts)


def _zeros(a):
    from .base import full
    return full(a.shape, 0, a.dtype)


def _fit(x, a):
    """Make ``x`` have exactly aval ``a`` (broadcast, cast, weak type)."""
    from .base import convert_element_type
    from .base import broadcast_to
    xa = aval(x)
    if xa.shape != a.shape:
        x = broadcast_to(x, a.shape)
    if xa.dtype != a.dtype or xa.weak_type != a.weak_type:
        x = convert_element_type(x, dtype=a.dtype, weak_type=a.weak_type)
    return x


def _inst(t, a):
    """A tangent/cotangent as an array of aval ``a`` (symbolic zeros become zeros)."""
    if type(t) is Zero:
        return _zeros(a)
    return _fit(t, a)


def _nonzero(ts):
    return [type(t) is not Zero for t in ts]


def _split(seq, *counts):
    out, i = [], 0
    for n in counts:
        out.append(list(seq[i:i + n]))
        i += n
    out.append(list(seq[i:]))
    return out


def _sub_cost(jaxpr):
    from ..analysis import jaxpr_cost
    c = jaxpr_cost(jaxpr)
    return c["flops"], c["transcendentals"]


def _zero_atom(a):
    """``(eqns, atom)`` for a zero of aval ``a`` built directly as IR."""
    from .base import full_p
    if a.shape == ():
        val = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[a.dtype.kind]
        return [], Literal(val if a.weak_type else a.dtype.type(val), a)
    v = Var(a)
    return [Eqn(full_p, [], [v], dict(shape=a.shape, value=0, dtype=a.dtype))], v


# --- sub-jaxpr transforms ------------------------------------------------------------------

def _jvp_sub(jaxpr, nonzeros, instantiate):
    """Forward mode of a const-free jaxpr.  Returns ``(closed, out_nz)``: ``closed`` maps
    ``(primals..., nonzero tangents...)`` to ``(outs..., tangents of out_nz outputs...)``;
    outputs with ``instantiate[i]`` always get a (possibly zero) tangent."""
    from ..transforms.jvp import jvp_eval
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
            res.append(_inst(t, v.aval.strengthen()))
        return list(outs) + res

    closed, _, _ = trace_flat(fun, in_avals + t_avals, kind="jvp")
    return closed, list(out_nz)


class _LoopJvp:
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
            closed, out_nz = _jvp_sub(jaxpr, c_nz + k_nz + x_nz, k_nz + [False] * (n_out - nk))
            new = [a or b for a, b in zip(k_nz, out_nz[:nk])]
            if new == k_nz:
                break
            k_nz = new
        j = closed.jaxpr
        self.c_nz, self.k_nz, self.x_nz = c_nz, k_nz, x_nz
        self.ys_nz = out_nz[nk:]
        prim_in, tan_in = j.invars[:n_in], iter(j.invars[n_in:])
        self.extra, self.extra_vals = list(j.constvars), list(closed.consts)
        self.consts, self.carry, self.xs = _split(prim_in, nc, nk)
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


def _backward(jaxpr, lin, nonlin_vals, cts):
    """Cotangents of the linear invars (``lin[i]``) of ``jaxpr`` for output cotangents
    ``cts``.  The non-linear part (anything not reading a linear input) is evaluated
    first from ``nonlin_vals``, so ``backward_pass`` only sees linear eqns."""
    from ..core.interpret import eval_jaxpr
    from ..transforms.partial_eval import partial_eval_jaxpr
    from ..transforms.transpose import backward_pass
    known_j, lin_j, _, _ = partial_eval_jaxpr(jaxpr, list(lin), [True] * len(jaxpr.outvars))
    res = eval_jaxpr(known_j, [], *nonlin_vals)
    args = list(res) + [UndefPrimal(v.aval) for v, l in zip(jaxpr.invars, lin) if l]
    out = backward_pass(lin_j, [], args, list(cts))
    return out[len(res):]


def _transpose_sub(jaxpr, lin, ct_nz):
    """Trace the transpose of ``jaxpr`` w.r.t. its invars with ``lin[i]``:
    ``(non-linear inputs..., nonzero output cts...) -> (cts of linear inputs...)``."""
    res_avals = [v.aval for v, l in zip(jaxpr.invars, lin) if not l]
    lin_avals = [v.aval.strengthen() for v, l in zip(jaxpr.invars, lin) if l]
    out_avals = [v.aval.strengthen() for v in jaxpr.outvars]
    n_res = len(res_avals)

    def fun(*args):
        it = iter(args[n_res:])
        cts = [next(it) if nz else Zero(a) for a, nz in zip(out_avals, ct_nz)]
        in_cts = _backward(jaxpr, lin, list(args[:n_res]), cts)
        return [_inst(c, a) for c, a in zip(in_cts, lin_avals)]

    closed, _, _ = trace_flat(fun, res_avals + [a for a, nz in zip(out_avals, ct_nz) if nz],
                              kind="transpose")
    return closed


# =========================================================================================
# cond
# =========================================================================================

cond_p = Primitive("cond", multiple_results=True)
cond_p.doc = "Run branches[index](*ops)."


def bind_cond(index, branches, ops):
    """Bind ``cond`` for ``ClosedJaxpr`` branches that take ``ops``: each branch's consts
    become leading operands (every branch gets binders for all of them)."""
    const_avals = [[v.aval for v in b.jaxpr.constvars] for b in branches]
    jaxprs, consts = [], []
    for i, b in enumerate(branches):
        j = b.jaxpr
        before = [Var(a) for avs in const_avals[:i] for a in avs]
        after = [Var(a) for avs in const_avals[i + 1:] for a in avs]
        jaxprs.append(Jaxpr([], before + j.constvars + after + j.invars, j.outvars, j.eqns))
        consts.extend(b.consts)
    return cond_p.bind(index, *consts, *ops, branches=tuple(jaxprs))


def _cond_impl(index, *ops, branches):
    i = min(max(int(index), 0), len(branches) - 1)
    b = branches[i]
    return _coerce(_compiled(b, "branch")(*ops), [v.aval for v in b.outvars])


def _cond_abstract(index, *ops, branches):
    if index.shape != () or index.dtype.kind not in "iu":
        raise FuncdiffTypeError(f"`cond`: the index must be an integer scalar, got "
                                f"{index.str_short()}")
    for bi, b in enumerate(branches):
        if len(b.invars) != len(ops):
            raise FuncdiffTypeError(f"`cond`: branch {bi} takes {len(b.invars)} operands, "
                                    f"got {len(ops)}")
        for k, (v, a) in enumerate(zip(b.invars, ops)):
            if not _same(v.aval, a):
                raise FuncdiffTypeError(f"`cond`: operand {k} is {a.str_short()} but branch "
                                        f"{bi} expects {v.aval.str_short()}")
    outs0 = [v.aval for v in branches[0].outvars]
    weak = [a.weak_type for a in outs0]
    for bi, b in enumerate(branches[1:], 1):
        outs = [v.aval for v in b.outvars]
        if len(outs) != len(outs0):
            raise FuncdiffTypeError(f"`cond`: branch 0 returns {len(outs0)} values but branch "
                                    f"{bi} returns {len(outs)}")
        for k, (a, c) in enumerate(zip(outs0, outs)):
            if not _same(a, c):
                raise FuncdiffTypeError(f"`cond`: output {k} is {a.str_short()} in branch 0 "
                                        f"but {c.str_short()} in branch {bi}")
            weak[k] = weak[k] and c.weak_type
    return [a.update(weak_type=w) for a, w in zip(outs0, weak)]


def _cond_jvp(primals, tangents, *, branches):
    index, ops = primals[0], list(primals[1:])
    t_ops = list(tangents[1:])
    nz = _nonzero(t_ops)
    n_out = len(branches[0].outvars)
    first = [_jvp_sub(b, nz, [False] * n_out) for b in branches]
    out_nz = [any(f[1][k] for f in first) for k in range(n_out)]
    new = [c if onz == out_nz else _jvp_sub(b, nz, out_nz)[0]
           for b, (c, onz) in zip(branches, first)]
    avals = [v.aval for v in branches[0].invars]
    t_vals = [_fit(t, a.strengthen()) for t, a, z in zip(t_ops, avals, nz) if z]
    outs = bind_cond(index, new, ops + t_vals)
    it = iter(outs[n_out:])
    t_out = [next(it) if z else Zero(v.aval.strengthen())
             for v, z in zip(branches[0].outvars, out_nz)]
    return list(outs[:n_out]), t_out


def _cond_partial_eval(eqn, unknowns):
    from ..transforms.dce import dce_jaxpr
    from ..transforms.partial_eval import partial_eval_jaxpr
    if unknowns[0]:
        return [], [eqn], list(eqn.outvars)
    branches = eqn.params["branches"]
    ops_uk = list(unknowns[1:])
    n_out = len(eqn.outvars)
    out_uk = [False] * n_out
    for b in branches:
        out_uk = [a or b_ for a, b_ in zip(out_uk, partial_eval_jaxpr(b, ops_uk, None)[2])]
    splits = [partial_eval_jaxpr(b, ops_uk, out_uk) for b in branches]
    # residual slots shared by aval: branch i's k-th residual of aval A goes to A's k-th slot
    slots, slot_idx = [], []
    for _, _, _, res in splits:
        count, idxs = {}, []
        for r in res:
            k = count.get(r.aval, 0)
            count[r.aval] = k + 1
            same = [s for s, a in enumerate(slots) if a == r.aval]
            if k < len(same):
                idxs.append(same[k])
            else:
                slots.append(r.aval)
                idxs.append(len(slots) - 1)
        slot_idx.append(idxs)
    known_js, unknown_js = [], []
    for (kj, uj, _, res), idxs in zip(splits, slot_idx):
        n_known = len(kj.outvars) - len(res)
        by_slot = dict(zip(idxs, kj.outvars[n_known:]))
        extra_eqns, slot_atoms = [], []
        for s, a in enumerate(slots):
            if s in by_slot:
                slot_atoms.append(by_slot[s])
            else:
                e, atom = _zero_atom(a)
                extra_eqns += e
                slot_atoms.append(atom)
        known_js.append(dce_jaxpr(Jaxpr([], kj.invars, kj.outvars[:n_known] + slot_atoms,
                                        kj.eqns + extra_eqns)))
        res_of_slot = dict(zip(idxs, uj.invars[:len(res)]))
        slot_vars = [res_of_slot[s] if s in res_of_slot else Var(a)
                     for s, a in enumerate(slots)]
        unknown_js.append(Jaxpr([], slot_vars + uj.invars[len(res):], uj.outvars, uj.eqns))
    index, ops = eqn.invars[0], eqn.invars[1:]
    known_outs = [v for v, u in zip(eqn.outvars, out_uk) if not u]
    unknown_outs = [v for v, u in zip(eqn.outvars, out_uk) if u]
    res_vars = [Var(a) for a in slots]
    known_eqns = []
    if known_outs or res_vars:
        known_eqns.append(Eqn(cond_p, [index] + [v for v, u in zip(ops, ops_uk) if not u],
                              known_outs + res_vars, dict(branches=tuple(known_js)),
                              eqn.source_info))
    if not unknown_outs:
        return known_eqns, [], []
    unknown_eqn = Eqn(cond_p, [index] + res_vars + [v for v, u in zip(ops, ops_uk) if u],
                      unknown_outs, dict(branches=tuple(unknown_js)), eqn.source_info)
    return known_eqns, [unknown_eqn], unknown_outs


def _cond_transpose(cts, index, *ops, branches):
    if is_undefined(index):
        raise GradientError("`cond`: the branch index cannot be a linear input")
    lin = [is_undefined(x) for x in ops]
    res = [x for x, l in zip(ops, lin) if not l]
    ct_nz = _nonzero(cts)
    out_avals = [v.aval.strengthen() for v in branches[0].outvars]
    ct_vals = [_fit(c, a) for c, a, z in zip(cts, out_avals, ct_nz) if z]
    new = [_transpose_sub(b, lin, ct_nz) for b in branches]
    outs = iter(bind_cond(index, new, res + ct_vals))
    return [None] + [next(outs) if l else None for l in lin]


def _cond_cost(avals_in, avals_out, *, branches):
    costs = [_sub_cost(b) for b in branches]
    return {"flops": max(c[0] for c in costs), "transcendentals": max(c[1] for c in costs)}


def _emit_cond(args, params, gen):
    fns = [gen.const(_compiled(b, f"branch{i}"), f"branch{i}_")
           for i, b in enumerate(params["branches"])]
    return f"({', '.join(fns)},)[{args[0]}]({', '.join(args[1:])})"


cond_p.impl = _cond_impl
cond_p.abstract_eval = _cond_abstract
cond_p.jvp = _cond_jvp
cond_p.partial_eval = _cond_partial_eval
cond_p.transpose = _cond_transpose
cond_p.linear = True
cond_p.cost = _cond_cost
cond_p.emit = _emit_cond


# =========================================================================================
# while_loop
# =========================================================================================

while_p = Primitive("while_loop", multiple_results=True)


def run_while(cond_fn, body_fn, nc, nb, args):
    """Run a while loop of compiled functions: the impl, and what generated code calls."""
    cc, bc, carry = args[:nc], args[nc:nc + nb], list(args[nc + nb:])
    if not cond_fn(*cc, *carry)[0]:
        return [_copy(x) for x in carry]
    while True:
        carry = body_fn(*bc, *carry)
        if not cond_fn(*cc, *carry)[0]:
            return carry


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    out = run_while(_compiled(cond_jaxpr, "while_cond"), _compiled(body_jaxpr, "while_body"),
                    cond_nconsts, body_nconsts, args)
    return _coerce(out, [v.aval for v in body_jaxpr.outvars])


def _check_cond_jaxpr(name, cond_jaxpr):
    outs = [v.aval for v in cond_jaxpr.outvars]
    if len(outs) != 1 or outs[0].shape != () or outs[0].dtype != np.dtype(bool):
        got = ", ".join(a.str_short() for a in outs)
        raise FuncdiffTypeError(f"`{name}`: cond_jaxpr must return one boolean scalar, got "
                                f"({got})")


def _check_group(name, what, avals, binders):
    if len(avals) != len(binders):
        raise FuncdiffTypeError(f"`{name}`: {what} has {len(binders)} binders but got "
                                f"{len(avals)} operands")
    for k, (a, v) in enumerate(zip(avals, binders)):
        if not _same(a, v.aval):
            raise FuncdiffTypeError(f"`{name}`: {what} operand {k} is {a.str_short()} but the "
                                    f"jaxpr expects {v.aval.str_short()}")


def _check_carry(name, in_binders, outs):
    if len(in_binders) != len(outs):
        raise FuncdiffTypeError(f"`{name}`: the body takes {len(in_binders)} carries but "
                                f"returns {len(outs)}")
    for k, (v, o) in enumerate(zip(in_binders, outs)):
        if not _same(v.aval, o.aval):
            raise FuncdiffTypeError(f"`{name}`: carry {k} enters the body as "
                                    f"{v.aval.str_short()} but leaves it as "
                                    f"{o.aval.str_short()}")


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cc, bc, init = _split(avals, nc, nb)
    _check_cond_jaxpr("while_loop", cond_jaxpr)
    _check_group("while_loop", "cond_jaxpr", cc + init, cond_jaxpr.invars)
    _check_group("while_loop", "body_jaxpr", bc + init, body_jaxpr.invars)
    _check_carry("while_loop", body_jaxpr.invars[nb:], body_jaxpr.outvars)
    return [v.aval for v in body_jaxpr.invars[nb:]]


def _extend_cond(cond_jaxpr, extra_avals):
    """The cond jaxpr with extra (ignored) carry binders appended."""
    return Jaxpr([], cond_jaxpr.invars + [Var(a) for a in extra_avals], cond_jaxpr.outvars,
                 cond_jaxpr.eqns)


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cc, bc, init = _split(primals, nc, nb)
    _, dbc, dinit = _split(tangents, nc, nb)
    nk = len(init)
    lj = _LoopJvp(body_jaxpr, nb, nk, _nonzero(dbc) + _nonzero(dinit))
    body = lj.jaxpr(lj.extra + lj.consts + lj.dconsts + lj.carry + lj.dcarry,
                    lj.out_carry + lj.out_dcarry)
    k_avals = [v.aval.strengthen() for v in body_jaxpr.invars[nb:]]
    cond = _extend_cond(cond_jaxpr, [a for a, z in zip(k_avals, lj.k_nz) if z])
    c_avals = [v.aval.strengthen() for v in body_jaxpr.invars[:nb]]
    dbc_vals = [_fit(t, a) for t, a, z in zip(dbc, c_avals, lj.c_nz) if z]
    dk_vals = [_inst(t, a) for t, a, z in zip(dinit, k_avals, lj.k_nz) if z]
    outs = while_p.bind(*cc, *lj.extra_vals, *bc, *dbc_vals, *init, *dk_vals,
                        cond_jaxpr=cond, body_jaxpr=body, cond_nconsts=nc,
                        body_nconsts=len(lj.extra_vals) + nb + len(dbc_vals))
    it = iter(outs[nk:])
    return list(outs[:nk]), [next(it) if z else Zero(a) for a, z in zip(k_avals, lj.k_nz)]


def _carry_fixpoint(body, consts_uk, carry_uk, xs_uk=()):
    """Which carries are unknown: those unknown on entry, plus every carry whose body
    output becomes unknown, iterated until nothing changes."""
    from ..transforms.partial_eval import partial_eval_jaxpr
    nk = len(carry_uk)
    carry_uk = list(carry_uk)
    while True:
        _, _, out_uk, _ = partial_eval_jaxpr(body, list(consts_uk) + carry_uk + list(xs_uk),
                                             None)
        new = [a or b for a, b in zip(carry_uk, out_uk[:nk])]
        if new == carry_uk:
            return carry_uk
        carry_uk = new


def _used_vars(jaxpr):
    used = {v for e in jaxpr.eqns for v in e.invars if type(v) is Var}
    return used | {v for v in jaxpr.outvars if type(v) is Var}


def _while_partial_eval(eqn, unknowns):
    from ..transforms.dce import dce_jaxpr
    from ..transforms.partial_eval import partial_eval_jaxpr
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cond, body = p["cond_jaxpr"], p["body_jaxpr"]
    cc_uk, bc_uk, k_uk = _split(unknowns, nc, nb)
    if any(cc_uk):
        return [], [eqn], list(eqn.outvars)
    k_uk = _carry_fixpoint(body, bc_uk, k_uk)
    used = _used_vars(cond)
    if any(u and v in used for u, v in zip(k_uk, cond.invars[nc:])):
        # the predicate depends on unknown values: nothing can be split off
        return [], [eqn], list(eqn.outvars)
    known_j, lin_j, _, res = partial_eval_jaxpr(body, bc_uk + k_uk, k_uk)
    n_known = len(known_j.outvars) - len(res)
    cond_k = Jaxpr([], cond.invars[:nc] + [v for v, u in zip(cond.invars[nc:], k_uk) if not u],
                   cond.outvars, cond.eqns)
    body_k = dce_jaxpr(Jaxpr([], known_j.invars, known_j.outvars[:n_known], known_j.eqns))
    cc, bc, k = _split(eqn.invars, nc, nb)
    kbc = [v for v, u in zip(bc, bc_uk) if not u]
    ubc = [v for v, u in zip(bc, bc_uk) if u]
    kk = [v for v, u in zip(k, k_uk) if not u]
    uk = [v for v, u in zip(k, k_uk) if u]
    known_outs = [v for v, u in zip(eqn.outvars, k_uk) if not u]
    unknown_outs = [v for v, u in zip(eqn.outvars, k_uk) if u]
    known_eqns = []
    if known_outs:
        known_eqns.append(Eqn(while_p, cc + kbc + kk, known_outs,
                              dict(cond_jaxpr=cond_k, body_jaxpr=body_k, cond_nconsts=nc,
                                   body_nconsts=len(kbc)), eqn.source_info))
    if not unknown_outs:
        return known_eqns, [], []
    lin_eqn = Eqn(while_lin_p, cc + kbc + kk + ubc + uk, unknown_outs,
                  dict(cond_jaxpr=cond_k, fwd_jaxpr=dce_jaxpr(known_j), lin_jaxpr=lin_j,
                       cond_nconsts=nc, fwd_nconsts=len(kbc), lin_nconsts=len(ubc)),
                  eqn.source_info)
    return known_eqns, [lin_eqn], unknown_outs


def _while_transpose(cts, *args, **params):
    raise GradientError(
        "reverse mode cannot transpose this `while_loop`: its loop condition depends on "
        "the values being differentiated (or the loop is not linear in them).  Make the "
        "predicate depend only on non-differentiated values (e.g. an iteration counter or "
        "funcdiff.stop_gradient of the state).")


def _while_cost(avals_in, avals_out, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    """One iteration's cost: the trip count is unknown until run time."""
    f1, t1 = _sub_cost(cond_jaxpr)
    f2, t2 = _sub_cost(body_jaxpr)
    return {"flops": f1 + f2, "transcendentals": t1 + t2}


def _emit_while(args, params, gen):
    c = gen.const(_compiled(params["cond_jaxpr"], "while_cond"), "while_cond")
    b = gen.const(_compiled(params["body_jaxpr"], "while_body"), "while_body")
    run = gen.const(run_while, "run_while")
    return (f"{run}({c}, {b}, {params['cond_nconsts']}, {params['body_nconsts']}, "
            f"[{', '.join(args)}])")


while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract
while_p.jvp = _while_jvp
while_p.partial_eval = _while_partial_eval
while_p.transpose = _while_transpose
while_p.cost = _while_cost
while_p.emit = _emit_while


# =========================================================================================
# while_lin / while_lin_transpose: reverse mode through while_loop
# =========================================================================================

while_lin_p = Primitive("while_lin", multiple_results=True)
while_lin_transpose_p = Primitive("while_lin_transpose", multiple_results=True)


def run_while_lin(cond_fn, fwd_fn, lin_fn, counts, reverse, args):
    """Run the forward loop on ``k``; apply ``lin_fn`` to each iteration's residuals, in
    order (``reverse=False``: no stack needed) or from a stack, last iteration first."""
    nc, nf, nk, nl = counts
    cc, fc, k, lc, t = _split(args, nc, nf, nk, nl)
    if not reverse:
        while cond_fn(*cc, *k)[0]:
            out = fwd_fn(*fc, *k)
            k = out[:nk]
            t = lin_fn(*out[nk:], *lc, *t)
        return [_copy(x) for x in t]
    stack = []                          # grows with the trip count, learned at run time
    while cond_fn(*cc, *k)[0]:
        out = fwd_fn(*fc, *k)
        k = out[:nk]
        stack.append(out[nk:])
    del k
    if not stack:
        return [_copy(x) for x in t]
    while stack:
        t = lin_fn(*stack.pop(), *lc, *t)   # pop: each iteration's residuals die here
    return t


def _counts(params):
    nf = params["fwd_nconsts"]
    return (params["cond_nconsts"], nf, len(params["fwd_jaxpr"].invars) - nf,
            params["lin_nconsts"])


def _while_lin_impl(reverse):
    def impl(*args, **params):
        out = run_while_lin(_compiled(params["cond_jaxpr"], "while_cond"),
                            _compiled(params["fwd_jaxpr"], "while_fwd"),
                            _compiled(params["lin_jaxpr"], "while_lin"),
                            _counts(params), reverse, args)
        return _coerce(out, [v.aval for v in params["lin_jaxpr"].outvars])
    return impl


def _while_lin_abstract(name):
    def abstract_eval(*avals, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts, fwd_nconsts,
                      lin_nconsts):
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        cc, fc, k, lc, t = _split(avals, nc, nf, nk, nl)
        n_res = len(fwd_jaxpr.outvars) - nk
        _check_cond_jaxpr(name, cond_jaxpr)
        _check_group(name, "cond_jaxpr", cc + k, cond_jaxpr.invars)
        _check_group(name, "fwd_jaxpr", fc + k, fwd_jaxpr.invars)
        _check_carry(name, fwd_jaxpr.invars[nf:], fwd_jaxpr.outvars[:nk])
        res = [v.aval for v in fwd_jaxpr.outvars[nk:]]
        _check_group(name, "lin_jaxpr", res + lc + t, lin_jaxpr.invars)
        _check_carry(name, lin_jaxpr.invars[n_res + nl:], lin_jaxpr.outvars)
        return [v.aval for v in lin_jaxpr.invars[n_res + nl:]]
    return abstract_eval


def _while_lin_jvp(prim):
    """Forward mode of while_lin(_transpose) (forward-over-reverse): the same primitive
    on the jvp of its forward body (carry ``k, dk``; residuals ``res, dres``) and of its
    linear body (consts ``res, dres, lin_consts, dlin_consts``; carry ``t, dt``)."""
    def jvp(primals, tangents, *, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts,
            fwd_nconsts, lin_nconsts):
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        n_res = len(fwd_jaxpr.outvars) - nk
        cc, fc, k, lc, t = _split(primals, nc, nf, nk, nl)
        _, dfc, dk, dlc, dt = _split(tangents, nc, nf, nk, nl)
        fj = _LoopJvp(fwd_jaxpr, nf, nk, _nonzero(dfc) + _nonzero(dk))
        fwd = fj.jaxpr(fj.extra + fj.consts + fj.dconsts + fj.carry + fj.dcarry,
                       fj.out_carry + fj.out_dcarry + fj.ys + fj.dys)
        res_nz = fj.ys_nz
        lj = _LoopJvp(lin_jaxpr, n_res + nl, len(t), res_nz + _nonzero(dlc) + _nonzero(dt))
        n_dres = sum(res_nz)
        lin = lj.jaxpr(lj.consts[:n_res] + lj.dconsts[:n_dres] + lj.extra + lj.consts[n_res:]
                       + lj.dconsts[n_dres:] + lj.carry + lj.dcarry,
                       lj.out_carry + lj.out_dcarry)
        k_avals = [v.aval.strengthen() for v in fwd_jaxpr.invars[nf:]]
        cond = _extend_cond(cond_jaxpr, [a for a, z in zip(k_avals, fj.k_nz) if z])
        fc_avals = [v.aval.strengthen() for v in fwd_jaxpr.invars[:nf]]
        lc_avals = [v.aval.strengthen() for v in lin_jaxpr.invars[n_res:n_res + nl]]
        t_avals = [v.aval.strengthen() for v in lin_jaxpr.invars[n_res + nl:]]
        dfc_v = [_fit(x, a) for x, a, z in zip(dfc, fc_avals, fj.c_nz) if z]
        dk_v = [_inst(x, a) for x, a, z in zip(dk, k_avals, fj.k_nz) if z]
        dlc_v = [_fit(x, a) for x, a, z in zip(dlc, lc_avals, lj.c_nz[n_res:]) if z]
        dt_v = [_inst(x, a) for x, a, z in zip(dt, t_avals, lj.k_nz) if z]
        outs = prim.bind(*cc, *fj.extra_vals, *fc, *dfc_v, *k, *dk_v,
                         *lj.extra_vals, *lc, *dlc_v, *t, *dt_v,
                         cond_jaxpr=cond, fwd_jaxpr=fwd, lin_jaxpr=lin, cond_nconsts=nc,
                         fwd_nconsts=len(fj.extra_vals) + nf + len(dfc_v),
                         lin_nconsts=len(lj.extra_vals) + nl + len(dlc_v))
        nt = len(t)
        it = iter(outs[nt:])
        return list(outs[:nt]), [next(it) if z else Zero(a) for a, z in zip(t_avals, lj.k_nz)]
    return jvp


def _while_lin_transpose(other):
    """Transpose w.r.t. ``lin_consts`` and ``lin_init`` (the linear operands): ``other``
    (the opposite direction) over the transposed linear body, whose carry is
    ``(cotangent accumulators of the linear lin_consts, carry cotangents)``."""
    def transpose(cts, *args, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts, fwd_nconsts,
                  lin_nconsts):
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        n_res = len(fwd_jaxpr.outvars) - nk
        cc, fc, k, lc, t = _split(args, nc, nf, nk, nl)
        if any(is_undefined(x) for x in cc + fc + k):
            raise GradientError(
                "reverse-over-reverse differentiation through funcdiff.lax.while_loop is "
                "not supported (the backward loop's residuals would need differentiating "
                "in reverse again).  Use forward-over-reverse instead (funcdiff.hessian, "
                "funcdiff.hvp, jacfwd(grad(f))), or write the loop with fori_loop / scan "
                "when its trip count is known.")
        lc_lin = [is_undefined(x) for x in lc]
        res_lc = [x for x, l in zip(lc, lc_lin) if not l]
        mask = [False] * n_res + lc_lin + [True] * len(t)
        res_avals = [v.aval for v in lin_jaxpr.invars[:n_res]]
        lc_binders = lin_jaxpr.invars[n_res:n_res + nl]
        res_lc_avals = [v.aval for v, l in zip(lc_binders, lc_lin) if not l]
        acc_avals = [v.aval.strengthen() for v, l in zip(lc_binders, lc_lin) if l]
        t_avals = [v.aval.strengthen() for v in lin_jaxpr.invars[n_res + nl:]]
        n_nonlin, n_acc = n_res + len(res_lc), len(acc_avals)

        def body_t(*a):
            nonlin, acc, ct = _split(a, n_nonlin, n_acc)
            in_cts = _backward(lin_jaxpr, mask, nonlin, ct)
            from .base import add
            acc = [add(x, _inst(c, av)) if type(c) is not Zero else x
                   for x, c, av in zip(acc, in_cts[:n_acc], acc_avals)]
            return acc + [_inst(c, av) for c, av in zip(in_cts[n_acc:], t_avals)]

        closed, _, _ = trace_flat(body_t, res_avals + res_lc_avals + acc_avals + t_avals,
                                  kind="transpose")
        bj, bconsts = _closure_convert(closed, n_res)
        outs = other.bind(*cc, *fc, *k, *bconsts, *res_lc, *[_zeros(a) for a in acc_avals],
                          *[_inst(c, a) for c, a in zip(cts, t_avals)],
                          cond_jaxpr=cond_jaxpr, fwd_jaxpr=fwd_jaxpr, lin_jaxpr=bj,
                          cond_nconsts=nc, fwd_nconsts=nf,
                          lin_nconsts=len(bconsts) + len(res_lc))
        acc_it, ct_it = iter(outs[:n_acc]), iter(outs[n_acc:])
        out = [None] * (nc + nf + nk)
        out += [next(acc_it) if l else None for l in lc_lin]
        out += [c if is_undefined(x) else None for x, c in zip(t, ct_it)]
        return out
    return transpose


def _while_lin_cost(avals_in, avals_out, *, cond_jaxpr, fwd_jaxpr, lin_jaxpr, **params):
    """One iteration's cost (forward replay plus linear body): the trip count is unknown
    until run time."""
    costs = [_sub_cost(j) for j in (cond_jaxpr, fwd_jaxpr, lin_jaxpr)]
    return {"flops": sum(c[0] for c in costs), "transcendentals": sum(c[1] for c in costs)}


def _emit_while_lin(reverse):
    def emit(args, params, gen):
        c = gen.const(_compiled(params["cond_jaxpr"], "while_cond"), "while_cond")
        f = gen.const(_compiled(params["fwd_jaxpr"], "while_fwd"), "while_fwd")
        lin = gen.const(_compiled(params["lin_jaxpr"], "while_lin"), "while_lin")
        run = gen.const(run_while_lin, "run_while_lin")
        return f"{run}({c}, {f}, {lin}, {_counts(params)}, {reverse}, [{', '.join(args)}])"
    return emit


for _p, _rev, _other in ((while_lin_p, False, while_lin_transpose_p),
                         (while_lin_transpose_p, True, while_lin_p)):
    _p.impl = _while_lin_impl(_rev)
    _p.abstract_eval = _while_lin_abstract(_p.name)
    _p.jvp = _while_lin_jvp(_p)
    _p.transpose = _while_lin_transpose(_other)
    _p.linear = True
    _p.cost = _while_lin_cost
    _p.emit = _emit_while_lin(_rev)


# =========================================================================================
# scan
# =========================================================================================

scan_p = Primitive("scan", multiple_results=True)


def run_scan(body_fn, length, reverse, num_consts, num_carry, y_specs, args):
    """Run a scan of a compiled body: the impl, and what generated code calls.
    ``y_specs`` is a tuple of ``(shape, dtype)`` of one iteration's ys."""
    consts = args[:num_consts]
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    ys = [np.empty((length,) + shape, dtype) for shape, dtype in y_specs]
    if length == 0:
        return [_copy(c) for c in carry] + ys
    for i in range(length):
        idx = length - 1 - i if reverse else i
        out = body_fn(*consts, *carry, *[x[idx] for x in xs])
        carry = out[:num_carry]
        for y, v in zip(ys, out[num_carry:]):
            y[idx] = v
    return list(carry) + ys


def _y_specs(jaxpr, num_carry):
    return tuple((v.aval.shape, v.aval.dtype) for v in jaxpr.outvars[num_carry:])


def _scan_impl(*args, jaxpr, length, reverse, num_consts, num_carry):
    out = run_scan(_compiled(jaxpr, "scan_body"), length, reverse, num_consts, num_carry,
                   _y_specs(jaxpr, num_carry), args)
    return _coerce(out, [v.aval for v in jaxpr.outvars[:num_carry]]) + out[num_carry:]


def _scan_abstract(*avals, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, init, xs = _split(avals, nc, nk)
    if len(avals) != len(jaxpr.invars):
        raise FuncdiffTypeError(f"`scan`: the body takes {len(jaxpr.invars)} operands, got "
                                f"{len(avals)}")
    _check_group("scan", "consts", consts, jaxpr.invars[:nc])
    _check_group("scan", "carry", init, jaxpr.invars[nc:nc + nk])
    for k, (a, v) in enumerate(zip(xs, jaxpr.invars[nc + nk:])):
        if a.shape[:1] != (length,) or a.shape[1:] != v.aval.shape or a.dtype != v.aval.dtype:
            raise FuncdiffTypeError(f"`scan`: xs operand {k} is {a.str_short()} but the body "
                                    f"expects slices {v.aval.str_short()} of length {length}")
    _check_carry("scan", jaxpr.invars[nc:nc + nk], jaxpr.outvars[:nk])
    return ([v.aval for v in jaxpr.invars[nc:nc + nk]] +
            [ShapedArray((length,) + v.aval.shape, v.aval.dtype)
             for v in jaxpr.outvars[nk:]])


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, init, xs = _split(primals, nc, nk)
    dconsts, dinit, dxs = _split(tangents, nc, nk)
    lj = _LoopJvp(jaxpr, nc, nk, _nonzero(tangents))
    body = lj.jaxpr(lj.extra + lj.consts + lj.dconsts + lj.carry + lj.dcarry + lj.xs + lj.dxs,
                    lj.out_carry + lj.out_dcarry + lj.ys + lj.dys)
    c_avals = [v.aval.strengthen() for v in jaxpr.invars[:nc]]
    k_avals = [v.aval.strengthen() for v in jaxpr.invars[nc:nc + nk]]
    x_avals = [aval(x).strengthen() for x in xs]
    dc = [_fit(t, a) for t, a, z in zip(dconsts, c_avals, lj.c_nz) if z]
    dk = [_inst(t, a) for t, a, z in zip(dinit, k_avals, lj.k_nz) if z]
    dx = [_fit(t, a) for t, a, z in zip(dxs, x_avals, lj.x_nz) if z]
    outs = scan_p.bind(*lj.extra_vals, *consts, *dc, *init, *dk, *xs, *dx, jaxpr=body,
                       length=length, reverse=reverse,
                       num_consts=len(lj.extra_vals) + nc + len(dc), num_carry=nk + len(dk))
    n_dk = len(dk)
    ny = len(jaxpr.outvars) - nk
    carry, dcarry, ys, dys = _split(outs, nk, n_dk, ny)
    dcarry_it, dys_it = iter(dcarry), iter(dys)
    y_avals = [ShapedArray((length,) + v.aval.shape, v.aval.dtype) for v in jaxpr.outvars[nk:]]
    t_out = ([next(dcarry_it) if z else Zero(a) for a, z in zip(k_avals, lj.k_nz)] +
             [next(dys_it) if z else Zero(a) for a, z in zip(y_avals, lj.ys_nz)])
    return carry + ys, t_out


def _scan_partial_eval(eqn, unknowns):
    """Known scan: the known carries and ys plus the loop-variant residuals, stacked as
    extra ys.  Unknown scan: reads those stacks as xs.  Residuals that are loop
    invariant (known consts, or computed from them alone) are computed once, outside
    the loop, and passed as consts; residuals that are xs slices read the xs directly."""
    from ..transforms.dce import dce_jaxpr
    from ..transforms.partial_eval import partial_eval_jaxpr
    from .base import convert_element_type_p
    p = eqn.params
    jaxpr, nc, nk, length = p["jaxpr"], p["num_consts"], p["num_carry"], p["length"]
    c_uk, k_uk, x_uk = _split(unknowns, nc, nk)
    k_uk = _carry_fixpoint(jaxpr, c_uk, k_uk, x_uk)
    ny = len(jaxpr.outvars) - nk
    known_j, lin_j, out_uk, res = partial_eval_jaxpr(jaxpr, c_uk + k_uk + x_uk,
                                                     k_uk + [None] * ny)
    y_uk = out_uk[nk:]
    b_consts, _, b_xs = _split(jaxpr.invars, nc, nk)
    o_consts, o_init, o_xs = _split(eqn.invars, nc, nk)
    outer_const = {v: a for v, a, u in zip(b_consts, o_consts, c_uk) if not u}
    outer_x = {v: a for v, a, u in zip(b_xs, o_xs, x_uk) if not u}
    invariant = set(outer_const)
    for e in known_j.eqns:
        if all(type(a) is Literal or a in invariant for a in e.invars):
            invariant.update(e.outvars)
    r_const, r_hoist, r_x, r_stack = [], [], [], []
    for r in res:
        if r in outer_const:
            r_const.append(r)
        elif r in outer_x:
            r_x.append(r)
        elif r in invariant:
            r_hoist.append(r)
        else:
            r_stack.append(r)
    known_eqns = []
    # loop-invariant residuals: copy the eqns computing them out of the loop
    env = dict(outer_const)
    if r_hoist:
        hoist = dce_jaxpr(Jaxpr([], list(outer_const), r_hoist, known_j.eqns))
        for e in hoist.eqns:
            outs = [Var(v.aval) for v in e.outvars]
            known_eqns.append(e.replace(
                invars=[env[a] if type(a) is Var else a for a in e.invars], outvars=outs))
            env.update(zip(e.outvars, outs))
    # the known scan
    n_known = len(known_j.outvars) - len(res)
    body_k = dce_jaxpr(Jaxpr([], known_j.invars, known_j.outvars[:n_known] + r_stack,
                             known_j.eqns))
    stacked = [Var(ShapedArray((length,) + r.aval.shape, r.aval.dtype)) for r in r_stack]
    known_outs = ([v for v, u in zip(eqn.outvars[:nk], k_uk) if not u] +
                  [v for v, u in zip(eqn.outvars[nk:], y_uk) if not u])
    k_consts = [a for a, u in zip(o_consts, c_uk) if not u]
    k_init = [a for a, u in zip(o_init, k_uk) if not u]
    if known_outs or stacked:
        known_eqns.append(Eqn(scan_p, k_consts + k_init +
                              [a for a, u in zip(o_xs, x_uk) if not u],
                              known_outs + stacked,
                              dict(jaxpr=body_k, length=length, reverse=p["reverse"],
                                   num_consts=len(k_consts), num_carry=len(k_init)),
                              eqn.source_info))
    unknown_outs = ([v for v, u in zip(eqn.outvars[:nk], k_uk) if u] +
                    [v for v, u in zip(eqn.outvars[nk:], y_uk) if u])
    if not unknown_outs:
        return known_eqns, [], []
    # the unknown scan: residual slices of weakly typed scalars arrive strongly typed
    # (they were stacked), so they are converted back before use
    pre, stack_binders = [], []
    for r in r_stack:
        if r.aval.weak_type:
            s = Var(r.aval.strengthen())
            pre.append(Eqn(convert_element_type_p, [s], [r],
                           dict(dtype=r.aval.dtype, weak_type=True)))
            stack_binders.append(s)
        else:
            stack_binders.append(r)
    n_res = len(res)
    u_consts, u_carry, u_xs = _split(lin_j.invars[n_res:], sum(c_uk), sum(k_uk))
    body_u = Jaxpr([], r_const + r_hoist + u_consts + u_carry + r_x + stack_binders + u_xs,
                   lin_j.outvars, pre + lin_j.eqns)
    operands = ([outer_const[r] for r in r_const] + [env[r] for r in r_hoist] +
                [a for a, u in zip(o_consts, c_uk) if u] +
                [a for a, u in zip(o_init, k_uk) if u] +
                [outer_x[r] for r in r_x] + stacked +
                [a for a, u in zip(o_xs, x_uk) if u])
    unknown_eqn = Eqn(scan_p, operands, unknown_outs,
                      dict(jaxpr=body_u, length=length, reverse=p["reverse"],
                           num_consts=len(r_const) + len(r_hoist) + len(u_consts),
                           num_carry=len(u_carry)), eqn.source_info)
    return known_eqns, [unknown_eqn], unknown_outs


def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry):
    """A scan in the opposite direction over the transposed body, carrying the carry
    cotangents and accumulating the cotangents of the linear consts."""
    nc, nk = num_consts, num_carry
    consts, init, xs = _split(args, nc, nk)
    c_lin = [is_undefined(c) for c in consts]
    x_lin = [is_undefined(x) for x in xs]
    res_c = [c for c, l in zip(consts, c_lin) if not l]
    res_x = [x for x, l in zip(xs, x_lin) if not l]
    b_consts, b_carry, b_xs = _split(jaxpr.invars, nc, nk)
    mask = c_lin + [True] * nk + x_lin
    ct_carry, ct_ys = cts[:nk], cts[nk:]
    y_nz = _nonzero(ct_ys)
    acc_avals = [v.aval.strengthen() for v, l in zip(b_consts, c_lin) if l]
    k_avals = [v.aval.strengthen() for v in b_carry]
    y_avals = [v.aval.strengthen() for v in jaxpr.outvars[nk:]]
    res_c_avals = [v.aval for v, l in zip(b_consts, c_lin) if not l]
    res_x_avals = [v.aval for v, l in zip(b_xs, x_lin) if not l]
    lin_x_avals = [v.aval.strengthen() for v, l in zip(b_xs, x_lin) if l]
    n_rc, n_acc, n_rx = len(res_c), len(acc_avals), len(res_x)

    def body_t(*a):
        rc, acc, ctk, rx, cty = _split(a, n_rc, n_acc, nk, n_rx)
        it = iter(cty)
        cts_out = list(ctk) + [next(it) if z else Zero(av) for av, z in zip(y_avals, y_nz)]
        in_cts = _backward(jaxpr, mask, list(rc) + list(rx), cts_out)
        ct_c, ct_k, ct_x = _split(in_cts, n_acc, nk)
        from .base import add
        acc = [add(x, _fit(c, av)) if type(c) is not Zero else x
               for x, c, av in zip(acc, ct_c, acc_avals)]
        return (acc + [_inst(c, av) for c, av in zip(ct_k, k_avals)] +
                [_inst(c, av) for c, av in zip(ct_x, lin_x_avals)])

    closed, _, _ = trace_flat(
        body_t, res_c_avals + acc_avals + k_avals + res_x_avals +
        [a for a, z in zip(y_avals, y_nz) if z], kind="transpose")
    bj, bconsts = _closure_convert(closed)
    full_y = [ShapedArray((length,) + a.shape, a.dtype) for a in y_avals]
    ct_y_vals = [_fit(c, a) for c, a, z in zip(ct_ys, full_y, y_nz) if z]
    outs = scan_p.bind(*bconsts, *res_c, *[_zeros(a) for a in acc_avals],
                       *[_inst(c, a) for c, a in zip(ct_carry, k_avals)], *res_x, *ct_y_vals,
                       jaxpr=bj, length=length, reverse=not reverse,
                       num_consts=len(bconsts) + n_rc, num_carry=n_acc + nk)
    ct_c, ct_k, ct_x = _split(outs, n_acc, nk)
    ct_c, ct_x = iter(ct_c), iter(ct_x)
    return ([next(ct_c) if l else None for l in c_lin] +
            [c if is_undefined(x) else None for x, c in zip(init, ct_k)] +
            [next(ct_x) if l else None for l in x_lin])


def _scan_cost(avals_in, avals_out, *, jaxpr, length, **params):
    f, t = _sub_cost(jaxpr)
    return {"flops": f * length, "transcendentals": t * length}


def _emit_scan(args, params, gen):
    j, nk = params["jaxpr"], params["num_carry"]
    body = gen.const(_compiled(j, "scan_body"), "scan_body")
    specs = gen.const(_y_specs(j, nk), "y_specs")
    run = gen.const(run_scan, "run_scan")
    return (f"{run}({body}, {params['length']}, {params['reverse']}, "
            f"{params['num_consts']}, {nk}, {specs}, [{', '.join(args)}])")


scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract
scan_p.jvp = _scan_jvp
scan_p.partial_eval = _scan_partial_eval
scan_p.transpose = _scan_transpose
scan_p.linear = True
scan_p.cost = _scan_cost
scan_p.emit = _emit_scan


# =========================================================================================
# vmap
# =========================================================================================
# Mapped operands are moved to axis 0 (xs of a scan: axis 1, after the scan axis), and the
# sub-jaxprs are batched with mapped inputs and outputs at axis 0.  Loop carries are
# mapped if their initial value is or the body makes them so (a fixpoint).  A mapped
# predicate (cond index, while_loop condition) cannot pick one path for all examples:
# ``cond`` then runs every branch and selects per example; ``while_loop`` runs until every
# example is done, freezing the finished ones with a select.

def _batch_sub(jaxpr, in_mapped, size, out_mapped=None):
    """vmap of a const-free jaxpr whose mapped inputs have their batch axis first.
    Returns ``(closed, out_mapped)``.  With ``out_mapped`` given, those outputs are mapped
    at axis 0 (broadcast if the rules left them unmapped); otherwise it reports which
    outputs came out mapped (moved to axis 0)."""
    from ..transforms.vmap import batch_eval, batched_aval
    from .base import matchaxis
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


def _front(x, d):
    from .base import moveaxis
    return x if d is None else moveaxis(x, d, 0)


def _mapped_front(x, d, size):
    from .base import matchaxis
    return matchaxis(x, d, 0, size)


def _batch_fixpoint(jaxpr, consts_m, carry_m, xs_m, size):
    nk = len(carry_m)
    carry_m = list(carry_m)
    while True:
        _, om = _batch_sub(jaxpr, list(consts_m) + carry_m + list(xs_m), size)
        new = [a or b for a, b in zip(carry_m, om[:nk])]
        if new == carry_m:
            return carry_m, om[nk:]
        carry_m = new


def _bcast_pred(pred, x):
    """A per-example boolean ``pred`` (shape ``(B,)``) reshaped to broadcast against the
    mapped ``x`` (batch axis first)."""
    from .base import reshape
    n = aval(x).ndim
    return reshape(pred, aval(pred).shape + (1,) * (n - 1)) if n > 1 else pred


def _cond_batch(args, dims, *, branches):
    from ..core.interpret import eval_jaxpr
    from .base import axis_size, moveaxis
    from .elementwise import eq, select
    size = axis_size(args, dims)
    index, ops = args[0], [_front(x, d) for x, d in zip(args[1:], dims[1:])]
    o_m = [d is not None for d in dims[1:]]
    n_out = len(branches[0].outvars)
    if dims[0] is None:
        out_m = [False] * n_out
        for b in branches:
            out_m = [a or c for a, c in zip(out_m, _batch_sub(b, o_m, size)[1])]
        new = [_batch_sub(b, o_m, size, out_m)[0] for b in branches]
        return bind_cond(index, new, ops), [0 if m else None for m in out_m]
    # a mapped index: every branch runs on every example; a select picks per example
    index = moveaxis(index, dims[0], 0)
    results = []
    for b in branches:
        closed, _ = _batch_sub(b, o_m, size, [True] * n_out)
        results.append(eval_jaxpr(closed.jaxpr, closed.consts, *ops))
    outs = []
    for k in range(n_out):
        r = results[0][k]
        for i in range(1, len(branches)):
            r = select(_bcast_pred(eq(index, np.int32(i)), r), results[i][k], r)
        outs.append(r)
    return outs, [0] * n_out


def _scan_batch(args, dims, *, jaxpr, length, reverse, num_consts, num_carry):
    from .base import axis_size, moveaxis
    nc, nk = num_consts, num_carry
    size = axis_size(args, dims)
    consts, init, xs = _split(args, nc, nk)
    cd, kd, xd = _split(dims, nc, nk)
    c_m, x_m = [d is not None for d in cd], [d is not None for d in xd]
    k_m, y_m = _batch_fixpoint(jaxpr, c_m, [d is not None for d in kd], x_m, size)
    closed, _ = _batch_sub(jaxpr, c_m + k_m + x_m, size, k_m + y_m)
    bj, bconsts = _closure_convert(closed)
    outs = scan_p.bind(*bconsts, *[_front(c, d) for c, d in zip(consts, cd)],
                       *[_mapped_front(x, d, size) if m else x
                         for x, d, m in zip(init, kd, k_m)],
                       *[x if d is None else moveaxis(x, d, 1) for x, d in zip(xs, xd)],
                       jaxpr=bj, length=length, reverse=reverse,
                       num_consts=len(bconsts) + nc, num_carry=nk)
    return outs, [0 if m else None for m in k_m] + [1 if m else None for m in y_m]


def _any_trace(cond_closed):
    """``(*args) -> any(cond(*args))`` for a batched predicate."""
    from ..core.interpret import eval_jaxpr
    from .reduce import reduce_or_p

    def fun(*args):
        (p,) = eval_jaxpr(cond_closed.jaxpr, cond_closed.consts, *args)
        return [reduce_or_p.bind(p, axes=(0,))]
    closed, _, _ = trace_flat(fun, cond_closed.in_avals, kind="vmap")
    return closed


def _while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    from ..core.interpret import eval_jaxpr
    from .base import axis_size
    from .elementwise import select
    nc, nb = cond_nconsts, body_nconsts
    size = axis_size(args, dims)
    cc, bc, init = _split(args, nc, nb)
    ccd, bcd, kd = _split(dims, nc, nb)
    cc = [_front(x, d) for x, d in zip(cc, ccd)]
    bc = [_front(x, d) for x, d in zip(bc, bcd)]
    cc_m, bc_m = [d is not None for d in ccd], [d is not None for d in bcd]
    k_m, _ = _batch_fixpoint(body_jaxpr, bc_m, [d is not None for d in kd], [], size)
    pred_mapped = _batch_sub(cond_jaxpr, cc_m + k_m, size)[1][0]
    nk = len(init)
    if pred_mapped:
        k_m = [True] * nk
    init = [_mapped_front(x, d, size) if m else x for x, d, m in zip(init, kd, k_m)]
    cond_b, _ = _batch_sub(cond_jaxpr, cc_m + k_m, size, [pred_mapped])
    body_b, _ = _batch_sub(body_jaxpr, bc_m + k_m, size, k_m)
    if not pred_mapped:
        cj, cconsts = _closure_convert(cond_b)
        bj, bconsts = _closure_convert(body_b)
        outs = while_p.bind(*cconsts, *cc, *bconsts, *bc, *init, cond_jaxpr=cj,
                            body_jaxpr=bj, cond_nconsts=len(cconsts) + nc,
                            body_nconsts=len(bconsts) + nb)
        return outs, [0 if m else None for m in k_m]
    # run while any example is active; finished examples are frozen by a select
    n_cc = len(cc)

    def body_fun(*a):
        ccv, bcv, k = _split(a, n_cc, len(bc))
        (pred,) = eval_jaxpr(cond_b.jaxpr, cond_b.consts, *ccv, *k)
        new = eval_jaxpr(body_b.jaxpr, body_b.consts, *bcv, *k)
        return [select(_bcast_pred(pred, n), n, o) for n, o in zip(new, k)]

    c_avals = [aval(x) for x in cc]
    b_avals = [aval(x) for x in bc]
    k_avals = [v.aval for v in body_b.jaxpr.invars[len(body_b.jaxpr.invars) - nk:]]
    body2, _, _ = trace_flat(body_fun, c_avals + b_avals + k_avals, kind="vmap")
    cj, cconsts = _closure_convert(_any_trace(cond_b))
    bj, bconsts = _closure_convert(body2)
    outs = while_p.bind(*cconsts, *cc, *bconsts, *cc, *bc, *init, cond_jaxpr=cj,
                        body_jaxpr=bj, cond_nconsts=len(cconsts) + nc,
                        body_nconsts=len(bconsts) + nc + nb)
    return outs, [0] * nk


def _while_lin_batch(prim):
    def batch(args, dims, *, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts, fwd_nconsts,
              lin_nconsts):
        from ..core.interpret import eval_jaxpr
        from .base import axis_size
        from .elementwise import select
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        n_res = len(fwd_jaxpr.outvars) - nk
        size = axis_size(args, dims)
        groups = _split(args, nc, nf, nk, nl)
        gdims = _split(dims, nc, nf, nk, nl)
        cc, fc, k, lc, t = [[_front(x, d) for x, d in zip(g, gd)]
                            for g, gd in zip(groups, gdims)]
        cc_m, fc_m, k_m, lc_m, t_m = [[d is not None for d in gd] for gd in gdims]
        k_m, res_m = _batch_fixpoint(fwd_jaxpr, fc_m, k_m, [], size)
        pred_mapped = _batch_sub(cond_jaxpr, cc_m + k_m, size)[1][0]
        if pred_mapped:
            k_m = [True] * nk
            _, res_m = _batch_sub(fwd_jaxpr, fc_m + k_m, size)
            res_m = res_m[nk:]
        t_m, _ = _batch_fixpoint(lin_jaxpr, res_m + lc_m, t_m, [], size)
        if pred_mapped:
            t_m = [True] * len(t)
        k = [_mapped_front(x, d, size) if m else x
             for x, d, m in zip(k, [d if d is None else 0 for d in gdims[2]], k_m)]
        t = [_mapped_front(x, d, size) if m else x
             for x, d, m in zip(t, [d if d is None else 0 for d in gdims[4]], t_m)]
        cond_b, _ = _batch_sub(cond_jaxpr, cc_m + k_m, size, [pred_mapped])
        fwd_b, _ = _batch_sub(fwd_jaxpr, fc_m + k_m, size, k_m + res_m)
        lin_b, _ = _batch_sub(lin_jaxpr, res_m + lc_m + t_m, size, t_m)
        if not pred_mapped:
            cj, cconsts = _closure_convert(cond_b)
            fj, fconsts = _closure_convert(fwd_b)
            lj, lconsts = _closure_convert(lin_b, n_res)
            outs = prim.bind(*cconsts, *cc, *fconsts, *fc, *k, *lconsts, *lc, *t,
                             cond_jaxpr=cj, fwd_jaxpr=fj, lin_jaxpr=lj,
                             cond_nconsts=len(cconsts) + nc, fwd_nconsts=len(fconsts) + nf,
                             lin_nconsts=len(lconsts) + nl)
            return outs, [0 if m else None for m in t_m]
        # a mapped predicate: iterate while any example is active; each iteration also
        # saves the per-example predicate, so the linear body leaves finished ones alone
        n_cc, n_fc = len(cc), len(fc)

        def fwd_fun(*a):
            ccv, fcv, kv = _split(a, n_cc, n_fc)
            (pred,) = eval_jaxpr(cond_b.jaxpr, cond_b.consts, *ccv, *kv)
            out = eval_jaxpr(fwd_b.jaxpr, fwd_b.consts, *fcv, *kv)
            new_k = [select(_bcast_pred(pred, n), n, o) for n, o in zip(out[:nk], kv)]
            return new_k + list(out[nk:]) + [pred]

        k_avals = [aval(x) for x in k]
        fwd2, _, _ = trace_flat(fwd_fun, [aval(x) for x in cc + fc] + k_avals, kind="vmap")
        res_avals = [v.aval for v in fwd2.jaxpr.outvars[nk:]]
        n_lc = len(lc)

        def lin_fun(*a):
            res, pred, lcv, tv = _split(a, n_res, 1, n_lc)
            new = eval_jaxpr(lin_b.jaxpr, lin_b.consts, *res, *lcv, *tv)
            return [select(_bcast_pred(pred[0], n), n, o) for n, o in zip(new, tv)]

        lin2, _, _ = trace_flat(lin_fun, res_avals + [aval(x) for x in lc + t], kind="vmap")
        cj, cconsts = _closure_convert(_any_trace(cond_b))
        fj, fconsts = _closure_convert(fwd2)
        lj, lconsts = _closure_convert(lin2, n_res + 1)
        outs = prim.bind(*cconsts, *cc, *fconsts, *cc, *fc, *k, *lconsts, *lc, *t,
                         cond_jaxpr=cj, fwd_jaxpr=fj, lin_jaxpr=lj,
                         cond_nconsts=len(cconsts) + nc,
                         fwd_nconsts=len(fconsts) + nc + nf, lin_nconsts=len(lconsts) + nl)
        return outs, [0] * len(t)
    return batch


cond_p.batch = _cond_batch
scan_p.batch = _scan_batch
while_p.batch = _while_batch
while_lin_p.batch = _while_lin_batch(while_lin_p)
while_lin_transpose_p.batch = _while_lin_batch(while_lin_transpose_p)


def _while_lin_partial_eval(prim):
    """Split off the known part (the loops restricted to known carries: the primal
    results of a differentiated while_lin).  The unknown eqn is the whole eqn (it replays
    the known part, which is cheap next to storing it); it is linear in the unknown
    operands, and transposable when those are only ``lin_consts`` / ``lin_init``."""
    def rule(eqn, unknowns):
        from ..transforms.dce import dce_jaxpr
        from ..transforms.partial_eval import partial_eval_jaxpr
        p = eqn.params
        cond, fwd, lin = p["cond_jaxpr"], p["fwd_jaxpr"], p["lin_jaxpr"]
        nc, nf, nl = p["cond_nconsts"], p["fwd_nconsts"], p["lin_nconsts"]
        nk = len(fwd.invars) - nf
        n_res = len(fwd.outvars) - nk
        cc_uk, fc_uk, k_uk, lc_uk, t_uk = _split(unknowns, nc, nf, nk, nl)
        everything = [], [eqn], list(eqn.outvars)
        if any(cc_uk):
            return everything
        k_uk = _carry_fixpoint(fwd, fc_uk, k_uk)
        if any(u and v in _used_vars(cond) for u, v in zip(k_uk, cond.invars[nc:])):
            return everything
        fk, _, f_out_uk, f_res = partial_eval_jaxpr(fwd, fc_uk + k_uk, k_uk + [None] * n_res)
        res_uk = f_out_uk[nk:]
        t_uk = _carry_fixpoint(lin, res_uk + lc_uk, t_uk)
        lk, _, _, l_res = partial_eval_jaxpr(lin, res_uk + lc_uk + t_uk, t_uk)
        unknown_outs = [v for v, u in zip(eqn.outvars, t_uk) if u]
        known_outs = [v for v, u in zip(eqn.outvars, t_uk) if not u]
        if not known_outs:
            return everything
        nkk = nk - sum(k_uk)
        fwd_k = dce_jaxpr(Jaxpr([], fk.invars, fk.outvars[:len(fk.outvars) - len(f_res)],
                                fk.eqns))
        n_res_k = len(fwd_k.outvars) - nkk
        lin_k = dce_jaxpr(Jaxpr([], lk.invars, lk.outvars[:len(lk.outvars) - len(l_res)],
                                lk.eqns))
        cond_k = Jaxpr([], cond.invars[:nc] + [v for v, u in zip(cond.invars[nc:], k_uk)
                                               if not u], cond.outvars, cond.eqns)
        cc, fc, k, lc, t = _split(eqn.invars, nc, nf, nk, nl)

        def known(vs, uks):
            return [v for v, u in zip(vs, uks) if not u]

        kfc, klc = known(fc, fc_uk), known(lc, lc_uk)
        known_eqn = Eqn(prim, cc + kfc + known(k, k_uk) + klc + known(t, t_uk), known_outs,
                        dict(cond_jaxpr=cond_k, fwd_jaxpr=fwd_k, lin_jaxpr=lin_k,
                             cond_nconsts=nc, fwd_nconsts=len(kfc), lin_nconsts=len(klc)),
                        eqn.source_info)
        assert len(lin_k.invars) == n_res_k + len(klc) + len(known_outs)
        if not unknown_outs:
            return [known_eqn], [], []
        if prim is while_lin_p:
            return [known_eqn], [_while_lin_split_unknown(
                eqn, fk, fwd_k, f_res, lk, l_res, k_uk, res_uk, fc_uk, lc_uk, t_uk)], \
                unknown_outs
        outvars = [v if u else Var(v.aval) for v, u in zip(eqn.outvars, t_uk)]
        return [known_eqn], [eqn.replace(outvars=outvars)], unknown_outs
    return rule


def _while_lin_split_unknown(eqn, fk, fwd_k, f_res, lk, l_res, k_uk, res_uk, fc_uk, lc_uk,
                             t_uk):
    """The unknown half of a partially known ``while_lin`` (forward order): another
    ``while_lin`` whose forward loop runs both known parts (the known forward body on the
    known carries, and the known linear body on the known linear carries: both sweep
    forward) and saves their residuals; its linear body runs both unknown parts.  It is
    linear in the unknown operands, so it transposes (reverse-over-forward works)."""
    from ..transforms.dce import dce_jaxpr
    from ..transforms.partial_eval import partial_eval_jaxpr
    p = eqn.params
    cond, fwd, lin = p["cond_jaxpr"], p["fwd_jaxpr"], p["lin_jaxpr"]
    nc, nf, nl = p["cond_nconsts"], p["fwd_nconsts"], p["lin_nconsts"]
    nk = len(fwd.invars) - nf
    n_res = len(fwd.outvars) - nk
    _, fu, _, _ = partial_eval_jaxpr(fwd, fc_uk + k_uk, k_uk + [None] * n_res)
    _, lu, _, _ = partial_eval_jaxpr(lin, res_uk + lc_uk + t_uk, t_uk)

    def subst(jaxpr_eqns, mapping):
        def s(a):
            return mapping.get(a, a) if type(a) is Var else a
        return [e.replace(invars=[s(a) for a in e.invars]) for e in jaxpr_eqns], s

    n_kk, n_uk = nk - sum(k_uk), sum(k_uk)
    # known forward body: fk (known fc, known k) -> (known k', known res, f_res);
    # lk (known res, known lc, known t) -> (known t', l_res)
    n_fk_known = len(fk.outvars) - len(f_res)
    fk_kk_out = fk.outvars[:n_kk]
    fk_res_out = fk.outvars[n_kk:n_fk_known]
    n_kres = len(fk_res_out)
    lk_res_in = lk.invars[:n_kres]
    lk_eqns, s = subst(lk.eqns, dict(zip(lk_res_in, fk_res_out)))
    n_lk_known = len(lk.outvars) - len(l_res)
    kfc = fk.invars[:len(fk.invars) - n_kk]
    kk_in = fk.invars[len(fk.invars) - n_kk:]
    n_klc = sum(1 for u in lc_uk if not u)
    klc = lk.invars[n_kres:n_kres + n_klc]
    kt_in = lk.invars[n_kres + n_klc:]
    fwd2 = dce_jaxpr(Jaxpr([], kfc + klc + kk_in + kt_in,
                           fk_kk_out + [s(a) for a in lk.outvars[:n_lk_known]] +
                           fk.outvars[n_fk_known:] + [s(a) for a in lk.outvars[n_lk_known:]],
                           fk.eqns + lk_eqns))
    # unknown linear body: fu (f_res, uk fc, uk k) -> (uk k', uk res);
    # lu (l_res, uk res, uk lc, uk t) -> uk t'
    n_fres, n_lres = len(f_res), len(l_res)
    ufc = fu.invars[n_fres:len(fu.invars) - n_uk]
    uk_in = fu.invars[len(fu.invars) - n_uk:]
    fu_k_out, fu_res_out = fu.outvars[:n_uk], fu.outvars[n_uk:]
    lu_res_in = lu.invars[n_lres:n_lres + len(fu_res_out)]
    lu_eqns, s2 = subst(lu.eqns, dict(zip(lu_res_in, fu_res_out)))
    n_ulc = sum(lc_uk)
    ulc = lu.invars[n_lres + len(fu_res_out):n_lres + len(fu_res_out) + n_ulc]
    ut_in = lu.invars[n_lres + len(fu_res_out) + n_ulc:]
    lin2 = Jaxpr([], fu.invars[:n_fres] + lu.invars[:n_lres] + ufc + ulc + uk_in + ut_in,
                 fu_k_out + [s2(a) for a in lu.outvars], fu.eqns + lu_eqns)
    cond2 = _extend_cond(Jaxpr([], cond.invars[:nc] + [v for v, u in zip(cond.invars[nc:], k_uk)
                                                       if not u], cond.outvars, cond.eqns),
                         [v.aval for v in kt_in])
    cc, fc, k, lc, t = _split(eqn.invars, nc, nf, nk, nl)

    def pick(vs, uks, want):
        return [v for v, u in zip(vs, uks) if bool(u) == want]

    operands = (cc + pick(fc, fc_uk, False) + pick(lc, lc_uk, False) +
                pick(k, k_uk, False) + pick(t, t_uk, False) +
                pick(fc, fc_uk, True) + pick(lc, lc_uk, True) +
                pick(k, k_uk, True) + pick(t, t_uk, True))
    outvars = [Var(v.aval) for v in lin2.outvars[:n_uk]] + pick(eqn.outvars, t_uk, True)
    return Eqn(while_lin_p, operands, outvars,
               dict(cond_jaxpr=cond2, fwd_jaxpr=fwd2, lin_jaxpr=lin2, cond_nconsts=nc,
                    fwd_nconsts=len(kfc) + len(klc), lin_nconsts=len(ufc) + len(ulc)),
               eqn.source_info)


while_lin_p.partial_eval = _while_lin_partial_eval(while_lin_p)
while_lin_transpose_p.partial_eval = _while_lin_partial_eval(while_lin_transpose_p)
