"""The fast paths added for per-call overhead keep behaviour identical: jit's
repeated-call path, the eager linearize cache key, pytree shortcuts, elementwise
abstract evaluation, funcdiff.numpy's direct binding, the broadcast-operand rewrite and
codegen's float literals.  Each test compares against the slow path or NumPy."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.config import config
from funcdiff.core.avals import ShapedArray
from funcdiff.core.errors import FuncdiffError, ShapeError
from funcdiff.core.ir import Literal, literal_key
from funcdiff.tree_util import register_pytree_node, tree_flatten, tree_unflatten

from _helpers import nep50


# --- jit: the repeated-call fast path ------------------------------------------------------

def test_jit_fast_path_values_and_hits():
    calls = []

    @fd.jit
    def f(x, y):
        calls.append(1)
        return fnp.sin(x) * y + 1.0

    x, y = np.linspace(0, 1, 5), np.arange(5.0)
    for i in range(6):
        np.testing.assert_array_equal(f(x, y + i), np.sin(x) * (y + i) + 1.0)
    assert len(calls) == 1
    info = f.cache_info()
    assert (info.hits, info.misses, info.entries) == (5, 1, 1)


@pytest.mark.parametrize("change, retrace", [
    (lambda x: x[:3], True),                        # shape
    (lambda x: x.astype(np.float32), True),         # dtype
    (lambda x: float(x[0]), True),                  # Python scalar
    (lambda x: np.float64(x[0]), True),             # NumPy scalar
    (lambda x: np.float32(x[0]), True),             # NumPy scalar of another dtype
    (lambda x: x.view(fnp.Array), False),           # ndarray subclass: same signature
])
def test_jit_fast_path_signature_changes(change, retrace):
    @fd.jit
    def f(x):
        return x * 2.0 + fnp.cos(x)

    x = np.linspace(-1, 1, 4)
    f(x), f(x)
    misses = f.cache_info().misses
    x2 = change(x)
    out = f(x2)
    with nep50():
        want = np.asarray(x2) * 2.0 + np.cos(np.asarray(x2))
    assert np.asarray(out).dtype == want.dtype and np.shape(out) == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-6)
    assert f.cache_info().misses == misses + retrace
    assert type(out) is not fnp.Array
    np.testing.assert_array_equal(f(x), x * 2.0 + np.cos(x))   # back on the first entry


def test_jit_fast_path_python_scalar_types():
    @fd.jit
    def f(x, s):
        return x * s

    x = np.ones(3, np.float32)
    assert f(x, 2.0).dtype == np.float32
    assert f(x, 3.0).dtype == np.float32          # fast path, weak float
    out = f(x, 2)                                 # int: another signature
    assert out.dtype == np.float32 and f.cache_info().misses == 2
    out = f(x, True)                              # bool: yet another
    assert f.cache_info().misses == 3
    np.testing.assert_array_equal(out, x)


def test_jit_fast_path_outputs_are_fresh():
    f = fd.jit(lambda x: x)
    x = np.arange(3.0)
    a, b = f(x), f(x)
    assert a is not x and b is not x and a is not b
    b[0] = 10.0
    assert x[0] == 0.0


def test_jit_fast_path_pytree_outputs():
    f = fd.jit(lambda x: {"s": fnp.sum(x), "t": (x, x * 2.0)})
    x = np.arange(3.0)
    for _ in range(3):
        out = f(x)
        assert set(out) == {"s", "t"} and isinstance(out["t"], tuple)
        np.testing.assert_array_equal(out["t"][1], x * 2.0)
        assert out["s"] == 3.0


def test_jit_fast_path_under_transforms():
    f = fd.jit(lambda x: fnp.sum(fnp.sin(x) ** 2))
    x = np.linspace(0, 1, 4)
    f(x), f(x)                                           # fast path established
    np.testing.assert_allclose(fd.grad(f)(x), 2 * np.sin(x) * np.cos(x))
    np.testing.assert_allclose(fd.vmap(f)(np.stack([x, x])), [f(x), f(x)])
    np.testing.assert_allclose(fd.jit(fd.grad(f))(x), 2 * np.sin(x) * np.cos(x))
    # a jitted function called on constants inside a trace records a call, not a value
    g = fd.grad(lambda y: f(x) * y)
    np.testing.assert_allclose(g(2.0), f(x))


def test_jit_fast_path_keywords_and_statics():
    f = fd.jit(lambda x, n=2: x * n, static_argnums=(1,))
    x = np.arange(3.0)
    for n in (2, 3, 2, 3):
        np.testing.assert_array_equal(f(x, n), x * n)
    assert f.cache_info().misses == 2
    g = fd.jit(lambda x, y: x - y)
    for _ in range(3):
        np.testing.assert_array_equal(g(x, y=1.0), x - 1.0)
        np.testing.assert_array_equal(g(y=x, x=1.0), 1.0 - x)


def test_jit_fast_path_respects_eviction_and_lru(monkeypatch):
    monkeypatch.setattr(config, "jit_cache_size", 2)
    calls = []

    @fd.jit
    def f(x):
        calls.append(x.shape)
        return x + 1.0

    a, b, c = np.zeros(1), np.zeros(2), np.zeros(3)
    f(a), f(b), f(a), f(a)          # a is the most recently used (via the fast path)
    f(c)                            # evicts b, not a
    assert f.cache_info().entries == 2
    f(a)
    assert calls == [(1,), (2,), (3,)]
    f(b)                            # b was evicted: traced again
    assert calls[-1] == (2,)
    monkeypatch.setattr(config, "jit_cache_size", 1)
    d, e = np.zeros(4), np.zeros(5)
    n = len(calls)
    for _ in range(2):
        f(d), f(d), f(e), f(e)      # each new shape evicts the other
    assert calls[n:] == [(4,), (5,), (4,), (5,)]
    assert f.cache_info().entries == 1
    np.testing.assert_array_equal(f(e), e + 1.0)


def test_jit_fast_path_clear_cache():
    f = fd.jit(lambda x: x * 3.0)
    x = np.ones(2)
    f(x), f(x), f(x)
    f.clear_cache()
    assert tuple(f.cache_info())[:3] == (0, 0, 0)
    np.testing.assert_array_equal(f(x), 3.0 * x)
    assert f.cache_info().misses == 1


def test_jit_fast_path_debug_nans():
    f = fd.jit(lambda x: fnp.log(x))
    x = np.ones(2)
    f(x), f(x)
    with config.debug_nans_enabled():
        with pytest.raises(FuncdiffError):
            f(-x)
    assert np.isnan(f(-x)).all()                      # back to plain execution


def test_jit_fast_path_threads_count_every_call():
    f = fd.jit(lambda x: fnp.tanh(x) * 2.0)
    x = np.linspace(-1, 1, 8)
    want = np.tanh(x) * 2.0
    errors = []

    def work():
        for _ in range(200):
            if not np.array_equal(f(x), want):
                errors.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    info = f.cache_info()
    assert not errors and info.hits + info.misses == 800 and info.entries == 1


# --- pytrees --------------------------------------------------------------------------------

def test_tree_unflatten_shortcuts_keep_semantics():
    leaves = [1, 2, 3]
    _, t = tree_flatten((0, 0, 0))
    assert tree_unflatten(t, leaves) == (1, 2, 3)
    _, t = tree_flatten([0, 0])
    out = tree_unflatten(t, [5, 6])
    assert out == [5, 6] and type(out) is list
    src = [7, 8]
    assert tree_unflatten(t, src) is not src
    _, t = tree_flatten((0, {"a": 0}))           # two leaves, but not flat
    assert tree_unflatten(t, [1, 2]) == (1, {"a": 2})
    with pytest.raises(ValueError):
        tree_unflatten(tree_flatten((0, 0))[1], [1, 2, 3])
    with pytest.raises(ValueError):
        tree_unflatten(tree_flatten((0, 0))[1], [1])
    assert tree_unflatten(tree_flatten((0, 0))[1], iter([1, 2])) == (1, 2)


def test_registering_a_type_after_it_was_seen_as_a_leaf():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    p = Pair(1, 2)
    leaves, _ = tree_flatten([p])
    assert leaves == [p]                        # a leaf while unregistered
    register_pytree_node(Pair, lambda q: ((q.a, q.b), None), lambda _, c: Pair(*c))
    leaves, t = tree_flatten([p])
    assert leaves == [1, 2]
    q = tree_unflatten(t, [3, 4])[0]
    assert (q.a, q.b) == (3, 4)


# --- avals, literals, the eager cache key -------------------------------------------------------

def test_shaped_array_canonical_shapes():
    a = ShapedArray((np.int64(3), True, 2.0), np.float32)
    assert a.shape == (3, 1, 2) and all(type(d) is int for d in a.shape)
    assert ShapedArray([2, 3], "f8").shape == (2, 3)
    assert ShapedArray((np.array(4),), float).shape == (4,)
    assert ShapedArray((), float, True).weak_type and not ShapedArray((1,), float, True).weak_type
    assert ShapedArray((2, 3), float).size == 6 and type(ShapedArray((), float).size) is int


def test_literal_keys_distinguish_what_values_do():
    def key(v):
        return literal_key(Literal(v))

    assert key(0.0) != key(-0.0)
    assert key(math.nan) == key(math.nan)
    assert len({key(1), key(True), key(1.0), key(np.float32(1.0)), key(np.float64(1.0)),
                key(1 + 0j)}) == 6
    assert key(2.5) == key(2.5) and key(2.5) != key(2.5000000000000004)
    assert key(complex(1, 0.0)) != key(complex(1, -0.0))


@pytest.mark.parametrize("c", [2.0, 3.0, 0.0, -0.0, 2])
def test_eager_grad_cache_keeps_literals_apart(c):
    g = fd.grad(lambda x: fnp.sum(x * c + fnp.sin(x)))
    x = np.linspace(0, 1, 3)
    for _ in range(2):
        out = g(x)
        np.testing.assert_array_equal(out, c + np.cos(x))
        np.testing.assert_array_equal(np.signbit(out - np.cos(x)), np.signbit(c + 0 * x))


def test_eager_grad_cache_distinguishes_params_and_wiring():
    x = np.arange(6.0).reshape(2, 3)
    g0 = fd.grad(lambda x: fnp.sum(fnp.sum(x, axis=0) ** 2))
    g1 = fd.grad(lambda x: fnp.sum(fnp.sum(x, axis=1) ** 2))
    np.testing.assert_array_equal(g0(x), 2 * np.broadcast_to(x.sum(0), x.shape))
    np.testing.assert_array_equal(g1(x), 2 * np.broadcast_to(x.sum(1)[:, None], x.shape))
    h0 = fd.grad(lambda a, b: fnp.sum(a * fnp.sin(b)))
    h1 = fd.grad(lambda a, b: fnp.sum(b * fnp.sin(a)))
    a, b = np.ones(2), np.full(2, 0.5)
    np.testing.assert_allclose(h0(a, b), np.sin(b))
    np.testing.assert_allclose(h1(a, b), b * np.cos(a))


# --- elementwise abstract evaluation and funcdiff.numpy's direct binding ------------------

@pytest.mark.parametrize("fn", [fnp.add, fnp.multiply, fnp.subtract, fnp.maximum,
                                fnp.less, fnp.arctan2, fnp.logaddexp])
@pytest.mark.parametrize("xs, ys", [((3,), (3,)), ((2, 3), (3,)), ((), (4,)), ((4,), ()),
                                    ((2, 1), (1, 3)), ((), ())])
@pytest.mark.parametrize("dx, dy", [(np.float32, np.float32), (np.float32, float),
                                    (np.float64, np.float32), (np.int32, np.float32),
                                    (np.int64, "weak_float"), (np.float32, "weak_int")])
def test_binary_abstract_eval_matches_numpy(fn, xs, ys, dx, dy):
    x = np.ones(xs, dx)
    y = 2.0 if dy == "weak_float" else 2 if dy == "weak_int" else np.full(ys, 0.5, dy)
    with nep50():
        want = fn.numpy(x, y)
    closed = fd.make_jaxpr(lambda a: fn(a, y))(x)
    (aval,) = closed.out_avals
    assert aval.shape == np.shape(want) and aval.dtype == np.asarray(want).dtype
    out = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)[0]
    np.testing.assert_array_equal(out, want)
    fd.check_jaxpr(closed)


@pytest.mark.parametrize("fn", [fnp.sin, fnp.negative, fnp.sqrt, fnp.isnan, fnp.square,
                                fnp.reciprocal])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.bool_, "weak"])
def test_unary_abstract_eval_matches_numpy(fn, dt):
    x = 0.5 if dt == "weak" else np.ones(3, dt)
    if dt == np.bool_ and fn is fnp.negative:   # NumPy rejects it; so does funcdiff
        with pytest.raises(TypeError):
            fn.numpy(x)
        with pytest.raises(TypeError):
            fd.make_jaxpr(fn)(x)
        return
    with np.errstate(all="ignore"):
        want = fn.numpy(x)
    closed = fd.make_jaxpr(fn)(x)
    (aval,) = closed.out_avals
    assert aval.shape == np.shape(want) and aval.dtype == np.asarray(want).dtype
    fd.check_jaxpr(closed)


def test_direct_binding_keeps_numpy_semantics_and_errors():
    x = np.arange(3.0)
    closed = fd.make_jaxpr(lambda a: fnp.add(a, [1, 2, 3]) + fnp.sin(a, out=None))(x)
    np.testing.assert_allclose(fd.eval_jaxpr(closed.jaxpr, closed.consts, x)[0],
                               x + [1, 2, 3] + np.sin(x))
    with pytest.raises(ShapeError) as e:
        fd.make_jaxpr(lambda a: fnp.add(a, np.ones(4)))(x)
    assert "test_fastpaths.py" in str(e.value)
    with pytest.raises(FuncdiffError):
        fd.make_jaxpr(lambda a: fnp.sin(a, out=np.empty(3)))(x)


# --- the broadcast-operand rewrite and float literals in generated code ---------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcast_operand_rewrite(dtype):
    x = np.linspace(1, 2, 12).astype(dtype).reshape(3, 4)
    s = np.asarray(0.5, dtype)
    v = np.arange(3, dtype=dtype)

    def f(x, s, v):
        a = x * fnp.broadcast_to(s, x.shape)                     # scalar: rewritten
        b = x - fnp.broadcast_to(v[:, None], x.shape)            # (3, 1): rewritten
        c = x + fnp.broadcast_to(fnp.reshape(v, (1, 3, 1)), (1, 3, 4))[0]
        return a, b, c

    jf = fd.jit(f)
    want = f(x, s, v)
    for _ in range(2):
        got = jf(x, s, v)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    # a and b use NumPy's implicit broadcasting; c's broadcast feeds an indexing op
    assert jf.lower(x, s, v).source.count("np.broadcast_to(") == 1
    # the eager backward pass of grad: a scalar cotangent, never a broadcast array
    g = fd.grad(lambda x: fnp.sum(fnp.sin(x) * x))
    np.testing.assert_allclose(g(x), np.cos(x) * x + np.sin(x), rtol=1e-6)


def test_broadcast_operand_rewrite_leaves_other_shapes_alone():
    # reshape (3,) -> (3, 1) is not a leading-ones reshape: broadcasting (3,) against
    # (3, 4) would be wrong, so the explicit shapes must stay
    x = np.ones((3, 4))
    v = np.arange(3.0)
    f = fd.jit(lambda x, v: x * fnp.broadcast_to(fnp.reshape(v, (3, 1)), (3, 4)))
    np.testing.assert_array_equal(f(x, v), x * v[:, None])
    # a weak scalar keeps its own promotion
    x32 = np.ones(3, np.float32)
    h = fd.jit(lambda x: x * fnp.broadcast_to(2.0, (3,)))
    assert h(x32).dtype == np.result_type(x32, np.broadcast_to(2.0, (3,)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64,
                                   np.int32, np.int64])
def test_codegen_int_literals_in_float_arithmetic(dtype):
    x = (np.arange(1, 7) * 0.75).astype(dtype) if np.dtype(dtype).kind != "i" else \
        np.arange(1, 7, dtype=dtype)

    def f(x):
        return (x * 2 + 1) - (3 - x) / 4 + fnp.maximum(x, 2)

    want = f(x)
    got = fd.jit(f)(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# --- the garbage collector collects less often while IR is built, and is restored ---------

def test_gc_relaxed_while_tracing_and_restored():
    import gc
    from funcdiff.core.trace import GC_THRESHOLD
    seen = []

    def f(x):
        seen.append((gc.isenabled(), gc.get_threshold()))
        return fnp.sin(x) * 2.0

    x = np.ones(3)
    before = gc.get_threshold()
    assert gc.isenabled() and before[0] < GC_THRESHOLD
    fd.grad(lambda x: fnp.sum(f(x)))(x)
    fd.jit(f)(x)
    fd.vmap(f)(np.ones((2, 3)))
    # collection stays on (user code traced with real values makes garbage cycles),
    # only the youngest generation's threshold is raised
    assert seen and all(s == (True, (GC_THRESHOLD,) + before[1:]) for s in seen)
    assert gc.isenabled() and gc.get_threshold() == before

    def bad(x):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fd.grad(bad)(x)
    with pytest.raises(KeyError):
        fd.jit(bad)(x)
    assert gc.isenabled() and gc.get_threshold() == before

    gc.disable()                      # a user's choices are kept
    try:
        fd.grad(lambda x: fnp.sum(f(x)))(x)
        fd.jit(lambda x: f(x) + 1.0)(x)
        assert not gc.isenabled()
    finally:
        gc.enable()
    for user in ((5 * GC_THRESHOLD, 7, 9), (0, 10, 10)):   # higher, or 0 (collection off)
        gc.set_threshold(*user)
        try:
            seen.clear()
            fd.grad(lambda x: fnp.sum(f(x)))(x)
            assert seen[0][1] == user and gc.get_threshold() == user
        finally:
            gc.set_threshold(*before)


def test_gc_thresholds_restored_across_threads():
    import gc
    before = gc.get_threshold()
    barrier = threading.Barrier(4)
    errors = []

    def work(i):
        try:
            barrier.wait()
            for _ in range(20):
                g = fd.jit(lambda x: fnp.sum(fnp.sin(x) * float(i)))
                fd.grad(g)(np.ones(3))
        except Exception as e:   # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and gc.isenabled() and gc.get_threshold() == before
