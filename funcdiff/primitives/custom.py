"""``stop_gradient`` and the primitives behind ``custom_jvp`` / ``custom_vjp``.

``custom_jvp_call`` holds the traced function as a jaxpr (its consts passed as leading
operands) and the user's jvp rule as a Python callable: evaluation runs the jaxpr; the
jvp rule calls the user's rule, which records funcdiff ops like any other rule.

``custom_vjp_call`` differentiates by running the user's ``fwd`` and emitting
``custom_lin``, a primitive linear in the tangents whose transpose calls ``bwd``: reverse
mode works through jvp + partial evaluation + transpose like everything else, and forward
mode reports that custom_vjp functions only support reverse mode (as in JAX).
"""
from __future__ import annotations

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import GradientError, StructureError
from ..core.interpret import eval_jaxpr_impl as eval_jaxpr
from ..core.primitive import Primitive
from ._rules import Zero, aval, defjvp_zero, instantiate, is_undefined

# --- stop_gradient ---------------------------------------------------------------------

stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.abstract_eval = lambda x: x
stop_gradient_p.cost = lambda ai, ao: {"flops": 0, "transcendentals": 0}
stop_gradient_p.emit = "{0}"
defjvp_zero(stop_gradient_p)

# --- custom_jvp ------------------------------------------------------------------------

custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)


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
custom_jvp_call_p.abstract_eval = _cj_abstract
custom_jvp_call_p.jvp = _cj_jvp

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
        "forward-mode differentiation (jvp, jacfwd, hessian's outer jacfwd) of a "
        "funcdiff.custom_vjp function is not supported: custom_vjp defines only the "
        "reverse-mode rule.  Use funcdiff.custom_jvp (which supports both modes) or "
        "reverse mode (grad, vjp, jacrev).")


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
custom_vjp_call_p.abstract_eval = _cv_abstract
custom_vjp_call_p.jvp = _cv_jvp

np, ShapedArray, is_undefined  # noqa: B018
