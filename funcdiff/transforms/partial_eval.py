"""Partial evaluation: split a jaxpr by dataflow into a known and an unknown part.

Given which inputs are unknown (for linearization: the tangents), every eqn that reads an
unknown var is unknown; the rest are known.  Known vars read by unknown eqns become
*residuals*: outputs of the known jaxpr and leading inputs of the unknown one::

    known:   (constvars; known invars)      -> (known outs..., residuals...)
    unknown: (residuals..., unknown invars) -> (unknown outs...)

Primitives that hold jaxprs (calls, checkpoint, control flow) may define
``partial_eval(eqn, unknowns_in) -> (known_eqns, unknown_eqns, residual vars)`` to split
themselves instead of going entirely to the unknown side.

``partial_eval_remat`` is the variant ``checkpoint`` uses: the same split, but only the
residuals a policy allows are saved; the known eqns the unknown side needs beyond those
are replayed there.  ``partial_eval_lean`` is the one eager linearization uses: known
work that does not shrink its operands is replayed on the unknown side, so what crosses
over is (mostly) values the forward computation made anyway.
"""
from __future__ import annotations

from ..core.errors import FuncdiffError
from ..core.ir import ClosedJaxpr, Jaxpr, Var
from .dce import dce_jaxpr


def _split_eqns(jaxpr: Jaxpr, unknowns_in):
    """The loop both splits share: ``(tagged, unknown)`` where ``tagged`` lists
    ``(eqn, is_unknown)`` in program order (primitives with a ``partial_eval`` rule
    contribute their own known and unknown eqns) and ``unknown`` is the set of unknown
    vars."""
    unknown = {v for v, u in zip(jaxpr.invars, unknowns_in) if u}
    tagged = []
    for eqn in jaxpr.eqns:
        ins_unknown = [type(v) is Var and v in unknown for v in eqn.invars]
        if not any(ins_unknown):
            tagged.append((eqn, False))
            continue
        rule = eqn.primitive.partial_eval
        if rule is not None and not all(ins_unknown):
            k_eqns, u_eqns, u_outs = rule(eqn, ins_unknown)
            tagged.extend((e, False) for e in k_eqns)
            tagged.extend((e, True) for e in u_eqns)
            unknown.update(u_outs)
        else:
            tagged.append((eqn, True))
            unknown.update(eqn.outvars)
    return tagged, unknown


def partial_eval_jaxpr(jaxpr: Jaxpr, unknowns_in, instantiate):
    """Split ``jaxpr``.  ``instantiate[i]`` forces output i to the unknown side (a known
    value there becomes a residual passed through); ``instantiate=None`` sends each
    output where its dataflow puts it.  Returns
    ``(known_jaxpr, unknown_jaxpr, out_unknowns, residuals)``."""
    tagged, unknown = _split_eqns(jaxpr, unknowns_in)
    known_eqns = [e for e, u in tagged if not u]
    unknown_eqns = [e for e, u in tagged if u]

    out_unknowns = []
    if instantiate is None:
        instantiate = [None] * len(jaxpr.outvars)
    for v, inst in zip(jaxpr.outvars, instantiate):
        is_unknown = type(v) is Var and v in unknown
        if inst is None:
            out_unknowns.append(is_unknown)
            continue
        if is_unknown and not inst:
            raise FuncdiffError("partial_eval: an output expected known depends on unknown "
                                "inputs")
        out_unknowns.append(bool(inst))

    # residuals: known vars read on the unknown side, in first-use order
    residuals, seen = [], set()

    def note(v):
        if type(v) is Var and v not in unknown and v not in seen:
            seen.add(v)
            residuals.append(v)

    for eqn in unknown_eqns:
        for v in eqn.invars:
            note(v)
    for v, u in zip(jaxpr.outvars, out_unknowns):
        if u:
            note(v)

    known_outs = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known = Jaxpr(jaxpr.constvars, [v for v, u in zip(jaxpr.invars, unknowns_in) if not u],
                  known_outs + residuals, known_eqns)
    # the residual vars themselves are the unknown side's leading binders (each jaxpr is
    # self-contained: it defines every var it reads)
    unknown_jaxpr = Jaxpr([], residuals + [v for v, u in zip(jaxpr.invars, unknowns_in) if u],
                          [v for v, u in zip(jaxpr.outvars, out_unknowns) if u], unknown_eqns)
    return known, unknown_jaxpr, out_unknowns, residuals


def partial_eval_remat(jaxpr: Jaxpr, unknowns_in, saveable, instantiate=None):
    """Split ``jaxpr`` (no constvars) saving only the results of eqns for which
    ``saveable(eqn)`` holds (``checkpoint``'s policy).  ``instantiate[i]`` (optional)
    forces output i to the unknown side.

    Returns ``(known, staged, out_unknowns, inputs_used, saved)``:

    * ``known``: (known invars) -> (known outs..., saved...);
    * ``staged``: (inputs_used..., saved..., unknown invars) -> (unknown outs...): the
      known eqns the unknown ones need and the policy did not save are replayed here;
    * ``inputs_used``: indices of known invars the staged jaxpr reads;
    * ``saved``: the inner vars saved as residuals.
    """
    assert not jaxpr.constvars
    tagged, unknown = _split_eqns(jaxpr, unknowns_in)
    out_unknowns = [type(v) is Var and v in unknown for v in jaxpr.outvars]
    defs = {v: e for e, u in tagged if not u for v in e.outvars}
    known_in = {v: i for i, (v, u) in enumerate(zip(jaxpr.invars, unknowns_in)) if not u}

    # walk back from what the unknown eqns read: inputs are passed, saveable eqns'
    # results are saved, everything else is replayed (and its operands needed in turn)
    work = [v for e, u in tagged if u for v in e.invars
            if type(v) is Var and v not in unknown]
    if instantiate is not None:
        for i, (v, inst) in enumerate(zip(jaxpr.outvars, instantiate)):
            if inst and not out_unknowns[i]:
                out_unknowns[i] = True
                if type(v) is Var:
                    work.append(v)
    seen, replay, saved, used = set(), set(), [], set()
    while work:
        v = work.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in known_in:
            used.add(known_in[v])
            continue
        e = defs[v]
        if id(e) in replay:
            continue
        if saveable(e):
            saved.append(v)
        else:
            replay.add(id(e))
            work.extend(a for a in e.invars if type(a) is Var and a not in seen)
    inputs_used = sorted(used)
    order = {id(e): i for i, (e, _) in enumerate(tagged)}
    saved.sort(key=lambda v: order[id(defs[v])])
    known_outs = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known = dce_jaxpr(Jaxpr([], [v for v, u in zip(jaxpr.invars, unknowns_in) if not u],
                            known_outs + saved, [e for e, u in tagged if not u]))
    staged = Jaxpr([], [jaxpr.invars[i] for i in inputs_used] + saved +
                   [v for v, u in zip(jaxpr.invars, unknowns_in) if u],
                   [v for v, u in zip(jaxpr.outvars, out_unknowns) if u],
                   [e for e, u in tagged if u or id(e) in replay])
    return known, staged, out_unknowns, inputs_used, saved


def _replayable(eqn):
    """Eager linearization replays a known eqn on the unknown side (instead of saving
    its result) when that cannot cost memory: its result is at least as large as each
    operand (elementwise work, broadcasts, views) and it holds no sub-program or
    effect.  Replaying never repeats work there: the forward values themselves are
    data, so known eqns are only the rules' helper computations (``1 - y**2``)."""
    prim = eqn.primitive
    if prim.multiple_results or prim.effectful or prim.partial_eval is not None:
        return False
    size = eqn.outvars[0].aval.size
    for a in eqn.invars:
        if type(a) is Var and a.aval.size > size:
            return False
    for p in eqn.params.values():
        if isinstance(p, (Jaxpr, ClosedJaxpr)):
            return False
    return True


def partial_eval_lean(jaxpr: Jaxpr, unknowns_in, instantiate):
    """The split eager linearization uses: like ``partial_eval_jaxpr``, but known eqns
    that ``_replayable`` admits are replayed on the unknown side, so the residuals are
    (mostly) the known inputs themselves -- values the forward pass made anyway --
    instead of new arrays computed from them.  Constvars are known inputs.

    Returns ``(known, unknown, residuals)``: ``known`` maps (constvars; known invars)
    to (known outs..., residuals...); ``unknown`` maps (residuals..., unknown invars)
    to the unknown outs."""
    nc = len(jaxpr.constvars)
    flat = Jaxpr([], list(jaxpr.constvars) + list(jaxpr.invars), jaxpr.outvars, jaxpr.eqns)
    known, staged, out_unknowns, used, saved = partial_eval_remat(
        flat, [False] * nc + list(unknowns_in), lambda e: not _replayable(e), instantiate)
    passed = [flat.invars[i] for i in used]
    residuals = passed + saved
    n_known = len(known.outvars) - len(saved)
    known = Jaxpr(known.invars[:nc], known.invars[nc:],
                  known.outvars[:n_known] + residuals, known.eqns)
    return known, staged, residuals
