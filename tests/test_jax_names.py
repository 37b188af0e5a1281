"""The JAX names funcdiff provides with JAX's semantics: ``lax.select`` /
``dynamic_slice`` / ``dynamic_update_slice`` / ``dynamic_index_in_dim`` (checked against
NumPy slicing with JAX's index clamping, under grad / vmap / jit), the key-path pytree
functions and ``register_dataclass``, ``tree_reduce``, ``jit(donate_argnums=...)``,
``Lowered.compile()`` / ``.as_text()``, ``funcdiff.BatchingError`` and
``funcdiff.debug``."""
from __future__ import annotations

import collections
import dataclasses
import doctest
import operator

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax, tree_util
from funcdiff.test_util import check_grads
from funcdiff.transforms.vmap import BatchingError
from funcdiff.tree_util import DictKey, GetAttrKey, SequenceKey, keystr
from _helpers import assert_same

X = np.arange(20.0).reshape(4, 5) / 7.0


def _clamp(s, dim, size):
    s = s + dim if s < 0 else s
    return min(max(s, 0), dim - size)


def _np_dynamic_slice(x, starts, sizes):
    idx = tuple(slice(_clamp(s, d, n), _clamp(s, d, n) + n)
                for s, d, n in zip(starts, x.shape, sizes))
    return x[idx]


def _np_dynamic_update(x, u, starts):
    out = x.copy()
    idx = tuple(slice(_clamp(s, d, n), _clamp(s, d, n) + n)
                for s, d, n in zip(starts, x.shape, u.shape))
    out[idx] = u
    return out


STARTS = [(0, 0), (1, 2), (3, 4), (-1, -2), (9, -9), (-9, 9)]


@pytest.mark.parametrize("starts", STARTS)
@pytest.mark.parametrize("sizes", [(2, 3), (4, 1), (1, 5), (0, 2)])
def test_dynamic_slice_matches_numpy_with_clamping(starts, sizes):
    want = _np_dynamic_slice(X, starts, sizes)
    assert_same(lax.dynamic_slice(X, starts, sizes), want)
    f = fd.jit(lambda x, i, j: lax.dynamic_slice(x, (i, j), sizes))
    assert_same(f(X, *starts), want)                       # traced starts
    assert_same(f(X, np.int32(starts[0]), np.int64(starts[1])), want)
    assert_same(lax.dynamic_slice(X, np.array(starts), sizes), want)


def test_dynamic_slice_is_a_copy_eagerly():
    x = X.copy()
    y = lax.dynamic_slice(x, (0, 0), (2, 2))
    y[0, 0] = 100.0
    assert x[0, 0] == X[0, 0]


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_update_slice_matches_numpy(starts):
    u = -np.arange(6.0).reshape(2, 3)
    want = _np_dynamic_update(X, u, starts)
    x = X.copy()
    assert_same(lax.dynamic_update_slice(x, u, starts), want)
    assert_same(x, X)                                      # operand untouched
    f = fd.jit(lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)))
    assert_same(f(X, u, *starts), want)


@pytest.mark.parametrize("traced", [False, True])
def test_slices_differentiate(traced):
    starts = (1, 3)

    def f(x, u):
        i, j = (fnp.asarray(s) for s in starts) if traced else starts
        y = lax.dynamic_update_slice(x, u * 2.0, (i, j))
        return fnp.sum(fnp.sin(lax.dynamic_slice(y, (i, j - 1), (3, 2))))

    u = np.ones((2, 2))
    check_grads(f, (X, u), order=2, modes=("fwd", "rev"))
    # against the NumPy-slicing version
    g = fd.grad(f, argnums=(0, 1))(X, u)

    def f_np(x, u):
        y = x.at[1:3, 3:5].set(u * 2.0)
        return fnp.sum(fnp.sin(y[1:4, 2:4]))

    want = fd.grad(f_np, argnums=(0, 1))(fnp.array(X), u)
    assert_same(g[0], want[0])
    assert_same(g[1], want[1])


def test_slices_batch_per_example_starts():
    starts = np.array([[0, 0], [3, 4], [-1, 2], [2, -7]])
    u = np.ones((2, 2))
    got = fd.vmap(lambda s: lax.dynamic_slice(X, (s[0], s[1]), (2, 2)))(starts)
    assert_same(got, np.stack([_np_dynamic_slice(X, s, (2, 2)) for s in starts]))
    got = fd.jit(fd.vmap(lambda s: lax.dynamic_update_slice(X, u, s)))(starts)
    assert_same(got, np.stack([_np_dynamic_update(X, u, s) for s in starts]))
    xs = np.stack([X, 2 * X])
    got = fd.vmap(lambda x: lax.dynamic_index_in_dim(x, 2, axis=1, keepdims=False))(xs)
    assert_same(got, xs[:, :, 2])


def test_dynamic_index_in_dim():
    assert_same(lax.dynamic_index_in_dim(X, 1), X[1:2])
    assert_same(lax.dynamic_index_in_dim(X, 10, axis=1, keepdims=False), X[:, 4])
    f = fd.jit(lambda x, i: lax.dynamic_index_in_dim(x, i, axis=-1))
    assert_same(f(X, -2), X[:, 3:4])
    assert_same(lax.dynamic_slice_in_dim(X, 3, 2, axis=0), X[2:4])   # clamped


def test_inside_fori_loop_with_a_traced_counter():
    def body(i, acc):
        return acc + lax.dynamic_slice(X, (i, 0), (1, 5))

    got = lax.fori_loop(0, 4, body, np.zeros((1, 5)))
    assert_same(got, X.sum(0, keepdims=True))


def test_slicing_errors():
    with pytest.raises(fd.ShapeError, match="needs 2 start indices"):
        lax.dynamic_slice(X, (1,), (2, 2))
    with pytest.raises(fd.ShapeError, match="needs 2 start indices"):
        lax.dynamic_slice(X, 1, (2, 2))
    with pytest.raises(fd.ShapeError, match="slice size 6 on axis 1"):
        lax.dynamic_slice(X, (0, 0), (2, 6))
    with pytest.raises(fd.ShapeError, match="slice_sizes must be 2 ints"):
        lax.dynamic_slice(X, (0, 0), (2,))
    with pytest.raises(fd.FuncdiffTypeError, match="start index 1 must be a scalar integer"):
        fd.jit(lambda x, j: lax.dynamic_slice(x, (0, j), (2, 2)))(X, 1.0)
    with pytest.raises(fd.FuncdiffTypeError, match="operand's dtype"):
        lax.dynamic_update_slice(X, np.ones((1, 1), np.float32), (0, 0))
    with pytest.raises(fd.ShapeError, match="operand's rank"):
        lax.dynamic_update_slice(X, np.ones(2), (0, 0))
    with pytest.raises(fd.ShapeError, match="does not fit"):
        lax.dynamic_update_slice(X, np.ones((5, 1)), (0, 0))
    with pytest.raises(fd.ShapeError, match="axis 2 is out of range"):
        lax.dynamic_index_in_dim(X, 0, axis=2)


# --- select ---------------------------------------------------------------------------

def test_select_matches_where_and_differentiates():
    p = X > 1.0
    y = -X
    assert_same(lax.select(p, X, y), np.where(p, X, y))
    assert_same(fd.jit(lax.select)(p, X, y), np.where(p, X, y))
    assert_same(lax.select(np.bool_(False), X, y), y)
    g = fd.grad(lambda a, b: fnp.sum(lax.select(p, a, b) ** 2), argnums=(0, 1))(X, y)
    assert_same(g[0], np.where(p, 2 * X, 0.0))
    assert_same(g[1], np.where(p, 0.0, 2 * y))
    got = fd.vmap(lax.select)(p, X, y)
    assert_same(got, np.where(p, X, y))
    # a Python scalar takes the other case's dtype
    assert lax.select(np.bool_(False), np.float32(1.0), 2.0).dtype == np.float32


def test_select_errors():
    with pytest.raises(fd.FuncdiffTypeError, match="pred must be boolean"):
        lax.select(X, X, X)
    with pytest.raises(fd.ShapeError, match="one shape"):
        lax.select(X > 0, X, X[0])
    with pytest.raises(fd.FuncdiffTypeError, match="one dtype"):
        lax.select(X > 0, X, X.astype(np.float32))
    with pytest.raises(fd.ShapeError, match="pred must be a scalar or of the cases' shape"):
        lax.select(X[0] > 0, X, X)


# --- tree_util --------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


def test_key_paths():
    tree = {"b": [1.0, Point(2.0, 3.0)], "a": (4.0,), "n": None}
    pairs, treedef = tree_util.tree_flatten_with_path(tree)
    assert [keystr(p) for p, _ in pairs] == ["['a'][0]", "['b'][0]", "['b'][1].x",
                                            "['b'][1].y"]
    assert [x for _, x in pairs] == tree_util.tree_leaves(tree)
    assert treedef == tree_util.tree_structure(tree)
    assert pairs[2][0] == (DictKey("b"), SequenceKey(1), GetAttrKey("x"))
    assert tree_util.tree_leaves_with_path(tree) == pairs
    doubled = tree_util.tree_map_with_path(
        lambda p, v, w: (keystr(p), v + w), tree, tree)
    assert doubled["b"][1].y == ("['b'][1].y", 6.0)
    with pytest.raises(ValueError, match="structures differ"):
        tree_util.tree_map_with_path(lambda p, a, b: a, tree, [1.0])


def test_registered_class_without_keys_gets_flattened_index_keys():
    class Box:
        def __init__(self, a, b):
            self.a, self.b = a, b

    tree_util.register_pytree_node(Box, lambda b: ((b.a, b.b), None),
                                   lambda _, c: Box(*c))
    paths = [keystr(p) for p, _ in tree_util.tree_leaves_with_path([Box(1, 2)])]
    assert paths == ["[0][0]", "[0][1]"]


def test_tree_reduce():
    assert tree_util.tree_reduce(operator.add, {"a": 1, "b": [2, (3,)]}) == 6
    assert tree_util.tree_reduce(operator.mul, [], 5) == 5
    assert tree_util.tree_reduce(max, [3, [7, 2]], initializer=10) == 10
    with pytest.raises(TypeError, match="needs an initializer"):
        tree_util.tree_reduce(operator.add, {})


def test_register_dataclass_through_transforms():
    @tree_util.register_dataclass
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        b: np.ndarray
        act: str = dataclasses.field(default="tanh", metadata=dict(static=True))

    layer = Layer(np.ones((2, 3)), np.zeros(2))

    def loss(p, x):
        h = p.w @ x + p.b
        return fnp.sum(fnp.tanh(h) if p.act == "tanh" else h)

    x = np.arange(3.0)
    g = fd.grad(loss)(layer, x)
    assert isinstance(g, Layer) and g.act == "tanh"
    sech2 = 1.0 / np.cosh(layer.w @ x) ** 2
    assert_same(g.b, sech2)
    assert_same(g.w, np.outer(sech2, x))
    assert [keystr(p) for p, _ in tree_util.tree_leaves_with_path(layer)] == [".w", ".b"]
    # the static field is part of the structure: jit retraces on it
    assert fd.jit(loss)(Layer(layer.w, layer.b, "id"), x) == pytest.approx(
        np.sum(layer.w @ x))


def test_register_dataclass_explicit_fields_and_errors():
    @dataclasses.dataclass
    class P:
        a: float
        k: int

    tree_util.register_dataclass(P, data_fields=["a"], meta_fields=["k"])
    assert tree_util.tree_leaves(P(1.5, 3)) == [1.5]
    assert tree_util.tree_map(lambda v: v * 2, P(1.5, 3)) == P(3.0, 3)

    @dataclasses.dataclass
    class Q:
        a: float
        b: float

    with pytest.raises(ValueError, match=r"init fields \['b'\] are in neither"):
        tree_util.register_dataclass(Q, data_fields=["a"], meta_fields=[])
    with pytest.raises(TypeError, match="pass both data_fields and meta_fields"):
        tree_util.register_dataclass(Q, data_fields=["a", "b"])
    with pytest.raises(TypeError, match="not a dataclass"):
        tree_util.register_dataclass(int)


# --- jit: donate_argnums, Lowered, Compiled -----------------------------------------------

def test_donate_argnums_is_accepted_and_safe():
    x, y = np.ones(3), np.arange(3.0)
    f = fd.jit(lambda a, b: a * 2 + b, donate_argnums=0)
    assert_same(f(x, y), 2 * np.ones(3) + y)
    assert_same(fd.grad(lambda a: fnp.sum(f(a, y)))(x), np.full(3, 2.0))
    g = fd.jit(lambda a, *, b: a - b, donate_argnames="b")
    assert_same(g(x, b=y), x - y)
    h = fd.jit(donate_argnums=(0, 1))(lambda a, b: a + b)
    assert_same(h(x, y), x + y)


def test_donate_argnums_errors():
    with pytest.raises(fd.FuncdiffValueError, match="both static and donated"):
        fd.jit(lambda a, n: a, static_argnums=1, donate_argnums=(1,))
    with pytest.raises(fd.FuncdiffValueError, match="both static and donated"):
        fd.jit(lambda a, n: a, static_argnames="n", donate_argnames="n")
    with pytest.raises(fd.FuncdiffTypeError, match="donate_argnums takes ints"):
        fd.jit(lambda a: a, donate_argnums=("a",))
    with pytest.raises(fd.FuncdiffTypeError, match="donate_argnums takes ints"):
        fd.jit(lambda a: a, donate_argnums=(True,))


def test_lowered_compile_and_as_text():
    f = fd.jit(lambda x, n: fnp.sin(x) * n, static_argnums=1)
    lowered = f.lower(np.ones(3), 3)
    text = lowered.as_text()
    assert "np.sin" in text and text == lowered.source
    compiled = lowered.compile()
    x = np.arange(3.0)
    assert_same(compiled(x), np.sin(x) * 3)
    assert compiled.as_text() == text
    assert "flops" in compiled.cost_analysis()
    with pytest.raises(fd.FuncdiffTypeError, match=r"compiled for arguments .* f64\[3\]"):
        compiled(np.ones(4))
    with pytest.raises(fd.FuncdiffTypeError, match="called on traced values"):
        fd.grad(lambda x: fnp.sum(compiled(x)))(x)


def test_batching_error_is_exported():
    assert fd.BatchingError is BatchingError
    with pytest.raises(fd.BatchingError):
        fd.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    assert issubclass(fd.BatchingError, ValueError)


@pytest.mark.parametrize("module", [tree_util, lax._slicing])
def test_docstring_examples_run(module):
    # (the globals every public docstring's examples use, as in tests/test_doctests.py)
    result = doctest.testmod(
        module, extraglobs={"np": np, "fd": fd, "funcdiff": fd, "fnp": fnp},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
