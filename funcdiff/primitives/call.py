"""Call primitives: an eqn that holds a whole jaxpr (``jit`` inside other transforms;
``checkpoint`` builds on the same rules).

``params["jaxpr"]`` is a closure-converted ``Jaxpr`` (no constvars: consts are leading
operands), so params never hold tracers.  Every rule recurses with the generic
transform on the sub-jaxpr:

* jvp: a call of ``jvp_jaxpr(sub)``;
* partial_eval: ``partial_eval_jaxpr(sub)`` gives a known call (its outputs plus
  residuals) and an unknown call (residuals plus unknown inputs);
* transpose: a call of the transposed sub-jaxpr.
"""
from __future__ import annotations

from ..core.ad_types import UndefPrimal, Zero
from ..core.ir import ClosedJaxpr, Eqn, Jaxpr, Var
from ..core.trace import Primitive
from .base import instantiate


def make_call_primitive(name, impl):
    """A call primitive running ``impl(jaxpr, *args, **params)`` when evaluated."""
    p = Primitive(name, multiple_results=True)
    p.impl = lambda *args, jaxpr, **params: impl(jaxpr, *args, **params)
    p.abstract_eval = lambda *avals, jaxpr, **params: [v.aval for v in jaxpr.outvars]
    p.jvp = lambda primals, tangents, **params: _call_jvp(p, primals, tangents, **params)
    p.partial_eval = lambda eqn, unknowns: _call_partial_eval(p, eqn, unknowns)
    p.transpose = lambda cts, *args, **params: _call_transpose(p, cts, *args, **params)
    p.batch = lambda args, dims, **params: _call_batch(p, args, dims, **params)
    p.linear = True
    p.cost = None
    return p


def _call_jvp(prim, primals, tangents, *, jaxpr, **params):
    from ..transforms.jvp import jvp_jaxpr
    nonzeros = [type(t) is not Zero for t in tangents]
    new, out_nz = jvp_jaxpr(ClosedJaxpr(jaxpr, []), nonzeros, instantiate=False)
    n_out = len(jaxpr.outvars)
    new_j = _closure_convert(new)
    outs = prim.bind(*new_j[1], *primals, *[t for t in tangents if type(t) is not Zero],
                     jaxpr=new_j[0], **params)
    outs = list(outs)
    primal_outs, t_iter = outs[:n_out], iter(outs[n_out:])
    t_outs = [next(t_iter) if nz else Zero(v.aval.strengthen())
              for v, nz in zip(jaxpr.outvars, out_nz)]
    return primal_outs, t_outs


def _closure_convert(closed):
    """(Jaxpr with consts as leading invars, consts)."""
    j = closed.jaxpr
    if not j.constvars:
        return j, []
    return Jaxpr([], j.constvars + j.invars, j.outvars, j.eqns), list(closed.consts)


def _call_partial_eval(prim, eqn, unknowns):
    from ..transforms.partial_eval import partial_eval_jaxpr
    from ..transforms.dce import dce_jaxpr
    sub = eqn.params["jaxpr"]
    known_j, unknown_j, out_unknowns, residuals = partial_eval_jaxpr(sub, unknowns, None)
    params = {k: v for k, v in eqn.params.items() if k != "jaxpr"}
    res_vars = [Var(v.aval) for v in residuals]
    known_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if not u]
    unknown_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if u]
    known_eqn = Eqn(prim, [v for v, u in zip(eqn.invars, unknowns) if not u],
                    known_outs + res_vars, dict(params, jaxpr=dce_jaxpr(known_j)),
                    eqn.source_info)
    unknown_eqn = Eqn(prim, res_vars + [v for v, u in zip(eqn.invars, unknowns) if u],
                      unknown_outs, dict(params, jaxpr=dce_jaxpr(unknown_j)),
                      eqn.source_info)
    return [known_eqn], [unknown_eqn], unknown_outs


def _call_batch(prim, args, dims, *, jaxpr, **params):
    """vmap: a call of the batched sub-jaxpr (cached per jaxpr and dims, so its compiled
    code is reused); outputs keep the batch axes the sub-jaxpr's rules gave them."""
    from ..transforms.vmap import batch_subjaxpr
    from .base import axis_size
    new_j, consts, out_dims = batch_subjaxpr(jaxpr, dims, axis_size(args, dims))
    outs = prim.bind(*consts, *args, jaxpr=new_j, **params)
    return list(outs), list(out_dims)


def _call_transpose(prim, cts, *args, jaxpr, **params):
    from ..transforms.transpose import transpose_jaxpr
    lin_mask = [type(a) is UndefPrimal for a in args]
    res_idx = [i for i, m in enumerate(lin_mask) if not m]
    lin_idx = [i for i, m in enumerate(lin_mask) if m]
    perm = Jaxpr([], [jaxpr.invars[i] for i in res_idx + lin_idx], jaxpr.outvars,
                 jaxpr.eqns)
    back = transpose_jaxpr(perm, len(res_idx))
    bj, bconsts = _closure_convert(back)
    cts = [instantiate(c) for c in cts]
    out = prim.bind(*bconsts, *[args[i] for i in res_idx], *cts, jaxpr=bj, **params)
    result = [None] * len(args)
    for i, c in zip(lin_idx, out):
        result[i] = c
    return result
