"""Batching (``vmap``): evaluate a per-example jaxpr on batched values with each
primitive's ``batch`` rule.

``batch_eval`` is an interpreter over ``(value, batch dim)`` pairs.  Run eagerly (no trace
active) it computes the batched result with NumPy; under a trace it *records* the
batched program, so ``batch_jaxpr`` is just ``batch_eval`` traced (the pattern of
``jvp_eval``/``jvp_jaxpr``).  An eqn none of whose inputs is mapped is bound unchanged;
otherwise its primitive's rule ``batch(args, dims, **params) -> (out, out_dim)`` runs
(see ``funcdiff/primitives/base.py`` for the conventions and helpers).

``vmap_flat`` is the transform on flat lists that ``funcdiff.vmap`` and the rules of
primitives holding user functions (custom_jvp / custom_vjp) build on: trace the function
once on per-example avals (abstractly, as JAX does), then ``batch_eval`` that jaxpr on the
real batched inputs.
"""
from __future__ import annotations

from ..core.avals import ShapedArray
from ..core.errors import ConcretizationError, FuncdiffError, FuncdiffValueError
from ..core.ir import ClosedJaxpr, eval_eqns, Jaxpr, Var
from ..core.trace import get_aval, new_trace, source_context, trace_flat
from ..primitives.base import matchaxis


class BatchingError(FuncdiffValueError):
    """A ``vmap`` specification that does not fit the values.

    Inconsistent mapped axis sizes, an axis out of range, a mapped output with
    ``out_axes=None``.

    Examples
    --------
    >>> try:
    ...     fd.vmap(lambda x, y: x + y)(np.ones(2), np.ones(3))
    ... except fd.BatchingError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    BatchingError True
    """


class BatchRuleError(FuncdiffError, NotImplementedError):
    """A primitive without a batching rule met a mapped value under ``vmap``."""


def unbatched_aval(a: ShapedArray, d) -> ShapedArray:
    """The per-example aval of a value whose batch axis is ``d``."""
    if d is None:
        return a
    return ShapedArray(a.shape[:d] + a.shape[d + 1:], a.dtype)


def batched_aval(a: ShapedArray, d, size: int) -> ShapedArray:
    if d is None:
        return a
    return ShapedArray(a.shape[:d] + (size,) + a.shape[d:], a.dtype)


def _missing_rule(prim, eqn):
    return BatchRuleError(
        f"vmap: the primitive `{prim.name}` has no batching rule, and it was applied to a "
        f"mapped (batched) value at {eqn.source_info}.  Its rule has not been written "
        "yet: apply that part of the function outside vmap (e.g. in a Python loop over "
        "the examples), or add `batch` to the primitive.")


def _check_out(prim, eqn, outs, odims, size):
    """Each rule's outputs must be the per-example outputs with the batch axis inserted:
    a cheap check that turns a wrong rule into a clear error instead of wrong numbers."""
    for v, o, d in zip(eqn.outvars, outs, odims):
        got = get_aval(o)
        want = v.aval.shape if d is None else (
            v.aval.shape[:d] + (size,) + v.aval.shape[d:] if 0 <= d <= v.aval.ndim else None)
        if got.shape != want or got.dtype != v.aval.dtype:
            raise FuncdiffError(
                f"internal error in the batching rule of `{prim.name}` (at "
                f"{eqn.source_info}): per-example output {v.aval.str_short()} with batch "
                f"axis {d} of size {size}, but the rule returned {got.str_short()}.  "
                "Please report this bug.")


def batch_eval(jaxpr: Jaxpr, consts, args, dims, size: int):
    """Evaluate ``jaxpr`` on batched ``args`` (``dims[i]``: the batch axis of ``args[i]``
    or ``None``; consts are not mapped).  Returns ``(outs, out_dims)``."""
    denv = {v: d for v, d in zip(jaxpr.invars, dims) if d is not None}

    def apply(eqn, invals):
        prim = eqn.primitive
        indims = [denv.get(v) if type(v) is Var else None for v in eqn.invars]
        if all(d is None for d in indims):
            with source_context(eqn.source_info):
                return prim.bind(*invals, **eqn.params)
        if prim.batch is None:
            raise _missing_rule(prim, eqn)
        with source_context(eqn.source_info):
            outs, odims = prim.batch(invals, indims, **eqn.params)
        if not prim.multiple_results:
            _check_out(prim, eqn, [outs], [odims], size)
            if odims is not None:
                denv[eqn.outvars[0]] = odims
            return outs
        _check_out(prim, eqn, outs, odims, size)
        for v, d in zip(eqn.outvars, odims):
            if d is not None:
                denv[v] = d
        return outs

    outs = eval_eqns(jaxpr, consts, args, apply, (denv,))
    odims = [denv.get(v) if type(v) is Var else None for v in jaxpr.outvars]
    return outs, odims


def move_outputs(outs, odims, want, size):
    """Outputs with their batch axes at ``want`` (an int, or None to leave unmapped
    outputs unmapped and mapped ones where they are), broadcasting unmapped ones."""
    if want is None:
        return list(outs), list(odims)
    return [matchaxis(o, d, want, size) for o, d in zip(outs, odims)], [want] * len(outs)


def batch_jaxpr(closed: ClosedJaxpr, in_dims, size: int, out_dim=None):
    """IR -> IR: the batched version of ``closed``, taking inputs with batch axes
    ``in_dims`` (None: not mapped).  With ``out_dim=None`` the outputs keep the batch axes
    their rules gave (None for outputs that do not depend on mapped inputs); with an int
    every output is moved (or broadcast) to that axis.  Returns
    ``(batched_closed_jaxpr, out_dims)``."""
    in_avals = [batched_aval(a, d, size) for a, d in zip(closed.in_avals, in_dims)]
    store = {}

    def fun(*args):
        outs, odims = batch_eval(closed.jaxpr, closed.consts, list(args), list(in_dims),
                                 size)
        outs, odims = move_outputs(outs, odims, out_dim, size)
        store["dims"] = odims
        return outs

    new, _, _ = trace_flat(fun, in_avals, kind="vmap")
    return new, store["dims"]


def vmap_flat(fun, args, dims, size: int, out_dim=0, what="vmap"):
    """Vectorize ``fun(*args) -> list`` over the axes ``dims`` of ``args``.

    Mapped arguments are traced as abstract per-example values; unmapped ones are passed
    to ``fun`` unchanged (so they stay concrete and Python control flow on them works, as
    in JAX).  Returns ``(outs, out_dims)``; see ``move_outputs`` for ``out_dim``.
    """
    with new_trace("vmap") as trace:
        ins = []
        for x, d in zip(args, dims):
            ins.append(x if d is None else trace.new_arg(unbatched_aval(get_aval(x), d)))
        try:
            outs = fun(*ins)
        except ConcretizationError as e:
            raise ConcretizationError(
                f"{e}\n(Under {what} the values being mapped over are abstract per-example "
                "values, as under jit: use funcdiff.numpy.where(...) or funcdiff.lax.cond "
                "instead of a Python `if` on them, or pass the value unmapped with "
                "in_axes=None.)") from None
        closed = trace.finalize(outs)
    mapped = [(x, d) for x, d in zip(args, dims) if d is not None]
    outs, odims = batch_eval(closed.jaxpr, closed.consts, [x for x, _ in mapped],
                             [d for _, d in mapped], size)
    return move_outputs(outs, odims, out_dim, size)
