"""dtypes are NumPy 2's (NEP 50) under every transform, on NumPy 1.26 as on 2.x.

NumPy 1.x promotes 0-d values by value: ``float32 scalar / 3.0`` is float64 there and
``float32 array * float64(2)`` float32.  funcdiff's IR types every value as NumPy 2 does,
and the impls and the generated code must compute exactly what the IR says: these
tests assert the output dtypes of grad, jit, vmap and the interpreter for float32 inputs,
that every runtime value has its IR aval's dtype, and the dtypes against NumPy 2's rules
(NumPy itself in its NEP 50 mode on 1.x).  CI runs them on both NumPy versions.
"""
from __future__ import annotations

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2, nep50_operands, promotes_by_value
from funcdiff.core.ir import Literal, Var

from _helpers import nep50

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

# (name, f, want): f of a float32 vector, and the output dtype NumPy 2 gives
CASES = [
    ("sum / 3", lambda x: fnp.sum(x) / 3, F32),
    ("sum / 3.0", lambda x: fnp.sum(x) / 3.0, F32),
    ("3.0 / sum", lambda x: 3.0 / fnp.sum(x), F32),
    ("mean", fnp.mean, F32),
    ("var", fnp.var, F32),
    ("std", fnp.std, F32),
    ("var ddof", lambda x: fnp.var(x, ddof=1), F32),
    ("max - 0.5", lambda x: fnp.max(x) - 0.5, F32),
    ("sum ** 2", lambda x: fnp.sum(x) ** 2, F32),
    ("scalar * vector", lambda x: fnp.sum(x) * x, F32),
    ("where scalar", lambda x: fnp.where(fnp.sum(x) > 0, fnp.sum(x), 0.0), F32),
    ("x[0] * x", lambda x: x[0] * x + 1.0, F32),
    ("logsumexp-like", lambda x: fnp.log(fnp.sum(fnp.exp(x - fnp.max(x)))) + fnp.max(x), F32),
    ("sqrt(sum) / 2", lambda x: fnp.sqrt(fnp.sum(x * x)) / 2, F32),
    # a strong float64 scalar promotes (NumPy 1.x would keep float32 next to an array)
    ("x * float64", lambda x: x * np.float64(2.0), F64),
    ("sum * float64", lambda x: fnp.sum(x) * np.float64(2.0), F64),
    ("x + float64 0-d array", lambda x: x + np.array(0.5), F64),
]
IDS = [c[0] for c in CASES]


def _x():
    return np.linspace(0.5, 1.5, 5).astype(np.float32)


def _dtypes(out):
    return [np.asarray(o).dtype for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("name, f, want", CASES, ids=IDS)
def test_transforms_give_numpy2_dtypes(name, f, want):
    x = _x()
    closed = fd.make_jaxpr(f)(x)
    assert [a.dtype for a in closed.out_avals] == [want]
    assert _dtypes(fd.eval_jaxpr(closed.jaxpr, closed.consts, x)) == [want]
    assert _dtypes(fd.jit(f)(x)) == [want]
    assert _dtypes(fd.vmap(f)(np.stack([x, x + 1]))) == [want]
    # grad of a float32 function: float32 (a float64 output's grad still has x's dtype)
    g = fd.grad(lambda v: fnp.sum(f(v)))
    assert g(x).dtype == F32 and fd.jit(g)(x).dtype == F32
    y, t = fd.jvp(f, (x,), (np.ones_like(x),))
    assert _dtypes(y) == [want] and _dtypes(t) == [want]


@pytest.mark.parametrize("name, f, want", CASES, ids=IDS)
def test_dtypes_are_numpy2s(name, f, want):
    """The table's dtypes are NumPy's own under NEP 50 (outside transforms funcdiff.numpy
    is NumPy)."""
    if name == "where scalar" and not NUMPY2:
        pytest.skip("NumPy 1.26's np.where takes Python floats as float64 even in its "
                    "NEP 50 mode")
    with nep50():
        assert _dtypes(f(_x())) == [want]


def _check_runtime_avals(closed, *args):
    """Evaluate ``closed`` eqn by eqn with the impls: every value has its var's dtype."""
    env = dict(zip(closed.jaxpr.constvars, closed.consts))
    env.update(zip(closed.jaxpr.invars, args))
    for eqn in closed.jaxpr.eqns:
        ins = [env[v] if type(v) is Var else v.val for v in eqn.invars]
        out = eqn.primitive.impl(*ins, **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        for v, o in zip(eqn.outvars, outs):
            if v.aval.weak_type:
                assert type(o) in (bool, int, float, complex), (eqn, type(o))
            else:
                assert np.asarray(o).dtype == v.aval.dtype, (eqn, np.asarray(o).dtype)
            env[v] = o


@pytest.mark.parametrize("name, f, want", CASES, ids=IDS)
def test_runtime_dtypes_equal_the_ir(name, f, want):
    x = _x()
    _check_runtime_avals(fd.make_jaxpr(f)(x), x)
    _check_runtime_avals(fd.make_jaxpr(fd.grad(lambda v: fnp.sum(f(v))))(x), x)


def test_float32_scalar_arguments_stay_float32():
    s = np.float32(1.5)
    for f in (lambda v: v / 3.0, lambda v: 2 * v + 1.0, lambda v: fnp.sin(v) ** 2):
        assert np.asarray(fd.jit(f)(s)).dtype == F32
        assert np.asarray(fd.grad(f)(s)).dtype == F32
        y, t = fd.jvp(f, (s,), (np.float32(1.0),))
        assert np.asarray(y).dtype == F32 and np.asarray(t).dtype == F32


def test_python_int_out_of_range_raises_as_numpy2():
    """NumPy 1.x promotes ``uint8 + 300`` by value to uint16; the IR keeps uint8 and
    NumPy 2 raises OverflowError: so does funcdiff, on both (no silent wrap-around)."""
    x = np.array([1, 2], np.uint8)
    closed = fd.make_jaxpr(lambda v: v + 300)(x)
    assert closed.out_avals[0].dtype == np.uint8
    with pytest.raises(OverflowError, match="300"):
        fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    with pytest.raises(OverflowError, match="300"):
        fd.jit(lambda v: v + 300)(x)
    _check_runtime_avals(fd.make_jaxpr(lambda v: v + 200)(x), x)   # in range: uint8


def test_promotes_by_value_only_on_numpy1():
    """Generated code calls the impl for the eqns NumPy 1.x would promote by value."""
    x = _x()
    closed = fd.make_jaxpr(lambda v: fnp.sum(v) / 3.0 + v * 2.0)(x)
    flagged = {e.primitive.name: promotes_by_value(e.invars) for e in closed.jaxpr.eqns}
    legacy = not NUMPY2
    # sum / 3.0: a strong 0-d f32 with a Python float; v * 2.0: an array with a literal
    assert flagged["div"] is legacy and flagged["mul"] is False
    big = Literal(1e300)
    arr = Var(fd.make_jaxpr(lambda v: v)(x).in_avals[0])
    assert promotes_by_value([arr, big]) is legacy   # float32 next to 1e300: by value
    # a strong 0-d float whose dtype the arrays' contains: the same dtype either way
    f64 = np.ones(3)
    for f, flag in ((lambda v, s: fnp.nextafter(v, s), False), (lambda v, s: v * s, False),
                    (lambda v, s: v.astype(np.float32) * s, legacy),
                    (lambda v, s: v.astype(np.int16) * s.astype(np.int16), legacy)):
        closed = fd.make_jaxpr(f)(f64, np.float64(0.5))
        assert promotes_by_value(closed.jaxpr.eqns[-1].invars) is flag
        with nep50():
            want = f(f64, np.float64(0.5))
        got = fd.jit(f)(f64, np.float64(0.5))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_nep50_operands():
    a32, s64 = np.ones(3, np.float32), np.float64(2.0)
    ops, all_0d = nep50_operands([a32, s64])
    assert not all_0d and ops[0] is a32 and ops[1].shape == (1,)
    ops, all_0d = nep50_operands([np.float32(1.0), 3.0])
    assert all_0d and ops[0].shape == (1,) and ops[1] == 3.0
    assert nep50_operands([a32, 2.0]) is None and nep50_operands([1.0, 2.0]) is None
