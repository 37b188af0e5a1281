"""The structured control flow of ``funcdiff.lax`` (``cond``, ``switch``, ``while_loop``,
``fori_loop``, ``scan``, ``map``): Python functions on pytrees traced into the
higher-order primitives.  Its own module so that ``funcdiff.numpy`` can use ``scan``
without importing the rest of ``funcdiff.lax`` (whose slicing functions use
``funcdiff.numpy``)."""
from __future__ import annotations

from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from ..api._flat import flatten_fun, leaf_operand
from ..core.avals import ShapedArray
from ..core.errors import ConcretizationError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, get_aval, trace_flat
from ..core.tracebacks import api_boundary
from ..core.ir import closure_convert
from ..higher_order._common import same_aval
from ..higher_order.cond import bind_cond
from ..higher_order.scan import scan_p
from ..higher_order.while_loop import while_p
from ..primitives.base import add, convert_element_type
from ..primitives.elementwise import lt, maximum as _max, minimum as _min, ne
from ..tree_util import tree_flatten, tree_unflatten

T = TypeVar("T")



# --- helpers ------------------------------------------------------------------------------

def _flatten(tree, what):
    leaves, treedef = tree_flatten(tree)
    return [leaf_operand(x, what) for x in leaves], treedef


def _leaf_paths(treedef, prefix=""):
    """A readable path (``carry[0]['w']``) for each leaf of ``treedef``."""
    n = treedef.num_leaves
    paths = [f"{prefix} leaf {i}" for i in range(n)]

    class _Mark:
        __slots__ = ("i",)

        def __init__(self, i):
            self.i = i

    def walk(x, path):
        if isinstance(x, _Mark):
            paths[x.i] = path or prefix or "the value"
        elif isinstance(x, dict):
            for k in x:
                walk(x[k], f"{path}[{k!r}]")
        elif isinstance(x, tuple) and hasattr(type(x), "_fields"):
            for f in x._fields:
                walk(getattr(x, f), f"{path}.{f}")
        elif isinstance(x, (list, tuple)):
            for i, c in enumerate(x):
                walk(c, f"{path}[{i}]")

    try:
        walk(tree_unflatten(treedef, [_Mark(i) for i in range(n)]), prefix)
    except Exception:  # noqa: BLE001 - custom nodes may reject markers: keep leaf numbers
        pass
    return paths


def _avals(leaves):
    return [get_aval(x) for x in leaves]


def _convert(x, a):
    xa = get_aval(x)
    if xa.dtype == a.dtype and xa.weak_type == a.weak_type:
        return x
    return convert_element_type(x, dtype=a.dtype, weak_type=a.weak_type)


def _describe(a):
    return a.str_short() + (" (weakly typed Python scalar)" if a.weak_type else "")


def _fix_carry(what, fun_name, tree, in_avals, out_tree, out_avals):
    """Compare a body's carry output with its input.  Returns ``(new_in_avals,
    out_casts)``: a weakly typed input (a Python scalar) takes the body's dtype; a weakly
    typed output is cast to the carry's dtype; anything else that differs is an error."""
    if out_tree != tree:
        raise FuncdiffTypeError(
            f"{what}: {fun_name} must return a carry with the same pytree structure as its "
            f"input, but the input carry is {tree} and {fun_name} returned {out_tree}")
    paths = _leaf_paths(tree, "carry")
    new_in, casts = list(in_avals), [None] * len(in_avals)
    for i, (a, b) in enumerate(zip(in_avals, out_avals)):
        if a == b:
            continue
        if a.shape == b.shape and a.dtype == b.dtype:
            if a.weak_type:
                new_in[i] = b
            else:
                casts[i] = a
        elif a.weak_type and a.shape == b.shape:
            new_in[i] = b
        elif b.weak_type and a.shape == b.shape:
            casts[i] = a
        else:
            raise FuncdiffTypeError(
                f"{what}: the carry must keep its type across iterations, but {paths[i]} "
                f"enters {fun_name} as {_describe(a)} and leaves it as {_describe(b)}.  "
                f"Make {fun_name} return the same shape and dtype (e.g. with "
                f".astype({a.dtype.name}) or funcdiff.numpy.broadcast_to), or start the loop "
                f"from a value of the type the body produces.")
    return new_in, casts


def _trace_body(what, fun_name, make_flat, carry_tree, carry_avals, other_avals):
    """Trace a loop body ``flat(*carry, *other) -> (carry..., extra...)`` with carry type
    promotion (at most a few retraces).  ``make_flat(casts)`` builds the flat function,
    casting carry outputs per ``casts``; it stores the carry's output tree in
    ``make_flat.store``.  Returns ``(closed, carry_avals, extra)``."""
    casts = [None] * len(carry_avals)
    for _ in range(4):
        flat, store = make_flat(casts)
        closed, _, _ = trace_flat(flat, list(carry_avals) + list(other_avals), kind=what)
        nk = len(carry_avals)
        out_avals = [v.aval for v in closed.jaxpr.outvars[:nk]]
        new_in, new_casts = _fix_carry(what, fun_name, carry_tree, carry_avals,
                                       store["carry_tree"], out_avals)
        if new_in == list(carry_avals) and all(c is None for c in new_casts):
            return closed, list(carry_avals), store
        carry_avals = new_in
        casts = [carry_avals[i] if (casts[i] is not None or new_casts[i] is not None)
                 else None for i in range(len(casts))]
    raise FuncdiffTypeError(f"{what}: could not find a consistent carry type for {fun_name}")


def _cast_outs(outs, casts):
    return [o if c is None else _convert(o, c) for o, c in zip(outs, casts)]


def _concrete_int(x):
    """``x`` as a Python int if its value is known now, else None."""
    if isinstance(x, (bool, np.bool_)):
        return None
    if type(x) is int or isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray) and x.shape == () and x.dtype.kind in "iu":
        return int(x)
    if type(x) is Tracer and x.dtype.kind in "iu" and x.shape == ():
        try:
            return int(x)
        except ConcretizationError:
            return None
    return None


# --- cond / switch ----------------------------------------------------------------------------

@api_boundary
def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any],
         *operands: Any) -> Any:
    """Apply ``true_fun`` or ``false_fun`` to the operands, as one traced operation.

    ``true_fun(*operands) if pred else false_fun(*operands)``, with ``pred`` allowed to
    be traced (inside ``jit``): both branches are traced, one runs.  Differentiable,
    vectorizable (under ``vmap`` a batched ``pred`` selects per example).

    Parameters
    ----------
    pred : bool or scalar
        A boolean (or numeric: nonzero is true) scalar, traced or not.
    true_fun, false_fun : callable
        Functions of ``*operands`` returning pytrees of the same structure, shapes and
        dtypes.
    *operands : pytree
        Passed to the branch.

    Returns
    -------
    pytree
        The taken branch's result.

    Raises
    ------
    FuncdiffTypeError
        If ``pred`` is not a scalar of a boolean or real dtype, or the branches return
        different structures, shapes or dtypes.

    Examples
    --------
    >>> from funcdiff import lax
    >>> f = fd.jit(lambda x: lax.cond(x > 0, lambda v: v * 2.0, lambda v: -v, x))
    >>> print(f(3.0), f(-1.5))
    6.0 1.5
    >>> print(fd.grad(lambda x: lax.cond(x > 0, fnp.sin, fnp.cos, x))(0.0))
    -0.0

    See Also
    --------
    switch : one of several branches.
    funcdiff.numpy.where : elementwise selection.
    """
    pred = leaf_operand(pred, "cond pred")
    a = get_aval(pred)
    if a.shape != ():
        raise FuncdiffTypeError(
            f"cond: pred must be a scalar, but it has shape {a.shape}.  For elementwise "
            "selection use funcdiff.numpy.where(pred, x, y); to branch on one element, "
            "index it (pred[0]) or reduce it (pred.all(), pred.any()).")
    if a.dtype.kind not in "biuf":
        raise FuncdiffTypeError(f"cond: pred must be boolean or a real number, got "
                                f"{a.str_short()}")
    if a.dtype.kind != "b":
        pred = ne(pred, 0)
    index = convert_element_type(pred, dtype=np.int32)
    return _switch(index, [false_fun, true_fun], operands, "cond", ["false_fun", "true_fun"])


@api_boundary
def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Apply ``branches[index]`` to the operands, as one traced operation.

    ``index`` is clamped to ``[0, len(branches) - 1]``, as JAX does.

    Parameters
    ----------
    index : int or integer scalar
        The branch to run, traced or not.
    branches : sequence of callable
        Functions of ``*operands`` returning pytrees of the same structure, shapes and
        dtypes.
    *operands : pytree
        Passed to the branch.

    Returns
    -------
    pytree
        The chosen branch's result.

    Raises
    ------
    FuncdiffValueError
        If ``branches`` is empty.
    FuncdiffTypeError
        If ``index`` is not an integer scalar, or the branches' outputs differ.

    Examples
    --------
    >>> from funcdiff import lax
    >>> fns = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
    >>> f = fd.jit(lambda i, x: lax.switch(i, fns, x))
    >>> print(f(0, 2.0), f(1, 2.0), f(7, 2.0))
    3.0 20.0 -2.0

    See Also
    --------
    cond : two branches on a boolean.
    """
    branches = list(branches)
    if not branches:
        raise FuncdiffValueError("switch: branches must not be empty")
    index = leaf_operand(index, "switch index")
    a = get_aval(index)
    if a.shape != () or a.dtype.kind not in "iu":
        raise FuncdiffTypeError(f"switch: index must be an integer scalar, got "
                                f"{a.str_short()}")
    if len(branches) == 1:
        return branches[0](*operands)
    index = convert_element_type(index, dtype=np.int32)
    index = _min(_max(index, np.int32(0)), np.int32(len(branches) - 1))
    return _switch(index, branches, operands, "switch",
                   [f"branches[{i}]" for i in range(len(branches))])


def _switch(index, funs, operands, what, names):
    leaves, in_tree = _flatten(tuple(operands), f"{what} operand")
    avals = _avals(leaves)
    traced = []
    for f in funs:
        flat, store = flatten_fun(f, in_tree)
        closed, _, _ = trace_flat(flat, avals, kind=what)
        traced.append((closed, store["out_tree"]))
    tree0 = traced[0][1]
    for (_, t), name in zip(traced[1:], names[1:]):
        if t != tree0:
            raise FuncdiffTypeError(
                f"{what}: every branch must return the same pytree structure, but "
                f"{names[0]} returns {tree0} and {name} returns {t}")
    outs = [[v.aval for v in c.jaxpr.outvars] for c, _ in traced]
    targets = _join_outputs(what, names, tree0, outs)
    closed = []
    for f, (c, _), o in zip(funs, traced, outs):
        if o == targets:
            closed.append(c)
            continue
        flat, store = flatten_fun(f, in_tree)
        closed.append(trace_flat(lambda *xs, flat=flat: _cast_outs(
            flat(*xs), targets), avals, kind=what)[0])
    return tree_unflatten(tree0, bind_cond(index, closed, leaves))


def _join_outputs(what, names, tree, outs):
    """The common output avals of the branches: weakly typed scalars (Python numbers)
    take the dtype of the other branches' leaf; other differences are errors."""
    paths = _leaf_paths(tree, "output")
    targets = []
    for i in range(len(outs[0])):
        cands = [o[i] for o in outs]
        strong = [a for a in cands if not a.weak_type]
        ref = strong[0] if strong else cands[0]
        for a, name in zip(cands, names):
            ok = same_aval(a, ref) or (a.weak_type and a.shape == ref.shape)
            if not ok or (strong and not same_aval(a, ref) and not a.weak_type):
                j = cands.index(ref)
                raise FuncdiffTypeError(
                    f"{what}: every branch must return the same shapes and dtypes, but "
                    f"{paths[i]} is {_describe(ref)} in {names[j]} and {_describe(a)} in "
                    f"{name}.  Cast one of them (e.g. .astype(...)) so they agree.")
        if not strong:
            dt = np.result_type(*[a.dtype for a in cands])
            ref = ShapedArray((), dt, weak_type=True)
        targets.append(ref)
    return targets


# --- while_loop / fori_loop -------------------------------------------------------------------

@api_boundary
def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any],
               init_val: T) -> T:
    """Run ``body_fun`` while ``cond_fun`` holds, as one traced operation.

    ``val = init_val; while cond_fun(val): val = body_fun(val); return val``.
    Differentiable in forward and reverse mode (reverse mode replays the loop, storing
    each iteration's residuals; the trip count is found at run time).

    Parameters
    ----------
    cond_fun : callable
        ``carry -> bool scalar``.
    body_fun : callable
        ``carry -> carry`` (the same pytree structure, shapes and dtypes).
    init_val : pytree
        The initial carry.

    Returns
    -------
    pytree
        The final carry.

    Raises
    ------
    FuncdiffTypeError
        If ``body_fun`` changes the carry's structure, shapes or dtypes, or
        ``cond_fun`` does not return a boolean scalar.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0)))
    (5, 32.0)
    >>> f = lambda x: lax.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, x)
    >>> print(fd.grad(f)(3.0))
    4.0

    See Also
    --------
    fori_loop : a counted loop.
    scan : a loop that also stacks per-step outputs.
    """
    leaves, tree = _flatten(init_val, "while_loop init_val")
    avals = _avals(leaves)

    def make_flat(casts):
        store = {}

        def flat(*carry):
            out = body_fun(tree_unflatten(tree, list(carry)))
            out_leaves, out_tree = tree_flatten(out)
            store["carry_tree"] = out_tree
            out_leaves = [leaf_operand(x, "while_loop body_fun output") for x in out_leaves]
            if out_tree != tree:
                return out_leaves
            return _cast_outs(out_leaves, casts)
        return flat, store

    body, avals, _ = _trace_body("while_loop", "body_fun", make_flat, tree, avals, [])
    leaves = [_convert(x, a) for x, a in zip(leaves, avals)]

    def cond_flat(*carry):
        out = cond_fun(tree_unflatten(tree, list(carry)))
        out_leaves, out_tree = tree_flatten(out)
        if len(out_leaves) != 1:
            raise FuncdiffTypeError(f"while_loop: cond_fun must return a boolean scalar, "
                                    f"got a pytree {out_tree}")
        return [leaf_operand(out_leaves[0], "while_loop cond_fun output")]

    cond, _, _ = trace_flat(cond_flat, avals, kind="while_loop")
    ca = cond.jaxpr.outvars[0].aval
    if ca.shape != () or ca.dtype != np.dtype(bool):
        raise FuncdiffTypeError(
            f"while_loop: cond_fun must return a boolean scalar, got {ca.str_short()}.  "
            "Compare explicitly (e.g. err > tol), and reduce arrays with .all() / .any().")
    cj, cconsts = closure_convert(cond)
    bj, bconsts = closure_convert(body)
    outs = while_p.bind(*cconsts, *bconsts, *leaves, cond_jaxpr=cj, body_jaxpr=bj,
                            cond_nconsts=len(cconsts), body_nconsts=len(bconsts))
    return tree_unflatten(tree, outs)


@api_boundary
def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any],
              init_val: T) -> T:
    """Run ``body_fun(i, val)`` for ``i`` from ``lower`` to ``upper``, as one operation.

    ``val = init_val; for i in range(lower, upper): val = body_fun(i, val)``.  With a
    trip count known at trace time (Python ints, NumPy integers, or traced values whose
    value is known, as outside ``jit``) this is a ``scan`` (cheapest reverse mode);
    otherwise a ``while_loop``.  With Python int bounds ``i`` is a Python-int-like
    (weakly typed) integer, so ``x * i`` keeps ``x``'s dtype.

    Parameters
    ----------
    lower, upper : int or integer scalar
        The bounds, traced or not.
    body_fun : callable
        ``(i, carry) -> carry`` (the same pytree structure, shapes and dtypes).
    init_val : pytree
        The initial carry.

    Returns
    -------
    pytree
        The final carry.

    Raises
    ------
    FuncdiffTypeError
        If the bounds are not integers or ``body_fun`` changes the carry's types.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.fori_loop(0, 4, lambda i, x: x + i, 0.0))
    6.0
    >>> print(fd.grad(lambda x: lax.fori_loop(0, 3, lambda i, v: v * x, 1.0))(2.0))
    12.0

    See Also
    --------
    while_loop, scan : the loops it becomes.
    funcdiff.checkpoint_fori_loop : with a checkpointing schedule.
    """
    lo, hi = _concrete_int(lower), _concrete_int(upper)
    if type(lower) is int and type(upper) is int:
        i0 = lower
    else:
        dt = np.result_type(get_aval(leaf_operand(lower)).dtype,
                            get_aval(leaf_operand(upper)).dtype)
        if dt.kind not in "iu":
            raise FuncdiffTypeError(f"fori_loop: lower and upper must be integers, got "
                                    f"{dt.name}")
        i0 = convert_element_type(leaf_operand(lower), dtype=dt)
    if lo is not None and hi is not None:
        def step(carry, _):
            i, val = carry
            return (add(i, 1), body_fun(i, val)), None
        (_, out), _ = scan(step, (i0, init_val), None, length=max(hi - lo, 0))
        return out
    hi_v = upper if type(upper) is int and type(lower) is int else \
        convert_element_type(leaf_operand(upper), dtype=get_aval(i0).dtype)

    def body(carry):
        i, h, val = carry
        return add(i, 1), h, body_fun(i, val)

    return while_loop(lambda c: lt(c[0], c[1]), body, (i0, hi_v, init_val))[2]


# --- scan / map -----------------------------------------------------------------------------------

@api_boundary
def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
         length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1) -> tuple[Any, Any]:
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``, stacking the ys.

    The functional form of ``for x in xs: carry, y = f(carry, x)``: ``f`` is traced
    once, the loop runs as one operation, differentiable in both modes.

    Parameters
    ----------
    f : callable
        ``(carry, x) -> (carry, y)``; the carry keeps its pytree structure and types.
    init : pytree
        The initial carry.
    xs : pytree, optional
        Arrays sharing a leading axis (or None, with ``length``).
    length : int, optional
        The number of iterations (required when ``xs`` is None).
    reverse : bool, default False
        Run from the last element to the first (ys stay in xs's order).
    unroll : int, default 1
        Accepted for JAX compatibility; ignored.

    Returns
    -------
    tuple
        ``(final carry, stacked ys)``.

    Raises
    ------
    FuncdiffTypeError
        If ``f`` changes the carry's structure, shapes or dtypes.
    FuncdiffValueError
        If the ``xs`` leaves' leading axes differ, or neither ``xs`` nor ``length``
        gives the trip count.

    Examples
    --------
    >>> from funcdiff import lax
    >>> carry, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
    >>> print(carry, ys)
    6.0 [0. 2. 9.]

    See Also
    --------
    map : a scan without a carry.
    fori_loop : a counted loop.
    funcdiff.checkpoint_scan : with a checkpointing schedule.
    """
    c_leaves, c_tree = _flatten(init, "scan init")
    x_leaves, x_tree = _flatten(xs, "scan xs")
    x_paths = _leaf_paths(x_tree, "xs")
    lengths = []
    for x, p in zip(x_leaves, x_paths):
        a = get_aval(x)
        if a.shape == ():
            raise FuncdiffValueError(f"scan: {p} is a scalar; every leaf of xs needs a "
                                     "leading axis to scan over")
        lengths.append(a.shape[0])
    if length is not None:
        n = _concrete_int(length)
        if n is None:
            raise FuncdiffTypeError("scan: length must be a concrete integer")
        bad = [(p, m) for p, m in zip(x_paths, lengths) if m != n]
        if bad:
            raise FuncdiffValueError(f"scan: length={n} but {bad[0][0]} has leading axis "
                                     f"{bad[0][1]}")
        length = n
    else:
        if not lengths:
            raise FuncdiffValueError("scan: pass length= when xs is None or has no leaves")
        if len(set(lengths)) != 1:
            desc = ", ".join(f"{p}: {m}" for p, m in zip(x_paths, lengths))
            raise FuncdiffValueError(f"scan: the leaves of xs must share their leading axis "
                                     f"length, got {desc}")
        length = lengths[0]
    x_avals = [ShapedArray(get_aval(x).shape[1:], get_aval(x).dtype) for x in x_leaves]
    nk = len(c_leaves)

    def make_flat(casts):
        store = {}

        def flat(*args):
            carry = tree_unflatten(c_tree, list(args[:nk]))
            x = tree_unflatten(x_tree, list(args[nk:]))
            out = f(carry, x)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise FuncdiffTypeError(
                    f"scan: f must return a pair (carry, y), got {type(out).__name__}"
                    + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
            new_c, y = out
            c_out, ct = tree_flatten(new_c)
            y_out, yt = tree_flatten(y)
            store["carry_tree"], store["y_tree"] = ct, yt
            c_out = [leaf_operand(v, "scan carry output") for v in c_out]
            y_out = [leaf_operand(v, "scan y output") for v in y_out]
            if ct == c_tree:
                c_out = _cast_outs(c_out, casts)
            return c_out + y_out
        return flat, store

    body, c_avals, store = _trace_body("scan", "f", make_flat, c_tree, _avals(c_leaves),
                                       x_avals)
    c_leaves = [_convert(x, a) for x, a in zip(c_leaves, c_avals)]
    bj, consts = closure_convert(body)
    outs = scan_p.bind(*consts, *c_leaves, *x_leaves, jaxpr=bj, length=length,
                           reverse=bool(reverse), num_consts=len(consts), num_carry=nk)
    return (tree_unflatten(c_tree, outs[:nk]),
            tree_unflatten(store["y_tree"], outs[nk:]))


@api_boundary
def map(f: Callable[[Any], Any], xs: Any) -> Any:  # noqa: A001 - the JAX name
    """Apply ``f`` to each slice of ``xs`` along its leading axis, sequentially.

    ``stack([f(x) for x in xs])`` as a ``scan``: one example's memory at a time,
    where ``vmap`` would batch them all.

    Parameters
    ----------
    f : callable
        A function of one example (a pytree), returning a pytree.
    xs : pytree
        Arrays sharing a leading axis.

    Returns
    -------
    pytree
        ``f``'s outputs stacked along a new leading axis.

    Examples
    --------
    >>> from funcdiff import lax
    >>> print(lax.map(lambda row: fnp.sum(row ** 2), np.arange(6.0).reshape(3, 2)))
    [ 1. 13. 41.]

    See Also
    --------
    funcdiff.vmap : the batched (parallel) map.
    scan : with a carry.
    """
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys
