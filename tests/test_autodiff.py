"""The autodiff API: grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev, hessian,
hvp, custom_jvp, custom_vjp, stop_gradient -- on pytrees, composed and nested, with their
error messages, dtype rules, complex convention and memory behaviour.

Expected values come from finite differences (``_num_grad`` / ``_num_jac`` below, on
``ravel_pytree``-flattened inputs) or from calculus done by hand in the test."""
from __future__ import annotations

import collections
import functools
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.trace import Tracer, state
from funcdiff.flatten_util import ravel_pytree
from funcdiff.primitives import elementwise as ew
from funcdiff.tree_util import tree_leaves, tree_map, tree_structure
from _helpers import DEFAULT, assert_same

Params = collections.namedtuple("Params", "w b")


# --- numerical references -------------------------------------------------------------------

def _num_jac(f, x, eps=1e-6):
    """Central-difference Jacobian of ``f`` (pytree -> pytree) as a matrix
    (flat outputs x flat inputs)."""
    flat, unravel = ravel_pytree(x)
    flat = np.asarray(flat, dtype=np.float64)

    def g(v):
        out, _ = ravel_pytree(f(unravel(v)))
        return np.asarray(out, dtype=np.float64)

    cols = []
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = eps
        cols.append((g(flat + e) - g(flat - e)) / (2 * eps))
    m = g(flat).size
    return np.stack(cols, axis=-1) if cols else np.zeros((m, 0))


def _num_grad(f, x, eps=1e-6):
    """Central-difference gradient of a scalar ``f`` at pytree ``x``, as a pytree like x."""
    _, unravel = ravel_pytree(x)
    return unravel(_num_jac(f, x, eps)[0])


def _assert_tree_close(got, want, rtol=1e-6, atol=1e-8):
    assert_same(got, want, tols={DEFAULT: (rtol, atol)}, exact_kinds="", pytree=True)


def _loss(p, x):
    return fnp.sum(fnp.tanh(x @ p["w"] + p["b"]) ** 2)


def _params(rng):
    return {"w": rng.standard_normal((3, 2)) * 0.5, "b": rng.standard_normal(2) * 0.1}


# --- pytrees, argnums, has_aux ----------------------------------------------------------------

def test_grad_dict_params(rng):
    p, x = _params(rng), rng.standard_normal((4, 3))
    g = fd.grad(_loss)(p, x)
    assert isinstance(g, dict) and set(g) == {"w", "b"}
    _assert_tree_close(g, _num_grad(lambda q: _loss(q, x), p))
    assert all(type(v) is np.ndarray for v in g.values())


def test_grad_namedtuple_and_tuple(rng):
    def f(p, xs):
        a, (b, c) = xs
        return fnp.sum(fnp.sin(p.w * a) + p.b * b * c)

    p = Params(rng.standard_normal(3), 0.7)
    xs = (rng.standard_normal(3), (rng.standard_normal(3), 2.0))
    g = fd.grad(f)(p, xs)
    assert type(g) is Params
    _assert_tree_close(g, _num_grad(lambda q: f(q, xs), p))
    gx = fd.grad(f, argnums=1)(p, xs)
    assert tree_structure(gx) == tree_structure(xs)
    _assert_tree_close(gx, _num_grad(lambda q: f(p, q), xs))


def test_grad_argnums_int_tuple_negative(rng):
    def f(x, y, z):
        return fnp.sum(x * fnp.sin(y)) + z ** 3

    x, y, z = rng.standard_normal(3), rng.standard_normal(3), 1.5
    gx = fd.grad(f)(x, y, z)
    np.testing.assert_allclose(gx, np.sin(y))
    gy = fd.grad(f, argnums=1)(x, y, z)
    np.testing.assert_allclose(gy, x * np.cos(y))
    g = fd.grad(f, argnums=(0, 2))(x, y, z)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[0], np.sin(y))
    np.testing.assert_allclose(g[1], 3 * z ** 2)
    np.testing.assert_allclose(fd.grad(f, argnums=-1)(x, y, z), 3 * z ** 2)
    g1 = fd.grad(f, argnums=(1,))(x, y, z)
    assert isinstance(g1, tuple) and len(g1) == 1


def test_grad_keyword_arguments_are_not_differentiated():
    def f(x, *, scale):
        return scale * x ** 2

    assert fd.grad(f)(3.0, scale=2.0) == 12.0


def test_value_and_grad_pytree_has_aux(rng):
    def f(p, x):
        loss = _loss(p, x)
        return loss, {"pred": x @ p["w"], "n": 3}

    p, x = _params(rng), rng.standard_normal((4, 3))
    (value, aux), g = fd.value_and_grad(f, has_aux=True)(p, x)
    np.testing.assert_allclose(value, _loss(p, x))
    np.testing.assert_allclose(aux["pred"], x @ p["w"])
    assert aux["n"] == 3
    _assert_tree_close(g, _num_grad(lambda q: _loss(q, x), p))
    g2, aux2 = fd.grad(f, has_aux=True)(p, x)
    _assert_tree_close(g2, g)
    np.testing.assert_allclose(aux2["pred"], aux["pred"])


def test_grad_has_aux_returning_an_input_and_tracers(rng):
    # the aux output is an input itself, and a function of it
    def f(x):
        return fnp.sum(x * x), (x, 2 * x)

    x = rng.standard_normal(3)
    g, (a, b) = fd.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    np.testing.assert_allclose(a, x)
    np.testing.assert_allclose(b, 2 * x)
    assert type(a) is np.ndarray and type(b) is np.ndarray


def test_value_and_grad_value(rng):
    x = rng.standard_normal(4)
    v, g = fd.value_and_grad(lambda x: fnp.sum(fnp.exp(x)))(x)
    np.testing.assert_allclose(v, np.sum(np.exp(x)))
    np.testing.assert_allclose(g, np.exp(x))


def test_vjp_pytree_in_and_out(rng):
    def f(p, x):
        return {"y": fnp.sin(p.w) * x, "s": (fnp.sum(p.w * p.b),)}

    p, x = Params(rng.standard_normal(3), rng.standard_normal(3)), 2.0
    out, vjp_fn = fd.vjp(f, p, x)
    assert set(out) == {"y", "s"}
    ct = {"y": rng.standard_normal(3), "s": (1.5,)}
    cp, cx = vjp_fn(ct)
    assert type(cp) is Params
    # reference: J^T ct with the numerical Jacobian
    jac = _num_jac(lambda args: f(*args), (p, x))
    flat_ct, _ = ravel_pytree(ct)
    want = jac.T @ np.asarray(flat_ct)
    got, _ = ravel_pytree((cp, cx))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_vjp_has_aux(rng):
    x = rng.standard_normal(3)
    out, vjp_fn, aux = fd.vjp(lambda x: (fnp.sin(x), {"c": fnp.cos(x)}), x, has_aux=True)
    np.testing.assert_allclose(out, np.sin(x))
    np.testing.assert_allclose(aux["c"], np.cos(x))
    (g,) = vjp_fn(np.ones(3))
    np.testing.assert_allclose(g, np.cos(x))


def test_jvp_pytrees_and_has_aux(rng):
    def f(p):
        return {"a": p.w * p.b, "b": fnp.sum(p.w ** 2)}

    p = Params(rng.standard_normal(3), 0.5)
    t = Params(rng.standard_normal(3), 2.0)
    out, t_out = fd.jvp(f, (p,), (t,))
    assert set(out) == set(t_out) == {"a", "b"}
    np.testing.assert_allclose(t_out["a"], t.w * p.b + p.w * t.b)
    np.testing.assert_allclose(t_out["b"], np.sum(2 * p.w * t.w))
    out2, t2, aux = fd.jvp(lambda p: (f(p), p.w * 3), (p,), (t,), has_aux=True)
    _assert_tree_close(t2, t_out)
    np.testing.assert_allclose(aux, p.w * 3)


def test_linearize_pytrees(rng):
    def f(p, x):
        return (fnp.sin(p["w"]) * x, fnp.sum(p["w"]) * x)

    p, x = {"w": rng.standard_normal(3)}, 1.5
    out, f_jvp = fd.linearize(f, p, x)
    _assert_tree_close(out, f(p, x))
    for _ in range(2):                      # the linear map applies many times
        tp, tx = {"w": rng.standard_normal(3)}, float(rng.standard_normal())
        _assert_tree_close(f_jvp(tp, tx), fd.jvp(f, (p, x), (tp, tx))[1])


def test_jacobians_on_pytrees(rng):
    def f(p):
        return {"u": p["w"] * p["b"], "v": fnp.sum(p["w"] ** 2)}

    p = {"w": rng.standard_normal(3), "b": 0.5}
    jf, jr = fd.jacfwd(f)(p), fd.jacrev(f)(p)
    # JAX's nesting: output structure outside, input structure inside
    assert set(jf) == {"u", "v"} and set(jf["u"]) == {"w", "b"}
    _assert_tree_close(jf, jr)
    np.testing.assert_allclose(jf["u"]["w"], np.diag(np.full(3, 0.5)))
    np.testing.assert_allclose(jf["u"]["b"], p["w"])
    np.testing.assert_allclose(jf["v"]["w"], 2 * p["w"])
    assert np.shape(jf["v"]["b"]) == ()


@pytest.mark.parametrize("jac", [fd.jacfwd, fd.jacrev])
def test_jacobian_argnums_and_has_aux(jac, rng):
    def f(x, y):
        return fnp.sin(x) * y, {"aux": x + 1.0}

    x, y = rng.standard_normal(3), rng.standard_normal(3)
    j, aux = jac(f, argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(j[0], np.diag(np.cos(x) * y))
    np.testing.assert_allclose(j[1], np.diag(np.sin(x)))
    np.testing.assert_allclose(aux["aux"], x + 1.0)
    j1 = jac(lambda x, y: fnp.sin(x) * y, argnums=1)(x, y)
    np.testing.assert_allclose(j1, np.diag(np.sin(x)))


def test_hessian_and_hvp_on_pytrees(rng):
    def f(p):
        return fnp.sum(p.w ** 2) * p.b ** 2 + fnp.sum(fnp.sin(p.w))

    p = Params(rng.standard_normal(2), 0.5)
    h = fd.hessian(f)(p)
    assert type(h) is Params and type(h.w) is Params
    flat, unravel = ravel_pytree(p)
    want = _num_jac(lambda q: ravel_pytree(fd.grad(f)(q))[0], p, eps=1e-5)
    got = np.block([[np.asarray(h.w.w), np.asarray(h.w.b)[:, None]],
                    [np.asarray(h.b.w)[None, :], np.asarray(h.b.b).reshape(1, 1)]])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    v = Params(rng.standard_normal(2), 1.0)
    hv = fd.hvp(f)(p, v)
    np.testing.assert_allclose(ravel_pytree(hv)[0], got @ np.asarray(ravel_pytree(v)[0]))


# --- properties -------------------------------------------------------------------------------

def _scalar_fn(x):
    return fnp.sum(fnp.sin(x) * fnp.exp(x[::-1] * 0.3)) + fnp.sum(x) ** 2 * fnp.prod(
        fnp.cos(x))


def _vector_fn(x):
    return fnp.concatenate([fnp.sin(x) * fnp.sum(x ** 2), fnp.tanh(x[:1] * x[-1:])])


@given(n=st.integers(1, 4), seed=st.integers(0, 1000))
def test_hessian_symmetric_and_equal_to_jacrev_jacrev(n, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, n)
    h = fd.hessian(_scalar_fn)(x)
    assert h.shape == (n, n)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, fd.jacrev(fd.jacrev(_scalar_fn))(x), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(h, fd.jacfwd(fd.jacfwd(_scalar_fn))(x), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(h, fd.jacfwd(fd.grad(_scalar_fn))(x), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(h, _num_jac(fd.grad(_scalar_fn), x, eps=1e-5), rtol=1e-5,
                               atol=1e-6)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), seed=st.integers(0, 99))
def test_jacfwd_equals_jacrev(shape, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, shape)

    def f(x):
        return fnp.reshape(_vector_fn(fnp.ravel(x) + 0.1), (-1, 1)) * 2.0

    jf, jr = fd.jacfwd(f)(x), fd.jacrev(f)(x)
    out_shape = f(x).shape
    assert jf.shape == jr.shape == out_shape + x.shape
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jf.reshape(int(np.prod(out_shape)), -1), _num_jac(f, x),
                               rtol=1e-6, atol=1e-8)


def test_vjp_fn_called_twice_and_grad_repeated(rng):
    # (tracers alive from earlier tests are not this test's: NumPy < the fix of
    # numpy/numpy#31677 leaks the inputs of a ufunc.reduce whose __array_ufunc__ raised)
    gc.collect()
    before = {id(o) for o in gc.get_objects() if type(o) is Tracer}
    x = rng.standard_normal(4)
    out, vjp_fn = fd.vjp(_vector_fn, x)
    ct = rng.standard_normal(out.shape)
    first = vjp_fn(ct)[0].copy()
    second = vjp_fn(ct)[0]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(vjp_fn(2 * ct)[0], 2 * first)     # linear, no carry-over
    g = fd.grad(_scalar_fn)
    results = [g(x) for _ in range(4)]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is Tracer and id(o) not in before]


def test_stop_gradient_blocks_exactly_its_path():
    x = 3.0
    assert fd.grad(lambda x: x * fd.stop_gradient(x))(x) == 3.0
    assert fd.grad(lambda x: x ** 2 + fd.stop_gradient(x ** 3))(x) == 6.0
    assert fd.grad(lambda x: fd.stop_gradient(x) ** 2)(x) == 0.0
    # the same value reached another way still carries its derivative
    assert fd.grad(lambda x: fd.stop_gradient(x) * x + x * x)(x) == 9.0
    # forward mode too
    _, t = fd.jvp(lambda x: x * fd.stop_gradient(x * x), (2.0,), (1.0,))
    assert t == 4.0
    # second order: the inner derivative stop_gradient(x)**2 is constant for the outer
    assert fd.grad(fd.grad(lambda x: x * fd.stop_gradient(x) ** 2))(x) == 0.0
    # pytrees, and plain values outside transforms
    tree = {"a": np.ones(2), "b": (2.0,)}
    _assert_tree_close(fd.stop_gradient(tree), tree)
    g = fd.grad(lambda p: fnp.sum(p["a"] * fd.stop_gradient(p)["a"]) + p["b"][0])(tree)
    np.testing.assert_allclose(g["a"], np.ones(2))
    assert g["b"][0] == 1.0


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (Siskind & Pearlmutter)
    f = lambda x: x * fd.grad(lambda y: x + y)(1.0)  # noqa: E731
    for x in (0.5, 2.0, -3.0):
        assert fd.grad(f)(x) == 1.0
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    g = lambda x: x * fd.grad(lambda y: x * y)(1.0)  # noqa: E731
    assert fd.grad(g)(2.0) == 4.0
    # forward over forward
    h = lambda x: x * fd.jvp(lambda y: x + y, (1.0,), (1.0,))[1]  # noqa: E731
    assert fd.jvp(h, (2.0,), (1.0,))[1] == 1.0


def test_grad_of_grad_of_grad():
    assert fd.grad(fd.grad(fd.grad(lambda x: x ** 4)))(2.0) == 48.0
    np.testing.assert_allclose(fd.grad(fd.grad(fd.grad(fnp.sin)))(0.7), -np.cos(0.7))
    x = np.array([0.3, -0.4])
    d3 = fd.grad(lambda x: fd.grad(lambda x: fd.grad(lambda x: fnp.sum(fnp.exp(2 * x)))(x)
                                   [0])(x)[0])(x)
    np.testing.assert_allclose(d3, [8 * np.exp(0.6), 0.0])


def test_jvp_of_grad_is_hessian_vector_product(rng):
    x, v = rng.uniform(-1, 1, 4), rng.standard_normal(4)
    h = fd.hessian(_scalar_fn)(x)
    _, hv = fd.jvp(fd.grad(_scalar_fn), (x,), (v,))
    np.testing.assert_allclose(hv, h @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fd.hvp(_scalar_fn)(x, v), h @ v, rtol=1e-10, atol=1e-12)
    # reverse-over-reverse gives the same
    rr = fd.grad(lambda x: fnp.sum(fd.grad(_scalar_fn)(x) * v))(x)
    np.testing.assert_allclose(rr, h @ v, rtol=1e-10, atol=1e-12)


def test_grad_of_function_that_calls_grad_on_a_closure():
    def f(x):
        return fd.grad(lambda y: fnp.sin(x * y))(1.0)   # = x cos(x)

    for x in (0.3, 1.7):
        np.testing.assert_allclose(fd.grad(f)(x), np.cos(x) - x * np.sin(x))
        np.testing.assert_allclose(fd.jvp(f, (x,), (1.0,))[1], np.cos(x) - x * np.sin(x))


def test_python_control_flow_on_values():
    def f(x):
        if x > 0:
            return x ** 2
        return -3.0 * x

    assert fd.grad(f)(3.0) == 6.0
    assert fd.grad(f)(-3.0) == -3.0

    def newton_sqrt(a):
        x = a
        while abs(float(x * x - a)) > 1e-12:
            x = 0.5 * (x + a / x)
        return x

    np.testing.assert_allclose(fd.grad(newton_sqrt)(2.0), 0.5 / np.sqrt(2.0), rtol=1e-8)

    def g(x):
        total = 0.0
        for v in x:                 # iterate over a traced vector
            total = total + (v ** 2 if v > 0 else v)
        return total

    np.testing.assert_allclose(fd.grad(g)(np.array([1.0, -2.0, 3.0])), [2.0, 1.0, 6.0])


def test_float32_stays_float32():
    x = np.array([0.5, -1.0, 2.0], np.float32)

    def h(x):
        return fnp.sum(fnp.tanh(x) * 3.0 + x ** 2 / 2 + fnp.exp(-x))

    def vec(x):
        return fnp.sin(x) * 2.0 + 1

    results = {
        "grad": fd.grad(h)(x),
        "value_and_grad": fd.value_and_grad(h)(x),
        "jvp": fd.jvp(vec, (x,), (x,)),
        "vjp": (fd.vjp(vec, x)[0], fd.vjp(vec, x)[1](x)),
        "linearize": fd.linearize(vec, x)[1](x),
        "jacfwd": fd.jacfwd(vec)(x),
        "jacrev": fd.jacrev(vec)(x),
        "hessian": fd.hessian(h)(x),
        "hvp": fd.hvp(h)(x, x),
        "grad_of_grad": fd.grad(lambda x: fnp.sum(fd.grad(h)(x) ** 2))(x),
    }
    for name, r in results.items():
        for leaf in tree_leaves(r):
            assert np.asarray(leaf).dtype == np.float32, (name, np.asarray(leaf).dtype)
    np.testing.assert_allclose(results["grad"], 3 * (1 - np.tanh(x) ** 2) + x - np.exp(-x),
                               rtol=1e-5)
    # a float32 scalar input gives a float32 scalar gradient
    g = fd.grad(lambda s: s * s * 2.0)(np.float32(1.5))
    assert np.asarray(g).dtype == np.float32 and np.shape(g) == ()


def test_no_graph_outlives_a_call(monkeypatch, rng):
    tracer_refs, array_refs = [], []
    impl = ew.sin_p.impl

    def recording_sin(x):
        out = impl(x)
        array_refs.append(weakref.ref(out))
        return out

    monkeypatch.setattr(ew.sin_p, "impl", recording_sin)

    def f(x):
        y = fnp.sin(x)
        tracer_refs.append(weakref.ref(y))
        return fnp.sum(y * fnp.cos(x))

    x = rng.standard_normal(1000)
    g = fd.grad(f)(x)
    assert tracer_refs and array_refs
    gc.collect()
    assert all(r() is None for r in tracer_refs), "a tracer outlived grad"
    assert all(r() is None for r in array_refs), "an intermediate array outlived grad"
    assert type(g) is np.ndarray

    # vjp_fn keeps what the backward pass needs, and nothing after it is dropped
    tracer_refs.clear()
    array_refs.clear()
    out, vjp_fn = fd.vjp(f, x)
    vjp_fn(1.0)
    del vjp_fn
    gc.collect()
    assert all(r() is None for r in tracer_refs)
    assert all(r() is None for r in array_refs)


@pytest.mark.parametrize("how", ["grad", "value_and_grad", "vjp", "jvp", "linearize"])
def test_eager_transforms_run_the_forward_pass_once(how, monkeypatch):
    calls = []
    impl = ew.sin_p.impl

    def counting_sin(x):
        calls.append(1)
        return impl(x)

    monkeypatch.setattr(ew.sin_p, "impl", counting_sin)

    def f(x):
        return fnp.sum(fnp.sin(x) * 2.0)

    x = np.linspace(0, 1, 5)
    if how == "grad":
        g = fd.grad(f)(x)
    elif how == "value_and_grad":
        g = fd.value_and_grad(f)(x)[1]
    elif how == "vjp":
        g = fd.vjp(f, x)[1](1.0)[0]
    elif how == "jvp":
        g = fd.jvp(f, (x,), (np.eye(5)[2],))[1]
    else:
        g = fd.linearize(f, x)[1](np.eye(5)[2])
    assert len(calls) == 1, f"sin's impl ran {len(calls)} times"
    want = 2 * np.cos(x) if how not in ("jvp", "linearize") else 2 * np.cos(x[2])
    np.testing.assert_allclose(g, want)


# --- custom_jvp / custom_vjp ---------------------------------------------------------------

@fd.custom_jvp
def _softplus(x):
    return fnp.log1p(fnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    # the stable rule: sigmoid(x) * t (the naive exp(x) / (1 + exp(x)) is nan at x = 1000)
    return _softplus(x), t / (1 + fnp.exp(-x))


def test_custom_jvp_rule_is_used_in_every_mode():
    with np.errstate(over="ignore"):
        assert fd.grad(_softplus)(1000.0) == 1.0
        assert fd.jvp(_softplus, (1000.0,), (2.0,))[1] == 2.0
    x = np.array([-1.0, 0.5, 2.0])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(fd.grad(lambda x: fnp.sum(_softplus(x)))(x), sig)
    np.testing.assert_allclose(fd.jacfwd(_softplus)(x), np.diag(sig))
    np.testing.assert_allclose(fd.jacrev(_softplus)(x), np.diag(sig))
    # second order: the rule is written with funcdiff ops, so it differentiates again
    np.testing.assert_allclose(fd.grad(fd.grad(_softplus))(0.5),
                               np.exp(-0.5) / (1 + np.exp(-0.5)) ** 2)
    np.testing.assert_allclose(fd.hessian(lambda x: fnp.sum(_softplus(x)))(x),
                               np.diag(sig * (1 - sig)))
    # outside transforms it is the plain function
    np.testing.assert_allclose(_softplus(x), np.log1p(np.exp(x)))


def test_custom_jvp_nondiff_argnums_and_defjvps():
    @functools.partial(fd.custom_jvp, nondiff_argnums=(0,))
    def power(n, x):
        return x ** n

    @power.defjvp
    def power_jvp(n, primals, tangents):
        (x,), (t,) = primals, tangents
        return power(n, x), 10.0 * n * x ** (n - 1) * t   # x10 shows the rule is used

    assert fd.grad(power, argnums=1)(3, 2.0) == 120.0
    assert fd.jvp(lambda x: power(2, x), (3.0,), (1.0,))[1] == 60.0

    @fd.custom_jvp
    def mul(x, y):
        return x * y

    mul.defjvps(lambda t, out, x, y: 2 * t * y, lambda t, out, x, y: 3 * t * x)
    assert fd.grad(mul, argnums=(0, 1))(2.0, 5.0) == (10.0, 6.0)


def test_custom_jvp_defjvps_higher_derivatives_use_the_rule():
    """issue 16: defjvps computed ``ans`` with the raw body, so second derivatives
    bypassed the user's rule.  With body exp and rule 2 * ans * t the rule says
    df = 2 f, so the second derivative is 4 f and the third 8 f: JAX's semantics, and
    what defjvp gives."""
    @fd.custom_jvp
    def e2(x):
        return fnp.exp(x)

    e2.defjvps(lambda t, ans, x: 2 * ans * t)

    @fd.custom_jvp
    def e1(x):
        return fnp.exp(x)

    e1.defjvp(lambda p, t: (e1(p[0]), 2 * e1(p[0]) * t[0]))

    x = 0.3
    for f in (e1, e2):
        d1, d2 = fd.grad(f), fd.grad(fd.grad(f))
        np.testing.assert_allclose(d1(x), 2 * np.exp(x))
        np.testing.assert_allclose(d2(x), 4 * np.exp(x))
        np.testing.assert_allclose(fd.grad(d2)(x), 8 * np.exp(x))
        np.testing.assert_allclose(fd.jvp(d1, (x,), (1.0,))[1], 4 * np.exp(x))   # fwd/rev
        np.testing.assert_allclose(fd.hessian(lambda v: fnp.sum(f(v)))(np.array([x, 0.0])),
                                   np.diag(4 * np.exp([x, 0.0])))
    assert fd.grad(fd.grad(e2))(0.0) == 4.0

    # two arguments: the mixed second derivatives go through the rules too
    @fd.custom_jvp
    def mul(x, y):
        return x * y

    mul.defjvps(lambda t, out, x, y: 2 * t * y, lambda t, out, x, y: 3 * t * x)
    assert fd.grad(fd.grad(mul, argnums=0), argnums=1)(2.0, 5.0) == 2.0
    assert fd.grad(fd.grad(mul, argnums=1), argnums=0)(2.0, 5.0) == 3.0


def test_custom_jvp_defjvps_with_nondiff_argnums_is_a_clear_error():
    @functools.partial(fd.custom_jvp, nondiff_argnums=(0,))
    def scaled_exp(scale, x):
        return scale * fnp.exp(x)

    with pytest.raises(fd.FuncdiffTypeError, match="defjvps cannot be used with nondiff"):
        scaled_exp.defjvps(lambda t, out, x: out * t)


def test_custom_jvp_closure_over_differentiated_value_is_an_error():
    def outer(x):
        @fd.custom_jvp
        def f(y):
            return y * x

        f.defjvp(lambda p, t: (f(p[0]), t[0] * x))
        return f(1.0)

    with pytest.raises(fd.FuncdiffError, match="closes over"):
        fd.grad(outer)(2.0)


def test_custom_jvp_rule_with_wrong_structure():
    @fd.custom_jvp
    def f(x):
        return fnp.sin(x)

    f.defjvp(lambda p, t: ((f(p[0]), 1.0), t[0]))
    with pytest.raises(fd.StructureError):
        fd.grad(f)(1.0)


@fd.custom_vjp
def _clip_gradient(x):
    return x


def _clip_fwd(x):
    return x, None


def _clip_bwd(res, g):
    return (fnp.clip(g, -1.0, 1.0),)


_clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_rule_is_used():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(fd.grad(lambda x: fnp.sum(_clip_gradient(x) * 5.0))(x),
                               [1.0, 1.0])
    np.testing.assert_allclose(fd.grad(lambda x: fnp.sum(_clip_gradient(x) * 0.5))(x),
                               [0.5, 0.5])
    np.testing.assert_allclose(fd.jacrev(lambda x: _clip_gradient(x) * 3.0)(x), np.eye(2))
    np.testing.assert_allclose(_clip_gradient(x), x)


def test_custom_vjp_residuals_nondiff_argnums_and_none_cotangent():
    @functools.partial(fd.custom_vjp, nondiff_argnums=(2,))
    def f(x, y, k):
        return fnp.sin(x) * y * k

    def fwd(x, y, k):
        return f(x, y, k), {"cos": fnp.cos(x), "sin": fnp.sin(x), "y": y}

    def bwd(k, res, g):
        return (g * res["cos"] * res["y"] * k, None)   # None: zero cotangent for y

    f.defvjp(fwd, bwd)
    x, y = 0.3, 2.0
    gx, gy = fd.grad(f, argnums=(0, 1))(x, y, 3.0)
    np.testing.assert_allclose(gx, np.cos(x) * y * 3.0)
    assert gy == 0.0


def test_custom_vjp_bwd_wrong_structure():
    @fd.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: g * res[1])  # not a tuple
    with pytest.raises(fd.StructureError, match="one cotangent per"):
        fd.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))  # 1 of 2
    with pytest.raises(fd.StructureError, match="length 1"):
        fd.grad(f)(1.0, 2.0)

    @fd.custom_vjp
    def h(p):
        return p["a"] * p["b"]

    h.defvjp(lambda p: (h(p), p), lambda p, g: ((g, g),))   # tuple where a dict is due
    with pytest.raises(fd.StructureError, match="structure"):
        fd.grad(h)({"a": 1.0, "b": 2.0})
    assert state.stack == []


def test_custom_vjp_fwd_wrong_structure():
    @fd.custom_vjp
    def f(x):
        return x * 2

    f.defvjp(lambda x: x * 2, lambda res, g: (g,))   # fwd must return (out, residuals)
    with pytest.raises(fd.StructureError, match="pair"):
        fd.grad(f)(1.0)


def test_custom_vjp_under_forward_mode_is_a_clear_error():
    x = np.array([1.0, 2.0])
    for call in (lambda: fd.jvp(_clip_gradient, (x,), (x,)),
                 lambda: fd.jacfwd(_clip_gradient)(x),
                 lambda: fd.linearize(_clip_gradient, x)[1](x)):   # raised when applied
        with pytest.raises(fd.GradientError) as info:
            call()
        msg = str(info.value)
        assert "custom_vjp" in msg and "reverse" in msg and "custom_jvp" in msg
    assert state.stack == []


def test_forward_over_reverse_through_custom_vjp():
    # Unlike JAX, forward mode *over* the reverse pass works: the outer jvp
    # differentiates fwd and bwd as ordinary functions.
    @fd.custom_vjp
    def f(x):
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)),
             lambda cos_x, g: (fnp.clip(g * cos_x, -1.0, 1.0),))

    def loss(x):
        return fnp.sum(f(x) ** 2)

    x = np.array([0.1, 0.2, 1.2])
    # gradient: clip(2 sin(x) cos(x)) = clip(sin(2x)), clipped nowhere here
    np.testing.assert_allclose(fd.grad(loss)(x), np.sin(2 * x))
    np.testing.assert_allclose(fd.hessian(loss)(x), np.diag(2 * np.cos(2 * x)))
    np.testing.assert_allclose(fd.hvp(loss)(x, np.ones(3)), 2 * np.cos(2 * x))


# --- errors ---------------------------------------------------------------------------------

def test_grad_non_scalar_output_message():
    with pytest.raises(fd.GradientError) as info:
        fd.grad(lambda x: x * 2.0)(np.ones(3))
    msg = str(info.value)
    assert "(3,)" in msg and "jacrev" in msg and "vjp" in msg
    assert isinstance(info.value, TypeError)
    with pytest.raises(fd.GradientError, match="jacrev"):
        fd.grad(lambda x: (fnp.sum(x), fnp.sum(x)))(np.ones(3))


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_grad_accepts_any_single_element_output(shape):
    g = fd.grad(lambda x: fnp.reshape(fnp.sum(x ** 2), shape))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_grad_complex_output_is_an_error():
    with pytest.raises(fd.GradientError, match="vjp"):
        fd.grad(lambda z: z * z)(1.0 + 1.0j)


@pytest.mark.parametrize("x", [3, np.int32(3), np.arange(3), True, np.array([True])])
def test_grad_integer_or_bool_input(x):
    with pytest.raises(fd.GradientError) as info:
        fd.grad(lambda x: fnp.sum(x * 1.0))(x)
    msg = str(info.value)
    assert np.asarray(x).dtype.name in msg
    assert "allow_int" in msg
    assert isinstance(info.value, TypeError)


def test_grad_allow_int_gives_float0_zeros():
    gx, gn = fd.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert gx == 3.0
    assert gn.dtype == fd.float0 and gn.shape == ()
    g = fd.grad(lambda x, idx: fnp.sum(x[idx]), argnums=(0, 1), allow_int=True)(
        np.ones(4), np.array([0, 2]))
    np.testing.assert_allclose(g[0], [1.0, 0.0, 1.0, 0.0])
    assert g[1].dtype == fd.float0 and g[1].shape == (2,)
    # integers that are not differentiated are fine without allow_int
    assert fd.grad(lambda x, n: x ** n)(2.0, 3) == 12.0


def test_jvp_structure_shape_and_dtype_mismatch():
    with pytest.raises(fd.StructureError, match=r"\(4,\).*\(3,\)"):
        fd.jvp(lambda x: x, (np.ones(3),), (np.ones(4),))
    with pytest.raises(fd.StructureError, match="structure"):
        fd.jvp(lambda x, y: x * y, (np.ones(3), 1.0), (np.ones(3),))
    with pytest.raises(fd.StructureError, match="structure"):
        fd.jvp(lambda p: p["a"], ({"a": 1.0},), ({"b": 1.0},))
    with pytest.raises(fd.StructureError, match="tuples"):
        fd.jvp(lambda x: x, np.ones(3), np.ones(3))
    with pytest.raises(fd.FuncdiffTypeError, match="float32"):
        fd.jvp(lambda x: x, (np.ones(3),), (np.ones(3, np.float32),))


def test_vjp_fn_wrong_cotangent():
    _, vjp_fn = fd.vjp(lambda x: (x, 2 * x), np.ones(3))
    with pytest.raises(fd.StructureError, match="structure"):
        vjp_fn(np.ones(3))
    with pytest.raises(fd.StructureError, match=r"\(4,\)"):
        vjp_fn((np.ones(3), np.ones(4)))
    _, vjp_fn = fd.vjp(lambda p: {"a": p * 2}, np.ones(2))
    with pytest.raises(fd.StructureError):
        vjp_fn({"b": np.ones(2)})
    assert isinstance(fd.StructureError("x"), ValueError)


def test_bad_argnums_and_has_aux_errors():
    with pytest.raises(fd.FuncdiffValueError, match="argnums"):
        fd.grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(fd.FuncdiffTypeError, match="pair"):
        fd.grad(lambda x: x * 2.0, has_aux=True)(1.0)
    with pytest.raises(fd.FuncdiffTypeError):
        fd.grad(lambda x: x)("not a number")


# --- complex numbers: JAX's convention -----------------------------------------------------------

def _fd_complex_grad(f, z, eps=1e-6):
    """For real-valued f of complex z = x + iy: df/dx - i df/dy (JAX's grad)."""
    z = np.asarray(z, dtype=np.complex128)
    out = np.zeros(z.shape, np.complex128)
    for i in np.ndindex(z.shape):
        e = np.zeros(z.shape, np.complex128)
        e[i] = eps
        dfdx = (np.asarray(f(z + e)) - np.asarray(f(z - e))) / (2 * eps)
        dfdy = (np.asarray(f(z + 1j * e)) - np.asarray(f(z - 1j * e))) / (2 * eps)
        out[i] = dfdx - 1j * dfdy
    return out


_REAL_OF_COMPLEX = {
    "|z|^2 = z conj(z)": lambda z: fnp.sum(fnp.real(z * fnp.conj(z))),
    "abs": lambda z: fnp.sum(fnp.abs(z)),
    "real(exp(z))": lambda z: fnp.sum(fnp.real(fnp.exp(z))),
    "imag(log(z))": lambda z: fnp.sum(fnp.imag(fnp.log(z))),
    "real**2 + 3 imag": lambda z: fnp.sum(fnp.real(z) ** 2 + 3 * fnp.imag(z)),
    "arithmetic": lambda z: fnp.real(fnp.sum(z * z / (z + 2.0) - 1j * z)),
    "abs(exp(z) - conj(z))": lambda z: fnp.sum(fnp.abs(fnp.exp(z) - fnp.conj(z))),
    "sum then abs": lambda z: fnp.abs(fnp.sum(z * (1 + 2j))),
}


@pytest.mark.parametrize("name", list(_REAL_OF_COMPLEX))
def test_grad_of_real_function_of_complex_input(name, rng):
    f = _REAL_OF_COMPLEX[name]
    z = rng.uniform(0.3, 1.5, 3) + 1j * rng.uniform(-1, 1, 3)
    g = fd.grad(f)(z)
    assert g.dtype == np.complex128 and g.shape == z.shape
    np.testing.assert_allclose(g, _fd_complex_grad(f, z), rtol=1e-6, atol=1e-8)


def test_grad_of_abs_squared_is_2_conj_z():
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    np.testing.assert_allclose(fd.grad(lambda z: fnp.sum(fnp.real(z * fnp.conj(z))))(z),
                               2 * np.conj(z))
    g = fd.grad(lambda z: fnp.abs(z))(3.0 + 4.0j)
    np.testing.assert_allclose(g, (3.0 - 4.0j) / 5.0)


def test_complex_jvp_and_vjp_of_holomorphic_function(rng):
    def f(z):
        return fnp.exp(z) * z + z ** 3

    def df(z):
        return np.exp(z) * (z + 1) + 3 * z ** 2

    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    t = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    _, jt = fd.jvp(f, (z,), (t,))
    np.testing.assert_allclose(jt, df(z) * t, rtol=1e-10)
    ct = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    (g,) = fd.vjp(f, z)[1](ct)
    np.testing.assert_allclose(g, ct * df(z), rtol=1e-10)    # JAX: no conjugation
    fd.check_grads(f, (z,), order=2)


def test_grad_mixing_real_and_complex_arguments(rng):
    def f(x, z):
        return fnp.sum(fnp.abs(x * z) ** 2)

    x, z = rng.standard_normal(2), rng.standard_normal(2) + 1j * rng.standard_normal(2)
    gx, gz = fd.grad(f, argnums=(0, 1))(x, z)
    assert gx.dtype == np.float64 and gz.dtype == np.complex128
    np.testing.assert_allclose(gx, 2 * x * np.abs(z) ** 2)
    np.testing.assert_allclose(gz, _fd_complex_grad(lambda w: f(x, w), z), rtol=1e-6)
