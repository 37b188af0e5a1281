"""Call primitives: an eqn that holds a whole jaxpr.  ``jit_call`` is what a jitted
function binds under another transform; ``checkpoint`` (in checkpoint.py) builds on the
same rules.

``params["jaxpr"]`` is a closure-converted ``Jaxpr`` (no constvars: consts are leading
operands), so params never hold tracers.  Every rule recurses with the generic
transform on the sub-jaxpr:

* jvp: a call of ``jvp_jaxpr(sub)``;
* partial_eval: ``partial_eval_jaxpr(sub)`` gives a known call (its outputs plus
  residuals) and an unknown call (residuals plus unknown inputs);
* transpose: a call of the transposed sub-jaxpr;
* batch: a call of the batched sub-jaxpr (``batch_subjaxpr``, cached per jaxpr so its
  compiled code is reused).
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from ..config import config
from ..core.ad_types import UndefPrimal, Zero
from ..core.interpret import subprogram
from ..core.ir import ClosedJaxpr, Eqn, Jaxpr, Var, closure_convert
from ..core.trace import Primitive, Tracer
from ..primitives.base import axis_size, instantiate
from ..transforms.dce import dce_jaxpr
from ..transforms.jvp import jvp_jaxpr
from ..transforms.partial_eval import partial_eval_jaxpr
from ..transforms.transpose import transpose_jaxpr
from ..transforms.vmap import batch_jaxpr


def make_call_primitive(name, impl):
    """A call primitive running ``impl(jaxpr, *args, **params)`` when evaluated."""
    p = Primitive(name, multiple_results=True)
    p.impl = lambda *args, jaxpr, **params: impl(jaxpr, *args, **params)
    p.abstract_eval = lambda *avals, jaxpr, **params: [v.aval for v in jaxpr.outvars]
    p.jvp = lambda primals, tangents, **params: call_jvp(p, primals, tangents, **params)
    p.partial_eval = lambda eqn, unknowns: _call_partial_eval(p, eqn, unknowns)
    p.transpose = lambda cts, *args, **params: _call_transpose(p, cts, *args, **params)
    p.batch = lambda args, dims, **params: _call_batch(p, args, dims, **params)
    p.called_jaxpr = _called_jaxpr
    p.sparsity = "call"
    p.linear = True
    p.cost = None
    return p


def _called_jaxpr(params, vals):
    return params["jaxpr"], [], list(vals)


def call_jvp(prim, primals, tangents, *, jaxpr, **params):
    nonzeros = [type(t) is not Zero for t in tangents]
    new, out_nz = jvp_jaxpr(ClosedJaxpr(jaxpr, []), nonzeros, instantiate=False)
    n_out = len(jaxpr.outvars)
    new_j = closure_convert(new)
    outs = prim.bind(*new_j[1], *primals, *[t for t in tangents if type(t) is not Zero],
                     jaxpr=new_j[0], **params)
    outs = list(outs)
    primal_outs, t_iter = outs[:n_out], iter(outs[n_out:])
    t_outs = [next(t_iter) if nz else Zero(v.aval.strengthen())
              for v, nz in zip(jaxpr.outvars, out_nz)]
    return primal_outs, t_outs


def _call_partial_eval(prim, eqn, unknowns):
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
    new_j, consts, out_dims = batch_subjaxpr(jaxpr, dims, axis_size(args, dims))
    outs = prim.bind(*consts, *args, jaxpr=new_j, **params)
    return list(outs), list(out_dims)


def _call_transpose(prim, cts, *args, jaxpr, **params):
    lin_mask = [type(a) is UndefPrimal for a in args]
    res_idx = [i for i, m in enumerate(lin_mask) if not m]
    lin_idx = [i for i, m in enumerate(lin_mask) if m]
    perm = Jaxpr([], [jaxpr.invars[i] for i in res_idx + lin_idx], jaxpr.outvars,
                 jaxpr.eqns)
    back = transpose_jaxpr(perm, len(res_idx))
    bj, bconsts = closure_convert(back)
    cts = [instantiate(c) for c in cts]
    out = prim.bind(*bconsts, *[args[i] for i in res_idx], *cts, jaxpr=bj, **params)
    result = [None] * len(args)
    for i, c in zip(lin_idx, out):
        result[i] = c
    return result


# --- batched sub-jaxprs, cached ----------------------------------------------------------
# Batched sub-jaxprs of call primitives, cached per (jaxpr object, dims, size) so that
# repeated calls reuse one batched jaxpr (and hence its compiled code).  Per jaxpr the
# entries are a bounded LRU (config.jit_cache_size, as jit's own cache): each batch size
# is an entry, and a jitted function vmapped over ever new batch sizes would otherwise
# keep a compiled program (and its linecache source) for every one of them for as long
# as the jit cache keeps the jaxpr.
_sub_cache: "weakref.WeakKeyDictionary[Jaxpr, OrderedDict]" = weakref.WeakKeyDictionary()
_sub_lock = threading.Lock()


def batch_subjaxpr(jaxpr: Jaxpr, in_dims, size: int, out_dim=None):
    """``batch_jaxpr`` for a const-free ``Jaxpr`` (the ``jaxpr`` param of call
    primitives), closure-converted: returns ``(jaxpr, consts, out_dims)`` where the new
    jaxpr takes ``consts`` as leading inputs.  Cached."""
    key = (tuple(in_dims), size, out_dim)
    with _sub_lock:
        per = _sub_cache.get(jaxpr)
        if per is not None and key in per:
            per.move_to_end(key)
            return per[key]
    closed, odims = batch_jaxpr(ClosedJaxpr(jaxpr, []), in_dims, size, out_dim)
    converted, consts = closure_convert(closed)
    result = (converted, consts, odims)
    if not any(type(c) is Tracer for c in consts):
        with _sub_lock:
            per = _sub_cache.get(jaxpr)
            if per is None:
                per = _sub_cache[jaxpr] = OrderedDict()
            per[key] = result
            while len(per) > config.jit_cache_size:
                per.popitem(last=False)
    return result


# --- jit_call -----------------------------------------------------------------------------

def _run_call(jaxpr, *args, name="jit"):
    return subprogram(jaxpr, name)(*args)


jit_call_p = make_call_primitive("jit_call", _run_call)
jit_call_p.inline = lambda eqn: (eqn.params["jaxpr"], eqn.invars)
