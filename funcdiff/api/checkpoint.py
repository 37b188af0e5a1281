"""``checkpoint`` (alias ``remat``): trade memory for compute in the backward pass.

``checkpoint(f)`` records one ``checkpoint`` call eqn holding ``f``'s jaxpr (see
``funcdiff.higher_order.checkpoint`` for its rules and the saving policies);
``checkpoint_name(x, "name")`` tags a value for ``save_only_these_names``.

``checkpoint_sequential(functions, segments)`` checkpoints a chain of layers in
segments (sqrt(N) by default), as PyTorch's ``torch.utils.checkpoint.checkpoint_sequential``.

``saved_residuals`` / ``print_saved_residuals`` list what a reverse pass keeps from its
forward to its backward half: shape, dtype, bytes and the user line that made it
(``funcdiff.analysis.residuals``).
"""
from __future__ import annotations

import functools
import math
from typing import IO, Any, Callable, Sequence, TypeVar

from ..analysis.residuals import _fmt_bytes, saved_residuals_jaxpr
from ..core.avals import is_differentiable_dtype
from ..core.ir import Eqn, Var, closure_convert
from ..core.trace import Tracer, current_source_info, state, trace_active, trace_flat
from ..core.tracebacks import api_boundary
from ..higher_order.checkpoint import _as_policy, checkpoint_p, name_p
from ..tree_util import tree_flatten, tree_structure, tree_unflatten
from ._flat import (arg_names, call_leaf_paths, flatten_fun, leaf_aval, leaf_operand,
                    leaf_operands)
from .autodiff import make_jaxpr
from ..analysis.residuals import Residual

T = TypeVar("T")


def checkpoint_name(x: T, name: str) -> T:
    """Tag a value with a name, for saving policies and residual listings.

    The identity on ``x``; ``checkpoint_policies.save_only_these_names(name)`` and
    ``save_any_names_but_these`` decide by the tag, and ``print_saved_residuals``
    shows it.  Outside any transform it returns ``x`` itself.

    Parameters
    ----------
    x : pytree of arrays
        The value(s) to tag.
    name : str
        The tag.

    Returns
    -------
    pytree
        ``x``.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> def f(W, x):
    ...     h = fd.checkpoint_name(fnp.tanh(W @ x), "hidden")
    ...     return fnp.sum(fnp.sin(h))
    >>> policy = fd.checkpoint_policies.save_only_these_names("hidden")
    >>> res = fd.saved_residuals(fd.checkpoint(f, policy=policy), np.eye(2), np.ones(2))
    >>> print([r.description for r in res if r.kind == "intermediate"])
    ["named 'hidden' (inside checkpoint)"]

    See Also
    --------
    checkpoint : where the policies apply.
    checkpoint_policies : the policies.
    """
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
    lifted = [trace.lift(a) for a in operands]
    atoms = [a for a, _ in lifted]
    out_avals = prim.abstract_eval(*[a.aval for a in atoms], **params)
    outvars = [Var(a) for a in out_avals]
    eqn = Eqn(prim, atoms, outvars, params, current_source_info())
    trace.eqns.append(eqn)
    outs = [o.item() if v.aval.weak_type and not isinstance(o, (bool, int, float, complex))
            else o for v, o in zip(outvars, out_vals)]
    trace.record_values(eqn, [x for _, x in lifted], outs)
    return [Tracer(trace, v, o) for v, o in zip(outvars, outs)]


def checkpoint(fun: Callable[..., Any] | None = None, *, policy: Any = None,
               prevent_cse: bool = True, static_argnums: int | Sequence[int] = ()) -> Any:
    """Make reverse mode recompute ``fun``'s intermediates instead of storing them.

    ``checkpoint(f)`` (alias ``remat``) computes what ``f`` computes, but
    reverse-mode differentiation does not keep ``f``'s intermediates for the backward
    pass: it keeps ``f``'s inputs (and what ``policy`` allows) and recomputes the rest
    when the backward pass needs it: less memory for more compute.

    Parameters
    ----------
    fun : callable, optional
        The function (pytrees in, pytree out).  Omitted: return a decorator, so
        ``@checkpoint`` and ``@checkpoint(policy=...)`` both work.
    policy : Policy or callable, optional
        Which intermediates may still be saved: None (= ``nothing_saveable``), one of
        ``funcdiff.checkpoint_policies`` or any ``(prim, *avals, **params) -> bool``.
    prevent_cse : bool, default True
        Keep the recomputation separate from the forward pass under ``jit`` (the point
        of checkpointing; leave it on).
    static_argnums : int or sequence of int, default ()
        Positional arguments that are not traced (Python values).

    Returns
    -------
    callable
        A function with ``fun``'s signature (or a decorator, without ``fun``).
        Outside any transform it runs ``fun``.

    Raises
    ------
    FuncdiffTypeError
        If ``policy`` is not a policy or callable.

    Examples
    --------
    >>> f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)))
    >>> x = np.ones(3)
    >>> print([r.kind for r in fd.saved_residuals(f, x)])
    ['argument', 'intermediate']
    >>> print([r.kind for r in fd.saved_residuals(fd.checkpoint(f), x)])
    ['argument']
    >>> print(np.allclose(fd.grad(fd.checkpoint(f))(x), fd.grad(f)(x)))
    True

    See Also
    --------
    checkpoint_policies : what may still be saved.
    checkpoint_sequential : checkpoint a chain of layers.
    checkpoint_scan : loops within a memory budget.
    saved_residuals : check what is kept.
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
        # inside the eager run (eager grad's forward trace) this trace of the body on
        # its values is the body's run (its outputs are recorded, not recomputed, by
        # _bind_known): it performs the body's effects (debug prints)
        closed, out_vals, _ = trace_flat(
            flat_f, avals, vals if concrete else None, kind="checkpoint",
            run_effects=trace_active() and state.stack[-1].run_effects)
        j, consts = closure_convert(closed)
        params = dict(jaxpr=j, policy=pol, prevent_cse=bool(prevent_cse))
        operands = list(consts) + leaves
        if concrete and all(o is not None for o in out_vals) and trace_active():
            outs = _bind_known(checkpoint_p, operands, params, out_vals)
        else:
            outs = checkpoint_p.bind(*operands, **params)
        return tree_unflatten(store["out_tree"], list(outs))

    return api_boundary(wrapped)


remat = checkpoint


def checkpoint_sequential(functions: Sequence[Callable[[Any], Any]],
                          segments: int | None = None, *, policy: Any = None,
                          checkpoint_last: bool = False) -> Callable[[Any], Any]:
    """Chain one-argument ``functions`` (layers), checkpointed in segments.

    The backward pass keeps only each segment's input (plus what ``policy`` saves)
    and recomputes one segment at a time.  With ``segments`` = sqrt(N) (the default)
    memory grows as O(sqrt(N)) instead of O(N), for one extra forward pass, as
    PyTorch's ``torch.utils.checkpoint.checkpoint_sequential``.  As in PyTorch, the
    last segment is not checkpointed (its intermediates are needed right away by the
    backward pass); ``checkpoint_last=True`` checkpoints it too.

    Parameters
    ----------
    functions : sequence of callable
        The layers, each ``x -> x``.
    segments : int, optional
        The number of segments; default ``round(sqrt(len(functions)))``.
    policy : Policy or callable, optional
        As in ``checkpoint``.
    checkpoint_last : bool, default False
        Checkpoint the last segment too.

    Returns
    -------
    callable
        ``apply(x)`` computing ``functions[-1](...functions[0](x))``; its
        ``.segments`` lists the segment lengths.

    Examples
    --------
    >>> apply = fd.checkpoint_sequential([fnp.sin] * 4)
    >>> x = np.ones(3)
    >>> print(apply.segments, np.allclose(apply(x), np.sin(np.sin(np.sin(np.sin(x))))))
    [2, 2] True

    See Also
    --------
    checkpoint : one checkpointed function.
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

@api_boundary
def saved_residuals(f: Callable[..., Any], *args: Any,
                    argnums: int | Sequence[int] | None = None) -> list[Residual]:
    """List what ``grad``/``vjp`` of ``f`` at ``args`` keep for the backward pass.

    Traced abstractly: nothing is computed.  This is what eager ``grad`` holds between
    its forward and backward passes: the forward values the derivative rules read (the
    backward pass rebuilds cheap elementwise derivatives such as ``cos(x)`` or
    ``1 - tanh(x)**2`` from them rather than keeping them too), plus what the rules
    compute that is smaller than what it reads.  Under ``jit`` the compiled program
    frees and fuses on its own and may keep less.

    Parameters
    ----------
    f : callable
        The function.
    *args : pytree
        Arguments like the ones ``f`` will be differentiated at.
    argnums : int or sequence of int, optional
        The differentiated positional arguments (default: every floating-point leaf).

    Returns
    -------
    list of Residual
        One per kept value: ``shape``, ``dtype``, ``nbytes``, ``kind``
        (``"argument"``, ``"intermediate"``, ...), ``description`` and
        ``source_info`` (the user line that made it).

    Examples
    --------
    >>> res = fd.saved_residuals(lambda x: fnp.sum(fnp.sin(x) * x), np.ones(3))
    >>> print(sorted((r.kind, r.description, r.nbytes) for r in res))
    [('argument', 'argument x', 24), ('intermediate', 'output of sin', 24)]

    See Also
    --------
    print_saved_residuals : the same, printed.
    checkpoint : keep less.
    """
    closed = make_jaxpr(f)(*args)
    names = call_leaf_paths(tree_structure(tuple(args)), arg_names(f, range(len(args))))
    mask = None
    if argnums is not None:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        nums = {a % len(args) for a in nums}
        mask = []
        for i, a in enumerate(args):
            for leaf in tree_flatten(a)[0]:
                mask.append(i in nums and is_differentiable_dtype(
                    leaf_aval(leaf_operand(leaf)).dtype))
    return saved_residuals_jaxpr(closed, mask, names)


@api_boundary
def print_saved_residuals(f: Callable[..., Any], *args: Any,
                          argnums: int | Sequence[int] | None = None,
                          file: IO[str] | None = None) -> None:
    """Print what reverse-mode differentiation of ``f`` keeps for the backward pass.

    One line per value: shape, dtype, bytes and the user line that made it, then the
    total (arguments, which the caller keeps alive anyway, are listed but not counted).

    Parameters
    ----------
    f : callable
        The function.
    *args : pytree
        Arguments like the ones ``f`` will be differentiated at.
    argnums : int or sequence of int, optional
        As in ``saved_residuals``.
    file : file-like, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    None

    Examples
    --------
    >>> fd.print_saved_residuals(lambda x: fnp.sum(fnp.sin(x) * x), np.ones(3))
    f64[3]...24 B  argument x
    f64[3]...24 B  output of sin...
    total saved (excluding arguments and constants): 24 B in 1 array(s)

    See Also
    --------
    saved_residuals : the same as data.
    cost_analysis : ``saved_bytes`` and the other costs.
    """
    res = saved_residuals(f, *args, argnums=argnums)
    total = sum(r.nbytes for r in res if r.kind == "intermediate")
    lines = [str(r) for r in res]
    lines.append(f"total saved (excluding arguments and constants): {_fmt_bytes(total)} "
                 f"in {sum(r.kind == 'intermediate' for r in res)} array(s)")
    print("\n".join(lines), file=file)
