"""``while_loop``, and ``while_lin`` / ``while_lin_transpose``: the tangent and cotangent
halves of a differentiated ``while_loop``.

======================  =====================================================================
``while_loop``          operands ``*cond_consts, *body_consts, *init``; ``cond_jaxpr``
                        (``cond_consts, carry -> bool[]``), ``body_jaxpr`` (``body_consts,
                        carry -> carry``), ``cond_nconsts``, ``body_nconsts``.
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
makes the residuals just the carries, so the stack holds only those.  Reverse over
reverse: transposing a ``while_lin(_transpose)`` that is linear in its forward operands
too (the tangents of a differentiated backward loop) gives one ``while_sweeps`` eqn
(``while_sweeps.py``, ``_transpose_as_sweeps``); a third reverse pass is refused.
"""
from __future__ import annotations

from ..core.ad_types import Zero, is_undefined
from ..core.errors import GradientError
from ..core.interpret import eval_jaxpr, subprogram
from ..core.ir import Eqn, Jaxpr, Var, closure_convert
from ..core.trace import Primitive, trace_flat
from ..primitives.base import add, aval, axis_size
from ..primitives.elementwise import select
from ..transforms.dce import dce_jaxpr, drop_effects
from ..transforms.partial_eval import partial_eval_jaxpr
from ._common import (LoopJvp, any_trace, backward_sub, batch_fixpoint, batch_front,
                      batch_sub, bcast_pred, carry_fixpoint, check_carry, check_cond_jaxpr,
                      check_group, coerce, copy_array, extend_cond, fit_aval,
                      instantiate_as, mapped_front, nonzero, split, used_vars, zeros)
from .while_sweeps import while_sweeps_p

while_p = Primitive("while_loop", multiple_results=True)
while_p.sparsity = "while"


def run_while(cond_fn, body_fn, nc, nb, args):
    """Run a while loop of compiled functions: the impl, and what generated code calls."""
    cc, bc, carry = args[:nc], args[nc:nc + nb], list(args[nc + nb:])
    if not cond_fn(*cc, *carry)[0]:
        return [copy_array(x) for x in carry]
    while True:
        carry = body_fn(*bc, *carry)
        if not cond_fn(*cc, *carry)[0]:
            return carry


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    out = run_while(subprogram(cond_jaxpr, "while_cond"), subprogram(body_jaxpr, "while_body"),
                    cond_nconsts, body_nconsts, args)
    return coerce(out, [v.aval for v in body_jaxpr.outvars])


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cc, bc, init = split(avals, nc, nb)
    check_cond_jaxpr("while_loop", cond_jaxpr)
    check_group("while_loop", "cond_jaxpr", cc + init, cond_jaxpr.invars)
    check_group("while_loop", "body_jaxpr", bc + init, body_jaxpr.invars)
    check_carry("while_loop", body_jaxpr.invars[nb:], body_jaxpr.outvars)
    return [v.aval for v in body_jaxpr.invars[nb:]]


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cc, bc, init = split(primals, nc, nb)
    _, dbc, dinit = split(tangents, nc, nb)
    nk = len(init)
    lj = LoopJvp(body_jaxpr, nb, nk, nonzero(dbc) + nonzero(dinit))
    body = lj.jaxpr(lj.extra + lj.consts + lj.dconsts + lj.carry + lj.dcarry,
                    lj.out_carry + lj.out_dcarry)
    k_avals = [v.aval.strengthen() for v in body_jaxpr.invars[nb:]]
    cond = extend_cond(cond_jaxpr, [a for a, z in zip(k_avals, lj.k_nz) if z])
    c_avals = [v.aval.strengthen() for v in body_jaxpr.invars[:nb]]
    dbc_vals = [fit_aval(t, a) for t, a, z in zip(dbc, c_avals, lj.c_nz) if z]
    dk_vals = [instantiate_as(t, a) for t, a, z in zip(dinit, k_avals, lj.k_nz) if z]
    outs = while_p.bind(*cc, *lj.extra_vals, *bc, *dbc_vals, *init, *dk_vals,
                        cond_jaxpr=cond, body_jaxpr=body, cond_nconsts=nc,
                        body_nconsts=len(lj.extra_vals) + nb + len(dbc_vals))
    it = iter(outs[nk:])
    return list(outs[:nk]), [next(it) if z else Zero(a) for a, z in zip(k_avals, lj.k_nz)]


def _while_partial_eval(eqn, unknowns):
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cond, body = p["cond_jaxpr"], p["body_jaxpr"]
    cc_uk, bc_uk, k_uk = split(unknowns, nc, nb)
    if any(cc_uk):
        return [], [eqn], list(eqn.outvars)
    k_uk = carry_fixpoint(body, bc_uk, k_uk)
    used = used_vars(cond)
    if any(u and v in used for u, v in zip(k_uk, cond.invars[nc:])):
        # the predicate depends on unknown values: nothing can be split off
        return [], [eqn], list(eqn.outvars)
    known_j, lin_j, _, res = partial_eval_jaxpr(body, bc_uk + k_uk, k_uk)
    n_known = len(known_j.outvars) - len(res)
    cond_k = Jaxpr([], cond.invars[:nc] + [v for v, u in zip(cond.invars[nc:], k_uk) if not u],
                   cond.outvars, cond.eqns)
    body_k = dce_jaxpr(Jaxpr([], known_j.invars, known_j.outvars[:n_known], known_j.eqns))
    cc, bc, k = split(eqn.invars, nc, nb)
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
    # the linear half replays the forward loop for its residuals: its effects (debug
    # prints) already ran in the known loop, when there is one
    fwd = dce_jaxpr(known_j)
    if known_eqns:
        fwd = drop_effects(fwd)
    lin_eqn = Eqn(while_lin_p, cc + kbc + kk + ubc + uk, unknown_outs,
                  dict(cond_jaxpr=cond_k, fwd_jaxpr=fwd, lin_jaxpr=lin_j,
                       cond_nconsts=nc, fwd_nconsts=len(kbc), lin_nconsts=len(ubc)),
                  eqn.source_info)
    return known_eqns, [lin_eqn], unknown_outs


def _while_transpose(cts, *args, **params):
    raise GradientError(
        "reverse mode cannot transpose this `while_loop`: its loop condition depends on "
        "the values being differentiated (or the loop is not linear in them).  Make the "
        "predicate depend only on non-differentiated values (e.g. an iteration counter or "
        "funcdiff.stop_gradient of the state).")


def _while_cost(avals_in, avals_out, *, sub_cost, cond_jaxpr, body_jaxpr, **params):
    """One iteration's cost: the trip count is unknown until run time."""
    return _summed(sub_cost, cond_jaxpr, body_jaxpr)


def _summed(sub_cost, *jaxprs):
    costs = [sub_cost(j) for j in jaxprs]
    return {"flops": sum(c["flops"] for c in costs),
            "transcendentals": sum(c["transcendentals"] for c in costs)}


def _emit_while(args, params, gen):
    c = gen.subprogram(params["cond_jaxpr"], "while_cond", "while_cond")
    b = gen.subprogram(params["body_jaxpr"], "while_body", "while_body")
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


# vmap.  A mapped predicate runs the loop until every example is done, freezing the
# finished ones with a select.



def _while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    size = axis_size(args, dims)
    cc, bc, init = split(args, nc, nb)
    ccd, bcd, kd = split(dims, nc, nb)
    cc = [batch_front(x, d) for x, d in zip(cc, ccd)]
    bc = [batch_front(x, d) for x, d in zip(bc, bcd)]
    cc_m, bc_m = [d is not None for d in ccd], [d is not None for d in bcd]
    k_m, _ = batch_fixpoint(body_jaxpr, bc_m, [d is not None for d in kd], [], size)
    pred_mapped = batch_sub(cond_jaxpr, cc_m + k_m, size)[1][0]
    nk = len(init)
    if pred_mapped:
        k_m = [True] * nk
    init = [mapped_front(x, d, size) if m else x for x, d, m in zip(init, kd, k_m)]
    cond_b, _ = batch_sub(cond_jaxpr, cc_m + k_m, size, [pred_mapped])
    body_b, _ = batch_sub(body_jaxpr, bc_m + k_m, size, k_m)
    if not pred_mapped:
        cj, cconsts = closure_convert(cond_b)
        bj, bconsts = closure_convert(body_b)
        outs = while_p.bind(*cconsts, *cc, *bconsts, *bc, *init, cond_jaxpr=cj,
                            body_jaxpr=bj, cond_nconsts=len(cconsts) + nc,
                            body_nconsts=len(bconsts) + nb)
        return outs, [0 if m else None for m in k_m]
    # run while any example is active; finished examples are frozen by a select
    n_cc = len(cc)

    def body_fun(*a):
        ccv, bcv, k = split(a, n_cc, len(bc))
        (pred,) = eval_jaxpr(cond_b.jaxpr, cond_b.consts, *ccv, *k)
        new = eval_jaxpr(body_b.jaxpr, body_b.consts, *bcv, *k)
        return [select(bcast_pred(pred, n), n, o) for n, o in zip(new, k)]

    c_avals = [aval(x) for x in cc]
    b_avals = [aval(x) for x in bc]
    k_avals = [v.aval for v in body_b.jaxpr.invars[len(body_b.jaxpr.invars) - nk:]]
    body2, _, _ = trace_flat(body_fun, c_avals + b_avals + k_avals, kind="vmap")
    cj, cconsts = closure_convert(any_trace(cond_b))
    bj, bconsts = closure_convert(body2)
    outs = while_p.bind(*cconsts, *cc, *bconsts, *cc, *bc, *init, cond_jaxpr=cj,
                        body_jaxpr=bj, cond_nconsts=len(cconsts) + nc,
                        body_nconsts=len(bconsts) + nc + nb)
    return outs, [0] * nk


while_p.batch = _while_batch


# --- while_lin / while_lin_transpose: reverse mode through while_loop ------------------

while_lin_p = Primitive("while_lin", multiple_results=True)
while_lin_transpose_p = Primitive("while_lin_transpose", multiple_results=True)


def run_while_lin(cond_fn, fwd_fn, lin_fn, counts, reverse, args):
    """Run the forward loop on ``k``; apply ``lin_fn`` to each iteration's residuals, in
    order (``reverse=False``: no stack needed) or from a stack, last iteration first."""
    nc, nf, nk, nl = counts
    cc, fc, k, lc, t = split(args, nc, nf, nk, nl)
    if not reverse:
        while cond_fn(*cc, *k)[0]:
            out = fwd_fn(*fc, *k)
            k = out[:nk]
            t = lin_fn(*out[nk:], *lc, *t)
        return [copy_array(x) for x in t]
    stack = []                          # grows with the trip count, learned at run time
    while cond_fn(*cc, *k)[0]:
        out = fwd_fn(*fc, *k)
        k = out[:nk]
        stack.append(out[nk:])
    del k
    if not stack:
        return [copy_array(x) for x in t]
    while stack:
        t = lin_fn(*stack.pop(), *lc, *t)   # pop: each iteration's residuals die here
    return t


def _counts(params):
    nf = params["fwd_nconsts"]
    return (params["cond_nconsts"], nf, len(params["fwd_jaxpr"].invars) - nf,
            params["lin_nconsts"])


def _while_lin_impl(reverse):
    def impl(*args, **params):
        out = run_while_lin(subprogram(params["cond_jaxpr"], "while_cond"),
                            subprogram(params["fwd_jaxpr"], "while_fwd"),
                            subprogram(params["lin_jaxpr"], "while_lin"),
                            _counts(params), reverse, args)
        return coerce(out, [v.aval for v in params["lin_jaxpr"].outvars])
    return impl


def _while_lin_abstract(name):
    def abstract_eval(*avals, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts, fwd_nconsts,
                      lin_nconsts):
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        cc, fc, k, lc, t = split(avals, nc, nf, nk, nl)
        n_res = len(fwd_jaxpr.outvars) - nk
        check_cond_jaxpr(name, cond_jaxpr)
        check_group(name, "cond_jaxpr", cc + k, cond_jaxpr.invars)
        check_group(name, "fwd_jaxpr", fc + k, fwd_jaxpr.invars)
        check_carry(name, fwd_jaxpr.invars[nf:], fwd_jaxpr.outvars[:nk])
        res = [v.aval for v in fwd_jaxpr.outvars[nk:]]
        check_group(name, "lin_jaxpr", res + lc + t, lin_jaxpr.invars)
        check_carry(name, lin_jaxpr.invars[n_res + nl:], lin_jaxpr.outvars)
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
        cc, fc, k, lc, t = split(primals, nc, nf, nk, nl)
        _, dfc, dk, dlc, dt = split(tangents, nc, nf, nk, nl)
        fj = LoopJvp(fwd_jaxpr, nf, nk, nonzero(dfc) + nonzero(dk))
        fwd = fj.jaxpr(fj.extra + fj.consts + fj.dconsts + fj.carry + fj.dcarry,
                       fj.out_carry + fj.out_dcarry + fj.ys + fj.dys)
        res_nz = fj.ys_nz
        lj = LoopJvp(lin_jaxpr, n_res + nl, len(t), res_nz + nonzero(dlc) + nonzero(dt))
        n_dres = sum(res_nz)
        lin = lj.jaxpr(lj.consts[:n_res] + lj.dconsts[:n_dres] + lj.extra + lj.consts[n_res:]
                       + lj.dconsts[n_dres:] + lj.carry + lj.dcarry,
                       lj.out_carry + lj.out_dcarry)
        k_avals = [v.aval.strengthen() for v in fwd_jaxpr.invars[nf:]]
        cond = extend_cond(cond_jaxpr, [a for a, z in zip(k_avals, fj.k_nz) if z])
        fc_avals = [v.aval.strengthen() for v in fwd_jaxpr.invars[:nf]]
        lc_avals = [v.aval.strengthen() for v in lin_jaxpr.invars[n_res:n_res + nl]]
        t_avals = [v.aval.strengthen() for v in lin_jaxpr.invars[n_res + nl:]]
        dfc_v = [fit_aval(x, a) for x, a, z in zip(dfc, fc_avals, fj.c_nz) if z]
        dk_v = [instantiate_as(x, a) for x, a, z in zip(dk, k_avals, fj.k_nz) if z]
        dlc_v = [fit_aval(x, a) for x, a, z in zip(dlc, lc_avals, lj.c_nz[n_res:]) if z]
        dt_v = [instantiate_as(x, a) for x, a, z in zip(dt, t_avals, lj.k_nz) if z]
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
        cc, fc, k, lc, t = split(args, nc, nf, nk, nl)
        if any(is_undefined(x) for x in fc + k):
            return _transpose_as_sweeps(cts, args, cond_jaxpr, fwd_jaxpr, lin_jaxpr, nc,
                                        nf, nl, lin_reverse=other is while_lin_p)
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
            nonlin, acc, ct = split(a, n_nonlin, n_acc)
            in_cts = backward_sub(lin_jaxpr, mask, nonlin, ct)
            acc = [add(x, instantiate_as(c, av)) if type(c) is not Zero else x
                   for x, c, av in zip(acc, in_cts[:n_acc], acc_avals)]
            return acc + [instantiate_as(c, av) for c, av in zip(in_cts[n_acc:], t_avals)]

        closed, _, _ = trace_flat(body_t, res_avals + res_lc_avals + acc_avals + t_avals,
                                  kind="transpose")
        bj, bconsts = closure_convert(closed, n_res)
        outs = other.bind(*cc, *fc, *k, *bconsts, *res_lc, *[zeros(a) for a in acc_avals],
                          *[instantiate_as(c, a) for c, a in zip(cts, t_avals)],
                          cond_jaxpr=cond_jaxpr, fwd_jaxpr=fwd_jaxpr, lin_jaxpr=bj,
                          cond_nconsts=nc, fwd_nconsts=nf,
                          lin_nconsts=len(bconsts) + len(res_lc))
        acc_it, ct_it = iter(outs[:n_acc]), iter(outs[n_acc:])
        out = [None] * (nc + nf + nk)
        out += [next(acc_it) if l else None for l in lc_lin]
        out += [c if is_undefined(x) else None for x, c in zip(t, ct_it)]
        return out
    return transpose


def _transpose_as_sweeps(cts, args, cond, fwd, lin, nc, nf, nl, lin_reverse):
    """Transpose a ``while_lin(_transpose)`` that is linear in (some of) its forward
    operands too: reverse-over-reverse, where the differentiated backward loop's
    forward replay carries tangents.  Both bodies are split into a known and a linear
    part (partial evaluation); the transpose is one ``while_sweeps`` of four sweeps over
    the loop's iterations, with stacks between them:

    A. forwards, while the predicate holds: the known forward body (its residuals and
       the known ones of the linear body go on stacks);
    B. in the linear body's order (backwards for ``while_lin_transpose``): its known
       part, stacking the residuals of its linear part;
    C. the other way: the transposed linear part of the linear body (cotangents of the
       linear ``lin_consts`` accumulate; those of the forward residuals are stacked);
    D. backwards: the transposed linear part of the forward body (cotangents of the
       linear ``fwd_consts`` accumulate; the carry's cotangent flows back to ``init``).

    Unknown carries whose initial value is known start from an instantiated zero
    tangent: they get no cotangent."""
    nk = len(fwd.invars) - nf
    n_res = len(fwd.outvars) - nk
    cc, fc, k, lc, t = split(args, nc, nf, nk, nl)
    if any(is_undefined(x) for x in cc):
        raise GradientError("reverse mode cannot transpose this `while_loop`: its loop "
                            "condition reads the values being differentiated.")
    fc_uk, lc_uk = [is_undefined(x) for x in fc], [is_undefined(x) for x in lc]
    k_uk = carry_fixpoint(fwd, fc_uk, [is_undefined(x) for x in k])
    if any(u and v in used_vars(cond) for u, v in zip(k_uk, cond.invars[nc:])):
        _while_transpose(cts)
    fk, fu, f_out_uk, f_res = partial_eval_jaxpr(fwd, fc_uk + k_uk, k_uk + [None] * n_res)
    res_uk = f_out_uk[nk:]
    t_uk = carry_fixpoint(lin, res_uk + lc_uk, [is_undefined(x) for x in t])
    lk, lu, _, l_res = partial_eval_jaxpr(lin, res_uk + lc_uk + t_uk, t_uk)

    def pick(vs, uks, want=False):
        return [v for v, u in zip(vs, uks) if bool(u) == want]

    n_resk, n_resu = n_res - sum(res_uk), sum(res_uk)
    n_kk, n_lck, n_tk = nk - sum(k_uk), nl - sum(lc_uk), len(t) - sum(t_uk)
    # A: (known fc; known k) -> (known k; known res..., f_res...)
    sweep_a = (fk, False, nf - sum(fc_uk), ())
    # B: (known lc; known res read from A; known t) -> (known t; l_res...)
    lk_in = lk.invars
    lk2 = Jaxpr([], lk_in[n_resk:n_resk + n_lck] + lk_in[:n_resk] + lk_in[n_resk + n_lck:],
                lk.outvars, lk.eqns)
    sweep_b = (lk2, lin_reverse, n_lck, tuple((0, y) for y in range(n_resk)))
    # C: (l_res read from B; acc of linear lc, ct of linear t) -> (...; ct of linear res)
    n_lres = len(l_res)
    lc_u_avals = [v.aval.strengthen() for v in pick(lin.invars[n_res:n_res + nl], lc_uk,
                                                     True)]
    t_u_avals = [v.aval.strengthen() for v in pick(lin.invars[n_res + nl:], t_uk, True)]
    res_u_avals = [v.aval.strengthen() for v in pick(fwd.outvars[nk:], res_uk, True)]
    mask_c = [False] * n_lres + [True] * (n_resu + len(lc_u_avals) + len(t_u_avals))

    def body_c(*a):
        lres, acc, ct = split(a, n_lres, len(lc_u_avals))
        in_cts = backward_sub(lu, mask_c, lres, ct)
        ct_res, ct_lc, ct_t = split(in_cts, n_resu, len(lc_u_avals))
        return ([add(x, instantiate_as(c, av)) for x, c, av in zip(acc, ct_lc, lc_u_avals)] +
                [instantiate_as(c, av) for c, av in zip(ct_t, t_u_avals)] +
                [instantiate_as(c, av) for c, av in zip(ct_res, res_u_avals)])

    closed_c, _, _ = trace_flat(body_c, [v.aval for v in l_res] + lc_u_avals + t_u_avals,
                                kind="transpose")
    jc, consts_c = closure_convert(closed_c)
    sweep_c = (jc, not lin_reverse, len(consts_c), tuple((1, y) for y in range(n_lres)))
    # D: (f_res read from A, ct of linear res read from C; acc of linear fc, ct of
    # linear k) -> (...)
    n_fres = len(f_res)
    fc_u_avals = [v.aval.strengthen() for v in pick(fwd.invars[:nf], fc_uk, True)]
    k_u_avals = [v.aval.strengthen() for v in pick(fwd.invars[nf:], k_uk, True)]
    mask_d = [False] * n_fres + [True] * (len(fc_u_avals) + len(k_u_avals))

    def body_d(*a):
        fres, ct_res, acc, ct_k = split(a, n_fres, n_resu, len(fc_u_avals))
        in_cts = backward_sub(fu, mask_d, fres, list(ct_k) + list(ct_res))
        ct_fc, ct_k_in = split(in_cts, len(fc_u_avals))
        return ([add(x, instantiate_as(c, av)) for x, c, av in zip(acc, ct_fc, fc_u_avals)] +
                [instantiate_as(c, av) for c, av in zip(ct_k_in, k_u_avals)])

    closed_d, _, _ = trace_flat(body_d, [v.aval for v in f_res] + res_u_avals + fc_u_avals +
                                k_u_avals, kind="transpose")
    jd, consts_d = closure_convert(closed_d)
    sweep_d = (jd, True, len(consts_d),
               tuple((0, n_resk + y) for y in range(n_fres)) +
               tuple((2, y) for y in range(n_resu)))
    cond_k = Jaxpr([], cond.invars[:nc] + pick(cond.invars[nc:], k_uk), cond.outvars,
                   cond.eqns)
    ct_t = [instantiate_as(c, a) for c, a in zip(pick(cts, t_uk, True), t_u_avals)]
    outs = while_sweeps_p.bind(
        *cc, *pick(fc, fc_uk), *pick(k, k_uk), *pick(lc, lc_uk), *pick(t, t_uk),
        *consts_c, *[zeros(a) for a in lc_u_avals], *ct_t,
        *consts_d, *[zeros(a) for a in fc_u_avals], *[zeros(a) for a in k_u_avals],
        cond_jaxpr=cond_k, sweeps=(sweep_a, sweep_b, sweep_c, sweep_d))
    _, _, acc_lc, ct_t0, acc_fc, ct_k0 = split(outs, n_kk, n_tk, len(lc_u_avals),
                                               len(t_u_avals), len(fc_u_avals))
    it = {"fc": iter(acc_fc), "k": iter(ct_k0), "lc": iter(acc_lc), "t": iter(ct_t0)}
    out = [None] * nc
    for name, xs, uks in (("fc", fc, fc_uk), ("k", k, k_uk), ("lc", lc, lc_uk),
                          ("t", t, t_uk)):
        for x, u in zip(xs, uks):
            c = next(it[name]) if u else None
            out.append(c if is_undefined(x) else None)
    return out


def _while_lin_cost(avals_in, avals_out, *, sub_cost, cond_jaxpr, fwd_jaxpr, lin_jaxpr,
                    **params):
    """One iteration's cost (forward replay plus linear body): the trip count is unknown
    until run time."""
    return _summed(sub_cost, cond_jaxpr, fwd_jaxpr, lin_jaxpr)


def _emit_while_lin(reverse):
    def emit(args, params, gen):
        c = gen.subprogram(params["cond_jaxpr"], "while_cond", "while_cond")
        f = gen.subprogram(params["fwd_jaxpr"], "while_fwd", "while_fwd")
        lin = gen.subprogram(params["lin_jaxpr"], "while_lin", "while_lin")
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


def _while_lin_batch(prim):
    def batch(args, dims, *, cond_jaxpr, fwd_jaxpr, lin_jaxpr, cond_nconsts, fwd_nconsts,
              lin_nconsts):
        nc, nf, nl = cond_nconsts, fwd_nconsts, lin_nconsts
        nk = len(fwd_jaxpr.invars) - nf
        n_res = len(fwd_jaxpr.outvars) - nk
        size = axis_size(args, dims)
        groups = split(args, nc, nf, nk, nl)
        gdims = split(dims, nc, nf, nk, nl)
        cc, fc, k, lc, t = [[batch_front(x, d) for x, d in zip(g, gd)]
                            for g, gd in zip(groups, gdims)]
        cc_m, fc_m, k_m, lc_m, t_m = [[d is not None for d in gd] for gd in gdims]
        k_m, res_m = batch_fixpoint(fwd_jaxpr, fc_m, k_m, [], size)
        pred_mapped = batch_sub(cond_jaxpr, cc_m + k_m, size)[1][0]
        if pred_mapped:
            k_m = [True] * nk
            _, res_m = batch_sub(fwd_jaxpr, fc_m + k_m, size)
            res_m = res_m[nk:]
        t_m, _ = batch_fixpoint(lin_jaxpr, res_m + lc_m, t_m, [], size)
        if pred_mapped:
            t_m = [True] * len(t)
        k = [mapped_front(x, d, size) if m else x
             for x, d, m in zip(k, [d if d is None else 0 for d in gdims[2]], k_m)]
        t = [mapped_front(x, d, size) if m else x
             for x, d, m in zip(t, [d if d is None else 0 for d in gdims[4]], t_m)]
        cond_b, _ = batch_sub(cond_jaxpr, cc_m + k_m, size, [pred_mapped])
        fwd_b, _ = batch_sub(fwd_jaxpr, fc_m + k_m, size, k_m + res_m)
        lin_b, _ = batch_sub(lin_jaxpr, res_m + lc_m + t_m, size, t_m)
        if not pred_mapped:
            cj, cconsts = closure_convert(cond_b)
            fj, fconsts = closure_convert(fwd_b)
            lj, lconsts = closure_convert(lin_b, n_res)
            outs = prim.bind(*cconsts, *cc, *fconsts, *fc, *k, *lconsts, *lc, *t,
                             cond_jaxpr=cj, fwd_jaxpr=fj, lin_jaxpr=lj,
                             cond_nconsts=len(cconsts) + nc, fwd_nconsts=len(fconsts) + nf,
                             lin_nconsts=len(lconsts) + nl)
            return outs, [0 if m else None for m in t_m]
        # a mapped predicate: iterate while any example is active; each iteration also
        # saves the per-example predicate, so the linear body leaves finished ones alone
        n_cc, n_fc = len(cc), len(fc)

        def fwd_fun(*a):
            ccv, fcv, kv = split(a, n_cc, n_fc)
            (pred,) = eval_jaxpr(cond_b.jaxpr, cond_b.consts, *ccv, *kv)
            out = eval_jaxpr(fwd_b.jaxpr, fwd_b.consts, *fcv, *kv)
            new_k = [select(bcast_pred(pred, n), n, o) for n, o in zip(out[:nk], kv)]
            return new_k + list(out[nk:]) + [pred]

        k_avals = [aval(x) for x in k]
        fwd2, _, _ = trace_flat(fwd_fun, [aval(x) for x in cc + fc] + k_avals, kind="vmap")
        res_avals = [v.aval for v in fwd2.jaxpr.outvars[nk:]]
        n_lc = len(lc)

        def lin_fun(*a):
            res, pred, lcv, tv = split(a, n_res, 1, n_lc)
            new = eval_jaxpr(lin_b.jaxpr, lin_b.consts, *res, *lcv, *tv)
            return [select(bcast_pred(pred[0], n), n, o) for n, o in zip(new, tv)]

        lin2, _, _ = trace_flat(lin_fun, res_avals + [aval(x) for x in lc + t], kind="vmap")
        cj, cconsts = closure_convert(any_trace(cond_b))
        fj, fconsts = closure_convert(fwd2)
        lj, lconsts = closure_convert(lin2, n_res + 1)
        outs = prim.bind(*cconsts, *cc, *fconsts, *cc, *fc, *k, *lconsts, *lc, *t,
                         cond_jaxpr=cj, fwd_jaxpr=fj, lin_jaxpr=lj,
                         cond_nconsts=len(cconsts) + nc,
                         fwd_nconsts=len(fconsts) + nc + nf, lin_nconsts=len(lconsts) + nl)
        return outs, [0] * len(t)
    return batch


while_lin_p.batch = _while_lin_batch(while_lin_p)
while_lin_transpose_p.batch = _while_lin_batch(while_lin_transpose_p)


def _while_lin_partial_eval(prim):
    """Split off the known part (the loops restricted to known carries: the primal
    results of a differentiated while_lin).  The unknown eqn is the whole eqn (it replays
    the known part, which is cheap next to storing it); it is linear in the unknown
    operands, and transposable when those are only ``lin_consts`` / ``lin_init``."""
    def rule(eqn, unknowns):
        p = eqn.params
        cond, fwd, lin = p["cond_jaxpr"], p["fwd_jaxpr"], p["lin_jaxpr"]
        nc, nf, nl = p["cond_nconsts"], p["fwd_nconsts"], p["lin_nconsts"]
        nk = len(fwd.invars) - nf
        n_res = len(fwd.outvars) - nk
        cc_uk, fc_uk, k_uk, lc_uk, t_uk = split(unknowns, nc, nf, nk, nl)
        everything = [], [eqn], list(eqn.outvars)
        if any(cc_uk):
            return everything
        k_uk = carry_fixpoint(fwd, fc_uk, k_uk)
        if any(u and v in used_vars(cond) for u, v in zip(k_uk, cond.invars[nc:])):
            return everything
        fk, _, f_out_uk, f_res = partial_eval_jaxpr(fwd, fc_uk + k_uk, k_uk + [None] * n_res)
        res_uk = f_out_uk[nk:]
        t_uk = carry_fixpoint(lin, res_uk + lc_uk, t_uk)
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
        cc, fc, k, lc, t = split(eqn.invars, nc, nf, nk, nl)

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
    cond2 = extend_cond(Jaxpr([], cond.invars[:nc] + [v for v, u in zip(cond.invars[nc:], k_uk)
                                                       if not u], cond.outvars, cond.eqns),
                         [v.aval for v in kt_in])
    cc, fc, k, lc, t = split(eqn.invars, nc, nf, nk, nl)

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
