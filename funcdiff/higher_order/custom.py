"""The primitives behind ``custom_jvp`` / ``custom_vjp``.

``custom_jvp_call`` holds the traced function as a jaxpr (its consts passed as leading
operands) and the user's jvp rule as a Python callable: evaluation runs the jaxpr; the
jvp rule calls the user's rule, which records funcdiff ops like any other rule.

``custom_vjp_call`` differentiates by running the user's ``fwd`` and emitting
``custom_lin``, a primitive linear in the tangents whose transpose calls ``bwd``: reverse
mode works through jvp + partial evaluation + transpose like everything else, and forward
mode reports that custom_vjp functions only support reverse mode (as in JAX).
"""
from __future__ import annotations

from ..core.errors import GradientError, StructureError
from ..core.interpret import eval_jaxpr_impl as eval_jaxpr
from ..core.trace import Primitive
from ..primitives.base import Zero, aval, axis_size, full, instantiate, moveaxis, reduce_sum
from ..transforms.vmap import batched_aval, unbatched_aval, vmap_flat
from .call import batch_subjaxpr

# --- custom_jvp ------------------------------------------------------------------------

custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)


def _called_jaxpr(params, vals):
    return params["call_jaxpr"], [], list(vals)


def _cj_impl(*args, call_jaxpr, jvp, num_consts, symbolic_zeros=False):
    return eval_jaxpr(call_jaxpr, [], *args)


def _cj_abstract(*avals, call_jaxpr, jvp, num_consts, symbolic_zeros=False):
    return [v.aval for v in call_jaxpr.outvars]


def _check_const_tangents(tangents, num_consts, kind):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        raise GradientError(
            f"a {kind} function closes over a value that is being differentiated, so its "
            "rule cannot see that dependence.  Pass the value as an explicit argument.")


def _cj_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts, symbolic_zeros=False):
    _check_const_tangents(tangents, num_consts, "custom_jvp")
    args = primals[num_consts:]
    tans = [instantiate(t) for t in tangents[num_consts:]]
    outs, t_outs = jvp(args, tans)
    out_avals = [v.aval for v in call_jaxpr.outvars]
    if len(outs) != len(out_avals) or len(t_outs) != len(out_avals):
        raise StructureError(
            f"custom_jvp rule returned {len(outs)} primal and {len(t_outs)} tangent outputs; "
            f"the function has {len(out_avals)}")
    for i, (o, t, a) in enumerate(zip(outs, t_outs, out_avals)):
        if aval(o).shape != a.shape:
            raise StructureError(
                f"custom_jvp rule: primal output {i} has shape {aval(o).shape}, but the "
                f"function's output has shape {a.shape}")
        if type(t) is not Zero and aval(t).shape != a.shape:
            raise StructureError(
                f"custom_jvp rule: tangent output {i} has shape {aval(t).shape}, expected "
                f"{a.shape} (the primal output's shape)")
    return list(outs), list(t_outs)


custom_jvp_call_p.impl = _cj_impl
custom_jvp_call_p.called_jaxpr = _called_jaxpr
custom_jvp_call_p.cacheable = False   # the user's rule may compute with concrete values
custom_jvp_call_p.abstract_eval = _cj_abstract
custom_jvp_call_p.jvp = _cj_jvp


def _batch_front(args, dims):
    """Mapped args with their batch axis first (dims 0 / None): the canonical layout
    the batched user rules are traced for."""
    return ([x if d is None else moveaxis(x, d, 0) for x, d in zip(args, dims)],
            [None if d is None else 0 for d in dims])


def _cj_batch(args, dims, *, call_jaxpr, jvp, num_consts, symbolic_zeros=False):
    """Batch the function's jaxpr, and wrap the user's jvp rule in vmap (primals and
    tangents mapped alike: a tangent has its primal's shape); every output at axis 0."""
    size = axis_size(args, dims)
    args, dims = _batch_front(args, dims)
    new_j, consts, _ = batch_subjaxpr(call_jaxpr, dims, size, out_dim=0)
    arg_dims = dims[num_consts:]
    n_args, n_out = len(arg_dims), len(call_jaxpr.outvars)

    def batched_jvp(primals, tangents):
        def per_example(*xs):
            outs, t_outs = jvp(list(xs[:n_args]), list(xs[n_args:]))
            return list(outs) + [instantiate(t) for t in t_outs]
        outs, _ = vmap_flat(per_example, list(primals) + list(tangents),
                            arg_dims + arg_dims, size, out_dim=0, what="vmap of custom_jvp")
        return outs[:n_out], outs[n_out:]

    outs = custom_jvp_call_p.bind(*consts, *args, call_jaxpr=new_j, jvp=batched_jvp,
                                  num_consts=len(consts) + num_consts,
                                  symbolic_zeros=symbolic_zeros)
    return list(outs), [0] * n_out


custom_jvp_call_p.batch = _cj_batch

# --- custom_vjp ------------------------------------------------------------------------

custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_lin_p = Primitive("custom_lin", multiple_results=True)


def _cv_impl(*args, call_jaxpr, fwd, bwd, num_consts, out_avals):
    return eval_jaxpr(call_jaxpr, [], *args)


def _cv_abstract(*avals, call_jaxpr, fwd, bwd, num_consts, out_avals):
    return list(out_avals)


def _cv_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts, out_avals):
    _check_const_tangents(tangents, num_consts, "custom_vjp")
    args = primals[num_consts:]
    outs, res_leaves = fwd(*args)
    tans = [instantiate(t) for t in tangents[num_consts:]]
    n_res = len(res_leaves)
    t_outs = custom_lin_p.bind(*res_leaves, *tans, bwd=bwd, num_res=n_res,
                               out_avals=tuple(a.strengthen() for a in out_avals))
    return list(outs), list(t_outs)


def _lin_impl(*args, bwd, num_res, out_avals):
    raise GradientError(
        "forward-mode differentiation (jvp, jacfwd, linearize) of a "
        "funcdiff.custom_vjp function is not supported: custom_vjp defines only the "
        "reverse-mode rule.  Use funcdiff.custom_jvp (which supports both modes) or "
        "reverse mode (grad, vjp, jacrev; forward over reverse, as in hessian and hvp, "
        "works).")


def _lin_abstract(*avals, bwd, num_res, out_avals):
    return list(out_avals)


def _lin_transpose(cts, *args, bwd, num_res, out_avals):
    res = args[:num_res]
    lin_args = args[num_res:]
    cts = [instantiate(c) for c in cts]
    in_cts = bwd(res, cts)
    if len(in_cts) != len(lin_args):
        raise StructureError(
            f"custom_vjp bwd returned {len(in_cts)} cotangent(s) but the function has "
            f"{len(lin_args)} differentiable input(s): return a tuple with one cotangent "
            "per positional argument, shaped like it")
    out = [None] * num_res
    for i, (c, a) in enumerate(zip(in_cts, lin_args)):
        ea = aval(a)
        if c is None:
            out.append(Zero(ea.strengthen()))
            continue
        ca = aval(c)
        if ca.shape != ea.shape:
            raise StructureError(
                f"custom_vjp bwd: cotangent {i} has shape {ca.shape}, but the input has "
                f"shape {ea.shape}")
        out.append(c)
    return out


custom_lin_p.impl = _lin_impl
custom_lin_p.abstract_eval = _lin_abstract
custom_lin_p.transpose = _lin_transpose
custom_lin_p.linear = True
custom_vjp_call_p.impl = _cv_impl
custom_vjp_call_p.called_jaxpr = _called_jaxpr
custom_vjp_call_p.cacheable = False   # the user's fwd/bwd may compute with concrete values
custom_vjp_call_p.abstract_eval = _cv_abstract
custom_vjp_call_p.jvp = _cv_jvp


def _batched_bwd(bwd, res_dims, lin_dims, lin_avals, size):
    """``bwd`` vectorized: residuals mapped along ``res_dims``, output cotangents along
    axis 0.  A cotangent ``bwd`` leaves as None stays None; the cotangent of an unmapped
    input sums its per-example contributions over the batch."""

    def batched(res, cts):
        n_res = len(res)
        nones = []

        def per_example(*xs):
            in_cts = bwd(list(xs[:n_res]), list(xs[n_res:]))
            nones[:] = [c is None for c in in_cts]
            return [full(a.shape, 0, a.dtype) if c is None else c
                    for c, a in zip(in_cts, lin_avals)]
        outs, _ = vmap_flat(per_example, list(res) + list(cts),
                            list(res_dims) + [0] * len(cts), size, out_dim=0,
                            what="vmap of custom_vjp")
        return [None if none else (reduce_sum(c, (0,)) if d is None else c)
                for c, none, d in zip(outs, nones, lin_dims)]
    return batched


def _cv_batch(args, dims, *, call_jaxpr, fwd, bwd, num_consts, out_avals):
    """Batch the function's jaxpr; ``fwd`` wrapped in vmap (outputs and residuals at
    axis 0), ``bwd`` by ``_batched_bwd``."""
    size = axis_size(args, dims)
    args, dims = _batch_front(args, dims)
    new_j, consts, _ = batch_subjaxpr(call_jaxpr, dims, size, out_dim=0)
    arg_dims = dims[num_consts:]
    n_out = len(out_avals)
    lin_avals = [unbatched_aval(aval(x), d) for x, d in zip(args[num_consts:], arg_dims)]
    cell = {}

    def batched_fwd(*xs):
        def per_example(*ys):
            outs, res = fwd(*ys)
            cell["n_res"] = len(res)
            return list(outs) + list(res)
        outs, _ = vmap_flat(per_example, list(xs), arg_dims, size, out_dim=0,
                            what="vmap of custom_vjp")
        return outs[:n_out], outs[n_out:]

    def batched_bwd(res, cts):
        return _batched_bwd(bwd, [0] * len(res), arg_dims, lin_avals, size)(res, cts)

    outs = custom_vjp_call_p.bind(
        *consts, *args, call_jaxpr=new_j, fwd=batched_fwd, bwd=batched_bwd,
        num_consts=len(consts) + num_consts,
        out_avals=tuple(batched_aval(a, 0, size) for a in out_avals))
    return list(outs), [0] * n_out


custom_vjp_call_p.batch = _cv_batch


def _lin_batch(args, dims, *, bwd, num_res, out_avals):
    size = axis_size(args, dims)
    args, dims = _batch_front(args, dims)
    lin_avals = [unbatched_aval(aval(x), d) for x, d in zip(args[num_res:], dims[num_res:])]
    new_bwd = _batched_bwd(bwd, dims[:num_res], dims[num_res:], lin_avals, size)
    outs = custom_lin_p.bind(*args, bwd=new_bwd, num_res=num_res,
                             out_avals=tuple(batched_aval(a, 0, size) for a in out_avals))
    return list(outs), [0] * len(out_avals)


custom_lin_p.batch = _lin_batch
