"""Flattening user functions: pytrees of arguments in, a flat list of leaves out.

Every public transform goes through here: leaves are validated and turned into
operands once, at the boundary, so the passes below only ever see flat lists.
"""
from __future__ import annotations

import numbers

import numpy as np

from .core.avals import ShapedArray, aval_of_value
from .core.errors import FuncdiffTypeError
from .core.trace import Tracer
from .tree_util import tree_flatten, tree_unflatten

_PY = (bool, int, float, complex)


def leaf_operand(x, what="argument"):
    """A pytree leaf as an operand: tracers, Python scalars and arrays pass; array-likes
    are converted; anything else is a clear error."""
    t = type(x)
    if t is np.ndarray or t is Tracer or t in _PY:
        return x
    if isinstance(x, np.ndarray):
        return np.asarray(x)  # drop ndarray subclasses (funcdiff.numpy.Array)
    if isinstance(x, np.generic):
        return x
    if isinstance(x, numbers.Number):
        return np.asarray(x)
    if isinstance(x, (list, tuple)) or hasattr(x, "__array__"):
        return np.asarray(x)
    raise FuncdiffTypeError(
        f"{what} of type {type(x).__name__} is not an array, a scalar or a pytree of them. "
        "Pass arrays (or register your class with funcdiff.tree_util."
        "register_pytree_node), and pass configuration values through static_argnums.")


def leaf_aval(x) -> ShapedArray:
    return x.ir_var.aval if type(x) is Tracer else aval_of_value(x)


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


def flatten_args(args):
    leaves, tree = tree_flatten(tuple(args))
    return [leaf_operand(x) for x in leaves], tree


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
