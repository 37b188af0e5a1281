"""Pytrees: nested tuples, lists, dicts (keys sorted), None, namedtuples and registered
classes, flattened to a list of leaves plus a hashable ``PyTreeDef``."""
from __future__ import annotations

from typing import Callable

from .core.ir import value_key

_registry: dict[type, tuple[Callable, Callable]] = {}


def register_pytree_node(nodetype: type, flatten_func: Callable, unflatten_func: Callable):
    """``flatten_func(x) -> (children, aux_data)``; ``unflatten_func(aux, children) -> x``."""
    _registry[nodetype] = (flatten_func, unflatten_func)
    _LEAF_TYPES.clear()


# Types whose values are leaves (not None, tuple, list, dict, registered or a namedtuple):
# a property of the type alone given the registry, remembered so that flattening a leaf
# is one set lookup.  Cleared whenever the registry changes.
_LEAF_TYPES: set = set()


def register_pytree_node_class(cls):
    """Class decorator: the class provides ``tree_flatten`` and classmethod
    ``tree_unflatten(aux, children)``."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class PyTreeDef:
    """The structure of a pytree (hashable, comparable)."""

    __slots__ = ("kind", "aux", "children", "num_leaves", "_hash", "_flat")

    def __init__(self, kind, aux, children):
        self.kind = kind            # "leaf", "none", tuple, list, dict, or a node type
        self.aux = aux
        self.children = children = tuple(children)
        if kind == "leaf":
            n = 1
        else:
            n = 0
            for c in children:
                n += c.num_leaves
        self.num_leaves = n
        # a tuple/list of leaves: unflattened in one step
        self._flat = (kind is tuple or kind is list) and all(
            c.kind == "leaf" for c in children)
        self._hash = hash((kind if isinstance(kind, str) else id(kind),
                           None if aux is None else _hashable(aux), children))

    def __eq__(self, other):
        return (isinstance(other, PyTreeDef) and self.kind == other.kind
                and _same_aux(self.aux, other.aux) and self.children == other.children)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"PyTreeDef({_pp(self)})"

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)


def _same_aux(a, b):
    """Aux data (dict keys, a registered node's static data) equal by ``==`` and, when
    hashable, by ``value_key``: dict keys ``1`` and ``True`` (or ``0.0`` and ``-0.0``)
    are equal as dict keys but make different trees."""
    if a is b:
        return True
    if not a == b:
        return False
    if type(a) is tuple and type(b) is tuple:     # dict keys: mostly strings, cheap
        for x, y in zip(a, b):
            if x is not y and not (type(x) is str and type(y) is str) and \
                    not _same_value(x, y):
                return False
        return True
    return _same_value(a, b)


def _same_value(x, y):
    """(For values already ==.)  The same by ``value_key``, when hashable."""
    try:
        hash(x)
        hash(y)
    except TypeError:
        return True
    return value_key(x) == value_key(y)


def _hashable(aux):
    try:
        hash(aux)
        return aux
    except TypeError:
        return repr(aux)


def _pp(t: PyTreeDef) -> str:
    if t.kind == "leaf":
        return "*"
    if t.kind == "none":
        return "None"
    inner = ", ".join(_pp(c) for c in t.children)
    if t.kind is tuple:
        return f"({inner}{',' if len(t.children) == 1 else ''})"
    if t.kind is list:
        return f"[{inner}]"
    if t.kind is dict:
        return "{" + ", ".join(f"{k!r}: {_pp(c)}" for k, c in zip(t.aux, t.children)) + "}"
    name = getattr(t.kind, "__name__", str(t.kind))
    return f"{name}({inner})"


_LEAF = PyTreeDef("leaf", None, ())
_NONE = PyTreeDef("none", None, ())
_FLAT_DEFS: dict = {}
_FLAT_DEFS_MAX_LEN = 64


def _flatten(x, leaves, is_leaf):
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t = type(x)
    if t in _LEAF_TYPES:
        leaves.append(x)
        return _LEAF
    if x is None:
        return _NONE
    if t is tuple or t is list:
        children = [_flatten(c, leaves, is_leaf) for c in x]
        for c in children:
            if c is not _LEAF:
                return PyTreeDef(t, None, children)
        # a tuple/list of n leaves: one shared (immutable) treedef per (type, n), for
        # short ones only (argument tuples): a treedef holds n children, so memoizing
        # every length met would keep memory quadratic in the longest list
        n = len(children)
        if n > _FLAT_DEFS_MAX_LEN:
            return PyTreeDef(t, None, children)
        key = (t, n)
        d = _FLAT_DEFS.get(key)
        if d is None:
            d = _FLAT_DEFS[key] = PyTreeDef(t, None, children)
        return d
    if t is dict:
        try:
            keys = sorted(x)
        except TypeError:
            keys = list(x)
        return PyTreeDef(dict, tuple(keys), [_flatten(x[k], leaves, is_leaf) for k in keys])
    if t in _registry:
        children, aux = _registry[t][0](x)
        return PyTreeDef(t, aux, [_flatten(c, leaves, is_leaf) for c in children])
    if _is_namedtuple(x):
        return PyTreeDef(t, None, [_flatten(c, leaves, is_leaf) for c in x])
    if not isinstance(x, tuple):
        _LEAF_TYPES.add(t)
    leaves.append(x)
    return _LEAF


def tree_flatten(tree, is_leaf=None):
    """``(leaves, treedef)``."""
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


def tree_unflatten(treedef: PyTreeDef, leaves):
    if treedef._flat and (type(leaves) is list or type(leaves) is tuple) and \
            len(leaves) == treedef.num_leaves:
        return treedef.kind(leaves)
    it = iter(leaves)
    out = _unflatten(treedef, it)
    try:
        next(it)
    except StopIteration:
        return out
    raise ValueError(f"too many leaves for tree structure {treedef}")


def _unflatten(t: PyTreeDef, it):
    if t.kind == "leaf":
        try:
            return next(it)
        except StopIteration:
            raise ValueError("too few leaves for the tree structure") from None
    if t.kind == "none":
        return None
    children = [_unflatten(c, it) for c in t.children]
    if t.kind is tuple or t.kind is list:
        return t.kind(children)
    if t.kind is dict:
        return dict(zip(t.aux, children))
    if t.kind in _registry:
        return _registry[t.kind][1](t.aux, children)
    return t.kind(*children)  # namedtuple


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable, tree, *rest, is_leaf=None):
    """Apply ``f`` leafwise; ``rest`` trees must have ``tree``'s structure."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rt = tree_flatten(r, is_leaf)
        if rt != treedef:
            raise ValueError(f"tree_map: structures differ: {treedef} vs {rt}")
        others.append(rl)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def treedef_is_leaf(t: PyTreeDef) -> bool:
    return t.kind == "leaf"


def tree_all(tree) -> bool:
    return all(tree_leaves(tree))


__all__ = ["register_pytree_node", "register_pytree_node_class", "tree_flatten",
           "tree_unflatten", "tree_leaves", "tree_structure", "tree_map", "PyTreeDef",
           "tree_all", "treedef_is_leaf"]


def __dir__():
    return sorted(__all__)   # dir() shows the public names only
