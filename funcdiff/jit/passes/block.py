"""Cache-blocked fusion: elementwise chains over large arrays run block by block.

A connected group of elementwise ufunc eqns over one large shape, with any full
reductions of its values (``reduce_sum``, ``reduce_max``, ``reduce_min`` over every
axis), becomes one ``blocked`` eqn holding the group as a sub-jaxpr.  ``codegen``
writes it as a loop over blocks of ``config.blocked_fusion_block_size`` elements:
each op is one NumPy call writing ``out=`` into a block-sized scratch buffer
(allocated per call, so two threads never share one), values the rest of the program
reads are written slice by slice into their full-size result, and reductions keep one
partial result per block, summed pairwise at the end (as NumPy's own ``sum``, so the
result is within NumPy's rounding; max/min are exact).  Intermediates stay in cache and
nothing full-size is allocated but the group's results.

Which groups: every eqn a ufunc (``Primitive.ufunc``) with one strongly typed result
of the group's shape, at least ``config.blocked_fusion_min_size`` elements (the
measured break-even) and not of object dtype; operands of the group's shape or of
size 1 (scalars, literals, size-1 axes: they broadcast against any block; other
broadcasting leaves the eqn out).  The group is emitted at its last eqn's place, so an
outside eqn between its members that reads a member's value cuts the group there (the
rest may form a group of its own).  A lone elementwise op is left alone (nothing to
keep in cache); a lone op with a reduction is not (it saves the full-size temporary).

Operands are flattened (``np.ravel``, C order): a view for C-contiguous arrays, a copy
otherwise (a transposed or Fortran-ordered operand costs one full-size copy).
"""
from __future__ import annotations

import bisect

import numpy as np

from ...config import config
from ...core.interpret import eval_jaxpr_impl
from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Var
from ...core.trace import Primitive
from ...primitives.base import reduce_sum_p
from ...primitives.reduce import reduce_max_p, reduce_min_p
from ..memory import by_value

# the reductions a group may end in, and the ufunc combining their per-block partials
REDUCERS = {reduce_sum_p: np.add, reduce_max_p: np.maximum, reduce_min_p: np.minimum}

blocked_p = Primitive("blocked", multiple_results=True)
blocked_p.impl = lambda *args, jaxpr, block: eval_jaxpr_impl(jaxpr, [], *args)
blocked_p.abstract_eval = lambda *avals, jaxpr, block: [v.aval for v in jaxpr.outvars]
blocked_p.returns_new_array = True   # np.empty results, reduction results
blocked_p.owns_output = True


def _blocked_cost(avals_in, avals_out, *, jaxpr, block, sub_cost):
    """The body's flops; memory: inputs read and results written once, and, while the
    loop runs (``peak_bytes``: the transient peak, on top of what lives before), the
    results already allocated, one block-sized scratch buffer per value the body keeps
    in flight and the reductions' per-block partials."""
    c = sub_cost(jaxpr)
    out_bytes = sum(a.nbytes for a in avals_out)
    partials = sum(n_blocks(jaxpr, block) * partial_dtype(e).itemsize
                   for e in jaxpr.eqns if e.primitive in REDUCERS)
    return {"flops": c["flops"], "transcendentals": c["transcendentals"],
            "bytes_accessed": sum(a.nbytes for a in avals_in) + out_bytes,
            "peak_bytes": out_bytes + partials +
            sum(min(block, group_size(jaxpr)) * d.itemsize for d in scratch_dtypes(jaxpr))}


blocked_p.cost = _blocked_cost


def group_size(jaxpr):
    """Elements of a ``blocked`` body's shape."""
    return max(e.outvars[0].aval.size for e in jaxpr.eqns if e.primitive not in REDUCERS)


def n_blocks(jaxpr, block):
    """How many blocks the loop of a ``blocked`` body runs."""
    return -(-group_size(jaxpr) // block)


def partial_dtype(eqn):
    """The dtype of a reduction's per-block partial results: the result's, but float32
    for a float16 sum (NumPy's float16 sum accumulates in float32 and rounds once;
    rounding every block's partial to float16 loses what cancels between blocks)."""
    dt = eqn.outvars[0].aval.dtype
    return np.dtype(np.float32) if eqn.primitive is reduce_sum_p and \
        dt == np.float16 else dt


def _elementwise_ok(eqn, min_size):
    prim = eqn.primitive
    if prim.ufunc is None or prim.multiple_results or len(eqn.outvars) != 1:
        return False
    out = eqn.outvars[0].aval
    if out.weak_type or out.size < max(min_size, 1) or not out.shape or \
            out.dtype.kind == "O" or by_value(eqn):
        return False
    return all(type(a) is not Var or a.aval.shape == out.shape or
               (a.aval.size == 1 and a.aval.ndim <= out.ndim and a.aval.dtype.kind != "O")
               for a in eqn.invars)


def _reduction_ok(eqn):
    """A reduction over every axis of a (non-scalar) var."""
    if eqn.primitive not in REDUCERS:
        return False
    x = eqn.invars[0]
    return type(x) is Var and x.aval.ndim > 0 and \
        tuple(eqn.params["axes"]) == tuple(range(x.aval.ndim))


def blocked_fusion(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Rewrite elementwise groups over large arrays into ``blocked`` eqns (see the module
    docstring).  Groups are the connected components of the eligible eqns, cut where an
    outside eqn reads a member before the group's end; the cut-off rest is grouped
    again."""
    if not config.blocked_fusion:
        return closed
    j = closed.jaxpr
    min_size = config.blocked_fusion_min_size
    elementwise = {i for i, e in enumerate(j.eqns) if _elementwise_ok(e, min_size)}
    if not elementwise:
        return closed
    producer = {}
    readers: dict = {}
    for i, e in enumerate(j.eqns):
        for v in e.outvars:
            producer[v] = i
        for a in e.invars:
            if type(a) is Var:
                readers.setdefault(a, []).append(i)
    reductions = {i for i, e in enumerate(j.eqns)
                  if _reduction_ok(e) and producer.get(e.invars[0]) in elementwise}
    elementwise -= _kept_for_later(j, elementwise | reductions, readers)
    reductions = {i for i in reductions if producer.get(j.eqns[i].invars[0]) in elementwise}
    groups = []
    todo = elementwise | reductions
    while todo:
        rest = set()
        for comp in _components(j, todo, producer, reductions):
            # a reduction read inside its own group would be needed before it is done
            comp -= {r for r in comp & reductions
                     if any(k in comp for k in readers.get(j.eqns[r].outvars[0], ()))}
            kept, cut_off = _cut(j, comp, readers)
            rest |= cut_off
            n_ew = len(kept - reductions)
            if n_ew >= 2 or (n_ew == 1 and len(kept) > 1):
                groups.append(sorted(kept))
        todo = rest
    if not groups:
        return closed
    at = {g[-1]: g for g in groups}
    member = {i for g in groups for i in g}
    outvars = {v for v in j.outvars if type(v) is Var}
    block = config.blocked_fusion_block_size
    new_eqns = []
    for i, e in enumerate(j.eqns):
        if i in at:
            new_eqns.append(_group_eqn(j, at[i], readers, outvars, block))
        elif i not in member:
            new_eqns.append(e)
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars, new_eqns), closed.consts)


def _kept_for_later(j, eligible, readers):
    """Eligible eqns whose values are read only across other work (a derivative's
    ``1 - tanh(z)**2`` computed in the forward pass, read in the backward one), or only
    by such eqns: left out of the groups.  A group would write them out full-size where
    they are made, to live until the far reader; left alone, numexpr's fusion computes
    them at that reader from values kept anyway (a forward pass of a deep network keeps
    one array a layer, not two)."""
    outvars = {v for v in j.outvars if type(v) is Var}
    # positions of the eqns that are no group's (matmuls, gathers, ...): "other work"
    other = [k for k in range(len(j.eqns)) if k not in eligible]

    later = set()
    for i in sorted(eligible, reverse=True):
        v = j.eqns[i].outvars[0]
        if v in outvars:
            continue
        rs = readers.get(v, ())
        if rs and all(r in later or _work_between(other, i, r) for r in rs):
            later.add(i)
    return later


def _work_between(other, i, r):
    """Whether an eqn of ``other`` (sorted positions) lies strictly between i and r."""
    k = bisect.bisect_right(other, i)
    return k < len(other) and other[k] < r


def _components(j, todo, producer, reductions):
    """Connected components of ``todo``: an elementwise eqn joins the producer of an
    operand of its own shape, a reduction the producer of its operand."""
    parent = {i: i for i in todo}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in todo:
        e = j.eqns[i]
        shape = e.invars[0].aval.shape if i in reductions else e.outvars[0].aval.shape
        for a in e.invars:
            p = producer.get(a) if type(a) is Var else None
            if p in parent and p not in reductions and \
                    j.eqns[p].outvars[0].aval.shape == shape:
                parent[find(i)] = find(p)
    comps: dict = {}
    for i in todo:
        comps.setdefault(find(i), set()).add(i)
    return list(comps.values())


def _cut(j, comp, readers):
    """(kept, rest): the members before the first outside eqn that reads a member's
    value before the group's last member (the group runs at its last member's place,
    so that reader would run too early)."""
    last = max(comp)
    first_bad = last + 1
    for i in comp:
        for r in readers.get(j.eqns[i].outvars[0], ()):
            if r not in comp and r < last:
                first_bad = min(first_bad, r)
    kept = {i for i in comp if i < first_bad}
    return kept, comp - kept


def _group_eqn(j, members, readers, outvars_set, block):
    eqns = [j.eqns[i] for i in members]
    inside = {v for e in eqns for v in e.outvars}
    member_set = set(members)
    ins, outs = [], []
    for e in eqns:
        for a in e.invars:
            if type(a) is Var and a not in inside and a not in ins:
                ins.append(a)
    for e in eqns:
        v = e.outvars[0]
        if v in outvars_set or any(r not in member_set for r in readers.get(v, ())):
            outs.append(v)
    body = Jaxpr([], ins, outs, eqns)
    return Eqn(blocked_p, ins, outs, dict(jaxpr=body, block=block),
               eqns[-1].source_info)


def scratch_dtypes(jaxpr):
    """Per scratch buffer of the block loop, its dtype: a linear scan over the body
    giving each block-sized value a buffer freed at its last use (results the program
    keeps are written into their own slices, reductions into their partials)."""
    return plan_buffers(jaxpr)[0]


def plan_buffers(jaxpr):
    """``(dtypes, assign)``: the dtype of each scratch buffer, and for each body value
    that lives only in the block, its buffer's index."""
    outs = set(jaxpr.outvars)
    buffers, free, assign = [], {}, {}
    for e, dead in zip(jaxpr.eqns, jaxpr.last_use()):
        v = e.outvars[0]
        if e.primitive not in REDUCERS and v not in outs:
            dt = v.aval.dtype
            pool = free.get(dt)
            if pool:
                assign[v] = pool.pop()
            else:
                assign[v] = len(buffers)
                buffers.append(dt)
        for d in dead:
            if d in assign and d is not v:
                free.setdefault(d.aval.dtype, []).append(assign[d])
    return buffers, assign
