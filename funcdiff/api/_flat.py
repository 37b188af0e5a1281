"""Flattening user functions: pytrees of arguments in, a flat list of leaves out.

Every public transform goes through here: leaves are validated and turned into
operands once, at the boundary, so the passes below only ever see flat lists.
"""
from __future__ import annotations

import inspect
import numbers
import re

import numpy as np

from ..core import arraylib
from ..core.avals import OPERAND_KINDS, ShapedArray, aval_of_value, check_operand
from ..core.errors import FuncdiffTypeError
from ..core.trace import Tracer
from ..tree_util import (PyTreeDef, child_keys, keystr, tree_flatten, tree_unflatten,
                         treedef_paths)

_PY = (bool, int, float, complex)


def leaf_operand(x, what="argument"):
    """A pytree leaf as an operand: tracers, Python scalars and numeric arrays pass;
    array-likes are converted; anything else (masked arrays and non-numeric dtypes
    included, see ``check_operand``) is a clear error naming ``what``."""
    t = type(x)
    if t is np.ndarray:
        if x.dtype.kind in OPERAND_KINDS:
            return x
    elif t is Tracer or t in _PY:
        return x
    if isinstance(x, np.ndarray):
        # masked arrays rejected; other subclasses (funcdiff.numpy.Array) dropped
        return np.asarray(check_operand(x, what))
    if isinstance(x, np.generic):
        return check_operand(x, what)
    if arraylib.is_foreign(x):   # Dask, CuPy, torch ...: computed on by their library
        arraylib.aval_of(x, what)
        arraylib.state.active = True
        return x
    if isinstance(x, (numbers.Number, list, tuple)) or hasattr(x, "__array__"):
        a = np.asarray(x)
        if a.dtype.kind == "O":   # Fraction, Decimal, ragged lists: name the type
            what = f"{what} of type {t.__name__}"
        return check_operand(a, what)
    kw = re.fullmatch(r"argument kwargs\[(.+?)\]", what)
    static = (f"a keyword argument that configures the function is static under jit: "
              f"jit(f, static_argnames=({kw.group(1)},))" if kw else
              "pass configuration values as static arguments under jit "
              "(jit(f, static_argnums=...) with their positions)")
    raise FuncdiffTypeError(
        f"{what} of type {t.__name__} is not an array, a scalar or a pytree of them. "
        "Pass arrays (or register your class with funcdiff.tree_util."
        f"register_pytree_node); {static}; under grad or vmap close over it "
        "(functools.partial).")


def leaf_operands(leaves, paths):
    """``leaf_operand`` of each leaf; a rejected leaf is named by its path in the
    arguments, ``paths()`` (computed on that error path only)."""
    try:
        ops = [leaf_operand(x) for x in leaves]
    except FuncdiffTypeError:
        ops = [leaf_operand(x, f"argument {p}") for x, p in zip(leaves, paths())]
    if arraylib.state.active:
        arraylib.array_kind(ops)   # (refuses arrays of two libraries, naming them)
    return ops


def arg_names(fun, positions):
    """The names of ``fun``'s positional parameters at ``positions`` (``x``), or
    ``args[i]`` where the signature does not say."""
    try:
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"args[{i}]" for i in positions]


def key_str(tree: PyTreeDef, i):
    """The text of child ``i``'s key in node ``tree`` (``[0]``, ``['w']``, ``.w``)."""
    return str(child_keys(tree)[i])


def leaf_paths(tree: PyTreeDef, prefix: str):
    """A readable path (``args[1]['w']``) for each leaf of ``tree``, in leaf order."""
    return [prefix + keystr(p) for p in treedef_paths(tree)]


def call_leaf_paths(tree: PyTreeDef, names, kwargs_tree: PyTreeDef | None = None):
    """Paths of the leaves of positional arguments ``tree`` (a tuple) named ``names``,
    then of the keyword arguments ``kwargs_tree`` (a dict)."""
    paths = [p for c, n in zip(tree.children, names) for p in leaf_paths(c, n)]
    if kwargs_tree is not None:
        paths += leaf_paths(kwargs_tree, "kwargs")
    return paths


def leaf_aval(x) -> ShapedArray:
    if type(x) is Tracer:
        return x.ir_var.aval
    try:
        return aval_of_value(x)
    except TypeError:   # another library's array (leaf_operand let it through)
        return arraylib.aval_of(x)


def flatten_fun(f, in_tree):
    """``flat_f(*leaves) -> (out_leaves)`` plus a cell that receives the output tree."""
    store = {}

    def flat_f(*leaves):
        args = tree_unflatten(in_tree, leaves)
        out = f(*args)
        out_leaves, out_tree = tree_flatten(out)
        store["out_tree"] = out_tree
        return [leaf_operand(o, "output") for o in out_leaves]

    return flat_f, store


def flatten_args(args, fun=None, positions=None):
    """Leaves (as operands) and tree of the positional arguments ``args``; a rejected
    leaf is named by ``fun``'s parameter at its position (``positions[i]`` for
    ``args[i]``, default ``i``)."""
    args = tuple(args)
    leaves, tree = tree_flatten(args)
    return leaf_operands(leaves, lambda: call_leaf_paths(tree, arg_names(
        fun, range(len(args)) if positions is None else positions))), tree


def unflatten_out(tree, leaves):
    return tree_unflatten(tree, [to_output(x) for x in leaves])


def to_output(x):
    """Results handed back to users: plain writeable ndarrays / NumPy scalars, never
    subclasses (a read-only broadcast view, e.g. the gradient of a sum, is copied)."""
    t = type(x)
    if t is np.ndarray:
        return x if x.flags.writeable else x.copy()
    if t is Tracer:
        return x
    if isinstance(x, np.ndarray):
        return np.asarray(x)
    return x
