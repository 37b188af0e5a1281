"""Inputs funcdiff cannot compute on are rejected at the boundary of every transform
(issue 16, item 6): masked arrays (whose mask every transform would drop, giving e.g.
10005 for a sum NumPy computes as 5) and non-numeric dtypes (object arrays -- what
Fraction and Decimal become --, structured, datetime64/timedelta64, strings), which met a
raw ufunc TypeError deep in a trace or, under jit, computed a different result.  The
error is a FuncdiffTypeError naming the argument (by parameter name and pytree path) and
its dtype or type."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp


def f(x):
    return fnp.sum(x * x)


ENTRY_POINTS = {
    "grad": lambda g, x: fd.grad(g)(x),
    "value_and_grad": lambda g, x: fd.value_and_grad(g)(x),
    "jit": lambda g, x: fd.jit(g)(x),
    "vmap": lambda g, x: fd.vmap(g)(x),
    "jvp": lambda g, x: fd.jvp(g, (x,), (np.ones(np.shape(x)),)),
    "vjp": lambda g, x: fd.vjp(g, x),
    "linearize": lambda g, x: fd.linearize(g, x),
    "make_jaxpr": lambda g, x: fd.make_jaxpr(g)(x),
    "jacfwd": lambda g, x: fd.jacfwd(g)(x),
    "jacrev": lambda g, x: fd.jacrev(g)(x),
    "hessian": lambda g, x: fd.hessian(g)(x),
    "jacobian": lambda g, x: fd.jacobian(g)(x),
    "checkpoint": lambda g, x: fd.grad(fd.checkpoint(g))(x),
    "jit_under_grad": lambda g, x: fd.grad(lambda y: fd.jit(g)(x) + fnp.sum(y))(1.0),
}

# (value, substrings the message must contain besides the argument's name)
BAD_INPUTS = {
    "masked": (np.ma.array([1.0, 100.0, 2.0], mask=[0, 1, 0]),
               ["numpy.ma.MaskedArray", "1 of its entries masked", "x.filled",
                "x.compressed()", "funcdiff.numpy.where"]),
    "masked_nothing_masked": (np.ma.array([1.0, 2.0]), ["MaskedArray"]),
    "object_array": (np.array([1.0, 2.0], dtype=object), ["dtype object"]),
    "fraction": (Fraction(1, 3), ["of type Fraction", "dtype object"]),
    "decimal": (Decimal("1.5"), ["of type Decimal", "dtype object"]),
    "structured": (np.zeros(2, dtype=[("a", "f8"), ("b", "f8")]),
                   ["dtype [('a', '<f8'), ('b', '<f8')]", "fields"]),
    "datetime64": (np.array(["2020-01-01"], dtype="datetime64[D]"),
                   ["dtype datetime64[D]", "timedelta64"]),
    "datetime64_scalar": (np.datetime64("2020-01-01"), ["dtype datetime64[D]"]),
    "timedelta64": (np.array([1, 2], dtype="timedelta64[s]"), ["dtype timedelta64[s]"]),
    "str_array": (np.array(["a", "b"]), ["dtype <U1", "static"]),
    "bytes_array": (np.array([b"a"]), ["dtype |S1"]),
    "numpy_str": (np.str_("a"), ["dtype <U1"]),
    "str": ("abc", ["of type str"]),
    "bytes": (b"abc", ["of type bytes"]),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_rejected_at_every_entry_point(entry, name):
    value, tokens = BAD_INPUTS[name]
    with pytest.raises(fd.FuncdiffTypeError) as info:
        ENTRY_POINTS[entry](f, value)
    msg = str(info.value)
    if entry != "jit_under_grad":   # there the value is a constant of the outer trace
        assert "argument x " in msg, msg
    for t in tokens:
        assert t in msg, (t, msg)


def test_the_reported_case_masked_sum():
    """The report: jit gave 10005.0 where NumPy gives 5.0, and grad [2, 200, 4]."""
    m = np.ma.array([1.0, 100.0, 2.0], mask=[0, 1, 0])
    assert np.sum(m * m) == 5.0   # NumPy honours the mask ...
    # ... and so does funcdiff.numpy called outside transforms: it *is* NumPy there
    assert fnp.sum(m * m) == np.sum(m * m)
    for t in (fd.jit, fd.grad, fd.vmap):
        with pytest.raises(fd.FuncdiffTypeError, match="MaskedArray"):
            t(lambda x: fnp.sum(x * x))(m)
    # the suggested fixes give NumPy's answer
    assert fd.jit(lambda x: fnp.sum(x * x))(m.compressed()) == 5.0
    data, mask = m.data, np.ma.getmaskarray(m)
    g = fd.grad(lambda x: fnp.sum(fnp.where(mask, 0.0, x) ** 2))(data)
    np.testing.assert_array_equal(g, [2.0, 0.0, 4.0])


def test_object_array_under_jit_no_longer_computes_a_different_result():
    """jit of an object array of floats returned int64 5 (NumPy: 5.0)."""
    x = np.array([1.0, 2.0], dtype=object)
    with pytest.raises(fd.FuncdiffTypeError, match="dtype object"):
        fd.jit(f)(x)
    # converted as the message says, it agrees with NumPy
    assert fd.jit(f)(np.asarray(x, dtype=float)) == np.sum(x * x)


def test_error_names_the_pytree_path_and_parameter():
    m = np.ma.array([1.0, 2.0], mask=[0, 1])
    params = {"w": np.ones(2), "b": m}
    with pytest.raises(fd.FuncdiffTypeError, match=r"argument params\['b'\] is a numpy.ma"):
        fd.grad(lambda params: fnp.sum(params["w"] * params["b"]))(params)

    def g(x, y, scale=1.0):
        return fnp.sum(x * y) * scale

    t = np.array([1, 2], dtype="timedelta64[s]")
    with pytest.raises(fd.FuncdiffTypeError, match="argument y has dtype timedelta64"):
        fd.grad(g, argnums=1)(np.ones(2), t)
    with pytest.raises(fd.FuncdiffTypeError, match="argument y has dtype timedelta64"):
        fd.jacrev(g, argnums=(0, 1))(np.ones(2), t)
    with pytest.raises(fd.FuncdiffTypeError, match=r"argument y\[1\] of type Fraction"):
        fd.jit(lambda x, y: x * y[1])(1.0, (2.0, Fraction(1, 2)))
    # static arguments shift positions: the name still is the right parameter's
    with pytest.raises(fd.FuncdiffTypeError, match="argument y has dtype object"):
        fd.jit(g, static_argnums=0)(2.0, np.array([Decimal(1)], dtype=object))
    with pytest.raises(fd.FuncdiffTypeError, match=r"argument kwargs\['scale'\] of type Decimal"):
        fd.jit(g)(np.ones(2), np.ones(2), scale=Decimal(2))
    with pytest.raises(fd.FuncdiffTypeError, match="argument y has dtype object"):
        fd.make_jaxpr(g, static_argnums=0)(np.ones(2), np.array([None, 1.0]))
    with pytest.raises(fd.FuncdiffTypeError, match="argument y is a numpy.ma"):
        fd.vmap(g, in_axes=(0, None))(np.ones((3, 2)), np.ma.array([1.0, 2.0]))
    with pytest.raises(fd.FuncdiffTypeError, match="argument y has dtype datetime64"):
        fd.grad(fd.checkpoint(g))(np.ones(2), np.array(["2020-01-01"] * 2, "datetime64[D]"))


@pytest.mark.parametrize("transform", [fd.grad, fd.jit, fd.vmap])
@pytest.mark.parametrize("const", [
    np.ma.array([1.0, 100.0, 2.0], mask=[0, 1, 0]),
    np.array([1.0, 2.0, 3.0], dtype=object),
    np.array(Fraction(1, 3), dtype=object),    # 0-d: would become an inline literal
    np.datetime64("2020-01-01"),
    np.zeros(3, dtype=[("a", "f8")]),
], ids=["masked", "object", "object_0d", "datetime64", "structured"])
def test_bad_constant_captured_by_the_function(transform, const):
    """A closed-over constant is checked when an operation uses it: before, a masked
    one gave three different answers under grad, jit and vmap."""
    with pytest.raises(fd.FuncdiffTypeError,
                       match="a constant used by the traced function") as info:
        transform(lambda x: fnp.sum(x * const))(np.ones(3))
    assert "test_inputs.py" in str(info.value)   # the user's line


def test_bad_operand_of_control_flow_and_cotangents():
    m = np.ma.array([1.0, 2.0], mask=[0, 1])
    with pytest.raises(fd.FuncdiffTypeError, match="is a numpy.ma.MaskedArray"):
        fd.jit(lambda p: lax.cond(p, lambda v: v, lambda v: -v, m))(True)
    out, vjp_fn = fd.vjp(fnp.sin, np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="cotangent is a numpy.ma.MaskedArray"):
        vjp_fn(m)
    with pytest.raises(fd.FuncdiffTypeError, match="tangent has dtype object"):
        fd.jvp(fnp.sin, (np.ones(2),), (np.array([1.0, 2.0], dtype=object),))


def test_numeric_inputs_and_float0_tangents_still_pass():
    """The check lets every numeric dtype through (bool, ints, floats, complex) and the
    float0 tangents of integer inputs."""
    for dt in (bool, np.int8, np.uint16, np.int64, np.float16, np.float32, np.float64,
               np.longdouble, np.complex64, np.complex128):
        x = np.ones(2, dtype=dt)
        np.testing.assert_array_equal(fd.jit(lambda v: v + v)(x), x + x)
    out, t = fd.jvp(lambda x, n: x * n, (np.ones(2), np.arange(2)),
                    (np.ones(2), np.zeros(2, dtype=fd.float0)))
    np.testing.assert_array_equal(t, np.arange(2.0))
    # NumPy scalars and ndarray subclasses other than masked arrays are fine too
    assert fd.grad(lambda v: v * v)(np.float32(3.0)) == np.float32(6.0)
    x = fnp.array([1.0, 2.0])   # funcdiff.numpy.Array, an ndarray subclass
    assert type(x) is not np.ndarray
    np.testing.assert_array_equal(fd.grad(f)(x), [2.0, 4.0])
