"""Linearization and vjp on flat lists: jvp + partial evaluation (+ transpose).

``linearize_flat`` traces the function once with concrete values (so Python control
flow works), interprets that jaxpr with jvp rules while tracing only the tangents,
splits the result into known (primal) and linear (tangent) parts, and gets the known
values -- at top level straight from the trace, so the forward pass runs once; under an
enclosing transform by evaluating the known jaxpr there, so outer transforms see it.
"""
from __future__ import annotations

from ..core.ad_types import Zero
from ..core.avals import is_differentiable_dtype
from ..core.interpret import eval_jaxpr
from ..core.ir import Literal
from ..core.trace import Tracer, trace_active, trace_flat
from .dce import dce_jaxpr
from .jvp import jvp_eval
from .partial_eval import partial_eval_jaxpr
from .transpose import transpose_jaxpr


def _concrete(x):
    return x._val if type(x) is Tracer else x


class Linearized:
    """Result of ``linearize_flat``: primal outputs, the linear jaxpr
    ``(residuals..., tangents...) -> tangent outs`` and the residual values."""

    def __init__(self, primal_outs, lin_jaxpr, residuals, diff_mask, out_avals):
        self.primal_outs = primal_outs
        self.lin_jaxpr = lin_jaxpr
        self.residuals = residuals
        self.diff_mask = diff_mask      # which inputs carry tangents
        self.out_avals = out_avals
        self._backward = None

    def jvp(self, tangents):
        """Apply the linear map to tangents of the differentiable inputs."""
        return eval_jaxpr(self.lin_jaxpr, [], *self.residuals, *tangents)

    def backward(self):
        if self._backward is None:
            self._backward = transpose_jaxpr(self.lin_jaxpr, len(self.residuals))
        return self._backward

    def vjp(self, cts):
        """Cotangents of the differentiable inputs for output cotangents ``cts``."""
        b = self.backward()
        return eval_jaxpr(b.jaxpr, b.consts, *self.residuals, *cts)


def linearize_flat(flat_fun, primals, avals, n_tangent_outs=None):
    """Linearize ``flat_fun(*primals) -> list`` (tangents for float/complex inputs only).

    ``n_tangent_outs``: only the first n outputs get tangents (the rest are auxiliary).
    """
    top = not trace_active()
    vals = [_concrete(p) for p in primals]
    concrete = all(v is not None for v in vals)
    closed0, _, trace0 = trace_flat(flat_fun, avals, vals if concrete else None,
                                    kind="linearize")
    known = trace0.values if (top and concrete) else None
    n_out = len(closed0.jaxpr.outvars)
    # an explicit __index__ call: has_aux passes an int subclass whose count is known only
    # once the function has been traced (list repetition and slicing would read it as 0)
    n_t = n_out if n_tangent_outs is None else n_tangent_outs.__index__()
    diff_mask = [is_differentiable_dtype(a.dtype) for a in avals]
    t_avals = [a.strengthen() for a, d in zip(avals, diff_mask) if d]

    def lin_fun(*tangents):
        it = iter(tangents)
        tans = [next(it) if d else Zero(a.strengthen()) for a, d in zip(avals, diff_mask)]
        outs, touts = jvp_eval(closed0.jaxpr, closed0.consts, list(primals), tans, known)
        from ..primitives._rules import instantiate
        return outs + [instantiate(t) for t in touts[:n_t]]

    closed1, _, trace1 = trace_flat(lin_fun, t_avals, kind="linearize")
    jaxpr1 = closed1.jaxpr
    known_j, lin_j, _, residuals = partial_eval_jaxpr(
        jaxpr1, [True] * len(t_avals), [False] * n_out + [True] * n_t)
    if top:
        known_vals = _read_known(known_j, closed1.consts, trace1.values)
    else:
        known_vals = eval_jaxpr(dce_jaxpr(known_j), closed1.consts)
    primal_outs = known_vals[:n_out]
    res_vals = known_vals[n_out:]
    lin_j = dce_jaxpr(lin_j)
    return Linearized(primal_outs, lin_j, res_vals, diff_mask,
                      [v.aval for v in closed0.jaxpr.outvars])


def _read_known(jaxpr, consts, values):
    """The known jaxpr's outputs at top level: values recorded while tracing, running
    only the eqns whose results were not computed then (e.g. the residual outputs a
    call primitive's partial-eval rule adds)."""
    env = {v: _concrete(c) for v, c in zip(jaxpr.constvars, consts)}
    needed = set()
    for v in jaxpr.outvars:
        if type(v) is not Literal and v not in env and v not in values:
            needed.add(v)
    if needed:
        for eqn in jaxpr.eqns:
            if all(v in values or v in env for v in eqn.outvars):
                continue
            ins = [v.val if type(v) is Literal else env[v] if v in env else values[v]
                   for v in eqn.invars]
            out = eqn.primitive.impl(*ins, **eqn.params)
            env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]))

    def read(v):
        if type(v) is Literal:
            return v.val
        return env[v] if v in env else values[v]
    return [read(v) for v in jaxpr.outvars]
