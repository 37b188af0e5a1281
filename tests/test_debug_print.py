"""funcdiff.debug.print / funcdiff.debug.callback: run when the program runs, on NumPy
values, once per example under vmap, on the forward pass under grad, never dropped,
merged or folded by jit's passes, and never changing a derivative."""
from __future__ import annotations

import re
from unittest import mock

import numpy as np
import pytest

import funcdiff as fd
from funcdiff import lax
from funcdiff.core.check import check_jaxpr
from funcdiff.core.errors import FuncdiffTypeError
from funcdiff.core.trace import state
from _helpers import assert_same


def _lines(capsys):
    return capsys.readouterr().out.splitlines()


def f_print(x):
    fd.debug.print("x={} s={s}", x, s=np.sum(x))
    return np.sum(np.sin(x))


X = np.array([0.5, 1.0, 2.0])


def _expect(x):
    return f"x={x} s={np.sum(x)}"


def test_plain_call_prints_at_once(capsys):
    f_print(X)
    assert _lines(capsys) == [_expect(X)]


def test_callback_plain_gets_values():
    seen = []
    fd.debug.callback(lambda a, b=None: seen.append((a, b)), X, b="static")
    assert len(seen) == 1
    assert_same(seen[0][0], X)
    assert seen[0][1] == "static"


def test_jit_prints_values_each_call(capsys):
    jf = fd.jit(f_print)
    jf(X)
    jf(X + 1)          # a cache hit: the same compiled program
    jf(X)
    out = _lines(capsys)
    assert out == [_expect(X), _expect(X + 1), _expect(X)]
    assert not any("Trac" in line for line in out)


def test_jit_constant_and_no_operands_print_at_run_time_not_trace_time(capsys):
    jf = fd.jit(lambda x: (fd.debug.print("hello"), fd.debug.print("c {}", np.ones(2)),
                           x * 2)[2])
    jf.lower(1.0)          # tracing and compiling print nothing
    assert _lines(capsys) == []
    jf(1.0)
    jf(2.0)
    assert _lines(capsys) == ["hello", f"c {np.ones(2)}"] * 2


def test_jit_does_not_merge_equal_prints(capsys):
    fd.jit(lambda x: (fd.debug.print("a {}", x), fd.debug.print("a {}", x), x)[2])(3.0)
    assert _lines(capsys) == ["a 3.0", "a 3.0"]


def test_dce_keeps_print_of_otherwise_unused_values(capsys):
    def f(x):
        y = x * 3.0                  # used only by the print
        fd.debug.print("y={}", y)
        return x + 1.0
    lowered = fd.jit(f).lower(2.0)
    assert "debug_callback" in str(lowered.jaxpr)
    fd.jit(f)(2.0)
    assert _lines(capsys) == ["y=6.0"]
    # eager transforms' DCE too
    fd.grad(f)(2.0)
    assert _lines(capsys) == ["y=6.0"]


def test_vmap_prints_once_per_example(capsys):
    xs = np.arange(6.0).reshape(2, 3)
    out = fd.vmap(f_print)(xs)
    assert_same(out, np.sum(np.sin(xs), axis=1))
    assert _lines(capsys) == [_expect(xs[0]), _expect(xs[1])]
    fd.jit(fd.vmap(f_print))(xs)
    assert _lines(capsys) == [_expect(xs[0]), _expect(xs[1])]


def test_vmap_in_axes_1_and_unbatched_operand(capsys):
    xs = np.arange(6.0).reshape(3, 2)
    fd.vmap(lambda x, c: fd.debug.print("{} {}", x, c), in_axes=(1, None))(xs, 7.0)
    assert _lines(capsys) == [f"{xs[:, 0]} 7.0", f"{xs[:, 1]} 7.0"]


@pytest.mark.parametrize("wrap", [lambda g: g, fd.jit], ids=["eager", "jit"])
def test_grad_prints_forward_values_and_keeps_gradient(capsys, wrap):
    g = wrap(fd.grad(f_print))(X)
    assert_same(g, np.cos(X))                           # closed form
    assert _lines(capsys) == [_expect(X)]               # once, primal values
    g2 = wrap(fd.grad(f_print))(X)                      # eager cache / jit cache
    assert_same(g2, np.cos(X))
    assert _lines(capsys) == [_expect(X)]


def test_vjp_jvp_linearize_print_forward_once(capsys):
    y, vjp_fn = fd.vjp(f_print, X)
    assert _lines(capsys) == [_expect(X)]
    assert_same(vjp_fn(1.0)[0], np.cos(X))
    assert _lines(capsys) == []                          # the backward pass prints nothing
    _, t = fd.jvp(f_print, (X,), (np.ones(3),))
    assert_same(t, np.sum(np.cos(X)))
    assert _lines(capsys) == [_expect(X)]


def test_callback_under_grad_sees_primals_not_tangents():
    seen = []

    def f(x):
        y = x * x
        fd.debug.callback(lambda v: seen.append(np.array(v)), y)
        return np.sum(y)

    assert_same(fd.grad(f)(X), 2 * X)
    assert len(seen) == 1
    assert_same(seen[0], X * X)


def _cond(x):
    return lax.cond(x > 0, lambda v: (fd.debug.print("pos {}", v), v * 2)[1],
                    lambda v: (fd.debug.print("neg {}", v), v * 3)[1], x)


def _while(x):
    def body(c):
        fd.debug.print("i={} v={}", c[0], c[1])
        return c[0] + 1, c[1] * 2
    return lax.while_loop(lambda c: c[0] < 3, body, (0, x))[1]


def _scan(x):
    def body(c, y):
        fd.debug.print("c={} y={}", c, y)
        return c * y, c
    return lax.scan(body, x, np.array([1.0, 2.0, 3.0]))[0]


def _fori(x):
    return lax.fori_loop(0, 3, lambda i, v: (fd.debug.print("i={} v={}", i, v), v * 2)[1], x)


CONTROL = {
    "cond": (_cond, ["pos 1.5"], 2.0),
    "while": (_while, ["i=0 v=1.5", "i=1 v=3.0", "i=2 v=6.0"], 8.0),
    "scan": (_scan, ["c=1.5 y=1.0", "c=1.5 y=2.0", "c=3.0 y=3.0"], 6.0),
    "fori": (_fori, ["i=0 v=1.5", "i=1 v=3.0", "i=2 v=6.0"], 8.0),
}


@pytest.mark.parametrize("name", sorted(CONTROL))
@pytest.mark.parametrize("mode", ["eager", "jit", "grad", "jit_grad"])
def test_control_flow_bodies_keep_print(capsys, name, mode):
    fn, expected, dfdx = CONTROL[name]
    run = {"eager": fn, "jit": fd.jit(fn), "grad": fd.grad(fn),
           "jit_grad": fd.jit(fd.grad(fn))}[mode]
    out = run(1.5)
    if mode in ("grad", "jit_grad"):
        assert_same(out, dfdx)     # every function here is linear in x: closed form
    assert _lines(capsys) == expected
    if mode == "jit":
        run(1.5)                   # a cache hit prints again
        assert _lines(capsys) == expected


def test_cond_branch_not_taken_does_not_print(capsys):
    fd.jit(_cond)(-1.0)
    assert _lines(capsys) == ["neg -1.0"]


def test_checkpoint_prints_on_forward_pass_only(capsys):
    def g(x):
        fd.debug.print("ckpt {}", x)
        return np.sin(np.sin(x))

    def f(x):
        return np.sum(fd.checkpoint(g)(x))

    want = np.cos(np.sin(X)) * np.cos(X)
    for run in (fd.grad(f), fd.jit(fd.grad(f))):
        assert_same(run(X), want)
        # the backward pass recomputes sin(x), but does not print again
        assert _lines(capsys) == [f"ckpt {X}"]


HOSTILE = [
    "braces {{literal}} {}",
    "quote ' and \" and ''' and \"\"\" {}",
    "newline\nsecond line {}\\n",
    "'); import os; os.system('echo pwned'); print('{}",
    "\"\"\"\nraise SystemExit\n\"\"\" {}",
    "# comment {} \x00 \u2028 é",
]


@pytest.mark.parametrize("fmt", HOSTILE)
def test_hostile_format_strings_print_verbatim_under_jit(capsys, fmt):
    def f(x):
        fd.debug.print(fmt, x)
        return x + 1.0

    lowered = fd.jit(f).lower(2.0)
    assert fmt not in lowered.source      # kept out of the source, as a constant
    fd.jit(f)(2.0)
    assert capsys.readouterr().out == fmt.format(2.0) + "\n"
    # the IR printer writes it as a repr: one line, nothing unescaped
    text = str(fd.make_jaxpr(f)(2.0))
    line = [ln for ln in text.splitlines() if "debug_callback" in ln]
    assert len(line) == 1 and repr(fmt) in line[0]


def test_hostile_keyword_names(capsys):
    kw = {"a b": 1.0}
    with pytest.raises(fd.FuncdiffValueError, match="keyword value 'x'"):   # not passed
        fd.debug.print("{x}", **kw)
    with pytest.raises(fd.FuncdiffValueError, match="keyword value 'x'"):   # under jit too
        fd.jit(lambda x: (fd.debug.print("{x}", y=x), x)[1])(1.0)
    assert not state.stack
    fd.jit(lambda x: (fd.debug.callback(lambda **k: print(sorted(k)), **{"a'b": x}), x)[1])(
        1.0)
    assert _lines(capsys) == ["[\"a'b\"]"]


class Boom(Exception):
    pass


def _raise(*_):
    raise Boom("from the callback")


@pytest.mark.parametrize("mode", ["eager", "jit", "grad", "jit_grad", "vmap"])
def test_callback_that_raises_propagates_and_leaves_no_trace_state(mode):
    def f(x):
        fd.debug.callback(_raise, x)
        return np.sum(x * x)

    run = {"eager": f, "jit": fd.jit(f), "grad": fd.grad(f),
           "jit_grad": fd.jit(fd.grad(f)), "vmap": fd.vmap(f)}[mode]
    with pytest.raises(Boom, match="from the callback"):
        run(np.ones((2, 2)))
    assert not state.stack
    # and everything still works afterwards
    assert_same(fd.grad(lambda x: np.sum(x * x))(X), 2 * X)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(FuncdiffTypeError, match="`fmt` must be a str"):
        fd.debug.print(3, 1.0)
    with pytest.raises(FuncdiffTypeError, match="`callback` must be callable"):
        fd.debug.callback("not callable", 1.0)


@pytest.mark.parametrize("transform", ["plain", "jit", "grad"])
@pytest.mark.parametrize("fmt,args,kwargs,match", [
    ("x = {} {}", (1,), {}, "2 positional values"),
    ("x = {1}", (1,), {}, "positional value 1"),
    ("y = {y}", (), {}, "keyword value 'y'"),
    ("x = {", (1,), {}, "malformed"),
    ("x = {0.real} {w[0]}", (1,), {}, "keyword value 'w'"),
    ("x = {} {0}", (1,), {}, "automatic and manual"),
])
def test_format_string_mismatch_is_refused_at_the_call(transform, fmt, args, kwargs, match):
    """A format string that names a value not passed fails when ``print`` is called (under
    jit: when tracing), with a funcdiff error, not as a KeyError when the program runs."""
    def f(x):
        fd.debug.print(fmt, *[x] * len(args), **kwargs)
        return np.sum(x * x)
    run = {"plain": f, "jit": fd.jit(f), "grad": fd.grad(f)}[transform]
    with pytest.raises(fd.FuncdiffValueError, match=match):
        run(X)
    assert not state.stack


def test_format_fields_that_are_passed_are_accepted(capsys):
    fd.debug.print("{0} {x.shape} {0} {{literal}} {w[1]:.1f}", np.ones(2), x=np.ones(3),
                   w=[0.0, 2.5])
    assert capsys.readouterr().out == "[1. 1.] (3,) [1. 1.] {literal} 2.5\n"


def test_ir_checks_and_cost_is_zero():
    jaxpr = fd.make_jaxpr(f_print)(X)
    check_jaxpr(jaxpr)
    def g(x):
        fd.debug.print("{}", x)
        return np.sum(np.sin(x))
    with_print = fd.jit(g).lower(X).cost_analysis()
    without = fd.jit(lambda x: np.sum(np.sin(x))).lower(X).cost_analysis()
    assert with_print["flops"] == without["flops"] > 0
    assert with_print["transcendentals"] == without["transcendentals"] > 0


def test_callback_keeps_its_arrays_intact():
    """Arrays handed to a callback are never later overwritten in place by jit's code."""
    kept = []

    def f(x):
        y = np.sin(x) * 2.0
        fd.debug.callback(kept.append, y)
        return np.exp(y) + 1.0           # could reuse y's buffer if nothing viewed it

    x = np.linspace(0.0, 1.0, 100_000)
    with mock.patch.object(fd.config, "numexpr_fusion", False):   # NumPy's out= path
        source = fd.jit(f).lower(x).source
        fd.jit(f)(x)
    name = re.search(r"_debug_callback\d+\((\w+)\)", source).group(1)
    assert f"out={name})" not in source      # its buffer is not reused
    assert_same(kept[0], np.sin(x) * 2.0)


def test_public_namespace():
    assert fd.debug.__all__ == ["print", "callback"]
    assert "debug" in dir(fd)


def test_custom_rules_print_once(capsys):
    @fd.custom_vjp
    def f(x):
        fd.debug.print("primal {}", x)
        return np.sin(x)

    def f_fwd(x):
        fd.debug.print("fwd {}", x)
        return np.sin(x), np.cos(x)

    def f_bwd(c, g):
        fd.debug.print("bwd {}", g)
        return (c * g,)

    f.defvjp(f_fwd, f_bwd)
    assert_same(fd.grad(f)(1.0), np.cos(1.0))
    # eager grad runs the function itself for the forward values (one print), then bwd
    assert _lines(capsys) == ["primal 1.0", "bwd 1.0"]
    assert_same(fd.jit(fd.grad(f))(1.0), np.cos(1.0))
    assert _lines(capsys) == ["fwd 1.0", "bwd 1.0"]        # as JAX: fwd, then bwd

    @fd.custom_jvp
    def h(x):
        fd.debug.print("h {}", x)
        return np.sin(x)

    h.defjvp(lambda p, t: (np.sin(p[0]), np.cos(p[0]) * t[0]))
    assert_same(fd.grad(h)(1.0), np.cos(1.0))
    assert _lines(capsys) == ["h 1.0"]


def test_nested_and_jacobians_print_forward_values(capsys):
    def f(x):
        fd.debug.print("f {}", x)
        return x ** 3

    assert_same(fd.grad(fd.grad(f))(2.0), 12.0)
    out = _lines(capsys)
    assert out and set(out) == {"f 2.0"}     # nested transforms may print more than once
    xs = np.array([1.0, 2.0])
    for jac in (fd.jacfwd, fd.jacrev):
        assert_same(jac(f)(xs), np.diag(3 * xs ** 2))
        assert _lines(capsys) == [f"f {xs}"]


def test_print_of_a_tangent_raises_in_reverse_mode_and_prints_in_forward(capsys):
    """A print inside a custom_jvp rule, on the tangent: forward mode prints it; reverse
    mode never computes tangents, so it raises (as JAX) instead of dropping the print."""
    @fd.custom_jvp
    def f(x):
        return np.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        fd.debug.print("tangent {}", t)
        return f(x), np.cos(x) * t

    _, t = fd.jvp(f, (1.0,), (2.0,))
    assert _lines(capsys) == ["tangent 2.0"] and np.isclose(t, 2 * np.cos(1.0))
    for g in (fd.grad(f), fd.jit(fd.grad(f))):
        with pytest.raises(fd.GradientError, match="called on a tangent"):
            g(1.0)
        assert not state.stack
