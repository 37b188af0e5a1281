"""``cond``: run one of several branches, picked by an integer index.

======================  =====================================================================
``cond``                operands ``index, *ops``; ``branches`` (tuple of ``ops -> outs``).
                        Runs ``branches[index]`` (the index is clamped into range).
======================  =====================================================================

``funcdiff.lax.cond`` / ``switch`` bind it with ``bind_cond``.
"""
from __future__ import annotations

import numpy as np

from ..core.ad_types import Zero, is_undefined
from ..core.errors import FuncdiffTypeError, GradientError
from ..core.interpret import eval_jaxpr, subprogram
from ..core.ir import Eqn, Jaxpr, Var
from ..core.trace import Primitive
from ..primitives.base import axis_size, moveaxis
from ..primitives.elementwise import eq, select
from ..transforms.dce import dce_jaxpr
from ..transforms.partial_eval import partial_eval_jaxpr
from ._common import (batch_front, batch_sub, bcast_pred, coerce, fit_aval, jvp_sub,
                      nonzero, same_aval, transpose_sub, zero_atom)

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
    return coerce(subprogram(b, "branch")(*ops), [v.aval for v in b.outvars])


def _cond_abstract(index, *ops, branches):
    if index.shape != () or index.dtype.kind not in "iu":
        raise FuncdiffTypeError(f"`cond`: the index must be an integer scalar, got "
                                f"{index.str_short()}")
    for bi, b in enumerate(branches):
        if len(b.invars) != len(ops):
            raise FuncdiffTypeError(f"`cond`: branch {bi} takes {len(b.invars)} operands, "
                                    f"got {len(ops)}")
        for k, (v, a) in enumerate(zip(b.invars, ops)):
            if not same_aval(v.aval, a):
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
            if not same_aval(a, c):
                raise FuncdiffTypeError(f"`cond`: output {k} is {a.str_short()} in branch 0 "
                                        f"but {c.str_short()} in branch {bi}")
            weak[k] = weak[k] and c.weak_type
    return [a.update(weak_type=w) for a, w in zip(outs0, weak)]


def _cond_jvp(primals, tangents, *, branches):
    index, ops = primals[0], list(primals[1:])
    t_ops = list(tangents[1:])
    nz = nonzero(t_ops)
    n_out = len(branches[0].outvars)
    first = [jvp_sub(b, nz, [False] * n_out) for b in branches]
    out_nz = [any(f[1][k] for f in first) for k in range(n_out)]
    new = [c if onz == out_nz else jvp_sub(b, nz, out_nz)[0]
           for b, (c, onz) in zip(branches, first)]
    avals = [v.aval for v in branches[0].invars]
    t_vals = [fit_aval(t, a.strengthen()) for t, a, z in zip(t_ops, avals, nz) if z]
    outs = bind_cond(index, new, ops + t_vals)
    it = iter(outs[n_out:])
    t_out = [next(it) if z else Zero(v.aval.strengthen())
             for v, z in zip(branches[0].outvars, out_nz)]
    return list(outs[:n_out]), t_out


def _cond_partial_eval(eqn, unknowns):
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
                e, atom = zero_atom(a)
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
    ct_nz = nonzero(cts)
    out_avals = [v.aval.strengthen() for v in branches[0].outvars]
    ct_vals = [fit_aval(c, a) for c, a, z in zip(cts, out_avals, ct_nz) if z]
    new = [transpose_sub(b, lin, ct_nz) for b in branches]
    outs = iter(bind_cond(index, new, res + ct_vals))
    return [None] + [next(outs) if l else None for l in lin]


def _cond_cost(avals_in, avals_out, *, sub_cost, branches):
    """The dearest branch: one of them runs."""
    costs = [sub_cost(b) for b in branches]
    return {"flops": max(c["flops"] for c in costs),
            "transcendentals": max(c["transcendentals"] for c in costs)}


def _emit_cond(args, params, gen):
    fns = [gen.subprogram(b, f"branch{i}", f"branch{i}_")
           for i, b in enumerate(params["branches"])]
    return f"({', '.join(fns)},)[{args[0]}]({', '.join(args[1:])})"


def _cond_called_jaxpr(params, vals):
    """The branch these operands take."""
    branches = params["branches"]
    k = int(np.clip(np.asarray(vals[0]).astype(np.int64), 0, len(branches) - 1))
    return branches[k], [], list(vals[1:])


cond_p.impl = _cond_impl
cond_p.called_jaxpr = _cond_called_jaxpr
cond_p.sparsity = "cond"
cond_p.abstract_eval = _cond_abstract
cond_p.jvp = _cond_jvp
cond_p.partial_eval = _cond_partial_eval
cond_p.transpose = _cond_transpose
cond_p.linear = True
cond_p.cost = _cond_cost
cond_p.emit = _emit_cond




# vmap.  Mapped operands are moved to axis 0 and the branches batched with mapped inputs
# and outputs there.  A mapped index cannot pick one branch for all examples: every
# branch then runs and a select picks per example.

def _cond_batch(args, dims, *, branches):
    size = axis_size(args, dims)
    index, ops = args[0], [batch_front(x, d) for x, d in zip(args[1:], dims[1:])]
    o_m = [d is not None for d in dims[1:]]
    n_out = len(branches[0].outvars)
    if dims[0] is None:
        out_m = [False] * n_out
        for b in branches:
            out_m = [a or c for a, c in zip(out_m, batch_sub(b, o_m, size)[1])]
        new = [batch_sub(b, o_m, size, out_m)[0] for b in branches]
        return bind_cond(index, new, ops), [0 if m else None for m in out_m]
    # a mapped index: every branch runs on every example; a select picks per example
    index = moveaxis(index, dims[0], 0)
    results = []
    for b in branches:
        closed, _ = batch_sub(b, o_m, size, [True] * n_out)
        results.append(eval_jaxpr(closed.jaxpr, closed.consts, *ops))
    outs = []
    for k in range(n_out):
        r = results[0][k]
        for i in range(1, len(branches)):
            r = select(bcast_pred(eq(index, np.int32(i)), r), results[i][k], r)
        outs.append(r)
    return outs, [0] * n_out


cond_p.batch = _cond_batch
