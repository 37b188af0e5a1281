"""Core: printer, checker, trace stack hygiene, threads, big jaxprs, weak types, error
messages (tracer leaks, array conversion, mutation, shape errors) and the interpreter's
freeing of intermediates."""
from __future__ import annotations

import inspect
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core import ClosedJaxpr, Eqn, Jaxpr, ShapedArray, Var
from funcdiff.core.check import JaxprTypeError
from funcdiff.core.trace import state
from funcdiff.primitives import elementwise as ew

from _helpers import nep50


def _line_of(fn, needle):
    """Absolute line number of the first source line of ``fn`` containing ``needle``."""
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if needle in line:
            return start + i
    raise AssertionError(f"{needle!r} not in the source of {fn.__name__}")


# --- printer -----------------------------------------------------------------------------

_CONST = np.arange(3.0)


def _printed_fn(x, y):
    a = fnp.sin(x) * 2.0
    _unused = fnp.cos(x)  # noqa: F841 - its binder must print as `_`
    b = a + _CONST
    return fnp.sum(b * y, axis=0), x


def test_printer_exact_text():
    closed = fd.make_jaxpr(_printed_fn)(np.ones((2, 3)), np.float64(3.0))
    expected = (
        "{ lambda a:f64[3]; b:f64[2,3] c:f64[]. let\n"
        "    d:f64[2,3] = sin b\n"
        "    e:f64[2,3] = mul d 2.0\n"
        "    _:f64[2,3] = cos b\n"
        "    f:f64[2,3] = add e a\n"
        "    g:f64[2,3] = mul f c\n"
        "    h:f64[3] = reduce_sum[axes=(0,)] g\n"
        "  in (h, b) }")
    assert str(closed) == expected
    assert str(closed.jaxpr) == expected
    assert closed.consts[0] is _CONST


def test_printer_single_output_and_typed_literal():
    closed = fd.make_jaxpr(lambda x: x * np.float32(2))(np.ones(2, np.float32))
    assert str(closed) == ("{ lambda ; a:f32[2]. let\n"
                           "    b:f32[2] = mul a 2.0:f32\n"
                           "  in (b,) }")


def test_printer_params_sorted_and_names_roll_over():
    def f(x):
        for _ in range(30):
            x = x + 1.0
        return fnp.transpose(fnp.reshape(x, (3, 1)))

    text = str(fd.make_jaxpr(f)(np.ones(3)))
    assert "ba:f64[3] = add" in text          # a..z, then ba, bb, ...
    assert "reshape[shape=(3, 1)]" in text
    assert "transpose[perm=(1, 0)]" in text
    assert text.startswith("{ lambda ; a:f64[3]. let\n") and text.endswith(",) }")


def test_printer_with_source_lines():
    from funcdiff.core.ir import pp_jaxpr
    closed = fd.make_jaxpr(_printed_fn)(np.ones((2, 3)), np.float64(3.0))
    line = _line_of(_printed_fn, "fnp.sin(x)")
    assert f"sin b  # {__file__}:{line} (_printed_fn)" in pp_jaxpr(closed, source=True)


# --- checker -----------------------------------------------------------------------------

def _three_eqns(x):
    y = fnp.sin(x)
    z = y * x
    return fnp.exp(z)


def _jaxpr3():
    closed = fd.make_jaxpr(_three_eqns)(np.ones(3))
    fd.check_jaxpr(closed)   # the original is fine
    return closed.jaxpr


def test_check_jaxpr_accepts_traced_jaxprs():
    def f(x, y):
        return fnp.sum(fnp.dot(x, y) ** 2) + fnp.max(x)
    x, y = np.ones((2, 3)), np.ones((3, 4))
    for closed in (fd.make_jaxpr(f)(x, y), fd.make_jaxpr(fd.grad(f))(x, y),
                   fd.make_jaxpr(lambda a, b: fd.jvp(f, (a, b), (a, b)))(x, y)):
        assert fd.check_jaxpr(closed) is None


def test_check_jaxpr_wrong_out_aval():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    bad = Eqn(e1.primitive, e1.invars, [Var(ShapedArray((4,), np.float64))], e1.params)
    with pytest.raises(JaxprTypeError) as info:
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars, [e0, bad, e2]))
    msg = str(info.value)
    assert "eqn 1 (mul)" in msg
    assert "f64[4]" in msg and "f64[3]" in msg
    assert ">>> c:f64[4] = mul b a" in msg     # the bad eqn, named as the printer would
    assert isinstance(info.value, fd.FuncdiffError) and isinstance(info.value, TypeError)


def test_check_jaxpr_wrong_dtype():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    bad = Eqn(e0.primitive, e0.invars, [Var(ShapedArray((3,), np.float32))], e0.params)
    with pytest.raises(JaxprTypeError, match=r"eqn 0 \(sin\).*f32\[3\].*f64\[3\]"):
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, [bad.outvars[0]], [bad]))


def test_check_jaxpr_use_before_def():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    with pytest.raises(JaxprTypeError) as info:
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars, [e1, e0, e2]))
    msg = str(info.value)
    assert "eqn 0 (mul)" in msg and "used before it is defined" in msg
    assert ">>> c:f64[3] = mul b a" in msg


def test_check_jaxpr_undefined_output():
    j = _jaxpr3()
    with pytest.raises(JaxprTypeError, match="outputs.*used before it is defined"):
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars, j.eqns[:2]))


def test_check_jaxpr_double_assignment():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    dbl = Eqn(e2.primitive, e2.invars, e1.outvars, e2.params)
    with pytest.raises(JaxprTypeError) as info:
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars, [e0, e1, dbl]))
    msg = str(info.value)
    assert "eqn 2 (exp)" in msg and "assigned twice" in msg
    assert ">>> " in msg


def test_check_jaxpr_invar_assigned_by_eqn():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    bad = Eqn(e0.primitive, e0.invars, [j.invars[0]], e0.params)
    with pytest.raises(JaxprTypeError, match=r"eqn 0 \(sin\).*assigned twice"):
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars, [bad, e1, e2]))


def test_check_jaxpr_wrong_operand_shape():
    j = _jaxpr3()
    e0, e1, e2 = j.eqns
    other = Var(ShapedArray((4,), np.float64))
    bad = Eqn(e1.primitive, [e1.invars[0], other], e1.outvars, e1.params)
    with pytest.raises(JaxprTypeError, match=r"eqn 1 \(mul\).*abstract evaluation failed"):
        fd.check_jaxpr(Jaxpr(j.constvars, j.invars + [other], j.outvars, [e0, bad, e2]))


def test_check_jaxpr_const_count():
    closed = fd.make_jaxpr(_printed_fn)(np.ones((2, 3)), 3.0)
    broken = ClosedJaxpr.__new__(ClosedJaxpr)
    broken.jaxpr, broken.consts = closed.jaxpr, []
    with pytest.raises(JaxprTypeError, match="consts"):
        fd.check_jaxpr(broken)


# --- the trace stack after exceptions --------------------------------------------------

class _Boom(Exception):
    pass


def _transforms():
    return {
        "make_jaxpr": lambda f, x: fd.make_jaxpr(f)(x),
        "grad": lambda f, x: fd.grad(f)(x),
        "jvp": lambda f, x: fd.jvp(f, (x,), (x,)),
        "vjp": lambda f, x: fd.vjp(f, x),
        "grad_of_grad": lambda f, x: fd.grad(fd.grad(f))(x),
        "jvp_of_grad": lambda f, x: fd.jvp(fd.grad(f), (x,), (x,)),
    }


@pytest.mark.parametrize("exc", [_Boom, KeyboardInterrupt, ZeroDivisionError])
@pytest.mark.parametrize("name", list(_transforms()))
def test_trace_stack_empty_after_exception(name, exc):
    def f(x):
        y = fnp.sin(x) * x
        assert state.stack, "f must run under a trace"
        raise exc("inside f")
        return y  # noqa: unreachable

    with pytest.raises(exc):
        _transforms()[name](f, 1.5)
    assert state.stack == []
    assert state.memo is None
    # and everything works afterwards
    assert fd.grad(lambda x: x * x)(3.0) == 6.0
    assert state.stack == []


def test_trace_stack_empty_after_exception_in_rule_or_primitive():
    # an error raised by funcdiff itself (shape error) while tracing
    with pytest.raises(fd.ShapeError):
        fd.grad(lambda x: fnp.sum(x + np.ones(4)))(np.ones(3))
    assert state.stack == []
    # an error raised inside a custom_jvp rule, i.e. during the jvp pass
    @fd.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        raise _Boom

    with pytest.raises(_Boom):
        fd.grad(f)(1.0)
    assert state.stack == []


def test_tracers_of_an_aborted_trace_are_dead():
    saved = []

    def f(x):
        saved.append(x * 2.0)
        raise _Boom

    with pytest.raises(_Boom):
        fd.grad(f)(1.0)
    with pytest.raises(fd.TracerLeakError):
        saved[0] + 1.0


# --- threads ------------------------------------------------------------------------------

def test_two_threads_trace_independently():
    barrier = threading.Barrier(2, timeout=30)

    def f1(x):
        y = fnp.sin(x)
        barrier.wait()
        y = y * 3.0
        barrier.wait()
        return fnp.sum(y)

    def f2(x):
        y = fnp.cos(x)
        barrier.wait()
        y = fnp.exp(y)
        barrier.wait()
        return y - 1.0

    x1, x2 = np.ones(3), np.ones((2, 2), np.float32)
    results, errors = {}, []

    def run(name, f, x):
        try:
            results[name] = fd.make_jaxpr(f)(x)
            results[name + "_grad"] = fd.grad(lambda v: fnp.sum(f(v)))(x)
            results[name + "_stack"] = list(state.stack)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=("a", f1, x1)),
               threading.Thread(target=run, args=("b", f2, x2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert str(results["a"]) == ("{ lambda ; a:f64[3]. let\n"
                                 "    b:f64[3] = sin a\n"
                                 "    c:f64[3] = mul b 3.0\n"
                                 "    d:f64[] = reduce_sum[axes=(0,)] c\n"
                                 "  in (d,) }")
    assert str(results["b"]) == ("{ lambda ; a:f32[2,2]. let\n"
                                 "    b:f32[2,2] = cos a\n"
                                 "    c:f32[2,2] = exp b\n"
                                 "    d:f32[2,2] = sub c 1.0\n"
                                 "  in (d,) }")
    fd.check_jaxpr(results["a"])
    fd.check_jaxpr(results["b"])
    np.testing.assert_allclose(results["a_grad"], 3 * np.cos(x1))
    np.testing.assert_allclose(results["b_grad"], -np.exp(np.cos(x2)) * np.sin(x2),
                               rtol=1e-6)
    assert results["b_grad"].dtype == np.float32
    assert results["a_stack"] == [] and results["b_stack"] == []


def test_trace_stack_is_thread_local():
    seen = {}

    def other():
        seen["stack"] = list(state.stack)
        seen["grad"] = fd.grad(lambda x: x ** 3)(2.0)

    def f(x):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return x * x

    fd.make_jaxpr(f)(1.0)
    assert seen["stack"] == []
    assert seen["grad"] == 12.0


# --- a 100,000-eqn jaxpr ------------------------------------------------------------------

def test_hundred_thousand_eqns():
    steps = 50_000          # two eqns a step

    def f(x):
        for _ in range(steps):
            x = x * 1.0001 + 0.1
        return x

    x = np.linspace(-1.0, 1.0, 3)
    closed = fd.make_jaxpr(f)(x)
    assert len(closed.eqns) == 2 * steps
    text = str(closed)
    assert text.count("\n") == 2 * steps + 1
    assert " = add " in text.splitlines()[-2]
    fd.check_jaxpr(closed)
    (out,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    expected = x.copy()
    for _ in range(steps):
        expected = expected * 1.0001 + 0.1
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_long_chain_differentiates_without_recursion():
    steps = 5_000

    def f(x):
        for _ in range(steps):
            x = x * 1.0001 + 0.1
        return fnp.sum(x)

    x = np.ones(2)
    np.testing.assert_allclose(fd.grad(f)(x), np.full(2, 1.0001 ** steps), rtol=1e-9)
    _, t = fd.jvp(f, (x,), (np.ones(2),))
    np.testing.assert_allclose(t, 2 * 1.0001 ** steps, rtol=1e-9)


# --- weak types ---------------------------------------------------------------------------

_WEAK_OPS = {
    "x * 2.0": lambda x: x * 2.0,
    "2.0 * x": lambda x: 2.0 * x,
    "x + 1": lambda x: x + 1,
    "x / 3.0": lambda x: x / 3.0,
    "3.0 - x": lambda x: 3.0 - x,
    "x ** 2": lambda x: x ** 2,
    "x ** 2.5": lambda x: x ** 2.5,
    "maximum(x, 0.0)": lambda x: fnp.maximum(x, 0.0),
    "where(x > 0, x, 0.0)": lambda x: fnp.where(x > 0, x, 0.0),
    "sin(x) * 1e3": lambda x: fnp.sin(x) * 1e3,
}


_ORDERED = ("maximum", ">")   # no ordering on complex numbers


@pytest.mark.parametrize("name,dtype", [
    (name, dtype) for name in _WEAK_OPS for dtype in (np.float32, np.float16, np.complex64)
    if not (dtype == np.complex64 and any(o in name for o in _ORDERED))])
def test_weak_python_scalars_keep_dtype(name, dtype):
    op = _WEAK_OPS[name]
    x = (np.arange(1, 4) / 4).astype(dtype)
    with np.errstate(over="ignore"):
        want = op(x)                              # NumPy 2's own answer
        eager = op(fnp.asarray(x))
    assert want.dtype == dtype
    assert np.asarray(eager).dtype == dtype
    closed = fd.make_jaxpr(op)(x)
    fd.check_jaxpr(closed)
    assert closed.out_avals[0].dtype == dtype
    with np.errstate(over="ignore"):
        (traced,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    assert traced.dtype == dtype
    np.testing.assert_allclose(traced, want, rtol=1e-3)


def test_weak_type_through_grad_and_jvp_float32():
    x = np.array([0.5, 1.5], np.float32)

    def f(x):
        return fnp.sum(fnp.sin(x * 2.0) + 1.0 / (x + 3))

    g = fd.grad(f)(x)
    assert g.dtype == np.float32
    y, t = fd.jvp(f, (x,), (np.ones(2, np.float32),))
    assert np.asarray(y).dtype == np.float32 and np.asarray(t).dtype == np.float32
    assert fd.make_jaxpr(fd.grad(f))(x).out_avals[0].dtype == np.float32


def test_strong_numpy_scalar_promotes_like_numpy():
    x = np.ones(2, np.float32)
    op = lambda x: x * np.float64(2.0)  # noqa: E731 - NumPy 2: strong float64 promotes
    with nep50():
        assert op(x).dtype == np.float64
    closed = fd.make_jaxpr(op)(x)
    assert closed.out_avals[0].dtype == np.float64


def test_weak_scalar_argument_aval():
    closed = fd.make_jaxpr(lambda x, s: x * s)(np.ones(2, np.float32), 2.0)
    assert closed.in_avals[1].weak_type
    assert closed.out_avals[0].dtype == np.float32


# --- errors: leaks, array conversion, mutation, shapes ------------------------------------

def test_tracer_leak_from_grad_names_creation_site():
    leaked = []

    def f(x):
        leaked.append(fnp.sin(x) * 2.0)
        return fnp.sum(x)

    fd.grad(f)(np.ones(3))
    with pytest.raises(fd.TracerLeakError) as info:
        leaked[0] + 1.0
    msg = str(info.value)
    assert f"{__file__}:{_line_of(f, 'leaked.append')}" in msg   # where it was made
    assert "escaped" in msg
    assert isinstance(info.value, fd.FuncdiffError)
    with pytest.raises(fd.TracerLeakError):
        fnp.sin(leaked[0])
    with pytest.raises(fd.TracerLeakError):
        float(leaked[0])
    assert "leaked" in repr(leaked[0])


@pytest.mark.parametrize("how", ["make_jaxpr", "jvp", "vjp"])
def test_tracer_leak_from_other_transforms(how):
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    if how == "make_jaxpr":
        fd.make_jaxpr(f)(1.0)
    elif how == "jvp":
        fd.jvp(f, (1.0,), (1.0,))
    else:
        fd.vjp(f, 1.0)[1](1.0)
    with pytest.raises(fd.TracerLeakError, match="escaped"):
        leaked[0] * 3.0
    # used inside a *later* transform it is still a leak, not a silent constant
    with pytest.raises(fd.TracerLeakError):
        fd.grad(lambda y: y * leaked[0])(2.0)


def test_numpy_asarray_of_tracer():
    def f(x):
        return np.asarray(x) + 1

    with pytest.raises(fd.TracerArrayConversionError) as info:
        fd.grad(lambda x: fnp.sum(f(x)))(np.ones(3))
    msg = str(info.value)
    assert "numpy.asarray" in msg and f"{__file__}:{_line_of(f, 'np.asarray')}" in msg
    assert isinstance(info.value, TypeError)
    with pytest.raises(fd.TracerArrayConversionError):
        fd.make_jaxpr(lambda x: np.array(x))(np.ones(3))


def test_setitem_on_tracer_points_to_at_set():
    def f(x):
        x[0] = 1
        return x

    with pytest.raises(TypeError) as info:
        fd.make_jaxpr(f)(np.ones(3))
    msg = str(info.value)
    assert ".at[0].set" in msg
    assert f"{__file__}:{_line_of(f, 'x[0] = 1')}" in msg
    with pytest.raises(TypeError, match=r"\.at\[:, 1\]\.set"):
        fd.grad(lambda x: x.__setitem__((slice(None), 1), 0.0))(np.ones((2, 2)))


@pytest.mark.parametrize("how", ["make_jaxpr", "grad", "jvp"])
def test_shape_error_names_op_shapes_and_line(how):
    def f(x):
        y = fnp.sin(x)
        return fnp.sum(y + np.ones(4))

    x = np.ones(3)
    with pytest.raises(fd.ShapeError) as info:
        if how == "make_jaxpr":
            fd.make_jaxpr(f)(x)
        elif how == "grad":
            fd.grad(f)(x)
        else:
            fd.jvp(f, (x,), (x,))
    msg = str(info.value)
    assert "add" in msg and "(3,)" in msg and "(4,)" in msg
    assert f"{__file__}:{_line_of(f, 'np.ones(4)')}" in msg
    assert isinstance(info.value, ValueError)


def test_shape_error_from_matmul():
    def f(a, b):
        return a @ b

    with pytest.raises(fd.ShapeError) as info:
        fd.make_jaxpr(f)(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "3" in msg and "4" in msg
    assert f"{__file__}:{_line_of(f, 'a @ b')}" in msg


# --- eval_jaxpr frees intermediates -------------------------------------------------------

def test_eval_jaxpr_frees_each_intermediate_after_last_use(monkeypatch):
    steps = 12
    made = []           # weakrefs to every sin output, in order
    alive_at_call = []  # at each sin call: how many *earlier* outputs are still alive
    impl = ew.sin_p.impl

    def probe(x):
        alive_at_call.append(sum(r() is not None for r in made[:-1]))
        out = impl(x)
        made.append(weakref.ref(out))
        return out

    def f(x):
        for _ in range(steps):
            x = fnp.sin(x)
        return x

    x = np.linspace(0.0, 1.0, 1000)
    closed = fd.make_jaxpr(f)(x)
    monkeypatch.setattr(ew.sin_p, "impl", probe)
    (out,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    assert len(made) == steps
    # when sin k runs, only its input (output k-1) may still be alive
    assert alive_at_call == [0] * steps
    assert made[-1]() is out
    assert all(r() is None for r in made[:-1])


def test_eval_jaxpr_peak_memory_is_a_few_arrays():
    n = 500_000                                    # 4 MB per array
    steps = 25

    def f(x):
        for _ in range(steps):
            x = fnp.sin(x) + 0.5
        return x

    x = np.linspace(0.0, 1.0, n)
    closed = fd.make_jaxpr(f)(x)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        (out,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 3.2 * x.nbytes, f"peak {peak / x.nbytes:.1f} arrays (chain of {2 * steps})"
    expected = x
    for _ in range(steps):
        expected = np.sin(expected) + 0.5
    np.testing.assert_allclose(out, expected)
