"""Linearization as IR -> IR: jvp + partial evaluation of a traced program.

``linearize_jaxpr`` interprets a traced jaxpr with jvp rules while tracing only the
tangents, and splits the result by partial evaluation into a known (primal) part and a
linear (tangent) part::

    known:  (data or nothing) -> (primal outs..., residuals...)
    linear: (residuals..., tangents...) -> (tangent outs...)

Running these, caching them by the IR's structure and compiling them is the eager
executor's job (``funcdiff.api.executor``): nothing here caches or compiles.
"""
from __future__ import annotations

from ..core.ad_types import Zero
from ..core.trace import trace_flat
from ..primitives.base import instantiate
from .dce import dce_jaxpr, drop_effects
from .jvp import jvp_eval
from .partial_eval import partial_eval_jaxpr


def data_vars(jaxpr):
    """Every var a trace with concrete values knows, in a fixed order: consts, inputs,
    eqn outputs."""
    return list(jaxpr.constvars) + list(jaxpr.invars) + [
        v for e in jaxpr.eqns for v in e.outvars]


def linearize_jaxpr(closed0, avals, diff_mask, n_t, primals=None, data=None):
    """Split the jvp of ``closed0`` (traced from a function of inputs with ``avals``;
    tangents for the inputs in ``diff_mask``, for its first ``n_t`` outputs) into known
    and linear jaxprs.  Returns ``(known_jaxpr, linear_jaxpr, residuals, closed1,
    trace1)``: the trace of the jvp (``closed1``, whose consts the known jaxpr reads,
    and ``trace1``, whose ``values`` hold what it computed).

    * ``data`` given (top level, concrete inputs): every value of ``closed0``'s trace
      (``data_vars`` order) enters as a data input carrying its value, never as a
      constant, so the linear jaxpr depends only on the IR's structure; the known jaxpr
      maps the data to the primal outputs and residuals.  ``closed0``'s effects (debug
      prints) ran when it was traced: they are left out.
    * otherwise ``primals`` (values of an enclosing trace) enter as constants: the
      tangents are the only inputs, and the known jaxpr takes none.
    """
    j0 = closed0.jaxpr
    n_out = len(j0.outvars)
    t_avals = [a.strengthen() for a, d in zip(avals, diff_mask) if d]

    def tangents_in(it):
        return [next(it) if d else Zero(a.strengthen()) for a, d in zip(avals, diff_mask)]

    if data is None:
        def lin_fun(*tangents):
            tans = tangents_in(iter(tangents))
            outs, touts = jvp_eval(j0, closed0.consts, list(primals), tans)
            return outs + [instantiate(t) for t in touts[:n_t]]

        closed1, _, trace1 = trace_flat(lin_fun, t_avals, kind="linearize")
        unknowns = [True] * len(t_avals)
    else:
        # the forward trace ran with these values and had its effects (prints) then
        j0 = drop_effects(j0)
        dvars = data_vars(j0)
        n_data, nc, ni = len(dvars), len(j0.constvars), len(j0.invars)

        def lin_fun(*args):
            d, tans = args[:n_data], tangents_in(iter(args[n_data:]))
            known_env = dict(zip(dvars[nc + ni:], d[nc + ni:]))
            outs, touts = jvp_eval(j0, list(d[:nc]), list(d[nc:nc + ni]), tans, known_env)
            return outs + [instantiate(t) for t in touts[:n_t]]

        closed1, _, trace1 = trace_flat(lin_fun, [v.aval for v in dvars] + t_avals,
                                        list(data) + [None] * len(t_avals),
                                        kind="linearize")
        unknowns = [False] * n_data + [True] * len(t_avals)
    known_j, lin_j, _, residuals = partial_eval_jaxpr(
        closed1.jaxpr, unknowns, [False] * n_out + [True] * n_t)
    return known_j, dce_jaxpr(lin_j), residuals, closed1, trace1
