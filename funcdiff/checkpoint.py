"""``checkpoint`` (alias ``remat``): trade memory for compute in the backward pass.

``checkpoint(f)`` records one ``checkpoint`` call eqn holding ``f``'s jaxpr.  Its rules
are those of any call primitive (``funcdiff.primitives.call``) except two:

* **partial evaluation** (``_checkpoint_partial_eval``).  Linearizing splits the jvp of
  ``f`` into a known (primal) part and an unknown (tangent) part.  An ordinary call
  saves every known value the tangent part reads (a *residual*).  ``checkpoint`` saves
  only the residuals its ``policy`` allows; the unknown eqn instead receives the
  checkpoint's *inputs* and replays the known eqns it needs (the "staged" jaxpr =
  recomputation + tangent eqns).
* **transpose** (``_checkpoint_transpose``).  The staged jaxpr is no longer linear: it
  begins with the replayed forward.  Transposing it splits it again, runs the replay
  where the backward pass reaches the checkpoint, then transposes the linear rest.
  The replay reads its inputs through ``optimization_barrier``, an identity primitive
  that also takes the incoming cotangents as operands: the replay is then a separate
  computation that no pass can merge (CSE) with the original forward, nor hoist before
  the backward pass reaches it.  ``checkpoint`` eqns are never inlined by ``jit``'s
  inline pass (the primitive has no ``inline`` hook), so the forward stays opaque too.

Policies decide, eqn by eqn, what may be saved: ``policy(prim, *avals_in, **params)
-> bool`` as in JAX.  ``checkpoint_name(x, "name")`` tags a value for
``save_only_these_names``.

``checkpoint_sequential(functions, segments)`` checkpoints a chain of layers in
segments (sqrt(N) by default), as PyTorch's ``torch.utils.checkpoint.checkpoint_sequential``.

``saved_residuals`` / ``print_saved_residuals`` list what a reverse pass keeps from its
forward to its backward half: shape, dtype, bytes and the user line that made it.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ._flat import (arg_names, call_leaf_paths, flatten_fun, leaf_aval, leaf_operand,
                    leaf_operands)
from .core.ad_types import UndefPrimal, Zero
from .core.avals import is_differentiable_dtype
from .core.interpret import eval_jaxpr_impl
from .core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from .core.trace import (Primitive, Tracer, _memo_hit, current_source_info, source_context,
                         state, trace_active, trace_flat)
from .primitives.call import _call_jvp, _closure_convert, make_call_primitive
from .transforms.dce import dce_jaxpr
from .transforms.partial_eval import partial_eval_jaxpr
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "remat", "checkpoint_policies", "checkpoint_name",
           "checkpoint_sequential", "saved_residuals", "print_saved_residuals",
           "Residual", "everything_saveable", "nothing_saveable", "dots_saveable",
           "dots_with_no_batch_dims_saveable", "save_only_these_names",
           "save_any_names_but_these", "save_from_both_policies", "checkpoint_scan",
           "all_but_cheap_elementwise_saveable",
           "checkpoint_fori_loop", "scan_schedule"]


# --- policies ------------------------------------------------------------------------

class Policy:
    """A saving policy: ``policy(prim, *avals_in, **params) -> bool`` says whether the
    output of one eqn of that primitive may be saved for the backward pass.  Policies
    are params of ``checkpoint`` eqns, so they compare by name (and wrapped function)."""

    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self, prim, *avals, **params):
        return bool(self.fn(prim, *avals, **params))

    def __repr__(self):
        return self.name

    def __eq__(self, other):
        if type(other) is not Policy:
            return False
        if isinstance(self.fn, _Named) and isinstance(other.fn, _Named):
            return self.name == other.name
        return self.fn == other.fn

    def __hash__(self):
        return hash(self.name)


class _Named:
    """Marks a policy function as defined by its name (built-in policies)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *a, **k):
        return self.fn(*a, **k)


def _policy(name, fn):
    return Policy(name, _Named(fn))


everything_saveable = _policy("everything_saveable", lambda prim, *a, **p: True)
nothing_saveable = _policy("nothing_saveable", lambda prim, *a, **p: False)


def _is_dot(prim):
    return prim.name == "dot_general"


dots_saveable = _policy("dots_saveable", lambda prim, *a, **p: _is_dot(prim))


def _dot_no_batch(prim, *avals, **params):
    return _is_dot(prim) and params["dimension_numbers"][1] == ((), ())


dots_with_no_batch_dims_saveable = _policy("dots_with_no_batch_dims_saveable",
                                           _dot_no_batch)


_VIEWS = {"broadcast_to", "reshape", "transpose", "rev", "slice", "real"}


def _cheap(prim, *avals, **params):
    """A non-transcendental elementwise op, or a shape op (a view): cheaper to replay
    than to keep."""
    if prim.name in _VIEWS:
        return True
    if not isinstance(getattr(prim, "np_fn", None), np.ufunc) or prim.cost is None:
        return False
    try:
        c = prim.cost(list(avals), list(avals[:1]), **params)
    except Exception:  # noqa: BLE001 - unknown rule shape: treat as expensive
        return False
    return not c.get("transcendentals", 0)


all_but_cheap_elementwise_saveable = _policy(
    "all_but_cheap_elementwise_saveable", lambda prim, *a, **p: not _cheap(prim, *a, **p))


def save_only_these_names(*names):
    """Save only values tagged ``checkpoint_name(x, n)`` with ``n`` in ``names``."""
    names = tuple(names)
    return _policy(f"save_only_these_names{names!r}",
                   lambda prim, *a, **p: prim is name_p and p["name"] in names)


def save_any_names_but_these(*names):
    """Save every value tagged with ``checkpoint_name`` except those in ``names``."""
    names = tuple(names)
    return _policy(f"save_any_names_but_these{names!r}",
                   lambda prim, *a, **p: prim is name_p and p["name"] not in names)


def save_from_both_policies(policy_1, policy_2):
    """Save what either policy saves."""
    p1, p2 = _as_policy(policy_1), _as_policy(policy_2)
    return _policy(f"save_from_both_policies({p1!r}, {p2!r})",
                   lambda prim, *a, **p: p1(prim, *a, **p) or p2(prim, *a, **p))


class checkpoint_policies:  # noqa: N801 - a namespace, spelled as JAX's
    """The built-in policies, as ``jax.checkpoint_policies``."""
    everything_saveable = everything_saveable
    nothing_saveable = nothing_saveable
    dots_saveable = dots_saveable
    checkpoint_dots = dots_saveable
    dots_with_no_batch_dims_saveable = dots_with_no_batch_dims_saveable
    checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable
    all_but_cheap_elementwise_saveable = all_but_cheap_elementwise_saveable
    save_only_these_names = staticmethod(save_only_these_names)
    save_any_names_but_these = staticmethod(save_any_names_but_these)
    save_from_both_policies = staticmethod(save_from_both_policies)


def _as_policy(policy):
    if policy is None:
        return nothing_saveable
    if isinstance(policy, Policy):
        return policy
    if callable(policy):
        return Policy(getattr(policy, "__name__", repr(policy)), policy)
    raise TypeError(f"checkpoint: policy must be a callable (prim, *avals, **params) -> "
                    f"bool such as funcdiff.checkpoint_policies.dots_saveable, got "
                    f"{policy!r}")


def _saveable(policy, eqn):
    return policy(eqn.primitive, *[v.aval for v in eqn.invars], **eqn.params)


# --- the name primitive ---------------------------------------------------------------

name_p = Primitive("name")
name_p.impl = lambda x, *, name: x
name_p.abstract_eval = lambda x, *, name: x
name_p.jvp = lambda primals, tangents, *, name: (name_p.bind(primals[0], name=name),
                                                  tangents[0])
name_p.transpose = lambda ct, x, *, name: [ct]
name_p.linear = True
name_p.cost = lambda avals_in, avals_out, **p: {"flops": 0, "transcendentals": 0}
name_p.emit = "{0}"
name_p.batch = lambda args, dims, *, name: (name_p.bind(args[0], name=name), dims[0])


def checkpoint_name(x, name: str):
    """Identity that tags ``x`` with ``name`` for ``save_only_these_names`` and
    ``print_saved_residuals``.  Outside any transform it returns ``x`` itself."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a str, got {type(name).__name__}")
    leaves, tree = tree_flatten(x)
    out = [name_p.bind(leaf_operand(v), name=name) if (trace_active() or
           type(v) is Tracer) else v for v in leaves]
    return tree_unflatten(tree, out)


# --- the barrier ------------------------------------------------------------------------

optimization_barrier_p = Primitive("optimization_barrier", multiple_results=True)
optimization_barrier_p.impl = lambda *args: list(args)
optimization_barrier_p.abstract_eval = lambda *avals: list(avals)
optimization_barrier_p.cost = lambda avals_in, avals_out, **p: {"flops": 0,
                                                                "transcendentals": 0}
optimization_barrier_p.linear = True


def optimization_barrier(*xs):
    """Identity on its operands that no optimization looks through: results computed
    from its outputs are never merged with results computed from its inputs."""
    return optimization_barrier_p.bind(*xs)


def _barrier_jvp(primals, tangents):
    outs = optimization_barrier_p.bind(*primals)
    nz = [t for t in tangents if type(t) is not Zero]
    t_it = iter(optimization_barrier_p.bind(*nz) if nz else [])
    return list(outs), [t if type(t) is Zero else next(t_it) for t in tangents]


def _barrier_transpose(cts, *args):
    lin = [type(a) is UndefPrimal for a in args]
    nz = [c for c, u in zip(cts, lin) if u and type(c) is not Zero]
    it = iter(optimization_barrier_p.bind(*nz) if nz else [])
    return [None if not u else (c if type(c) is Zero else next(it))
            for c, u in zip(cts, lin)]


optimization_barrier_p.jvp = _barrier_jvp
optimization_barrier_p.transpose = _barrier_transpose
optimization_barrier_p.batch = lambda args, dims: (optimization_barrier_p.bind(*args),
                                                   list(dims))


# --- the checkpoint primitive -----------------------------------------------------------

def _checkpoint_impl(jaxpr, *args, policy, prevent_cse):
    return eval_jaxpr_impl(jaxpr, [], *args)


checkpoint_p = make_call_primitive("checkpoint", _checkpoint_impl)


def _emit_checkpoint(args, params, gen):
    """Generated code calls the sub-jaxpr's own compiled function (compiled once, when
    the enclosing program is generated)."""
    from .jit import compiled
    fn = gen.const(compiled(params["jaxpr"], "checkpoint"), "ckpt")
    return f"{fn}({', '.join(args)})"


checkpoint_p.emit = _emit_checkpoint


def _checkpoint_jvp(primals, tangents, *, jaxpr, policy, prevent_cse):
    params = dict(jaxpr=jaxpr, policy=policy, prevent_cse=prevent_cse)
    known = _memo_hit(checkpoint_p, primals, params) if state.memo is not None else None
    if known is None:
        return _call_jvp(checkpoint_p, primals, tangents, **params)
    # Eager linearize already has the primal outputs (computed while tracing): bind a
    # checkpoint of the tangent half only, so the forward pass is not run again.
    from .transforms.jvp import jvp_jaxpr
    nonzeros = [type(t) is not Zero for t in tangents]
    new, out_nz = jvp_jaxpr(ClosedJaxpr(jaxpr, []), nonzeros, instantiate=False)
    n_out = len(jaxpr.outvars)
    j, consts = _closure_convert(new)
    j = dce_jaxpr(j, [False] * n_out + [True] * (len(j.outvars) - n_out))
    nz_t = [t for t in tangents if type(t) is not Zero]
    t_it = iter(checkpoint_p.bind(*consts, *primals, *nz_t, jaxpr=j, policy=policy,
                                  prevent_cse=prevent_cse) if any(out_nz) else [])
    t_outs = [next(t_it) if nz else Zero(v.aval.strengthen())
              for v, nz in zip(jaxpr.outvars, out_nz)]
    return list(known), t_outs


def partial_eval_remat(jaxpr: Jaxpr, unknowns_in, policy):
    """Split ``jaxpr`` (no constvars) saving only what ``policy`` allows.

    Returns ``(known, staged, out_unknowns, inputs_used, saved)``:

    * ``known``: (known invars) -> (known outs..., saved...);
    * ``staged``: (inputs_used..., saved..., unknown invars) -> (unknown outs...): the
      known eqns the unknown ones need and the policy did not save are replayed here;
    * ``inputs_used``: indices of known invars the staged jaxpr reads;
    * ``saved``: the inner vars saved as residuals.
    """
    assert not jaxpr.constvars
    unknown = {v for v, u in zip(jaxpr.invars, unknowns_in) if u}
    tagged = []                      # (eqn, is_unknown) in program order
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
    out_unknowns = [type(v) is Var and v in unknown for v in jaxpr.outvars]
    defs = {v: e for e, u in tagged if not u for v in e.outvars}
    known_in = {v: i for i, (v, u) in enumerate(zip(jaxpr.invars, unknowns_in)) if not u}

    # walk back from what the unknown eqns read: inputs are passed, saveable eqns'
    # results are saved, everything else is replayed (and its operands needed in turn)
    work = [v for e, u in tagged if u for v in e.invars
            if type(v) is Var and v not in unknown]
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
        if _saveable(policy, e):
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


def _checkpoint_partial_eval(eqn, unknowns):
    params = {k: v for k, v in eqn.params.items() if k != "jaxpr"}
    known, staged, out_unknowns, inputs_used, saved = partial_eval_remat(
        eqn.params["jaxpr"], unknowns, params["policy"])
    saved_outer = [Var(v.aval) for v in saved]
    known_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if not u]
    unknown_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if u]
    known_eqns = []
    if known_outs or saved_outer:
        known_eqns.append(Eqn(checkpoint_p, [a for a, u in zip(eqn.invars, unknowns)
                                             if not u],
                              known_outs + saved_outer, dict(params, jaxpr=known),
                              eqn.source_info))
    unknown_eqn = Eqn(checkpoint_p,
                      [eqn.invars[i] for i in inputs_used] + saved_outer +
                      [a for a, u in zip(eqn.invars, unknowns) if u],
                      unknown_outs, dict(params, jaxpr=staged), eqn.source_info)
    return known_eqns, [unknown_eqn], unknown_outs


def _checkpoint_transpose(cts, *args, jaxpr, policy, prevent_cse):
    lin = [type(a) is UndefPrimal for a in args]
    known, lin_j, out_unknowns, residuals = partial_eval_jaxpr(jaxpr, lin, None)
    cts = [c for c, u in zip(cts, out_unknowns) if u]  # known outputs carry no linear ct
    if all(type(c) is Zero for c in cts):
        return [Zero(a.aval.strengthen()) if u else None for a, u in zip(args, lin)]
    res_vals = [a for a, u in zip(args, lin) if not u]
    if prevent_cse:
        # the replay reads its inputs through a barrier that also takes the cotangents:
        # it cannot be merged with the forward pass, nor run before the backward pass
        # reaches this point
        arr = [i for i, x in enumerate(res_vals) if type(x) is Tracer or
               isinstance(x, np.ndarray)]
        nz = [i for i, c in enumerate(cts) if type(c) is not Zero]
        outs = optimization_barrier_p.bind(*[res_vals[i] for i in arr],
                                           *[cts[i] for i in nz])
        res_vals = list(res_vals)
        cts = list(cts)
        for i, o in zip(arr, outs[:len(arr)]):
            res_vals[i] = o
        for i, o in zip(nz, outs[len(arr):]):
            cts[i] = o
    in_cts = _backward_with_replay(known, lin_j, res_vals, len(residuals), cts)
    it = iter(in_cts)
    return [next(it) if u else None for u in lin]


def _backward_with_replay(known, lin_j, res_vals, n_res, cts):
    """``backward_pass`` over ``lin_j`` whose residuals (its first ``n_res`` invars) are
    computed by ``known`` from ``res_vals`` *on demand*: each replayed value is computed
    right before the first transposed eqn that reads it, so a checkpoint whose policy
    saved, say, the matmul outputs replays one layer at a time during the backward
    pass instead of re-materializing the whole forward at once."""
    from .transforms.transpose import backward_pass
    env = dict(zip(known.invars, res_vals))
    defs = {o: e for e in known.eqns for o in e.outvars}

    def get(v):
        if type(v) is Literal:
            return v.val
        stack = [v]
        while stack:
            u = stack[-1]
            if u in env:
                stack.pop()
                continue
            e = defs[u]
            missing = [a for a in e.invars if type(a) is Var and a not in env]
            if missing:
                stack.extend(missing)
                continue
            with source_context(e.source_info):
                out = e.primitive.bind(*[a.val if type(a) is Literal else env[a]
                                         for a in e.invars], **e.params)
            env.update(zip(e.outvars, out if e.primitive.multiple_results else [out]))
            stack.pop()
        return env[v]

    args = [None] * n_res + [UndefPrimal(v.aval) for v in lin_j.invars[n_res:]]
    return backward_pass(lin_j, [], args, cts, read=get,
                         where=" inside a checkpoint")[n_res:]


checkpoint_p.jvp = _checkpoint_jvp
checkpoint_p.partial_eval = _checkpoint_partial_eval
checkpoint_p.transpose = _checkpoint_transpose


def _bind_known(prim, operands, params, out_vals):
    """Record ``prim`` in the innermost trace with outputs already computed (the body was
    traced with concrete values), so the forward computation is not run a second time."""
    trace = state.stack[-1]
    atoms = [trace.lift(a)[0] for a in operands]
    out_avals = prim.abstract_eval(*[a.aval for a in atoms], **params)
    outvars = [Var(a) for a in out_avals]
    trace.eqns.append(Eqn(prim, atoms, outvars, params, current_source_info()))
    tracers = []
    for v, o in zip(outvars, out_vals):
        if v.aval.weak_type and not isinstance(o, (bool, int, float, complex)):
            o = o.item()
        trace.values[v] = o
        tracers.append(Tracer(trace, v, o))
    return tracers


def checkpoint(fun=None, *, policy=None, prevent_cse=True, static_argnums=()):
    """``checkpoint(f)`` computes what ``f`` computes, but reverse-mode differentiation
    does not keep ``f``'s intermediates for the backward pass: it keeps ``f``'s inputs (and
    what ``policy`` allows) and recomputes the rest when the backward pass needs it.

    Args:
      fun: the function (pytrees in, pytree out).  Usable as ``@checkpoint`` and
        ``@checkpoint(policy=...)``.
      policy: which intermediates may still be saved: ``None`` (= ``nothing_saveable``),
        one of ``funcdiff.checkpoint_policies`` or any ``(prim, *avals, **params) ->
        bool``.
      prevent_cse: keep the recomputation separate from the forward pass under ``jit``
        (the point of checkpointing; leave it on).
      static_argnums: positional arguments that are not traced (Python values).

    Returns:
      A function with ``fun``'s signature.  Outside any transform it is ``fun`` itself.
    """
    if fun is None:
        return lambda f: checkpoint(f, policy=policy, prevent_cse=prevent_cse,
                                    static_argnums=static_argnums)
    pol = _as_policy(policy)
    statics = (static_argnums,) if isinstance(static_argnums, int) else \
        tuple(static_argnums)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        leaves_all = tree_flatten((args, kwargs))[0]
        if not trace_active() and not any(type(x) is Tracer for x in leaves_all):
            return fun(*args, **kwargs)
        n = len(args)
        nums = {i % n for i in statics if -n <= i < n}
        static = {i: args[i] for i in nums}
        dyn = tuple(a for i, a in enumerate(args) if i not in nums)
        leaves, in_tree = tree_flatten((dyn, kwargs))
        leaves = leaf_operands(leaves, lambda: call_leaf_paths(
            in_tree.children[0], arg_names(fun, [i for i in range(n) if i not in nums]),
            in_tree.children[1]))

        def g(dyn_args, kw):
            it = iter(dyn_args)
            full = [static[i] if i in static else next(it) for i in range(n)]
            return fun(*full, **kw)

        flat_f, store = flatten_fun(g, in_tree)
        avals = [leaf_aval(x) for x in leaves]
        vals = [x._val if type(x) is Tracer else x for x in leaves]
        concrete = all(v is not None for v in vals)
        closed, out_vals, _ = trace_flat(flat_f, avals, vals if concrete else None,
                                         kind="checkpoint")
        j, consts = _closure_convert(closed)
        params = dict(jaxpr=j, policy=pol, prevent_cse=bool(prevent_cse))
        operands = list(consts) + leaves
        if concrete and all(o is not None for o in out_vals) and trace_active():
            outs = _bind_known(checkpoint_p, operands, params, out_vals)
        else:
            outs = checkpoint_p.bind(*operands, **params)
        return tree_unflatten(store["out_tree"], list(outs))

    return wrapped


remat = checkpoint


def checkpoint_sequential(functions, segments=None, *, policy=None,
                          checkpoint_last=False):
    """Apply a chain of one-argument ``functions`` (layers) in ``segments`` checkpointed
    segments: the backward pass keeps only each segment's input (plus what ``policy``
    saves) and recomputes one segment at a time.  With ``segments`` = sqrt(N) (the
    default) memory grows as O(sqrt(N)) instead of O(N), for one extra forward pass.

    As in PyTorch, the last segment is not checkpointed (its intermediates are needed
    right away by the backward pass); ``checkpoint_last=True`` checkpoints it too.

    Returns ``apply(x)`` computing ``functions[-1](...functions[0](x))``.
    """
    functions = list(functions)
    n = len(functions)
    if n == 0:
        return lambda x: x
    if segments is None:
        segments = max(1, int(round(math.sqrt(n))))
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got "
                         f"{segments!r}")
    segments = min(segments, n)
    bounds = [round(i * n / segments) for i in range(segments + 1)]
    chunks = [functions[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def run(chunk):
        def segment(x):
            for f in chunk:
                x = f(x)
            return x
        return segment

    seg_fns = [checkpoint(run(c), policy=policy) for c in chunks[:-1]]
    seg_fns.append(checkpoint(run(chunks[-1]), policy=policy) if checkpoint_last
                   else run(chunks[-1]))

    def apply(x):
        for s in seg_fns:
            x = s(x)
        return x

    apply.segments = [len(c) for c in chunks]
    return apply


# --- saved residuals -----------------------------------------------------------------

class Residual(NamedTuple):
    """One value a reverse pass keeps from its forward half to its backward half."""
    shape: tuple
    dtype: np.dtype
    nbytes: int
    kind: str            # "argument", "constant" or "intermediate"
    description: str     # e.g. "output of tanh" / "argument 0"
    source_info: object  # SourceInfo of the user line that made it, or None

    def __str__(self):
        from .core.avals import short_dtype
        shape = ",".join(map(str, self.shape))
        where = f" at {self.source_info}" if self.source_info is not None else ""
        return (f"{short_dtype(self.dtype)}[{shape}]  {_fmt_bytes(self.nbytes):>10}  "
                f"{self.description}{where}")


def _fmt_bytes(n):
    for unit, k in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def _describe(v, eqns_by_out, invars, constvars, depth=0):
    """(kind, description, source_info) of a residual var of a known jaxpr."""
    if v in invars:
        return "argument", f"argument {invars.index(v)}", None
    if v in constvars:
        return "constant", "a constant the function closes over", None
    eqn = eqns_by_out.get(v)
    if eqn is None:
        return "intermediate", "an intermediate", None
    from .analysis import VIEW_PRIMS
    if eqn.primitive.name in VIEW_PRIMS and not eqn.primitive.multiple_results:
        src = next((a for a in eqn.invars if type(a) is Var), None)
        if src is not None:
            kind, desc, _ = _describe(src, eqns_by_out, invars, constvars, depth + 1)
            if kind != "intermediate":    # a view of an argument costs no memory
                return kind, f"{eqn.primitive.name} (a view) of {desc}", eqn.source_info
    sub = eqn.params.get("jaxpr")
    if isinstance(sub, ClosedJaxpr):
        sub = sub.jaxpr
    if isinstance(sub, Jaxpr) and depth < 50:
        inner = sub.outvars[eqn.outvars.index(v)]
        name = eqn.primitive.name
        stacked = name == "scan" and eqn.outvars.index(v) >= eqn.params["num_carry"]
        per_iter = ", one per iteration" if stacked else ""
        if type(inner) is Var:
            inner_defs = {o: e for e in sub.eqns for o in e.outvars}
            kind, desc, src = _describe(inner, inner_defs, sub.invars, sub.constvars,
                                        depth + 1)
            if kind == "intermediate":
                return kind, f"{desc} (inside {name}{per_iter})", src
            what = "a loop carry or x" if name == "scan" else "an input"
            return "intermediate", f"{what} of {name}{per_iter}", eqn.source_info
    if eqn.primitive is name_p:
        return "intermediate", f"named {eqn.params['name']!r}", eqn.source_info
    return "intermediate", f"output of {eqn.primitive.name}", eqn.source_info


def saved_residuals_jaxpr(closed, diff_mask=None):
    """The residuals of reverse-mode differentiation of ``closed`` w.r.t. the inputs in
    ``diff_mask`` (default: every floating-point input): a list of ``Residual``."""
    from .transforms.jvp import jvp_jaxpr
    if not isinstance(closed, ClosedJaxpr):
        closed = ClosedJaxpr(closed, [])
    in_avals = closed.in_avals
    if diff_mask is None:
        diff_mask = [is_differentiable_dtype(a.dtype) for a in in_avals]
    diff_mask = list(diff_mask)
    if not any(diff_mask):
        return []
    jv, _ = jvp_jaxpr(closed, diff_mask, instantiate=True)
    n_in, n_out = len(in_avals), len(closed.jaxpr.outvars)
    n_t = sum(diff_mask)
    j = jv.jaxpr
    known, unknown, _, residuals = partial_eval_jaxpr(
        j, [False] * n_in + [True] * n_t, [False] * n_out + [True] * n_out)
    # only residuals the backward pass really reads
    _, kept = dce_jaxpr(unknown, prune_invars=True)
    residuals = [r for r, k in zip(residuals, kept) if k]
    eqns_by_out = {o: e for e in known.eqns for o in e.outvars}
    invars, constvars = list(j.invars[:n_in]), list(j.constvars)
    out = []
    for r in residuals:
        kind, desc, src = _describe(r, eqns_by_out, invars, constvars)
        a = r.aval
        out.append(Residual(tuple(a.shape), a.dtype, int(a.nbytes), kind, desc, src))
    return out


def saved_residuals(f, *args, argnums=None):
    """What ``grad``/``vjp`` of ``f`` at ``args`` keep for the backward pass (traced
    abstractly; nothing is computed): a list of ``Residual`` (shape, dtype, nbytes,
    kind, description, source_info).  ``argnums`` selects the differentiated
    positional arguments (default: all floating-point leaves)."""
    from .api import make_jaxpr
    closed = make_jaxpr(f)(*args)
    mask = None
    if argnums is not None:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        nums = {a % len(args) for a in nums}
        mask = []
        for i, a in enumerate(args):
            for leaf in tree_flatten(a)[0]:
                mask.append(i in nums and is_differentiable_dtype(
                    leaf_aval(leaf_operand(leaf)).dtype))
    return saved_residuals_jaxpr(closed, mask)


def print_saved_residuals(f, *args, argnums=None, file=None):
    """Print every value reverse-mode differentiation of ``f`` keeps from the forward
    to the backward pass: shape, dtype, bytes and the user line that made it, then the
    total (arguments, which the caller keeps alive anyway, are listed but not
    counted)."""
    res = saved_residuals(f, *args, argnums=argnums)
    total = sum(r.nbytes for r in res if r.kind == "intermediate")
    lines = [str(r) for r in res]
    lines.append(f"total saved (excluding arguments and constants): {_fmt_bytes(total)} "
                 f"in {sum(r.kind == 'intermediate' for r in res)} array(s)")
    print("\n".join(lines), file=file)


# --- loops within a memory budget ------------------------------------------------------

def _scan_length(xs, length):
    leaves = tree_flatten(xs)[0]
    if length is not None:
        return int(length)
    if not leaves:
        raise ValueError("checkpoint_scan: pass length= when xs is None")
    return int(leaf_aval(leaf_operand(leaves[0])).shape[0])


def scan_schedule(schedule, length):
    """``(block_sizes, checkpoint_each_step)`` for a checkpointing ``schedule`` of a loop
    of ``length`` steps: the loop becomes nested scans, the outermost over blocks of
    ``block_sizes[0]`` steps, each block (checkpointed) a scan over blocks of
    ``block_sizes[1]``, ..., the innermost a plain scan of single steps.

    * ``"every"``: every step checkpointed (the loop keeps one carry per step);
    * ``("every", k)``: a snapshot every k steps, the k steps between two snapshots
      replayed at once (about length/k carries plus k steps' residuals);
    * ``("snapshots", s)`` (alias ``("binomial", s)``): multi-level nesting for a budget
      of about ``s`` stored states: the fewest levels d with d * length^(1/d) <= s,
      each level replaying its blocks once (d - 1 extra forward passes).
    * ``None`` / ``"none"``: no checkpointing.
    """
    if schedule is None or schedule == "none":
        return [], False
    if schedule == "every":
        return [], True
    if isinstance(schedule, int) and not isinstance(schedule, bool):
        schedule = ("every", schedule)
    if not (isinstance(schedule, tuple) and len(schedule) == 2 and
            isinstance(schedule[1], int) and schedule[1] >= 1):
        raise ValueError(f"checkpoint schedule must be 'every', ('every', k), "
                         f"('snapshots', s) or None; got {schedule!r}")
    kind, k = schedule
    if kind == "every":
        return ([k] if 1 < k < length else []), k == 1
    if kind in ("snapshots", "binomial", "revolve"):
        if length <= k:
            return [], False
        plans = []
        for d in range(2, max(3, int(math.log2(length)) + 2)):
            b = max(2, math.ceil(length ** (1.0 / d) - 1e-9))
            while b ** d < length:
                b += 1
            plans.append((d, b))
        fits = [(d, b) for d, b in plans if d * b <= k]
        # the fewest levels within the budget; if none fits, the least memory
        d, b = fits[0] if fits else min(plans, key=lambda p: (p[0] * p[1], p[0]))
        return [b ** i for i in range(d - 1, 0, -1)], False
    raise ValueError(f"unknown checkpoint schedule {schedule!r}")


def checkpoint_scan(f, init, xs=None, length=None, reverse=False, *,
                    schedule="every", policy=None):
    """``funcdiff.lax.scan`` whose reverse-mode derivative keeps only the loop states a
    checkpointing ``schedule`` says (see ``scan_schedule``), replaying the steps in
    between during the backward pass: a 10,000-step integrator differentiates in
    O(snapshots) memory.  Values and derivatives are those of ``lax.scan``."""
    from . import lax
    from .numpy import concatenate, flip, reshape
    from .tree_util import tree_map
    n = _scan_length(xs, length)
    sizes, ck_step = scan_schedule(schedule, n)
    if reverse:
        xs_r = tree_map(lambda x: flip(x, 0), xs)
        carry, ys = checkpoint_scan(f, init, xs_r, n, False, schedule=schedule,
                                    policy=policy)
        return carry, tree_map(lambda y: flip(y, 0), ys)
    step = checkpoint(f, policy=policy) if ck_step else f

    def run(carry, xs, n, sizes):
        if not sizes or n <= sizes[0]:
            if sizes and n > 1:
                return run(carry, xs, n, sizes[1:])
            return lax.scan(step, carry, xs, length=n)
        c = sizes[0]
        nb, rem = divmod(n, c)
        block = checkpoint(lambda carry, xb: run(carry, xb, c, sizes[1:]), policy=policy)
        xs_b = tree_map(lambda x: reshape(x[:nb * c], (nb, c) + tuple(x.shape[1:])), xs)
        carry, ys_b = lax.scan(block, carry, xs_b, length=nb)
        ys = tree_map(lambda y: reshape(y, (nb * c,) + tuple(y.shape[2:])), ys_b)
        if rem:
            tail = checkpoint(lambda carry, xr: run(carry, xr, rem, sizes[1:]),
                              policy=policy)
            carry, ys_r = tail(carry, tree_map(lambda x: x[nb * c:], xs))
            ys = tree_map(lambda a, b: concatenate([a, b], 0), ys, ys_r)
        return carry, ys

    return run(init, xs, n, sizes)


def checkpoint_fori_loop(lower, upper, body_fun, init_val, *, schedule="every",
                         policy=None):
    """``funcdiff.lax.fori_loop`` (concrete bounds) with a checkpointing ``schedule`` for
    reverse mode: see ``checkpoint_scan``."""
    lo, hi = int(lower), int(upper)

    def step(val, i):
        return body_fun(i, val), None
    out, _ = checkpoint_scan(step, init_val, np.arange(lo, max(hi, lo)), schedule=schedule,
                             policy=policy)
    return out
