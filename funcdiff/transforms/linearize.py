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
from ..core.avals import is_differentiable_dtype
from ..core.ir import ClosedJaxpr, Eqn, Jaxpr, Var, literal_key
from ..core.trace import trace_flat
from ..primitives.base import instantiate
from .dce import dce_jaxpr, drop_effects
from .jvp import jvp_eval
from .partial_eval import partial_eval_jaxpr, partial_eval_lean


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
      (``data_vars`` order) enters as a data input carrying its value (or None where
      the value was not kept: see ``residual_sources``), never as a constant, so the
      linear jaxpr depends only on the IR's structure; the known jaxpr maps the data to
      the primal outputs and residuals, split by ``partial_eval_lean`` so that the
      residuals are the data values the rules read rather than new arrays made from
      them (the linear jaxpr replays ``1 - y**2`` from ``y``).  ``closed0``'s effects (debug
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
        # (dead tangent work first: a value only a discarded tangent reads -- of an
        # auxiliary output, say -- is no residual)
        known_j, lin_j, residuals = partial_eval_lean(
            dce_jaxpr(closed1.jaxpr), [False] * n_data + [True] * len(t_avals),
            [False] * n_out + [True] * n_t)
        return known_j, dce_jaxpr(lin_j), residuals, closed1, trace1
    known_j, lin_j, _, residuals = partial_eval_jaxpr(
        closed1.jaxpr, unknowns, [False] * n_out + [True] * n_t)
    return known_j, dce_jaxpr(lin_j), residuals, closed1, trace1


# -- which values of one eqn eager linearization reads -----------------------------------

_SOURCES: dict = {}
_SOURCES_SIZE = 4096
ALL = None      # "keep every input and output" (the conservative answer)


def residual_sources(eqn, active):
    """Which of ``eqn``'s operands and results the linearized program (known part or
    backward pass) reads, when the operands in ``active`` carry tangents: ``(operand
    indices, result indices)``, or ``ALL`` when that cannot be told from the eqn alone
    (sub-programs, user rules).  Eager ``grad`` keeps exactly these while tracing, so an
    intermediate nothing reads dies when user code drops it.

    Found by linearizing the one-eqn program as ``linearize_jaxpr`` linearizes a whole
    one (same rules, same split) and reading which data its known part uses; cached by
    the eqn's structure (primitive, params, operand avals and literals, activity).
    """
    prim = eqn.primitive
    if prim.partial_eval is not None or not prim.cacheable or prim.multiple_results:
        return ALL
    atoms = eqn.invars
    try:
        key = (prim, tuple(eqn.params.items()),
               tuple([(a.aval, i in active) if type(a) is Var else literal_key(a)
                      for i, a in enumerate(atoms)]))
        hit = _SOURCES.get(key)
    except TypeError:           # an unhashable param: no caching, keep everything
        return ALL
    if hit is None:
        hit = _find_sources(eqn, active)
        if len(_SOURCES) >= _SOURCES_SIZE:
            _SOURCES.clear()
        _SOURCES[key] = hit
    return hit


def _find_sources(eqn, active):
    for p in eqn.params.values():
        if isinstance(p, (Jaxpr, ClosedJaxpr)):
            return ALL
    pos = [i for i, a in enumerate(eqn.invars) if type(a) is Var]
    invars = [Var(eqn.invars[i].aval) for i in pos]
    sub = dict(zip(pos, invars))
    atoms = [sub.get(i, a) for i, a in enumerate(eqn.invars)]
    outvars = [Var(v.aval) for v in eqn.outvars]
    j = Jaxpr([], invars, outvars, [Eqn(eqn.primitive, atoms, outvars, eqn.params,
                                        eqn.source_info)])
    avals = [v.aval for v in invars]
    mask = [i in active and is_differentiable_dtype(eqn.invars[i].aval.dtype) for i in pos]
    if not any(mask):
        return ((), ())
    known_j, _, _, _, _ = linearize_jaxpr(ClosedJaxpr(j, []), avals, mask, len(outvars),
                                          data=[None] * (len(invars) + len(outvars)))
    n, n_out = len(invars), len(outvars)
    _, kept = dce_jaxpr(known_j, [False] * n_out + [True] * (len(known_j.outvars) - n_out),
                        prune_invars=True)
    return (tuple(p for p, k in zip(pos, kept[:n]) if k),
            tuple(i for i, k in enumerate(kept[n:]) if k))
