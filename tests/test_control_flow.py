"""funcdiff.lax control flow: cond, switch, while_loop, fori_loop, scan (and map).

Each construct is compared with the same computation written as a Python if/loop
(values, jvp, vjp, hessians), eagerly, traced, under jit (``jit(grad(f))`` and
``grad(jit(f))``) and under vmap; every transformed jaxpr goes through ``check_jaxpr``.
Also: reverse mode through ``while_loop`` with a data-dependent trip count, the residual
memory of reverse-mode scan (linear in the number of steps; carries only with a
checkpointed body) and the type errors.
"""
from __future__ import annotations

import collections
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.core.check import check_jaxpr
from funcdiff.core.interpret import eval_jaxpr
from funcdiff.test_util import check_grads
from funcdiff.transforms.jvp import jvp_jaxpr
from funcdiff.transforms.partial_eval import partial_eval_jaxpr
from funcdiff.transforms.transpose import transpose_jaxpr
from funcdiff.tree_util import tree_leaves, tree_structure
from _helpers import DEFAULT, assert_same

Pair = collections.namedtuple("Pair", "a b")


# --- helpers ------------------------------------------------------------------------------

def _close(got, want, rtol=1e-9, atol=1e-12):
    assert_same(got, want, tols={DEFAULT: (rtol, atol)}, pytree=True)


def _prims(jaxpr):
    """Names of all primitives in a jaxpr, nested sub-jaxprs included."""
    from funcdiff.core.ir import ClosedJaxpr, Jaxpr
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    names = []
    for e in jaxpr.eqns:
        names.append(e.primitive.name)
        for p in e.params.values():
            for sub in (p if isinstance(p, tuple) else (p,)):
                if isinstance(sub, (Jaxpr, ClosedJaxpr)):
                    names += _prims(sub)
    return names


def check_transformed_jaxprs(f, *args):
    """check_jaxpr on f's jaxpr, its jvp, the linearized split (known and linear parts),
    the transposed linear part and jit's optimized program; also eval_jaxpr == f."""
    closed = fd.make_jaxpr(f)(*args)
    check_jaxpr(closed)
    leaves = tree_leaves(args)
    _close(eval_jaxpr(closed.jaxpr, closed.consts, *leaves), tree_leaves(f(*args)))
    n_in, n_out = len(closed.jaxpr.invars), len(closed.jaxpr.outvars)
    jv, _ = jvp_jaxpr(closed, [True] * n_in, instantiate=True)
    check_jaxpr(jv)
    known, lin, _, res = partial_eval_jaxpr(jv.jaxpr, [False] * n_in + [True] * n_in,
                                            [False] * n_out + [True] * n_out)
    check_jaxpr(known)
    check_jaxpr(lin)
    back = transpose_jaxpr(lin, len(res))
    check_jaxpr(back)
    check_jaxpr(fd.jit(f).lower(*args).jaxpr)
    check_jaxpr(fd.jit(fd.grad(lambda *a: fnp.sum(f(*a)))).lower(*args).jaxpr)
    return closed


def _all_ways(f, args, g_ref, rtol=1e-8):
    """grad of scalar f, eagerly, jit(grad), grad(jit), equals g_ref."""
    argnums = tuple(range(len(args)))
    _close(fd.grad(f, argnums)(*args), g_ref, rtol=rtol)
    _close(fd.jit(fd.grad(f, argnums))(*args), g_ref, rtol=rtol)
    _close(fd.grad(fd.jit(f), argnums)(*args), g_ref, rtol=rtol)


rng0 = np.random.default_rng(0)


# --- cond / switch ------------------------------------------------------------------------

def f_cond(x, y):
    return lax.cond(fnp.sum(x) > 0, lambda a, b: fnp.sin(a) * b, lambda a, b: a * a - b,
                    x, y)


def f_cond_py(x, y):
    return fnp.sin(x) * y if np.sum(x) > 0 else x * x - y


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_values_and_derivatives(sign):
    x = sign * np.abs(rng0.standard_normal(4)) + 0.1 * sign
    y = rng0.standard_normal(4)
    _close(f_cond(x, y), f_cond_py(x, y))
    _close(fd.jit(f_cond)(x, y), f_cond_py(x, y))
    check_grads(f_cond, (x, y), order=2, modes=("fwd", "rev"))
    g_ref = fd.grad(lambda a, b: fnp.sum(f_cond_py(a, b)), (0, 1))(x, y)
    _all_ways(lambda a, b: fnp.sum(f_cond(a, b)), (x, y), g_ref)
    check_transformed_jaxprs(f_cond, x, y)


def test_cond_pytrees_and_numeric_predicate():
    ops = {"w": np.arange(3.0), "b": Pair(np.float64(2.0), np.ones((2, 2)))}

    def tf(o):
        return (o["w"] * o["b"].a, [o["b"].b.sum()])

    def ff(o):
        return (o["w"] - 1.0, [o["b"].a * 3.0])

    for pred, ref in ((1, tf), (0, ff), (2.5, tf), (0.0, ff), (True, tf), (np.bool_(False), ff)):
        _close(lax.cond(pred, tf, ff, ops), ref(ops))
        _close(fd.jit(lambda p, o: lax.cond(p, tf, ff, o))(pred, ops), ref(ops))


def test_cond_weak_python_scalar_branch_takes_other_dtype():
    x = np.float32(1.5)
    out = lax.cond(True, lambda v: v * 2, lambda v: 0.0, x)
    assert np.asarray(out).dtype == np.float32
    out = fd.jit(lambda v: lax.cond(v > 1, lambda u: 1.0, lambda u: u, v))(x)
    assert np.asarray(out).dtype == np.float32 and out == 1.0


def test_switch_clamps_index_and_matches_python():
    branches = [lambda x: x + 1.0, lambda x: fnp.sin(x), lambda x: x ** 3]
    x = np.linspace(-1, 1, 5)
    for i in (-3, 0, 1, 2, 7):
        want = branches[min(max(i, 0), 2)](x)
        _close(lax.switch(i, branches, x), want)
        _close(fd.jit(lambda j, v: lax.switch(j, branches, v))(i, x), want)
        j = min(max(i, 0), 2)
        check_grads(lambda v: lax.switch(i, branches, v), (x,), order=2)
        _close(fd.grad(lambda v: fnp.sum(lax.switch(i, branches, v)))(x),
               fd.grad(lambda v: fnp.sum(branches[j](v)))(x))
    assert lax.switch(0, [lambda x: x * 2], 3.0) == 6.0   # one branch: just a call


@given(shape=st.sampled_from([(), (3,), (2, 3), (0,), (1, 4)]), pred=st.booleans(),
       seed=st.integers(0, 100))
def test_cond_hypothesis_shapes(shape, pred, seed):
    r = np.random.default_rng(seed)
    x, y = r.standard_normal(shape), r.standard_normal(shape)

    def f(p, a, b):
        return lax.cond(p, lambda u, v: fnp.tanh(u) * v + 1.0, lambda u, v: fnp.exp(u) - v,
                        a, b)

    want = np.tanh(x) * y + 1.0 if pred else np.exp(x) - y
    _close(f(pred, x, y), want)
    closed = fd.make_jaxpr(f)(pred, x, y)
    check_jaxpr(closed)
    _close(eval_jaxpr(closed.jaxpr, closed.consts, pred, x, y)[0], want)
    check_grads(lambda a, b: f(pred, a, b), (x, y), order=2)


# --- while_loop -----------------------------------------------------------------------------

def newton_sqrt(a, tol=1e-12):
    """sqrt(a) by Newton's method; the trip count depends on a."""
    def body(c):
        x, i = c
        return 0.5 * (x + a / x), i + 1
    x, n = lax.while_loop(lambda c: fnp.abs(c[0] * c[0] - a) > tol * a, body, (a + 1.0, 0))
    return x * x * fnp.sin(x)


def newton_sqrt_py(a, tol=1e-12):
    x = a + 1.0
    while fnp.abs(x * x - a) > tol * a:
        x = 0.5 * (x + a / x)
    return x * x * fnp.sin(x)


def fixed_point_py(a, x0):
    x = x0
    for _ in range(1000):
        if not fnp.max(fnp.abs(fnp.cos(a * x) - x)) > 1e-13:
            break
        x = fnp.cos(a * x)
    return fnp.sum(x * a)


def fixed_point(a, x0):
    x = lax.while_loop(lambda x: fnp.max(fnp.abs(fnp.cos(a * x) - x)) > 1e-13,
                       lambda x: fnp.cos(a * x), x0)
    return fnp.sum(x * a)


@pytest.mark.parametrize("a", [0.3, 2.0, 17.0])
def test_grad_through_newton_while_loop_equals_python_loop(a):
    a = np.float64(a)
    _close(newton_sqrt(a), newton_sqrt_py(a))
    r = np.sqrt(a)    # d/da (a sin(sqrt(a))), by hand
    _close(fd.grad(newton_sqrt)(a), np.sin(r) + a * np.cos(r) / (2 * r), rtol=1e-7)
    g_ref = fd.grad(newton_sqrt_py)(a)
    _close(fd.grad(newton_sqrt)(a), g_ref, rtol=1e-7)
    _close(fd.jit(fd.grad(newton_sqrt))(a), g_ref, rtol=1e-7)
    _close(fd.grad(fd.jit(newton_sqrt))(a), g_ref, rtol=1e-7)
    # forward mode and forward-over-reverse too
    _close(fd.jvp(newton_sqrt, (a,), (np.float64(1.0),))[1], g_ref, rtol=1e-7)
    _close(fd.hessian(newton_sqrt)(a), fd.hessian(newton_sqrt_py)(a), rtol=1e-6)


def test_grad_through_fixed_point_iteration_equals_python_loop():
    a = np.array([0.5, 0.7, 0.9])
    x0 = np.zeros(3)
    _close(fixed_point(a, x0), fixed_point_py(a, x0))
    g_ref = fd.grad(fixed_point_py, (0, 1))(a, x0)
    _all_ways(fixed_point, (a, x0), g_ref, rtol=1e-7)
    check_grads(fixed_point, (a, x0), order=1, modes=("fwd", "rev"))
    check_grads(fixed_point, (a, x0), order=2, modes=("fwd",))
    check_transformed_jaxprs(fixed_point, a, x0)


def test_while_loop_pytree_carry_values_and_grads():
    def f(w, x):
        def body(c):
            return {"i": c["i"] + 1, "s": Pair(c["s"].a * w + x, c["s"].b + fnp.sum(c["s"].a))}
        out = lax.while_loop(lambda c: c["i"] < 4, body,
                             {"i": 0, "s": Pair(x, np.float64(0.0))})
        return fnp.sum(out["s"].a) + out["s"].b * 0.5

    def f_py(w, x):
        a, b = x, 0.0
        for _ in range(4):
            a, b = a * w + x, b + fnp.sum(a)
        return fnp.sum(a) + b * 0.5

    w, x = np.float64(0.9), rng0.standard_normal(3)
    _close(f(w, x), f_py(w, x))
    _all_ways(f, (w, x), fd.grad(f_py, (0, 1))(w, x))
    check_grads(f, (w, x), order=2, modes=("fwd",))
    check_grads(f, (w, x), order=1)
    check_transformed_jaxprs(f, w, x)


def test_while_loop_zero_iterations_and_dynamic_trip_count_under_jit():
    def f(x, n):
        return lax.while_loop(lambda c: c[1] < n, lambda c: (fnp.sin(c[0]) * 2.0, c[1] + 1),
                              (x, 0))[0]

    x = np.array([0.3, -1.2])
    jf = fd.jit(f)
    for n in (0, 1, 5):
        want = x
        for _ in range(n):
            want = np.sin(want) * 2.0
        _close(jf(x, n), want)
        g = fd.jit(fd.grad(lambda v, m: fnp.sum(f(v, m))))(x, n)
        jac = np.eye(2)
        v = x.copy()
        for _ in range(n):
            jac = np.diag(2.0 * np.cos(v)) @ jac
            v = np.sin(v) * 2.0
        _close(g, np.ones(2) @ jac)
    assert jf.cache_info().misses == 1        # n is traced, not static


def test_while_loop_reverse_over_reverse():
    # reverse-over-reverse works (tests/test_while_rev_rev.py has more), as does
    # forward-over-reverse (hessian = jacfwd(jacrev)); a third reverse pass refuses
    want = fd.hessian(newton_sqrt_py)(np.float64(2.0))
    _close(fd.grad(fd.grad(newton_sqrt))(np.float64(2.0)), want, rtol=1e-6)
    _close(fd.jacfwd(fd.grad(newton_sqrt))(np.float64(2.0)), want, rtol=1e-6)
    with pytest.raises(fd.GradientError, match="reverse-over-reverse derivative.*once more"):
        fd.grad(fd.grad(fd.grad(newton_sqrt)))(np.float64(2.0))


def test_while_loop_predicate_on_differentiated_value_in_reverse_mode():
    # the predicate reads a carry that gets a tangent: the while is replayed; still exact
    def f(x):
        return lax.while_loop(lambda v: v < 10.0, lambda v: v * 1.5, x)
    x = np.float64(1.0)
    _close(fd.grad(f)(x), np.float64(1.5 ** 6))


@given(n=st.integers(0, 6), shape=st.sampled_from([(), (2,), (2, 3)]), seed=st.integers(0, 50))
def test_while_loop_hypothesis(n, shape, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal(shape)
    w = r.standard_normal(shape)

    def f(x, w):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, fnp.sin(c[1]) * w + 0.5),
                              (0, x))[1]

    want = x
    for _ in range(n):
        want = np.sin(want) * w + 0.5
    _close(f(x, w), want)
    _close(fd.jit(f)(x, w), want)
    check_grads(f, (x, w), order=1)
    check_grads(f, (x, w), order=2, modes=("fwd",))


# --- fori_loop ------------------------------------------------------------------------------

def rk4_fori(y0, k, dt, n):
    def deriv(y):
        return fnp.stack([y[1], -k * fnp.sin(y[0]) - 0.1 * y[1]])

    def step(i, y):
        k1 = deriv(y)
        k2 = deriv(y + 0.5 * dt * k1)
        k3 = deriv(y + 0.5 * dt * k2)
        k4 = deriv(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return lax.fori_loop(0, n, step, y0)


def rk4_py(y0, k, dt, n):
    def deriv(y):
        return fnp.stack([y[1], -k * fnp.sin(y[0]) - 0.1 * y[1]])
    y = y0
    for _ in range(n):
        k1 = deriv(y)
        k2 = deriv(y + 0.5 * dt * k1)
        k3 = deriv(y + 0.5 * dt * k2)
        k4 = deriv(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def test_grad_of_rk4_fori_loop_equals_python_loop():
    y0, k, dt = np.array([1.0, 0.0]), np.float64(2.0), np.float64(0.05)

    def loss(f):
        return lambda y0, k, dt: fnp.sum(f(y0, k, dt, 40) ** 2)

    _close(rk4_fori(y0, k, dt, 40), rk4_py(y0, k, dt, 40))
    g_ref = fd.grad(loss(rk4_py), (0, 1, 2))(y0, k, dt)
    _all_ways(loss(rk4_fori), (y0, k, dt), g_ref)
    check_grads(lambda y, kk: rk4_fori(y, kk, dt, 5), (y0, k), order=2)
    assert "scan" in _prims(fd.make_jaxpr(lambda y: rk4_fori(y, k, dt, 40))(y0))


def test_fori_loop_static_bounds_lower_to_scan_dynamic_to_while():
    body = lambda i, x: x * 1.1 + i   # noqa: E731
    j = fd.make_jaxpr(lambda x: lax.fori_loop(2, 7, body, x))(1.0)
    assert "scan" in _prims(j) and "while_loop" not in _prims(j)
    j = fd.make_jaxpr(lambda x, n: lax.fori_loop(0, n, body, x))(1.0, 5)
    assert "while_loop" in _prims(j) and "scan" not in _prims(j)

    def py(lo, hi, x):
        for i in range(lo, hi):
            x = body(i, x)
        return x

    for lo, hi in ((2, 7), (0, 0), (5, 3), (-2, 2)):
        _close(lax.fori_loop(lo, hi, body, 1.0), py(lo, hi, 1.0))
        _close(fd.jit(lambda x, a, b: lax.fori_loop(a, b, body, x))(1.0, lo, hi),
               np.float64(py(lo, hi, 1.0)))
        _close(fd.grad(lambda x: lax.fori_loop(lo, hi, body, x))(1.5),
               np.float64(1.1 ** max(hi - lo, 0)))
    # the index is Python-int-like: float32 carries stay float32
    out = lax.fori_loop(0, 3, lambda i, x: x * i + 1, np.float32(1.0))
    assert np.asarray(out).dtype == np.float32


# --- scan -------------------------------------------------------------------------------------

def rnn(params, h0, xs):
    w, u, b = params

    def step(h, x):
        h = fnp.tanh(h @ w + x @ u + b)
        return h, fnp.sum(h * h)
    h, ys = lax.scan(step, h0, xs)
    return fnp.sum(h) + fnp.sum(ys)


def rnn_py(params, h0, xs):
    w, u, b = params
    h, ys = h0, []
    for x in xs:
        h = fnp.tanh(h @ w + x @ u + b)
        ys.append(fnp.sum(h * h))
    return fnp.sum(h) + fnp.sum(fnp.stack(ys))


def _rnn_args(r, t=5, hid=3, inp=2):
    params = (0.5 * r.standard_normal((hid, hid)), r.standard_normal((inp, hid)),
              r.standard_normal(hid))
    return params, r.standard_normal(hid), r.standard_normal((t, inp))


def test_scan_rnn_values_and_grads_all_ways():
    args = _rnn_args(np.random.default_rng(1))
    _close(rnn(*args), rnn_py(*args))
    _close(fd.jit(rnn)(*args), rnn_py(*args))
    g_ref = fd.grad(rnn_py, (0, 1, 2))(*args)
    _all_ways(rnn, args, g_ref)
    check_grads(rnn, args, order=2)
    check_transformed_jaxprs(rnn, *args)


def test_scan_reverse_and_pytrees_of_xs_and_ys():
    xs = {"a": np.arange(4.0), "b": Pair(np.ones((4, 2)), np.linspace(0, 1, 4))}

    def f(c0, xs, reverse):
        def step(c, x):
            c = c * x["b"].b + x["a"] + fnp.sum(x["b"].a)
            return c, {"y": c * 2.0, "z": (x["a"], c + x["b"].a)}
        return lax.scan(step, c0, xs, reverse=reverse)

    def py(c0, xs, reverse):
        idx = range(3, -1, -1) if reverse else range(4)
        c, ys = c0, [None] * 4
        for i in idx:
            c = c * xs["b"].b[i] + xs["a"][i] + np.sum(xs["b"].a[i])
            ys[i] = {"y": c * 2.0, "z": (xs["a"][i], c + xs["b"].a[i])}
        stack = {"y": np.stack([y["y"] for y in ys]),
                 "z": (np.stack([y["z"][0] for y in ys]), np.stack([y["z"][1] for y in ys]))}
        return np.float64(c), stack

    for rev in (False, True):
        _close(f(np.float64(0.5), xs, rev), py(np.float64(0.5), xs, rev))
        _close(fd.jit(f, static_argnums=2)(np.float64(0.5), xs, rev),
               py(np.float64(0.5), xs, rev))
        check_grads(lambda c, x: f(c, x, rev), (np.float64(0.5), xs), order=2)
        check_transformed_jaxprs(lambda c, x: f(c, x, rev)[1]["z"][1], np.float64(0.5), xs)


def test_scan_without_xs_and_zero_length():
    c, ys = lax.scan(lambda c, _: (c * 2.0, c), 1.0, None, length=4)
    _close((np.asarray(c), ys), (np.asarray(16.0), np.array([1.0, 2.0, 4.0, 8.0])))
    c, ys = lax.scan(lambda c, x: (c + x, c * x), np.ones(2), np.zeros((0, 2)))
    _close((c, ys), (np.ones(2), np.zeros((0, 2))))
    _close(fd.grad(lambda x: fnp.sum(lax.scan(lambda c, x: (c + x, c * x), x,
                                              np.zeros((0, 2)))[0]))(np.ones(2)), np.ones(2))
    _close(lax.map(lambda x: x ** 2, np.arange(3.0)), np.arange(3.0) ** 2)


@given(length=st.integers(0, 5), feat=st.sampled_from([(), (2,), (2, 2)]),
       reverse=st.booleans(), seed=st.integers(0, 50))
def test_scan_hypothesis(length, feat, reverse, seed):
    r = np.random.default_rng(seed)
    c0 = r.standard_normal(feat)
    xs = r.standard_normal((length,) + feat)
    w = r.standard_normal(feat)

    def f(c0, xs, w):
        return lax.scan(lambda c, x: (fnp.sin(c) * w + x, c * x + w), c0, xs, reverse=reverse)

    def py(c0, xs, w):
        c, ys = c0, [None] * length
        for i in (reversed(range(length)) if reverse else range(length)):
            c, ys[i] = np.sin(c) * w + xs[i], c * xs[i] + w
        return c, (np.stack(ys) if ys else np.zeros((0,) + feat))

    _close(f(c0, xs, w), py(c0, xs, w))
    closed = fd.make_jaxpr(f)(c0, xs, w)
    check_jaxpr(closed)
    _close(eval_jaxpr(closed.jaxpr, closed.consts, c0, xs, w), list(py(c0, xs, w)))
    check_grads(f, (c0, xs, w), order=2)


# --- nesting ----------------------------------------------------------------------------------

def nested(w, xs):
    def outer(c, x):
        inner_c, _ = lax.scan(lambda ic, v: (fnp.tanh(ic * w + v), None), c, x)
        c2 = lax.cond(fnp.sum(inner_c) > 0, lambda u: u * 2.0, lambda u: fnp.sin(u), inner_c)
        c3 = lax.fori_loop(0, 2, lambda i, u: u * 0.9 + w, c2)
        return c3, fnp.sum(c3)
    c, ys = lax.scan(outer, fnp.zeros(2), xs)
    return fnp.sum(c) + fnp.sum(ys)


def nested_py(w, xs):
    c, ys = np.zeros(2), []
    for x in xs:
        ic = c
        for v in x:
            ic = fnp.tanh(ic * w + v)
        c2 = ic * 2.0 if np.sum(ic) > 0 else fnp.sin(ic)
        for _ in range(2):
            c2 = c2 * 0.9 + w
        c = c2
        ys.append(fnp.sum(c))
    return fnp.sum(c) + fnp.sum(fnp.stack(ys))


def test_nested_loops_and_cond():
    r = np.random.default_rng(3)
    w, xs = r.standard_normal(2), r.standard_normal((3, 4, 2))
    _close(nested(w, xs), nested_py(w, xs))
    _all_ways(nested, (w, xs), fd.grad(nested_py, (0, 1))(w, xs))
    check_grads(nested, (w, xs), order=2)
    check_transformed_jaxprs(nested, w, xs)


def test_while_inside_scan_and_scan_inside_while():
    def f(a):
        def step(c, x):
            v = lax.while_loop(lambda t: t[0] < 3, lambda t: (t[0] + 1, fnp.sin(t[1]) + x * a),
                               (0, c))[1]
            return v, v
        c, ys = lax.scan(step, a, np.array([0.1, 0.2, 0.3]))
        return c + fnp.sum(ys)

    def g(a):
        def body(t):
            c, _ = lax.scan(lambda c, x: (c * a + x, None), t[1], np.arange(3.0))
            return t[0] + 1, c * 0.5
        return lax.while_loop(lambda t: t[0] < 2, body, (0, a))[1]

    def f_py(a):
        c, tot = a, 0.0
        for x in (0.1, 0.2, 0.3):
            for _ in range(3):
                c = fnp.sin(c) + x * a
            tot = tot + c
        return c + tot

    def g_py(a):
        c = a
        for _ in range(2):
            for x in range(3):
                c = c * a + x
            c = c * 0.5
        return c

    a = np.float64(0.7)
    for fn, py in ((f, f_py), (g, g_py)):
        _close(fn(a), py(a))
        _all_ways(fn, (a,), (fd.grad(py)(a),))
        check_grads(fn, (a,), order=1)
        check_transformed_jaxprs(fn, a)


# --- vmap ---------------------------------------------------------------------------------------

def test_vmap_of_control_flow():
    xs = np.array([[0.5, -1.0], [-0.3, 2.0], [1.5, 0.1]])
    # cond with a mapped predicate becomes a select
    f = lambda x: lax.cond(x[0] > 0, lambda v: v * 2.0, lambda v: fnp.sin(v), x)   # noqa
    _close(fd.vmap(f)(xs), np.stack([f(x) for x in xs]))
    # while_loop with a mapped predicate runs until every example is done
    a = np.array([0.3, 2.0, 17.0, 5.0])
    _close(fd.vmap(newton_sqrt)(a), np.array([newton_sqrt_py(v) for v in a]))
    g_ref = np.sin(np.sqrt(a)) + a * np.cos(np.sqrt(a)) / (2 * np.sqrt(a))
    _close(fd.vmap(fd.grad(newton_sqrt))(a), g_ref, rtol=1e-7)
    _close(fd.grad(lambda v: fnp.sum(fd.vmap(newton_sqrt)(v)))(a), g_ref, rtol=1e-7)
    # scan over a batch; Jacobians (vmap of the linearized program)
    args = _rnn_args(np.random.default_rng(5))
    batch_xs = np.stack([args[2], args[2] * 0.5, -args[2]])
    _close(fd.vmap(lambda x: rnn(args[0], args[1], x))(batch_xs),
           np.array([rnn_py(args[0], args[1], x) for x in batch_xs]))
    _close(fd.jacrev(lambda h: rnn(args[0], h, args[2]))(args[1]),
           fd.jacfwd(lambda h: rnn_py(args[0], h, args[2]))(args[1]))
    _close(fd.hessian(lambda h: rnn(args[0], h, args[2]))(args[1]),
           fd.hessian(lambda h: rnn_py(args[0], h, args[2]))(args[1]), rtol=1e-7)


# --- memory: residuals of reverse-mode scan ----------------------------------------------------

def _residual_bytes(f, *args):
    return sum(r.nbytes for r in fd.saved_residuals(f, *args))


def _known_residual_bytes(f, *args):
    """Bytes of the residuals the known (forward) jaxpr of linearize(f) produces."""
    closed = fd.make_jaxpr(f)(*args)
    n_in, n_out = len(closed.jaxpr.invars), len(closed.jaxpr.outvars)
    jv, _ = jvp_jaxpr(closed, [True] * n_in, instantiate=True)
    _, _, _, res = partial_eval_jaxpr(jv.jaxpr, [False] * n_in + [True] * n_in,
                                      [False] * n_out + [True] * n_out)
    return sum(r.aval.nbytes for r in res)


def test_scan_residual_memory_linear_in_steps_and_carries_only_when_checkpointed():
    def make(ckpt):
        def step(h, x):
            for _ in range(3):
                h = fnp.tanh(h * 1.1 + x)
            return h, None
        if ckpt:
            step = fd.checkpoint(step)
        return lambda h0, xs: fnp.sum(lax.scan(step, h0, xs)[0])

    hid = 32
    sizes = {}
    for ckpt in (False, True):
        for n in (10, 20, 40):
            args = (np.ones(hid), np.ones((n, hid)))
            sizes[ckpt, n] = (_residual_bytes(make(ckpt), *args),
                              _known_residual_bytes(make(ckpt), *args))
    for ckpt in (False, True):
        for k in (0, 1):
            b10, b20, b40 = (sizes[ckpt, n][k] for n in (10, 20, 40))
            assert b40 - b20 == 2 * (b20 - b10) > 0          # exactly linear in n
    per_step = 8 * hid
    # plain: three tanh layers each keep one (hid,) array per step
    assert sizes[False, 20][0] - sizes[False, 10][0] == 10 * 3 * per_step
    # checkpointed: only the carry (and the xs, which are arguments anyway) per step
    assert sizes[True, 20][0] - sizes[True, 10][0] == 10 * 2 * per_step
    kinds = {r.kind for r in fd.saved_residuals(make(True), np.ones(hid), np.ones((10, hid)))}
    assert kinds <= {"argument", "intermediate"}
    # and both give the same gradient as the Python loop
    args = (np.linspace(-1, 1, hid), np.linspace(0, 1, 5 * hid).reshape(5, hid))
    _close(fd.grad(make(True))(*args), fd.grad(make(False))(*args))


def test_scan_loop_invariant_residuals_are_not_stacked():
    w = np.ones((16, 16)) * 0.1
    f = lambda h, w: fnp.sum(lax.scan(lambda c, _: (fnp.tanh(c @ w), None), h, None,   # noqa
                                      length=50)[0])
    res = fd.saved_residuals(f, np.ones(16), w)
    # w is kept once (not 50 times); each step keeps only its (16,) activations
    assert sum(r.nbytes for r in res) <= 2 * w.nbytes + 50 * 2 * 16 * 8


# --- cost and generated code -----------------------------------------------------------------

def test_cost_analysis_and_source():
    f = lambda c, xs: lax.scan(lambda c, x: (fnp.sin(c) * x, None), c, xs)[0]   # noqa
    c1 = fd.cost_analysis(f)(np.ones(8), np.ones((10, 8)))
    c2 = fd.cost_analysis(f)(np.ones(8), np.ones((20, 8)))
    assert c2["flops"] == 2 * c1["flops"] > 0
    assert c2["transcendentals"] == 2 * c1["transcendentals"] == 20 * 8
    src = fd.jit(f).lower(np.ones(8), np.ones((10, 8))).source
    assert "run_scan" in src
    assert "# _scan_body" in src and "np.sin(" in src     # the body's code is listed too
    src = fd.jit(fd.grad(newton_sqrt)).lower(np.float64(2.0)).source
    assert "while_lin_transpose" in src or "run_while_lin" in src


def test_eager_runs_without_trace_and_returns_numpy():
    out = lax.scan(lambda c, x: (c + x, c), np.zeros(2), np.ones((3, 2)))
    assert type(out[0]) is np.ndarray and type(out[1]) is np.ndarray
    out = lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0),
                         (0, np.ones(2)))
    assert type(out[1]) is np.ndarray and out[0] == 3
    # the init value is never returned aliased
    x = np.ones(3)
    y = lax.while_loop(lambda v: False, lambda v: v, x)
    assert y is not x and np.array_equal(y, x)


# --- errors -----------------------------------------------------------------------------------

def test_cond_branch_type_errors_name_leaf_and_avals():
    x = np.ones(3)
    with pytest.raises(TypeError, match=re.escape("output[1]") + ".*f64\\[2\\] in false_fun.*f64\\[3\\] in true_fun"):
        lax.cond(True, lambda v: (v, v), lambda v: (v, v[:2]), x)
    with pytest.raises(TypeError, match="f32\\[3\\].*f64\\[3\\]|f64\\[3\\].*f32\\[3\\]"):
        lax.cond(True, lambda v: v.astype(np.float32), lambda v: v, x)
    with pytest.raises(fd.FuncdiffTypeError, match="same pytree structure"):
        lax.cond(True, lambda v: (v, v), lambda v: [v, v], x)
    with pytest.raises(TypeError, match="pred must be a scalar.*shape \\(3,\\)"):
        lax.cond(x > 0, lambda v: v, lambda v: v, x)
    with pytest.raises(TypeError, match="index must be an integer scalar"):
        lax.switch(1.0, [lambda v: v, lambda v: v], x)


def test_loop_carry_type_errors_name_leaf_and_avals():
    x = np.ones(3)
    with pytest.raises(TypeError, match=re.escape("carry[1]['w']") +
                       ".*f64\\[3\\].*f64\\[1,3\\]"):
        lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, {"w": c[1]["w"][None]}),
                       (0, {"w": x}))
    with pytest.raises(TypeError, match="carry.*f64\\[3\\].*f32\\[3\\]"):
        lax.fori_loop(0, 3, lambda i, v: v.astype(np.float32), x)
    with pytest.raises(TypeError, match="same pytree structure"):
        lax.scan(lambda c, v: ((c, c), v), x, np.ones((2, 3)))
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar.*f64\\[\\]"):
        lax.while_loop(lambda c: fnp.sum(c), lambda c: c, x)
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar.*bool\\[3\\]"):
        lax.while_loop(lambda c: c > 0, lambda c: c, x)
    with pytest.raises(TypeError, match="must return a pair"):
        lax.scan(lambda c, v: c, x, np.ones((2, 3)))
    with pytest.raises(ValueError, match="leading axis length.*xs\\[0\\]: 2.*xs\\[1\\]: 3"):
        lax.scan(lambda c, v: (c, None), x, (np.ones((2, 3)), np.ones((3, 3))))
    with pytest.raises(ValueError, match="length="):
        lax.scan(lambda c, v: (c, None), x, None)
    # a Python-scalar carry takes the body's dtype (not an error)
    assert lax.fori_loop(0, 3, lambda i, v: v + 1.5, 0) == 4.5
    out = lax.fori_loop(0, 3, lambda i, v: v + x[0], 0)
    assert np.asarray(out).dtype == np.float64 and out == 3.0


def _while_stack_avals(f, *args):
    """The per-iteration residual avals the backward while loop pushes on its stack."""
    closed = fd.make_jaxpr(fd.grad(f))(*args)
    found = []

    def walk(j):
        for e in j.eqns:
            if e.primitive.name == "while_lin_transpose":
                fwd = e.params["fwd_jaxpr"]
                nk = len(fwd.invars) - e.params["fwd_nconsts"]
                found.append([v.aval for v in fwd.outvars[nk:]])
            for p in e.params.values():
                for sub in (p if isinstance(p, tuple) else (p,)):
                    if hasattr(sub, "eqns"):
                        walk(sub)
    walk(closed.jaxpr)
    assert len(found) == 1
    return found[0]


def test_while_loop_checkpointed_body_stacks_only_carries():
    def make(ckpt):
        def body(c):
            x, i = c
            for _ in range(3):
                x = fnp.tanh(x * c[0][0] + 0.1)
            return x, i + 1
        if ckpt:
            body = fd.checkpoint(body)
        return lambda x0: fnp.sum(lax.while_loop(lambda c: c[1] < 5, body, (x0, 0))[0])

    x0 = np.linspace(0.1, 0.5, 4)
    plain = _while_stack_avals(make(False), x0)
    ckpt = _while_stack_avals(make(True), x0)
    # checkpointed: the float carry only (the counter is not needed by the backward pass)
    assert [a.str_short() for a in ckpt] == ["f64[4]"]
    assert sum(a.nbytes for a in plain) >= 3 * 4 * 8 > sum(a.nbytes for a in ckpt)
    _close(fd.grad(make(True))(x0), fd.grad(make(False))(x0))
    _close(fd.jit(fd.grad(make(True)))(x0), fd.grad(make(False))(x0))
    check_grads(make(True), (x0,), order=1)


def test_float32_stays_float32_through_loops_and_their_derivatives():
    x32 = np.linspace(0.1, 1, 4).astype(np.float32)

    def f(x):   # the Python-int index (weakly typed) multiplies a float32 carry
        return fnp.sum(lax.fori_loop(0, 5, lambda i, v: v * i * 0.5 + fnp.sin(v), x))

    def f_py(x):
        v = x
        for i in range(5):
            v = v * i * 0.5 + fnp.sin(v)
        return fnp.sum(v)

    def h(x):
        return lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * c[0] * 0.5 + 1, c[1] + 1),
                              (x, 0))[0]

    assert f(x32).dtype == np.float32
    for g in (fd.grad(f)(x32), fd.jit(fd.grad(f))(x32), fd.grad(lambda x: fnp.sum(h(x)))(x32),
              fd.jvp(h, (x32,), (x32,))[1]):
        assert g.dtype == np.float32
    np.testing.assert_allclose(fd.grad(f)(x32), fd.grad(f_py)(x32), rtol=1e-5)


def test_vmap_axes_and_unmapped_predicates():
    xs = np.random.default_rng(2).standard_normal((4, 3, 2))   # batch on axis 1

    def f(c0, xs):
        return lax.scan(lambda c, x: (fnp.sin(c) + x, c * x), c0, xs)

    out = fd.vmap(f, in_axes=(None, 1))(np.zeros(2), xs)
    want = [f(np.zeros(2), xs[:, b]) for b in range(3)]
    _close(out, (np.stack([w[0] for w in want]), np.stack([w[1] for w in want])))
    # unmapped predicate, mapped operands: one cond for the whole batch
    g = lambda p, x: lax.cond(p, lambda v: v * 2.0, lambda v: -v, x)   # noqa: E731
    _close(fd.vmap(g, in_axes=(None, 0))(True, xs[0]), xs[0] * 2.0)
    assert "cond" in _prims(fd.make_jaxpr(fd.vmap(g, in_axes=(None, 0)))(True, xs[0]))
    # mapped predicate: a select
    j = fd.make_jaxpr(fd.vmap(g))(np.array([True, False, True]), xs[0])
    assert "cond" not in _prims(j) and "select" in _prims(j)
    # while_loop: unmapped trip count, mapped carry
    w = lambda n, x: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0),  # noqa
                                    (0, x))[1]
    _close(fd.vmap(w, in_axes=(None, 0))(3, xs[0]), xs[0] * 8.0)
    _close(fd.vmap(w)(np.array([0, 1, 2]), xs[0, :, 0]), xs[0, :, 0] * np.array([1, 2, 4.0]))


def test_while_loop_reverse_over_forward():
    # vjp of a jvp (jacrev(jacfwd(f))): the forward-mode loop's linear part is split again
    a = np.array([0.3, 0.6])

    def f(v):
        return fixed_point(v, np.zeros(2))

    def f_py(v):
        return fixed_point_py(v, np.zeros(2))

    _close(fd.jacrev(fd.jacfwd(f))(a), fd.hessian(f_py)(a), rtol=1e-6)
    t = np.array([1.0, -0.5])
    check_grads(lambda v: fd.jvp(f, (v,), (t,))[1], (a,), order=1, modes=("rev",))
    check_transformed_jaxprs(lambda v: fd.jvp(f, (v,), (t,))[1], a)
