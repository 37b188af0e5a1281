"""``funcdiff.vmap``: the vectorizing map (pytrees in and out, axis specs validated at the
boundary).  The machinery is ``funcdiff/transforms/vmap.py``."""
from __future__ import annotations

import functools
from typing import Any, Callable

from ._flat import (arg_names, call_leaf_paths, flatten_fun, key_str, leaf_aval,
                    leaf_operands, leaf_paths, to_output)
from ..core.errors import FuncdiffTypeError, StructureError
from ..core.tracebacks import api_boundary
from ..transforms.vmap import BatchingError, vmap_flat
from ..tree_util import PyTreeDef, tree_flatten, tree_unflatten
from ..primitives.base import matchaxis

__all__ = ["vmap"]


def _is_spec_leaf(x):
    return x is None or (isinstance(x, int) and not isinstance(x, bool))


def _check_spec(spec, what):
    leaves, _ = tree_flatten(spec, is_leaf=lambda x: x is None)
    for s in leaves:
        if not _is_spec_leaf(s):
            raise FuncdiffTypeError(
                f"vmap {what} must be an int, None, or a (nested) container of them, but "
                f"it contains {s!r} of type {type(s).__name__}")


def _seq_kind(kind):
    return list if kind in (list, tuple) else kind


def _broadcast_prefix(spec, tree: PyTreeDef, what, path):
    """One spec entry per leaf of ``tree``: ``spec`` is a pytree prefix of ``tree``
    whose leaves (ints or None) apply to every leaf below them.  Tuples and lists match
    each other (as JAX's ``in_axes=[0, 1]``)."""
    s_leaves, s_tree = tree_flatten(spec, is_leaf=_is_spec_leaf)
    it = iter(s_leaves)
    out = []

    def walk(st, t, p):
        if st.kind == "leaf":
            out.extend([next(it)] * t.num_leaves)
            return
        if st.kind == "none":   # an empty container position: nothing to map
            if t.num_leaves:
                raise StructureError(_prefix_msg(what, p, spec, t))
            return
        same = _seq_kind(st.kind) == _seq_kind(t.kind) and st.aux == t.aux and \
            len(st.children) == len(t.children)
        if not same:
            raise StructureError(_prefix_msg(what, p, st, t))
        for i, (cs, ct) in enumerate(zip(st.children, t.children)):
            walk(cs, ct, p + key_str(t, i))

    walk(s_tree, tree, path)
    return out


def _prefix_msg(what, path, spec, tree):
    return (f"vmap {what} specification must be a tree prefix of the corresponding value: "
            f"at {path} the specification has structure {spec} but the value has "
            f"structure {tree}.  Give one int/None for the whole value, or a container "
            "matching the value's container.")


def _normalize_axis(axis, ndim, path, aval, kind="argument"):
    if not -ndim <= axis < ndim:
        if kind == "argument":
            raise BatchingError(
                f"vmap was asked to map argument {path} along axis {axis}, which needs it "
                f"to have at least {axis + 1 if axis >= 0 else -axis} dimension(s), but it "
                f"is {aval.str_short()} (shape {aval.shape}).  Use in_axes=None for "
                "arguments that are not mapped over.")
        raise BatchingError(
            f"vmap out_axes={axis} for output {path} is out of range: the batched output "
            f"has {ndim} dimension(s) (per-example shape {aval.shape}).")
    return axis % ndim


def _axis_sizes_msg(entries, axis_size):
    lines = "\n".join(f"  * {path} of type {aval.str_short()} has size {size} along axis "
                      f"{axis}" for path, aval, axis, size in entries)
    if axis_size is not None:
        lines += f"\n  * axis_size={axis_size} was given"
    sizes = sorted({e[3] for e in entries} | ({axis_size} if axis_size is not None else set()))
    return ("vmap got inconsistent sizes for the array axes to be mapped:\n" + lines +
            f"\n(sizes {sizes}).  Every mapped argument must have the same length along "
            "its mapped axis: check in_axes, or pass arguments that should not be mapped "
            "with in_axes=None.")


def _check_leading_batch(tree, spec, fname):
    """Pytree node types whose leaves have a fixed layout with batch axes first (their
    class sets ``__funcdiff_leading_batch__``, e.g. ``SparseJacobian``: entries on the
    last axis) take ``out_axes`` 0 (or None) only: another axis would be read as theirs
    -- silently, when the sizes happen to agree."""
    pos = 0

    def walk(t):
        nonlocal pos
        if t.kind == "leaf":
            pos += 1
            return
        if getattr(t.kind, "__funcdiff_leading_batch__", False):
            bad = [a for a in spec[pos:pos + t.num_leaves] if a not in (0, None)]
            if bad:
                raise BatchingError(
                    f"vmap({fname}): out_axes={bad[0]} for a {t.kind.__name__} output; its "
                    "arrays keep batch axes first (the batched object is still one "
                    f"{t.kind.__name__} per example), so it takes out_axes=0 only.  "
                    "Stack with out_axes=0 and move axes of .toarray() afterwards.")
        for c in t.children:
            walk(c)

    walk(tree)


def vmap(fun: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0,
         axis_size: int | None = None) -> Callable[..., Any]:
    """Vectorize ``fun`` over a batch axis: ``vmap(f)(xs)`` is ``stack([f(x) for x in xs])``.

    The function is traced once and run with batched primitives instead of a Python
    loop, so ``fun`` is written for one example.

    Parameters
    ----------
    fun : callable
        The function to map; takes and returns pytrees of arrays.
    in_axes : int, None or tuple, default 0
        An int, None, or a tuple with one entry per positional argument, each a pytree
        prefix of that argument with int/None leaves: the axis of each input to map
        over (negative counts from the end), None to pass the input unchanged to every
        example.  Keyword arguments are always mapped over axis 0, as in JAX.
    out_axes : int, None or pytree, default 0
        The same for the outputs: where the mapped axis goes in each output (an output
        that does not depend on mapped inputs is broadcast along it), or None for
        outputs that must not depend on the mapped inputs.
    axis_size : int, optional
        The batch size; needed only when no input is mapped.

    Returns
    -------
    callable
        The vectorized function, with ``fun``'s arguments.

    Raises
    ------
    FuncdiffTypeError
        If ``in_axes`` is not an int, None or tuple.
    FuncdiffValueError
        If mapped inputs have different sizes along their axes, an axis is out of
        range, or ``in_axes`` has the wrong length.

    Examples
    --------
    >>> xs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> print(fd.vmap(lambda x, w: fnp.dot(x, w), in_axes=(0, None))(xs, np.ones(2)))
    [ 3.  7. 11.]
    >>> print(fd.vmap(fnp.outer)(np.ones((2, 2)), np.ones((2, 3))).shape)
    (2, 2, 3)

    See Also
    --------
    jit : compile the vectorized function.
    funcdiff.lax.map : a sequential map, for memory.
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not (in_axes is None or type(in_axes) in (int, tuple)):
        raise FuncdiffTypeError(
            f"vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
            f"positional arguments passed to the function, but got {in_axes!r}.")
    _check_spec(in_axes, "in_axes")
    _check_spec(out_axes, "out_axes")
    fname = getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        nargs = len(args)
        if isinstance(in_axes, tuple) and len(in_axes) != nargs:
            raise StructureError(
                f"vmap({fname}) in_axes must be an int, None, or a tuple with one entry per "
                f"positional argument, but got a tuple of length {len(in_axes)} for "
                f"{nargs} positional argument(s).  Keyword arguments are mapped over "
                "axis 0: pass those that should not be mapped positionally, with None.")
        leaves, in_tree = tree_flatten((args, kwargs))
        names = arg_names(fun, range(nargs))
        a_tree, kw_tree = in_tree.children
        paths = call_leaf_paths(a_tree, names, kw_tree)
        leaves = leaf_operands(leaves, lambda: paths)
        arg_spec = in_axes if isinstance(in_axes, tuple) else (in_axes,) * nargs
        spec_leaves = []
        for i, sub in enumerate(a_tree.children):
            spec_leaves += _broadcast_prefix(arg_spec[i], sub, "in_axes", names[i])
        spec_leaves += [0] * kw_tree.num_leaves

        dims, entries = [], []
        for x, s, path in zip(leaves, spec_leaves, paths):
            a = leaf_aval(x)
            if s is None:
                dims.append(None)
                continue
            d = _normalize_axis(s, a.ndim, path, a)
            dims.append(d)
            entries.append((path, a, d, a.shape[d]))
        sizes = {e[3] for e in entries}
        if axis_size is not None:
            sizes.add(int(axis_size))
        if len(sizes) > 1:
            raise BatchingError(_axis_sizes_msg(entries, axis_size))
        if not sizes:
            raise BatchingError(
                f"vmap({fname}) must have at least one non-None value in in_axes (or be "
                "given axis_size=): nothing to map over.")
        size = sizes.pop()

        flat_f, store = flatten_fun(lambda a, k: fun(*a, **k), in_tree)
        outs, odims = vmap_flat(flat_f, leaves, dims, size, out_dim=None)
        out_tree = store["out_tree"]
        out_spec = _broadcast_prefix(out_axes, out_tree, "out_axes", "output")
        _check_leading_batch(out_tree, out_spec, fname)
        out_paths = leaf_paths(out_tree, "output")
        final = []
        for o, d, want, path in zip(outs, odims, out_spec, out_paths):
            a = leaf_aval(o)
            if want is None:
                if d is not None:
                    raise BatchingError(
                        f"vmap({fname}) has a mapped output ({path}, per-example shape "
                        f"{a.shape[:d] + a.shape[d + 1:]}) but out_axes is None for it.  "
                        "out_axes=None is only for outputs that do not depend on the mapped "
                        "inputs: give an int to stack it along that axis.")
                final.append(o)
                continue
            per_example_ndim = a.ndim - (d is not None)
            w = _normalize_axis(want, per_example_ndim + 1, path,
                                a if d is None else a.update(
                                    shape=a.shape[:d] + a.shape[d + 1:]), kind="output")
            final.append(matchaxis(o, d, w, size))
        return tree_unflatten(out_tree, [to_output(o) for o in final])

    return api_boundary(vmapped)
