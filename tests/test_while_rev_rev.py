"""Reverse-over-reverse through while_loop (grad(grad(f)), jacrev(jacrev(f))): the
transposed backward loop (a while_sweeps eqn) against closed forms, forward-over-reverse
and finite differences; eagerly, under jit and vmap; several loop bodies; the IR
checker on the transformed programs; what still refuses."""
from __future__ import annotations

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.core.ir import ClosedJaxpr, Jaxpr
from funcdiff.test_util import check_grads


def newton_sqrt(a):
    """sqrt(a) by Newton's method: a fixed number of steps (counter predicate)."""
    def body(c):
        x, i = c
        return (0.5 * (x + a / x), i + 1)
    x, _ = lax.while_loop(lambda c: c[1] < 20, body, (a, 0))
    return x


def newton_sqrt_tol(a):
    """sqrt(a), iterating until converged: a data-dependent trip count (the predicate
    reads a stop_gradient of the state)."""
    def cond(c):
        x, i = c
        x = lax.stop_gradient(x)
        return (fnp.abs(x * x - lax.stop_gradient(a)) > 1e-12 * a) & (i < 100)

    def body(c):
        x, i = c
        return (0.5 * (x + a / x), i + 1)
    x, _ = lax.while_loop(cond, body, (a, 0))
    return x


def tuple_carry(x):
    """A loop carrying a tuple of arrays and closing over the differentiated x."""
    def body(c):
        y, z, i = c
        return (fnp.sin(y) * x, z + y * y, i + 1)
    y, z, _ = lax.while_loop(lambda c: c[2] < 5, body, (x, x, 0))
    return fnp.sum(z * y)


def nested(x):
    """A while_loop inside a while_loop body."""
    def inner(y):
        return lax.while_loop(lambda c: c[1] < 3, lambda c: (fnp.cos(c[0]) * x, c[1] + 1),
                              (y, 0))[0]
    y, _ = lax.while_loop(lambda c: c[1] < 2, lambda c: (inner(c[0]) + c[0], c[1] + 1),
                          (x, 0))
    return fnp.sum(y ** 2)


def test_newton_sqrt_second_derivative_exact():
    for a in (2.0, 0.5, 9.0):
        want = -0.25 * a ** -1.5
        assert abs(fd.grad(fd.grad(newton_sqrt))(a) - want) <= 1e-9 * abs(want)
        assert abs(fd.jit(fd.grad(fd.grad(newton_sqrt)))(a) - want) <= 1e-9 * abs(want)
        assert abs(fd.grad(fd.grad(newton_sqrt_tol))(a) - want) <= 1e-9 * abs(want)


def test_vmap_of_rev_rev_with_data_dependent_trip_counts():
    """Each example converges after its own number of iterations (mapped predicate)."""
    a = np.array([0.01, 2.0, 3.0, 1e4])
    want = -0.25 * a ** -1.5
    for f in (fd.vmap(fd.grad(fd.grad(newton_sqrt_tol))),
              fd.jit(fd.vmap(fd.grad(fd.grad(newton_sqrt_tol))))):
        np.testing.assert_allclose(f(a), want, rtol=1e-9)


@pytest.mark.parametrize("f", [tuple_carry, nested], ids=lambda f: f.__name__)
def test_jacrev_jacrev_equals_jacfwd_jacrev(f):
    x = np.array([0.3, 0.7, -0.4])
    want = fd.jacfwd(fd.jacrev(f))(x)
    np.testing.assert_allclose(fd.jacrev(fd.jacrev(f))(x), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fd.jit(fd.jacrev(fd.jacrev(f)))(x), want, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(fd.hessian(f)(x), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [newton_sqrt, newton_sqrt_tol, tuple_carry, nested],
                         ids=lambda f: f.__name__)
def test_finite_differences(f):
    x = 1.3 if f in (newton_sqrt, newton_sqrt_tol) else np.array([0.3, 0.7, -0.4])
    # grad is checked in reverse mode against forward mode and finite differences
    check_grads(fd.grad(f), (x,), order=1, modes=("rev",))
    check_grads(fd.grad(f), (x,), order=1, modes=("fwd",))


def test_closure_over_two_differentiated_values():
    """Mixed second derivatives: the loop body closes over x and the init is y."""
    def f(x, y):
        def body(c):
            z, i = c
            return (z * fnp.tanh(x * z) + y, i + 1)
        return lax.while_loop(lambda c: c[1] < 4, body, (y, 0))[0]

    x, y = 0.4, 0.9
    for argnums in ((0, 0), (0, 1), (1, 0), (1, 1)):
        rr = fd.grad(fd.grad(f, argnums=argnums[0]), argnums=argnums[1])(x, y)
        fr = fd.jacfwd(fd.grad(f, argnums=argnums[0]), argnums=argnums[1])(x, y)
        assert abs(rr - fr) <= 1e-12 * max(1.0, abs(fr))


def test_zero_trip_loop():
    """The loop never runs: f(x) = x**3 (the init), so f'' = 6x."""
    def f(x):
        y, _ = lax.while_loop(lambda c: c[1] < 0, lambda c: (fnp.sin(c[0]) * x, c[1] + 1),
                              (x ** 3, 0))
        return y

    for g in (fd.grad(fd.grad(f)), fd.jit(fd.grad(fd.grad(f)))):
        assert abs(g(0.7) - 6 * 0.7) < 1e-12


def test_integer_carries_get_no_gradient():
    """An integer carry alongside the float one: its counter shapes the result."""
    def f(x):
        def body(c):
            y, n = c
            return (y * x + n, n + 2)
        return lax.while_loop(lambda c: c[1] < 6, body, (x, 0))[0]
    # y = ((x*x + 0)*x + 2)*x + 4 = x**4 + 2x + 4: f'' = 12 x**2
    for g in (fd.grad(fd.grad(f)), fd.jit(fd.grad(fd.grad(f)))):
        assert abs(g(1.1) - 12 * 1.1 ** 2) < 1e-12


def _check_all(jaxpr):
    fd.check_jaxpr(jaxpr if isinstance(jaxpr, ClosedJaxpr) else ClosedJaxpr(jaxpr, []))
    j = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    names = {e.primitive.name for e in j.eqns}
    for e in j.eqns:
        for p in e.params.values():
            for s in (p if isinstance(p, (tuple, list)) else [p]):
                s = s[0] if isinstance(s, tuple) and s and isinstance(s[0], Jaxpr) else s
                if isinstance(s, (Jaxpr, ClosedJaxpr)):
                    names |= _check_all(s)
    return names


def test_ir_checks():
    x = np.array([0.3, 0.7, -0.4])
    for j in (fd.make_jaxpr(fd.grad(fd.grad(newton_sqrt)))(2.0),
              fd.make_jaxpr(fd.jacrev(fd.jacrev(tuple_carry)))(x),
              fd.make_jaxpr(fd.vmap(fd.grad(fd.grad(newton_sqrt_tol))))(x + 2)):
        assert "while_sweeps" in _check_all(j)
    assert "while_sweeps" in fd.jit(fd.grad(fd.grad(newton_sqrt))).lower(2.0).source


def test_third_order():
    """On top of two reverse passes a third derivative is refused (clearly); with the
    second pass in forward mode it works: d3 sqrt(a) = 3/8 a^(-5/2)."""
    for f in (fd.grad(fd.grad(fd.grad(newton_sqrt))),
              fd.jacfwd(fd.grad(fd.grad(newton_sqrt)))):
        with pytest.raises(fd.GradientError,
                           match=r"reverse-over-reverse derivative.*once more.*jacfwd"):
            f(2.0)
    want = 0.375 * 2.0 ** -2.5
    for f in (fd.jacfwd(fd.jacfwd(fd.grad(newton_sqrt))),
              fd.grad(fd.jacfwd(fd.grad(newton_sqrt)))):
        assert abs(f(2.0) - want) <= 1e-9 * want


@pytest.mark.parametrize("checkpointed", [False, True])
def test_checkpointed_body(checkpointed):
    """A checkpointed body (the first reverse pass stacks only carries) differentiates
    in reverse twice as well."""
    def relax(a):
        def step(c):
            return (fnp.tanh(c[0] * a + 0.1), c[1] + 1)
        body = fd.checkpoint(step) if checkpointed else step
        x, _ = lax.while_loop(lambda c: c[1] < 6, body, (fnp.ones(3) * a, 0))
        return fnp.sum(x ** 2)

    want = fd.jacfwd(fd.grad(relax))(0.7)
    for g in (fd.grad(fd.grad(relax)), fd.jit(fd.grad(fd.grad(relax)))):
        assert abs(g(0.7) - want) <= 1e-12 * abs(want)
