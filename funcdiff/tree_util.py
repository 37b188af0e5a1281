"""Pytrees: nested tuples, lists, dicts (keys sorted), None, namedtuples and registered
classes, flattened to a list of leaves plus a hashable ``PyTreeDef``."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Iterable, NamedTuple, Sequence, TypeVar

from .core.errors import FuncdiffTypeError, FuncdiffValueError
from .core.ir import value_key

C = TypeVar("C", bound=type)

_registry: dict[type, tuple[Callable, Callable]] = {}
# registered types that name their children: ``keys(aux, n) -> [key, ...]``
_registry_keys: dict[type, Callable] = {}


def register_pytree_node(nodetype: type, flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
                         unflatten_func: Callable[[Any, Iterable[Any]], Any]) -> None:
    """Register a type as a pytree node, so transforms look inside its values.

    Parameters
    ----------
    nodetype : type
        The class.
    flatten_func : callable
        ``flatten_func(x) -> (children, aux_data)``: the children (pytrees) and the
        hashable static data.
    unflatten_func : callable
        ``unflatten_func(aux_data, children) -> x``.

    Returns
    -------
    None

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> tree_util.register_pytree_node(
    ...     Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
    >>> print(tree_util.tree_leaves(Pair(1.0, [2.0, 3.0])))
    [1.0, 2.0, 3.0]
    >>> print(fd.grad(lambda p: p.a * p.b)(Pair(2.0, 5.0)).a)
    5.0

    See Also
    --------
    register_pytree_node_class : the same as a class decorator.
    tree_flatten : what the registration is used for.
    """
    _registry[nodetype] = (flatten_func, unflatten_func)
    _registry_keys.pop(nodetype, None)
    _LEAF_TYPES.clear()


# Types whose values are leaves (not None, tuple, list, dict, registered or a namedtuple):
# a property of the type alone given the registry, remembered so that flattening a leaf
# is one set lookup.  Cleared whenever the registry changes.
_LEAF_TYPES: set = set()


def register_pytree_node_class(cls: C) -> C:
    """Register a class as a pytree node; a class decorator.

    The class provides the method ``tree_flatten(self) -> (children, aux_data)`` and
    the classmethod ``tree_unflatten(cls, aux_data, children)``.

    Parameters
    ----------
    cls : type
        The class.

    Returns
    -------
    type
        ``cls`` itself.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> @tree_util.register_pytree_node_class
    ... class Params:
    ...     def __init__(self, w, b):
    ...         self.w, self.b = w, b
    ...     def tree_flatten(self):
    ...         return (self.w, self.b), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children):
    ...         return cls(*children)
    >>> g = fd.grad(lambda p: fnp.sum(p.w * 2.0) + p.b)(Params(np.ones(2), 0.5))
    >>> print(g.w, g.b)
    [2. 2.] 1.0

    See Also
    --------
    register_pytree_node : the same for a class you cannot edit.
    """
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


_MISSING = object()


class PyTreeDef:
    """The structure of a pytree: hashable and comparable, with the leaves left out.

    Parameters
    ----------
    kind : str or type
        ``"leaf"``, ``"none"``, ``tuple``, ``list``, ``dict``, a namedtuple class or a
        registered node type.
    aux : Any
        Static data: a dict's keys, a registered node's ``aux_data``.
    children : iterable of PyTreeDef
        The structures of the children.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> leaves, treedef = tree_util.tree_flatten({"a": (1, 2), "b": None})
    >>> print(treedef, treedef.num_leaves)
    PyTreeDef({'a': (*, *), 'b': None}) 2
    >>> print(treedef.unflatten([10, 20]))
    {'a': (10, 20), 'b': None}

    See Also
    --------
    tree_flatten, tree_structure : make one.
    tree_unflatten : use one.
    """

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

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Rebuild a pytree of this structure from ``leaves``: ``tree_unflatten(self, leaves)``."""
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


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                 ) -> tuple[list[Any], PyTreeDef]:
    """Flatten a pytree into its leaves and its structure.

    Pytrees are nested tuples, lists, dicts (in sorted key order), None (no leaf),
    namedtuples and registered classes; anything else is a leaf.

    Parameters
    ----------
    tree : pytree
        The value.
    is_leaf : callable, optional
        ``is_leaf(x) -> bool``: treat ``x`` as a leaf even if it is a container.

    Returns
    -------
    tuple
        ``(leaves, treedef)``: the list of leaves, left to right, and the structure.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> leaves, treedef = tree_util.tree_flatten({"b": [1, 2], "a": 3})
    >>> print(leaves, treedef)
    [3, 1, 2] PyTreeDef({'a': *, 'b': [*, *]})

    See Also
    --------
    tree_unflatten : the inverse.
    tree_leaves, tree_structure : one half each.
    """
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Build a pytree of structure ``treedef`` from ``leaves``.

    Parameters
    ----------
    treedef : PyTreeDef
        The structure, from ``tree_flatten`` or ``tree_structure``.
    leaves : iterable
        Exactly ``treedef.num_leaves`` leaves, in ``tree_flatten``'s order.

    Returns
    -------
    pytree
        The rebuilt value.

    Raises
    ------
    ValueError
        If there are too few or too many leaves.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> treedef = tree_util.tree_structure((1, {"x": 2}))
    >>> print(tree_util.tree_unflatten(treedef, ["a", "b"]))
    ('a', {'x': 'b'})

    See Also
    --------
    tree_flatten : the inverse.
    """
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


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of a pytree, left to right.

    Parameters
    ----------
    tree : pytree
        The value.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    list
        The leaves.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.tree_leaves([1, (2, None), {"k": 3}]))
    [1, 2, 3]

    See Also
    --------
    tree_flatten : the leaves and the structure.
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of a pytree, without its leaves.

    Parameters
    ----------
    tree : pytree
        The value.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    PyTreeDef
        The structure.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.tree_structure({"w": np.ones(3), "b": 0.0}))
    PyTreeDef({'b': *, 'w': *})

    See Also
    --------
    tree_flatten : the leaves and the structure.
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` to every leaf (to corresponding leaves of several trees).

    Parameters
    ----------
    f : callable
        Called as ``f(leaf, *rest_leaves)``.
    tree : pytree
        The first tree; its structure is the result's.
    *rest : pytree
        More trees of ``tree``'s structure.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    pytree
        ``f``'s results in ``tree``'s structure.

    Raises
    ------
    ValueError
        If a tree in ``rest`` has another structure.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    >>> grads = {"w": np.array([0.5, 0.5]), "b": 1.0}
    >>> new = tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    >>> print(new["w"], new["b"])
    [0.95 1.95] 0.4

    See Also
    --------
    tree_flatten : the leaves it visits.
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rt = tree_flatten(r, is_leaf)
        if rt != treedef:
            raise ValueError(f"tree_map: structures differ: {treedef} vs {rt}")
        others.append(rl)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def tree_reduce(function: Callable[[Any, Any], Any], tree: Any, initializer: Any = _MISSING,
                is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Reduce the leaves of a pytree with a function, as ``jax.tree_util.tree_reduce``.

    ``functools.reduce(function, tree_leaves(tree), initializer)``.

    Parameters
    ----------
    function : callable
        ``function(accumulated, leaf) -> accumulated``.
    tree : pytree
        The value.
    initializer : Any, optional
        The starting value (default: the first leaf).
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    Any
        The reduction.

    Raises
    ------
    TypeError
        If the tree has no leaves and no ``initializer`` is given.

    Examples
    --------
    >>> import operator
    >>> from funcdiff import tree_util
    >>> print(tree_util.tree_reduce(operator.add, {"a": 1, "b": (2, 3)}))
    6
    >>> print(tree_util.tree_reduce(max, [], initializer=0))
    0

    See Also
    --------
    tree_leaves : the leaves it reduces.
    tree_map : leafwise, keeping the structure.
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _MISSING:
        if not leaves:
            raise FuncdiffTypeError(
                "tree_reduce of a tree with no leaves needs an initializer "
                "(tree_reduce(f, tree, initializer))")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


# --- key paths --------------------------------------------------------------------------

class SequenceKey(NamedTuple):
    """The key of a tuple's or list's child: its index (``[0]`` in ``keystr``).

    Parameters
    ----------
    idx : int
        The key.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.keystr((tree_util.SequenceKey(0),)))
    [0]

    See Also
    --------
    tree_flatten_with_path : where key paths come from.
    keystr : a key path as text.
    """
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"


class DictKey(NamedTuple):
    """The key of a dict's child (``['w']`` in ``keystr``).

    Parameters
    ----------
    key : hashable
        The key.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.keystr((tree_util.DictKey('w'),)))
    ['w']

    See Also
    --------
    tree_flatten_with_path : where key paths come from.
    keystr : a key path as text.
    """
    key: Any

    def __str__(self):
        return f"[{self.key!r}]"


class GetAttrKey(NamedTuple):
    """The key of a namedtuple's or dataclass's child: the attribute (``.w``).

    Parameters
    ----------
    name : str
        The key.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.keystr((tree_util.GetAttrKey('w'),)))
    .w

    See Also
    --------
    tree_flatten_with_path : where key paths come from.
    keystr : a key path as text.
    """
    name: str

    def __str__(self):
        return f".{self.name}"


class FlattenedIndexKey(NamedTuple):
    """The key of a registered node's child that names none: its position (``[0]``).

    Parameters
    ----------
    key : int
        The key.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.keystr((tree_util.FlattenedIndexKey(1),)))
    [1]

    See Also
    --------
    tree_flatten_with_path : where key paths come from.
    keystr : a key path as text.
    """
    key: int

    def __str__(self):
        return f"[{self.key!r}]"


def keystr(keys: Iterable[Any]) -> str:
    """A key path as text, e.g. ``['params'][0].w``.

    Parameters
    ----------
    keys : iterable of keys
        A key path, as ``tree_flatten_with_path`` gives.

    Returns
    -------
    str
        The keys' texts joined.

    Examples
    --------
    >>> from funcdiff import tree_util as tu
    >>> print(tu.keystr((tu.DictKey("params"), tu.SequenceKey(0), tu.GetAttrKey("w"))))
    ['params'][0].w

    See Also
    --------
    tree_flatten_with_path : where key paths come from.
    """
    return "".join(str(k) for k in keys)


def child_keys(t: PyTreeDef) -> list:
    """The keys of the children of node ``t`` (``SequenceKey(0)``, ``DictKey('w')``, ...)."""
    kind = t.kind
    n = len(t.children)
    if kind is tuple or kind is list:
        return [SequenceKey(i) for i in range(n)]
    if kind is dict:
        return [DictKey(k) for k in t.aux]
    keys = _registry_keys.get(kind)
    if keys is not None:
        return keys(t.aux, n)
    if kind not in _registry and hasattr(kind, "_fields"):   # namedtuple
        return [GetAttrKey(f) for f in kind._fields]
    return [FlattenedIndexKey(i) for i in range(n)]


def treedef_paths(treedef: PyTreeDef, prefix=()) -> list:
    """The key path (a tuple of keys) of each leaf of ``treedef``, in leaf order."""
    if treedef.kind == "leaf":
        return [prefix]
    out: list = []
    for k, c in zip(child_keys(treedef), treedef.children):
        out.extend(treedef_paths(c, prefix + (k,)))
    return out


def tree_flatten_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                           ) -> tuple[list[tuple[tuple[Any, ...], Any]], PyTreeDef]:
    """Flatten a pytree into its leaves, each with its key path, and its structure.

    A key path is a tuple of ``SequenceKey`` / ``DictKey`` / ``GetAttrKey`` /
    ``FlattenedIndexKey``, as in ``jax.tree_util``.

    Parameters
    ----------
    tree : pytree
        The value.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    tuple
        ``([(key_path, leaf), ...], treedef)``.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> pairs, _ = tree_util.tree_flatten_with_path({"w": [1.0, 2.0]})
    >>> print([(tree_util.keystr(p), x) for p, x in pairs])
    [("['w'][0]", 1.0), ("['w'][1]", 2.0)]

    See Also
    --------
    tree_flatten : without the paths.
    keystr : a path as text.
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    return list(zip(treedef_paths(treedef), leaves)), treedef


def tree_leaves_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                          ) -> list[tuple[tuple[Any, ...], Any]]:
    """The leaves of a pytree, each with its key path.

    Parameters
    ----------
    tree : pytree
        The value.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    list
        ``[(key_path, leaf), ...]``, as ``tree_flatten_with_path`` without the treedef.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print([tree_util.keystr(p) for p, _ in tree_util.tree_leaves_with_path((1, {"b": 2}))])
    ['[0]', "[1]['b']"]

    See Also
    --------
    tree_flatten_with_path : with the structure.
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(f: Callable[..., Any], tree: Any, *rest: Any,
                       is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` to every leaf and its key path: ``f(path, leaf, *others)``.

    Parameters
    ----------
    f : callable
        Called as ``f(key_path, leaf, *rest_leaves)``.
    tree : pytree
        The first tree; its structure is the result's.
    *rest : pytree
        More trees of ``tree``'s structure.
    is_leaf : callable, optional
        As in ``tree_flatten``.

    Returns
    -------
    pytree
        ``f``'s results in ``tree``'s structure.

    Raises
    ------
    ValueError
        If a tree in ``rest`` has another structure.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.tree_map_with_path(
    ...     lambda p, x: f"{tree_util.keystr(p)}={x}", {"a": 1, "b": (2,)}))
    {'a': "['a']=1", 'b': ("['b'][0]=2",)}

    See Also
    --------
    tree_map : without the paths.
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rt = tree_flatten(r, is_leaf)
        if rt != treedef:
            raise FuncdiffValueError(
                f"tree_map_with_path: structures differ: {treedef} vs {rt}")
        others.append(rl)
    paths = treedef_paths(treedef)
    return tree_unflatten(treedef, [f(p, *xs) for p, *xs in zip(paths, leaves, *others)])


def register_dataclass(nodetype: Any = None, data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None,
                       drop_fields: Sequence[str] = ()) -> Any:
    """Register a dataclass as a pytree node, as ``jax.tree_util.register_dataclass``.

    ``data_fields`` are children (traced, differentiated), ``meta_fields`` static data
    (part of the tree structure, so hashable).  Without either list, every field is a
    child except those declared with ``field(metadata=dict(static=True))``.  Key paths
    name the fields (``.w``).

    Parameters
    ----------
    nodetype : type, optional
        The class; omitted, return a class decorator.
    data_fields, meta_fields : sequence of str, optional
        The fields that are children and static data; both or neither.
    drop_fields : sequence of str, default ()
        Fields left out of both (rebuilt by the class's defaults).

    Returns
    -------
    type
        ``nodetype`` (or a decorator registering its argument).

    Raises
    ------
    FuncdiffTypeError
        If only one of ``data_fields`` / ``meta_fields`` is given.

    Examples
    --------
    >>> import dataclasses
    >>> from funcdiff import tree_util
    >>> @tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Layer:
    ...     w: float
    ...     name: str = dataclasses.field(default="l", metadata=dict(static=True))
    >>> print(tree_util.tree_leaves(Layer(2.0)), tree_util.tree_map(lambda x: x * 3, Layer(2.0)))
    [2.0] Layer(w=6.0, name='l')

    See Also
    --------
    register_pytree_node : any class.
    """
    if nodetype is None:
        return functools.partial(register_dataclass, data_fields=data_fields,
                                 meta_fields=meta_fields, drop_fields=drop_fields)
    if (data_fields is None) != (meta_fields is None):
        raise FuncdiffTypeError(
            "register_dataclass: pass both data_fields and meta_fields, or neither (then "
            "fields with metadata static=True are meta fields)")
    init_fields = None
    if data_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise FuncdiffTypeError(
                f"register_dataclass: {nodetype.__name__} is not a dataclass; decorate it "
                "with @dataclasses.dataclass first, or pass data_fields and meta_fields")
        fields = [f for f in dataclasses.fields(nodetype) if f.init]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init}
        missing = init_fields - set(data_fields) - set(meta_fields) - set(drop_fields)
        if missing:
            raise FuncdiffValueError(
                f"register_dataclass({nodetype.__name__}): init fields {sorted(missing)} are "
                "in neither data_fields nor meta_fields")

    def flatten(x):
        return [getattr(x, n) for n in data_fields], tuple(getattr(x, n) for n in
                                                             meta_fields)

    def unflatten(meta, children):
        return nodetype(**dict(zip(data_fields, children)), **dict(zip(meta_fields, meta)))

    register_pytree_node(nodetype, flatten, unflatten)
    _registry_keys[nodetype] = lambda aux, n: [GetAttrKey(f) for f in data_fields]
    return nodetype


def treedef_is_leaf(t: PyTreeDef) -> bool:
    """Whether a structure is a single leaf.

    Parameters
    ----------
    t : PyTreeDef
        The structure.

    Returns
    -------
    bool
        True for the structure of a leaf.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.treedef_is_leaf(tree_util.tree_structure(1.0)),
    ...       tree_util.treedef_is_leaf(tree_util.tree_structure((1.0,))))
    True False

    See Also
    --------
    tree_structure : makes one.
    """
    return t.kind == "leaf"


def tree_all(tree: Any) -> bool:
    """Whether every leaf of a pytree is true.

    Parameters
    ----------
    tree : pytree
        The value.

    Returns
    -------
    bool
        ``all(tree_leaves(tree))``.

    Examples
    --------
    >>> from funcdiff import tree_util
    >>> print(tree_util.tree_all({"a": True, "b": [1, 2]}), tree_util.tree_all([1, 0]))
    True False

    See Also
    --------
    tree_leaves : the leaves it checks.
    """
    return all(tree_leaves(tree))


__all__ = ["register_pytree_node", "register_pytree_node_class", "tree_flatten",
           "tree_unflatten", "tree_leaves", "tree_structure", "tree_map", "PyTreeDef",
           "tree_all", "treedef_is_leaf", "tree_reduce", "register_dataclass",
           "tree_flatten_with_path", "tree_leaves_with_path", "tree_map_with_path",
           "keystr", "SequenceKey", "DictKey", "GetAttrKey", "FlattenedIndexKey"]


def __dir__():
    return sorted(__all__)   # dir() shows the public names only
