"""Implicit solves: ``custom_root``, ``custom_linear_solve`` and ``host_call``.

Like the control-flow primitives, each holds const-free jaxprs in its params (whatever a
traced function captured is passed as leading operands, counted by ``const_lengths``),
and every rule recurses with the generic transforms on them.

======================  =====================================================================
``custom_root``         operands ``*f_consts, *solve_consts, *ls_consts, *guess``;
                        ``f_jaxpr`` (``f_consts, x -> f(x)``), ``solve_jaxpr``
                        (``solve_consts, guess -> x, *aux``), ``ls_jaxpr`` (``ls_consts, x,
                        b -> y`` with ``f'(x) y = b``: the linearization of ``f`` at ``x``
                        handed to the user's ``tangent_solve``).  Runs ``solve_jaxpr``.
                        Its derivative is the implicit function theorem's: with ``f(x*, p)
                        = 0``, ``dx* = -(df/dx)^-1 (df/dp) dp`` -- one tangent solve, never
                        a derivative of the solver's iterations.  The tangents of the
                        guess, of the solver's and of the tangent solver's consts are
                        ignored (as JAX does); aux outputs have zero tangents.
``custom_linear_solve`` operands ``*matvec_consts, *vecmat_consts, *solve_consts,
                        *transpose_solve_consts, *b``; ``matvec_jaxpr``, ``vecmat_jaxpr``
                        (its transpose, or None), ``solve_jaxpr`` (``b -> x, *aux``),
                        ``transpose_solve_jaxpr`` (or None), ``const_lengths``.  Runs
                        ``solve_jaxpr``.  jvp: ``dx = solve(db - dA x)``; linear in ``b``,
                        transposing to the same primitive on the transposed tuple
                        (``vecmat``/``transpose_solve`` in place of ``matvec``/``solve``).
``host_call``           ``fn(*operands)`` run in Python on NumPy values, returning arrays of
                        ``out_avals``: how ``scipy.optimize.minimize`` runs SciPy's own
                        optimizer, also under ``jit`` (at run time) and ``vmap`` (once per
                        example).  It has no derivative: ``custom_root`` never
                        differentiates its solver.
======================  =====================================================================
"""
from __future__ import annotations

import numpy as np

from ..core.ad_types import Zero, is_undefined
from ..core.errors import FuncdiffTypeError, GradientError
from ..core.interpret import eval_jaxpr, subprogram
from ..core.trace import Primitive
from ..primitives.base import axis_size, matchaxis, moveaxis, neg
from ..primitives.elementwise import sub
from ..transforms.jvp import jvp_eval
from ..transforms.vmap import batched_aval
from ._common import check_group, coerce, instantiate_as, split
from .call import batch_subjaxpr


def _front(args, dims):
    """Mapped args with their batch axis first; their dims 0, the others None."""
    return ([x if d is None else moveaxis(x, d, 0) for x, d in zip(args, dims)],
            [None if d is None else 0 for d in dims])


def _solve_cost(avals_in, avals_out, *, sub_cost, solve_jaxpr, **params):
    """The solver's cost (the other jaxprs run only under transforms)."""
    c = sub_cost(solve_jaxpr)
    return {"flops": c["flops"], "transcendentals": c["transcendentals"]}


def _emit_solve(name, start, count):
    """Code calling the compiled ``params[name]`` on operands ``[start(params):]`` after
    skipping the other jaxprs' consts (``count(params)`` of them in the middle)."""
    def emit(args, params, gen):
        fn = gen.subprogram(params[name], name, name)
        i, n = start(params), count(params)
        return f"{fn}({', '.join(args[i:i + n] + args[sum(params['const_lengths']):])})"
    return emit


# =========================================================================================
# custom_root
# =========================================================================================

custom_root_p = Primitive("custom_root", multiple_results=True)
custom_root_p.doc = "solve(f, guess), differentiated by the implicit function theorem"


def _root_impl(*args, f_jaxpr, solve_jaxpr, ls_jaxpr, const_lengths):
    _, s_c, _, guess = split(args, *const_lengths)
    out = subprogram(solve_jaxpr, "root_solve")(*s_c, *guess)
    return coerce(out, [v.aval for v in solve_jaxpr.outvars])


def _root_abstract(*avals, f_jaxpr, solve_jaxpr, ls_jaxpr, const_lengths):
    f_c, s_c, l_c, guess = split(avals, *const_lengths)
    n = len(guess)
    x = [v.aval for v in solve_jaxpr.outvars[:n]]
    check_group("custom_root", "solve_jaxpr", s_c + guess, solve_jaxpr.invars)
    check_group("custom_root", "f_jaxpr", f_c + x, f_jaxpr.invars)
    check_group("custom_root", "ls_jaxpr", l_c + x + [v.aval for v in f_jaxpr.outvars],
                 ls_jaxpr.invars)
    return [v.aval for v in solve_jaxpr.outvars]


def _root_jvp(primals, tangents, *, f_jaxpr, solve_jaxpr, ls_jaxpr, const_lengths):
    outs = custom_root_p.bind(*primals, f_jaxpr=f_jaxpr, solve_jaxpr=solve_jaxpr,
                              ls_jaxpr=ls_jaxpr, const_lengths=const_lengths)
    nf = const_lengths[0]
    f_c, _, l_c, guess = split(primals, *const_lengths)
    df_c = tangents[:nf]
    n = len(guess)
    x = list(outs[:n])
    zeros = [Zero(v.aval.strengthen()) for v in solve_jaxpr.outvars]
    if all(type(t) is Zero for t in df_c):
        return outs, zeros
    # f(x*(p), p) = 0  =>  (df/dx) dx* = -(df/dp) dp: the right side is f's jvp in its
    # consts at the solution, and the tangent solver inverts df/dx
    _, rhs = jvp_eval(f_jaxpr, [], list(f_c) + x, list(df_c) + zeros[:n])
    rhs = [instantiate_as(t, v.aval.strengthen()) for t, v in zip(rhs, f_jaxpr.outvars)]
    dx = eval_jaxpr(ls_jaxpr, [], *l_c, *x, *rhs)
    return outs, [neg(instantiate_as(d, z.aval)) for d, z in zip(dx, zeros)] + zeros[n:]


def _root_batch(args, dims, *, f_jaxpr, solve_jaxpr, ls_jaxpr, const_lengths):
    """Every jaxpr batched with the solution (and the guess, broadcast if need be)
    mapped at axis 0, so the three agree whatever the consts' mapping."""
    size = axis_size(args, dims)
    args, dims = _front(args, dims)
    (f_c, s_c, l_c, guess), (fd, sd, ld, gd) = (split(args, *const_lengths),
                                                 split(dims, *const_lengths))
    guess = [matchaxis(g, d, 0, size) for g, d in zip(guess, gd)]
    n = len(guess)
    sj, s_k, _ = batch_subjaxpr(solve_jaxpr, sd + [0] * n, size, out_dim=0)
    fj, f_k, _ = batch_subjaxpr(f_jaxpr, fd + [0] * n, size, out_dim=0)
    lj, l_k, _ = batch_subjaxpr(ls_jaxpr, ld + [0] * (2 * n), size, out_dim=0)
    outs = custom_root_p.bind(
        *f_k, *f_c, *s_k, *s_c, *l_k, *l_c, *guess, f_jaxpr=fj, solve_jaxpr=sj,
        ls_jaxpr=lj, const_lengths=(len(f_k) + len(f_c), len(s_k) + len(s_c),
                                    len(l_k) + len(l_c)))
    return list(outs), [0] * len(outs)


custom_root_p.impl = _root_impl
custom_root_p.abstract_eval = _root_abstract
custom_root_p.jvp = _root_jvp
custom_root_p.batch = _root_batch
custom_root_p.cost = _solve_cost
custom_root_p.emit = _emit_solve("solve_jaxpr", lambda p: p["const_lengths"][0],
                                 lambda p: p["const_lengths"][1])


# =========================================================================================
# custom_linear_solve
# =========================================================================================

linear_solve_p = Primitive("custom_linear_solve", multiple_results=True)
linear_solve_p.doc = "solve(matvec, b) with derivatives from the linear system"

_LS_JAXPRS = ("matvec_jaxpr", "vecmat_jaxpr", "solve_jaxpr", "transpose_solve_jaxpr")


def _ls_impl(*args, const_lengths, solve_jaxpr, **_):
    _, _, s_c, _, b = split(args, *const_lengths)
    out = subprogram(solve_jaxpr, "linear_solve")(*s_c, *b)
    return coerce(out, [v.aval for v in solve_jaxpr.outvars])


def _ls_abstract(*avals, const_lengths, matvec_jaxpr, vecmat_jaxpr, solve_jaxpr,
                 transpose_solve_jaxpr):
    groups = split(avals, *const_lengths)
    b = groups[-1]
    for j, c, name in zip((matvec_jaxpr, vecmat_jaxpr, solve_jaxpr, transpose_solve_jaxpr),
                          groups, _LS_JAXPRS):
        if j is not None:
            check_group("custom_linear_solve", name, c + b, j.invars)
            outs = [v.aval for v in j.outvars[:len(b)]]
            if [a.shape for a in outs] != [a.shape for a in b]:
                raise FuncdiffTypeError(
                    f"`custom_linear_solve`: {name} returns shapes "
                    f"{[a.shape for a in outs]}, but b has shapes {[a.shape for a in b]}")
    return [v.aval for v in solve_jaxpr.outvars]


def _ls_jvp(primals, tangents, **params):
    # A x = b  =>  A dx = db - dA x: one more solve of the same system
    outs = linear_solve_p.bind(*primals, **params)
    cl = params["const_lengths"]
    mv_c, _, _, _, b = split(primals, *cl)
    dmv_c, _, _, _, db = split(tangents, *cl)
    nb = len(b)
    x = list(outs[:nb])
    zeros = [Zero(v.aval.strengthen()) for v in params["solve_jaxpr"].outvars]
    rhs = list(db)
    if any(type(t) is not Zero for t in dmv_c):
        _, dax = jvp_eval(params["matvec_jaxpr"], [], list(mv_c) + x,
                          list(dmv_c) + zeros[:nb])
        rhs = [d if type(a) is Zero else neg(a) if type(d) is Zero else sub(d, a)
               for d, a in zip(rhs, dax)]
    if all(type(t) is Zero for t in rhs):
        return outs, zeros
    b_in = params["solve_jaxpr"].invars[len(params["solve_jaxpr"].invars) - nb:]
    rhs = [instantiate_as(t, v.aval.strengthen()) for t, v in zip(rhs, b_in)]
    dx = linear_solve_p.bind(*primals[:sum(cl)], *rhs, **params)
    return outs, list(dx[:nb]) + zeros[nb:]


def _ls_transpose(cts, *args, const_lengths, matvec_jaxpr, vecmat_jaxpr, solve_jaxpr,
                  transpose_solve_jaxpr):
    mv_c, vm_c, s_c, ts_c, b = split(args, *const_lengths)
    if any(is_undefined(x) for x in mv_c + vm_c + s_c + ts_c):
        raise GradientError(
            "reverse mode through funcdiff.lax.custom_linear_solve: the operator's "
            "values themselves are linear inputs here, which the linear solve cannot "
            "transpose (it is linear in b only).  This is a funcdiff bug if it comes "
            "from built-in functions.")
    if transpose_solve_jaxpr is None:
        raise GradientError(
            "reverse-mode differentiation (grad, vjp, jacrev) of "
            "funcdiff.lax.custom_linear_solve needs transpose_solve (a solver for the "
            "transposed system), or symmetric=True when the operator is symmetric.  "
            "Forward mode (jvp, jacfwd) works without it.")
    nb = len(b)
    b_in = transpose_solve_jaxpr.invars[len(transpose_solve_jaxpr.invars) - nb:]
    ct_x = [instantiate_as(c, v.aval.strengthen()) for c, v in zip(cts[:nb], b_in)]
    out = linear_solve_p.bind(
        *vm_c, *mv_c, *ts_c, *s_c, *ct_x,
        const_lengths=tuple(const_lengths[i] for i in (1, 0, 3, 2)),
        matvec_jaxpr=vecmat_jaxpr, vecmat_jaxpr=matvec_jaxpr,
        solve_jaxpr=transpose_solve_jaxpr, transpose_solve_jaxpr=solve_jaxpr)
    return [None] * sum(const_lengths) + list(out[:nb])


def _ls_batch(args, dims, *, const_lengths, **jaxprs):
    """Every jaxpr batched with ``x`` and ``b`` mapped at axis 0 (``b`` broadcast if it
    was not), so matvec, solve and their transposes agree on the layout."""
    size = axis_size(args, dims)
    args, dims = _front(args, dims)
    groups, gdims = split(args, *const_lengths), split(dims, *const_lengths)
    b = [matchaxis(x, d, 0, size) for x, d in zip(groups[-1], gdims[-1])]
    new, operands, lengths = {}, [], []
    for name, c, cd in zip(_LS_JAXPRS, groups, gdims):
        j = jaxprs[name]
        if j is None:
            new[name] = None
            lengths.append(len(c))
            operands += c
            continue
        new[name], k, _ = batch_subjaxpr(j, cd + [0] * len(b), size, out_dim=0)
        operands += k + c
        lengths.append(len(k) + len(c))
    outs = linear_solve_p.bind(*operands, *b, const_lengths=tuple(lengths), **new)
    return list(outs), [0] * len(outs)


linear_solve_p.impl = _ls_impl
linear_solve_p.abstract_eval = _ls_abstract
linear_solve_p.jvp = _ls_jvp
linear_solve_p.transpose = _ls_transpose
linear_solve_p.linear = True
linear_solve_p.batch = _ls_batch
linear_solve_p.cost = _solve_cost
linear_solve_p.emit = _emit_solve(
    "solve_jaxpr", lambda p: sum(p["const_lengths"][:2]), lambda p: p["const_lengths"][2])


# =========================================================================================
# host_call
# =========================================================================================

host_call_p = Primitive("host_call", multiple_results=True)
host_call_p.doc = "fn(*operands) run in Python on NumPy values (no derivative)"


def _host_impl(*args, fn, out_avals):
    outs = fn(*args)
    result = []
    for i, (o, a) in enumerate(zip(outs, out_avals)):
        o = np.asarray(o, dtype=a.dtype)
        if o.shape != a.shape:
            raise FuncdiffTypeError(f"`host_call`: output {i} of {fn} has shape {o.shape}, "
                                    f"expected {a.shape}")
        result.append(o if a.shape else a.dtype.type(o))
    return result


def _host_batch(args, dims, *, fn, out_avals):
    """One call per example (the function is opaque), the results stacked."""
    size = axis_size(args, dims)
    args, dims = _front(args, dims)

    def looped(*xs):
        per = [fn(*[x if d is None else x[i] for x, d in zip(xs, dims)])
               for i in range(size)]
        return [np.stack([np.asarray(p[k]) for p in per]) for k in range(len(out_avals))]

    outs = host_call_p.bind(*args, fn=looped,
                            out_avals=tuple(batched_aval(a, 0, size) for a in out_avals))
    return list(outs), [0] * len(outs)


host_call_p.impl = _host_impl
host_call_p.abstract_eval = lambda *avals, fn, out_avals: list(out_avals)
host_call_p.batch = _host_batch
host_call_p.cost = lambda ai, ao, **_: {"flops": 0, "transcendentals": 0}
