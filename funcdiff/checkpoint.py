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
from .core.avals import is_differentiable_dtype
from .core.ir import ClosedJaxpr, Eqn, Jaxpr, Var, closure_convert
from .core.trace import Tracer, current_source_info, state, trace_active, trace_flat
from .higher_order.checkpoint import (  # noqa: F401  (the public names of checkpointing)
    Policy, _as_policy, all_but_cheap_elementwise_saveable, checkpoint_p,
    checkpoint_policies, dots_saveable, dots_with_no_batch_dims_saveable,
    everything_saveable, name_p, nothing_saveable, optimization_barrier,
    optimization_barrier_p, save_any_names_but_these, save_from_both_policies,
    save_only_these_names)
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


# --- the decorators -------------------------------------------------------------------

def checkpoint_name(x, name: str):
    """Identity that tags ``x`` with ``name`` for ``save_only_these_names`` and
    ``print_saved_residuals``.  Outside any transform it returns ``x`` itself."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a str, got {type(name).__name__}")
    leaves, tree = tree_flatten(x)
    out = [name_p.bind(leaf_operand(v), name=name) if (trace_active() or
           type(v) is Tracer) else v for v in leaves]
    return tree_unflatten(tree, out)


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
        j, consts = closure_convert(closed)
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
