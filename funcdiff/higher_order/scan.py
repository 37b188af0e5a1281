"""``scan``: a loop over the leading axis of its ``xs``, carrying state, stacking ``ys``.

======================  =====================================================================
``scan``                operands ``*consts, *init, *xs``; ``jaxpr`` (``consts, carry, x ->
                        carry, y``), ``length``, ``reverse``, ``num_consts``, ``num_carry``.
                        Returns ``*carry, *ys`` (each y stacked along a new leading axis).
======================  =====================================================================

Reverse mode stacks the loop-variant residuals per iteration (partial evaluation makes
them extra ``ys`` of the known scan, and ``xs`` of the unknown one); ``fori_loop`` with
static bounds lowers to ``scan``.
"""
from __future__ import annotations

import numpy as np

from ..core.ad_types import Zero, is_undefined
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError
from ..core.interpret import subprogram
from ..core.ir import Eqn, Jaxpr, Literal, Var, closure_convert
from ..core.trace import Primitive, trace_flat
from ..primitives.base import add, aval, axis_size, convert_element_type_p, moveaxis
from ..transforms.dce import dce_jaxpr
from ..transforms.partial_eval import partial_eval_jaxpr
from ._common import (LoopJvp, backward_sub, batch_fixpoint, batch_front, batch_sub,
                      carry_fixpoint, check_carry, check_group, coerce, copy_array,
                      fit_aval, instantiate_as, mapped_front, nonzero, split, zeros)

scan_p = Primitive("scan", multiple_results=True)


def run_scan(body_fn, length, reverse, num_consts, num_carry, y_specs, args):
    """Run a scan of a compiled body: the impl, and what generated code calls.
    ``y_specs`` is a tuple of ``(shape, dtype)`` of one iteration's ys."""
    consts = args[:num_consts]
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    ys = [np.empty((length,) + shape, dtype) for shape, dtype in y_specs]
    if length == 0:
        return [copy_array(c) for c in carry] + ys
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
    out = run_scan(subprogram(jaxpr, "scan_body"), length, reverse, num_consts, num_carry,
                   _y_specs(jaxpr, num_carry), args)
    return coerce(out, [v.aval for v in jaxpr.outvars[:num_carry]]) + out[num_carry:]


def _scan_abstract(*avals, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, init, xs = split(avals, nc, nk)
    if len(avals) != len(jaxpr.invars):
        raise FuncdiffTypeError(f"`scan`: the body takes {len(jaxpr.invars)} operands, got "
                                f"{len(avals)}")
    check_group("scan", "consts", consts, jaxpr.invars[:nc])
    check_group("scan", "carry", init, jaxpr.invars[nc:nc + nk])
    for k, (a, v) in enumerate(zip(xs, jaxpr.invars[nc + nk:])):
        if a.shape[:1] != (length,) or a.shape[1:] != v.aval.shape or a.dtype != v.aval.dtype:
            raise FuncdiffTypeError(f"`scan`: xs operand {k} is {a.str_short()} but the body "
                                    f"expects slices {v.aval.str_short()} of length {length}")
    check_carry("scan", jaxpr.invars[nc:nc + nk], jaxpr.outvars[:nk])
    return ([v.aval for v in jaxpr.invars[nc:nc + nk]] +
            [ShapedArray((length,) + v.aval.shape, v.aval.dtype)
             for v in jaxpr.outvars[nk:]])


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, init, xs = split(primals, nc, nk)
    dconsts, dinit, dxs = split(tangents, nc, nk)
    lj = LoopJvp(jaxpr, nc, nk, nonzero(tangents))
    body = lj.jaxpr(lj.extra + lj.consts + lj.dconsts + lj.carry + lj.dcarry + lj.xs + lj.dxs,
                    lj.out_carry + lj.out_dcarry + lj.ys + lj.dys)
    c_avals = [v.aval.strengthen() for v in jaxpr.invars[:nc]]
    k_avals = [v.aval.strengthen() for v in jaxpr.invars[nc:nc + nk]]
    x_avals = [aval(x).strengthen() for x in xs]
    dc = [fit_aval(t, a) for t, a, z in zip(dconsts, c_avals, lj.c_nz) if z]
    dk = [instantiate_as(t, a) for t, a, z in zip(dinit, k_avals, lj.k_nz) if z]
    dx = [fit_aval(t, a) for t, a, z in zip(dxs, x_avals, lj.x_nz) if z]
    outs = scan_p.bind(*lj.extra_vals, *consts, *dc, *init, *dk, *xs, *dx, jaxpr=body,
                       length=length, reverse=reverse,
                       num_consts=len(lj.extra_vals) + nc + len(dc), num_carry=nk + len(dk))
    n_dk = len(dk)
    ny = len(jaxpr.outvars) - nk
    carry, dcarry, ys, dys = split(outs, nk, n_dk, ny)
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
    p = eqn.params
    jaxpr, nc, nk, length = p["jaxpr"], p["num_consts"], p["num_carry"], p["length"]
    c_uk, k_uk, x_uk = split(unknowns, nc, nk)
    k_uk = carry_fixpoint(jaxpr, c_uk, k_uk, x_uk)
    ny = len(jaxpr.outvars) - nk
    known_j, lin_j, out_uk, res = partial_eval_jaxpr(jaxpr, c_uk + k_uk + x_uk,
                                                     k_uk + [None] * ny)
    y_uk = out_uk[nk:]
    b_consts, _, b_xs = split(jaxpr.invars, nc, nk)
    o_consts, o_init, o_xs = split(eqn.invars, nc, nk)
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
    u_consts, u_carry, u_xs = split(lin_j.invars[n_res:], sum(c_uk), sum(k_uk))
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
    consts, init, xs = split(args, nc, nk)
    c_lin = [is_undefined(c) for c in consts]
    x_lin = [is_undefined(x) for x in xs]
    res_c = [c for c, l in zip(consts, c_lin) if not l]
    res_x = [x for x, l in zip(xs, x_lin) if not l]
    b_consts, b_carry, b_xs = split(jaxpr.invars, nc, nk)
    mask = c_lin + [True] * nk + x_lin
    ct_carry, ct_ys = cts[:nk], cts[nk:]
    y_nz = nonzero(ct_ys)
    acc_avals = [v.aval.strengthen() for v, l in zip(b_consts, c_lin) if l]
    k_avals = [v.aval.strengthen() for v in b_carry]
    y_avals = [v.aval.strengthen() for v in jaxpr.outvars[nk:]]
    res_c_avals = [v.aval for v, l in zip(b_consts, c_lin) if not l]
    res_x_avals = [v.aval for v, l in zip(b_xs, x_lin) if not l]
    lin_x_avals = [v.aval.strengthen() for v, l in zip(b_xs, x_lin) if l]
    n_rc, n_acc, n_rx = len(res_c), len(acc_avals), len(res_x)

    def body_t(*a):
        rc, acc, ctk, rx, cty = split(a, n_rc, n_acc, nk, n_rx)
        it = iter(cty)
        cts_out = list(ctk) + [next(it) if z else Zero(av) for av, z in zip(y_avals, y_nz)]
        in_cts = backward_sub(jaxpr, mask, list(rc) + list(rx), cts_out)
        ct_c, ct_k, ct_x = split(in_cts, n_acc, nk)
        acc = [add(x, fit_aval(c, av)) if type(c) is not Zero else x
               for x, c, av in zip(acc, ct_c, acc_avals)]
        return (acc + [instantiate_as(c, av) for c, av in zip(ct_k, k_avals)] +
                [instantiate_as(c, av) for c, av in zip(ct_x, lin_x_avals)])

    closed, _, _ = trace_flat(
        body_t, res_c_avals + acc_avals + k_avals + res_x_avals +
        [a for a, z in zip(y_avals, y_nz) if z], kind="transpose")
    bj, bconsts = closure_convert(closed)
    full_y = [ShapedArray((length,) + a.shape, a.dtype) for a in y_avals]
    ct_y_vals = [fit_aval(c, a) for c, a, z in zip(ct_ys, full_y, y_nz) if z]
    outs = scan_p.bind(*bconsts, *res_c, *[zeros(a) for a in acc_avals],
                       *[instantiate_as(c, a) for c, a in zip(ct_carry, k_avals)], *res_x, *ct_y_vals,
                       jaxpr=bj, length=length, reverse=not reverse,
                       num_consts=len(bconsts) + n_rc, num_carry=n_acc + nk)
    ct_c, ct_k, ct_x = split(outs, n_acc, nk)
    ct_c, ct_x = iter(ct_c), iter(ct_x)
    return ([next(ct_c) if l else None for l in c_lin] +
            [c if is_undefined(x) else None for x, c in zip(init, ct_k)] +
            [next(ct_x) if l else None for l in x_lin])


def _scan_cost(avals_in, avals_out, *, sub_cost, jaxpr, length, **params):
    """``length`` times the body's."""
    c = sub_cost(jaxpr)
    return {"flops": c["flops"] * length, "transcendentals": c["transcendentals"] * length}


def _emit_scan(args, params, gen):
    j, nk = params["jaxpr"], params["num_carry"]
    body = gen.subprogram(j, "scan_body", "scan_body")
    specs = gen.const(_y_specs(j, nk), "y_specs")
    run = gen.const(run_scan, "run_scan")
    return (f"{run}({body}, {params['length']}, {params['reverse']}, "
            f"{params['num_consts']}, {nk}, {specs}, [{', '.join(args)}])")


scan_p.impl = _scan_impl
scan_p.sparsity = "scan"
scan_p.abstract_eval = _scan_abstract
scan_p.jvp = _scan_jvp
scan_p.partial_eval = _scan_partial_eval
scan_p.transpose = _scan_transpose
scan_p.linear = True
scan_p.cost = _scan_cost
scan_p.emit = _emit_scan


# vmap.  Mapped consts and carries are moved to axis 0, mapped xs to axis 1 (after the
# scan axis); a carry is mapped if its initial value is or the body makes it so (a
# fixpoint).

def _scan_batch(args, dims, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    size = axis_size(args, dims)
    consts, init, xs = split(args, nc, nk)
    cd, kd, xd = split(dims, nc, nk)
    c_m, x_m = [d is not None for d in cd], [d is not None for d in xd]
    k_m, y_m = batch_fixpoint(jaxpr, c_m, [d is not None for d in kd], x_m, size)
    closed, _ = batch_sub(jaxpr, c_m + k_m + x_m, size, k_m + y_m)
    bj, bconsts = closure_convert(closed)
    outs = scan_p.bind(*bconsts, *[batch_front(c, d) for c, d in zip(consts, cd)],
                       *[mapped_front(x, d, size) if m else x
                         for x, d, m in zip(init, kd, k_m)],
                       *[x if d is None else moveaxis(x, d, 1) for x, d in zip(xs, xd)],
                       jaxpr=bj, length=length, reverse=reverse,
                       num_consts=len(bconsts) + nc, num_carry=nk)
    return outs, [0 if m else None for m in k_m] + [1 if m else None for m in y_m]


scan_p.batch = _scan_batch
