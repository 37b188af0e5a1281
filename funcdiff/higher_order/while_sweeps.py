"""``while_sweeps``: several sweeps over the iterations of one ``while_loop``, each
forwards or backwards, passing per-iteration values on stacks.  It is what
reverse-over-reverse differentiation through ``while_loop`` runs (``while_loop.py``
builds it when transposing a differentiated backward loop).

======================  =====================================================================
operands                ``*cond_consts``, then for each sweep ``*consts, *init``.
``cond_jaxpr``          ``(cond_consts, carry of sweep 0) -> bool[]``: sweep 0 runs forwards
                        while it holds; the number of iterations ``n`` it ran is the trip
                        count of every other sweep.
``sweeps``              a tuple of ``(jaxpr, reverse, nconsts, reads)``: ``jaxpr`` maps
                        ``(consts, read values, carry) -> (carry, ys)``; ``reverse`` says
                        whether it visits iterations ``n-1 .. 0`` (else ``0 .. n-1``);
                        ``reads`` lists ``(sweep, y)`` pairs: iteration ``i`` of this sweep
                        reads output ``y`` of that earlier sweep's iteration ``i``.
results                 the final carries of every sweep, in order.
======================  =====================================================================

Each stack lives from the sweep that fills it to the last sweep that reads it, and only
the ys some later sweep reads are kept.  Its rules: impl, abstract eval, emit (jit), cost
and batching (vmap, so ``jacrev(jacrev(f))`` works); differentiating it once more (a
third derivative on top of two reverse passes) raises ``GradientError``.
"""
from __future__ import annotations

from ..core.errors import GradientError
from ..core.interpret import eval_jaxpr, subprogram
from ..core.ir import closure_convert
from ..core.trace import Primitive, trace_flat
from ..primitives.base import axis_size
from ..primitives.elementwise import select
from ._common import (any_trace, batch_fixpoint, batch_front, batch_sub, bcast_pred,
                      check_cond_jaxpr, check_group, coerce, copy_array, mapped_front,
                      split)

while_sweeps_p = Primitive("while_sweeps", multiple_results=True)


def _layout(sweeps):
    """Per sweep: ``(reverse, nconsts, n_carry, reads, keep)``; ``keep`` lists the ys
    indices a later sweep reads (the only ones stored)."""
    read = {r for s in sweeps for r in s[3]}
    out = []
    for j, (jaxpr, reverse, nconsts, reads) in enumerate(sweeps):
        nk = len(jaxpr.invars) - nconsts - len(reads)
        n_ys = len(jaxpr.outvars) - nk
        out.append((reverse, nconsts, nk, tuple(reads),
                    tuple(y for y in range(n_ys) if (j, y) in read)))
    return tuple(out)


def run_sweeps(cond_fn, fns, layout, nc, args):
    """Run the sweeps of compiled functions: the impl, and what generated code calls."""
    cc, pos, consts, carries = args[:nc], nc, [], []
    for _, ncon, nk, _, _ in layout:
        consts.append(args[pos:pos + ncon])
        carries.append(list(args[pos + ncon:pos + ncon + nk]))
        pos += ncon + nk
    last_reader = {}
    for j, (_, _, _, reads, _) in enumerate(layout):
        for r in reads:
            last_reader[r] = j
    stacks = {}
    nk0, keep0 = layout[0][2], layout[0][4]
    for y in keep0:
        stacks[(0, y)] = []
    k, n = carries[0], 0
    while cond_fn(*cc, *k)[0]:      # sweep 0: the trip count is learned here
        out = fns[0](*consts[0], *k)
        k = out[:nk0]
        for y in keep0:
            stacks[(0, y)].append(out[nk0 + y])
        n += 1
    finals = [k if n else [copy_array(x) for x in k]]
    for j in range(1, len(layout)):
        reverse, _, nk, reads, keep = layout[j]
        for y in keep:
            stacks[(j, y)] = [None] * n
        k = carries[j]
        for i in (range(n - 1, -1, -1) if reverse else range(n)):
            out = fns[j](*consts[j], *[stacks[r][i] for r in reads], *k)
            k = out[:nk]
            for y in keep:
                stacks[(j, y)][i] = out[nk + y]
        finals.append(k if n else [copy_array(x) for x in k])
        for r in [r for r, last in last_reader.items() if last == j]:
            del stacks[r]           # its last reader is done: free the stack
    return [x for f in finals for x in f]


def _impl(*args, cond_jaxpr, sweeps):
    fns = [subprogram(s[0], f"while_sweep{j}") for j, s in enumerate(sweeps)]
    out = run_sweeps(subprogram(cond_jaxpr, "while_cond"), fns, _layout(sweeps),
                     _nc(cond_jaxpr, sweeps), args)
    return coerce(out, _out_avals(sweeps))


def _nc(cond_jaxpr, sweeps):
    """The number of cond consts: cond's binders less sweep 0's carry."""
    s0 = sweeps[0]
    return len(cond_jaxpr.invars) - (len(s0[0].invars) - s0[2] - len(s0[3]))


def _out_avals(sweeps):
    out = []
    for jaxpr, _, nconsts, reads in sweeps:
        out += [v.aval for v in jaxpr.invars[nconsts + len(reads):]]
    return out


def _abstract(*avals, cond_jaxpr, sweeps):
    name = "while_sweeps"
    nc = _nc(cond_jaxpr, sweeps)
    check_cond_jaxpr(name, cond_jaxpr)
    layout = _layout(sweeps)
    pos = nc
    for j, ((jaxpr, _, _, reads), (_, ncon, nk, _, _)) in enumerate(zip(sweeps, layout)):
        if j == 0:
            check_group(name, "cond_jaxpr", list(avals[:nc]) + list(avals[nc + ncon:
                                                                         nc + ncon + nk]),
                        cond_jaxpr.invars)
            assert not reads and not sweeps[0][1], "while_sweeps: sweep 0 runs forwards"
        read_avals = [sweeps[s][0].outvars[layout[s][2] + y].aval for s, y in reads]
        assert all(s < j for s, _ in reads), "while_sweeps: a sweep reads a later one"
        check_group(name, f"sweep {j}", list(avals[pos:pos + ncon]) + read_avals +
                    list(avals[pos + ncon:pos + ncon + nk]), jaxpr.invars)
        pos += ncon + nk
    return _out_avals(sweeps)


def _cost(avals_in, avals_out, *, sub_cost, cond_jaxpr, sweeps):
    """One iteration of every sweep: the trip count is unknown until run time."""
    costs = [sub_cost(cond_jaxpr)] + [sub_cost(s[0]) for s in sweeps]
    return {"flops": sum(c["flops"] for c in costs),
            "transcendentals": sum(c["transcendentals"] for c in costs)}


def _emit(args, params, gen):
    c = gen.subprogram(params["cond_jaxpr"], "while_cond", "while_cond")
    fns = [gen.subprogram(s[0], f"while_sweep{j}", f"while_sweep{j}")
           for j, s in enumerate(params["sweeps"])]
    run = gen.const(run_sweeps, "run_sweeps")
    layout = gen.const(_layout(params["sweeps"]), "sweep_layout")
    nc = _nc(params["cond_jaxpr"], params["sweeps"])
    return f"{run}({c}, [{', '.join(fns)}], {layout}, {nc}, [{', '.join(args)}])"


def _no_more(*args, **params):
    raise GradientError(
        "differentiating a reverse-over-reverse derivative through funcdiff.lax.while_loop "
        "once more (e.g. grad(grad(grad(f))) or jacfwd(grad(grad(f)))) is not supported.  "
        "For third derivatives make the second pass forward mode: jacfwd(jacfwd(grad(f))) "
        "or grad(jacfwd(grad(f))); or write the loop with fori_loop / scan when its trip "
        "count is known.")


def _batch(args, dims, *, cond_jaxpr, sweeps):
    """Each sweep batched with its carries' mapped-ness iterated to a fixpoint (reads
    count as consts).  A mapped predicate runs sweep 0 while any example is active and
    stores the per-example predicate of each iteration: every sweep then leaves the
    carries of examples that were done at that iteration as they were (a select)."""
    size = axis_size(args, dims)
    nc = _nc(cond_jaxpr, sweeps)
    layout = _layout(sweeps)
    groups, gdims, pos = [], [], nc
    for _, ncon, nk, _, _ in layout:
        groups.append((args[pos:pos + ncon], args[pos + ncon:pos + ncon + nk]))
        gdims.append((dims[pos:pos + ncon], dims[pos + ncon:pos + ncon + nk]))
        pos += ncon + nk
    cc = [batch_front(x, d) for x, d in zip(args[:nc], dims[:nc])]
    cc_m = [d is not None for d in dims[:nc]]
    consts = [[batch_front(x, d) for x, d in zip(g[0], gd[0])] for g, gd in zip(groups, gdims)]
    consts_m = [[d is not None for d in gd[0]] for gd in gdims]
    k_m, ys_m = [], []
    for j, (jaxpr, _, _, reads) in enumerate(sweeps):
        km, ym = batch_fixpoint(jaxpr, consts_m[j] + [ys_m[s][y] for s, y in reads],
                                [d is not None for d in gdims[j][1]], [], size)
        k_m.append(km)
        ys_m.append(ym)
    pred_mapped = batch_sub(cond_jaxpr, cc_m + k_m[0], size)[1][0]
    if pred_mapped:     # every carry becomes mapped; the ys follow from that
        k_m = [[True] * len(km) for km in k_m]
        ys_m = []
        for j, (jaxpr, _, _, reads) in enumerate(sweeps):
            ym = batch_sub(jaxpr, consts_m[j] + [ys_m[s][y] for s, y in reads] + k_m[j],
                           size)[1][len(k_m[j]):]
            ys_m.append(ym)
    inits = [[mapped_front(batch_front(x, d), None if d is None else 0, size) if m
              else x for x, d, m in zip(g[1], gd[1], km)]
             for g, gd, km in zip(groups, gdims, k_m)]
    cond_b, _ = batch_sub(cond_jaxpr, cc_m + k_m[0], size, [pred_mapped])
    new_sweeps, operands = [], []
    n_cc = len(cc)
    for j, (jaxpr, reverse, ncon, reads) in enumerate(sweeps):
        read_m = [ys_m[s][y] for s, y in reads]
        out_m = k_m[j] + ys_m[j]
        body_b, _ = batch_sub(jaxpr, consts_m[j] + read_m + k_m[j], size, out_m)
        reads_j = tuple(reads)
        extra = []
        if pred_mapped:
            body_b, reads_j, takes_cc = _masked(body_b, j, len(consts[j]), len(reads),
                                                len(k_m[j]), cond_b, n_cc, reads_j,
                                                len(ys_m[0]))
            extra = cc if takes_cc else []
        bj, bconsts = closure_convert(body_b)
        new_sweeps.append((bj, reverse, len(bconsts) + len(extra) + len(consts[j]),
                           reads_j))
        operands += [*bconsts, *extra, *consts[j], *inits[j]]
    if pred_mapped:
        cj, cconsts = closure_convert(any_trace(cond_b))
    else:
        cj, cconsts = closure_convert(cond_b)
    outs = while_sweeps_p.bind(*cconsts, *cc, *operands, cond_jaxpr=cj,
                               sweeps=tuple(new_sweeps))
    return outs, [0 if m else None for km in k_m for m in km]


def _masked(body_b, j, n_consts, n_reads, nk, cond_b, n_cc, reads, n_ys0):
    """A batched sweep body that keeps the carries of finished examples: sweep 0
    evaluates the (batched) predicate itself (the cond consts become its leading consts)
    and emits it as one more y; later sweeps read that y.  Returns ``(closed, reads,
    takes_cond_consts)``."""
    in_avals = body_b.in_avals
    if j == 0:
        def fun(*a):
            ccv, rest = a[:n_cc], a[n_cc:]
            consts, k = rest[:n_consts], rest[n_consts:]
            (pred,) = eval_jaxpr(cond_b.jaxpr, cond_b.consts, *ccv, *k)
            out = eval_jaxpr(body_b.jaxpr, body_b.consts, *consts, *k)
            new_k = [select(bcast_pred(pred, n), n, o) for n, o in zip(out[:nk], k)]
            return new_k + list(out[nk:]) + [pred]

        cc_avals = cond_b.in_avals[:n_cc]
        closed, _, _ = trace_flat(fun, list(cc_avals) + list(in_avals), kind="vmap")
        return closed, reads, True
    # later sweeps: (consts, reads..., pred, carry)
    pred_aval = cond_b.jaxpr.outvars[0].aval

    def fun(*a):
        consts, rd, pred, k = split(a, n_consts, n_reads, 1)
        out = eval_jaxpr(body_b.jaxpr, body_b.consts, *consts, *rd, *k)
        new_k = [select(bcast_pred(pred[0], n), n, o) for n, o in zip(out[:nk], k)]
        return new_k + list(out[nk:])

    closed, _, _ = trace_flat(fun, list(in_avals[:n_consts + n_reads]) + [pred_aval] +
                              list(in_avals[n_consts + n_reads:]), kind="vmap")
    return closed, tuple(reads) + ((0, n_ys0),), False


while_sweeps_p.impl = _impl
while_sweeps_p.abstract_eval = _abstract
while_sweeps_p.cost = _cost
while_sweeps_p.emit = _emit
while_sweeps_p.jvp = _no_more
while_sweeps_p.transpose = _no_more
while_sweeps_p.batch = _batch
