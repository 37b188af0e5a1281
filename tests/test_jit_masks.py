"""Two-valued constants (funcdiff/jit/passes/masks.py): jit computes arithmetic on an
identity seed (or any constant of two values) once per value and builds the full
array with one ``mask_select``; the results are the bits of the program without the
pass, and of NumPy, including signed zeros, infinities and NaNs."""
from __future__ import annotations

import sys
from unittest import mock

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.jit.passes.masks import MaskIndex, lift_two_valued

from test_jit_hostile import bits

passes = sys.modules["funcdiff.jit.passes"]   # (funcdiff.jit is also the function)


def with_and_without(f, *args):
    """``(lifted, plain, jaxpr)``: fresh ``jit(f)`` results with and without the pass,
    and the optimized program with it."""
    j = fd.jit(f)
    got, jaxpr = j(*args), j.lower(*args).jaxpr
    with mock.patch.object(passes, "lift_two_valued", lambda c: c):
        want = fd.jit(f)(*args)
    return got, want, jaxpr


def _prims(jaxpr):
    return [e.primitive.name for e in jaxpr.eqns]


def quartic(x):
    return fnp.sum(fnp.tanh(x) ** 2) + 0.5 * fnp.sum(x ** 4)


def wavy(x):
    return fnp.sum(fnp.exp(fnp.sin(x)) * x - fnp.cos(x) / (x * x + 1.0))


@pytest.mark.parametrize("f", [quartic, wavy])
@pytest.mark.parametrize("special", [False, True])
def test_hessian_is_bit_for_bit_the_unlifted_program(f, special, rng):
    x = rng.standard_normal(80)
    if special:      # overflow to inf, NaN, signed zero, huge
        x[:5] = [1e200, np.nan, -0.0, np.inf, -1e100]
    with np.errstate(all="ignore"):
        got, want, jaxpr = with_and_without(fd.hessian(f), x)
    assert bits(got) == bits(want)
    assert got.flags.writeable and got.flags.c_contiguous
    # the n x n work is one select; everything else is on vectors (2 x n)
    assert _prims(jaxpr).count("mask_select") == 1
    big = [e for e in jaxpr.eqns if e.outvars and e.outvars[0].aval.size >= 80 * 80]
    assert [e.primitive.name for e in big] == ["mask_select"], jaxpr


def test_hessian_against_the_closed_form(rng):
    x = rng.standard_normal(60)
    t = np.tanh(x)
    want = np.diag(2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t) + 6.0 * x * x)
    np.testing.assert_allclose(fd.jit(fd.hessian(quartic))(x), want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("jac", [fd.jacfwd, fd.jacrev])
def test_elementwise_jacobians(jac, rng):
    x = rng.standard_normal(70)
    f = lambda x: fnp.sin(x) * x + fnp.exp(-x)     # noqa: E731
    got, want, _ = with_and_without(jac(f), x)
    assert bits(got) == bits(want)
    np.testing.assert_allclose(got, np.diag(np.cos(x) * x + np.sin(x) - np.exp(-x)),
                               rtol=1e-13)


@pytest.mark.parametrize("const", [
    np.eye(12), 1.0 - np.eye(12),                          # rare True, rare False
    np.where(np.eye(12) > 0, -0.0, 0.0),                   # two zeros, different bits
    np.where(np.eye(12) > 0, np.nan, 2.5),                 # NaN is one of the values
    np.where(np.eye(12) > 0, np.inf, -3.0),
    (np.arange(144).reshape(12, 12) % 5 == 0) * 3,         # int64 {0, 3}
    np.tile([[1e308], [-1e308]], (6, 12)),                 # overflow in the branches
], ids=["eye", "not_eye", "signed_zeros", "nan", "inf", "int", "huge"])
def test_user_constants(const, rng):
    x = rng.standard_normal(12).astype(const.dtype) if const.dtype.kind == "f" else \
        np.arange(12)
    fns = [lambda x: (const * x) * 2.0 + const,
           lambda x: -(x - const) * (const * x),
           lambda x: (const * x).T * x + fnp.reshape(const * 2, (1, 12, 12))[0],
           lambda x: fnp.sum((const * x) * x, axis=0)]
    with np.errstate(all="ignore"):
        for f in fns:
            got, want, jaxpr = with_and_without(f, x)
            if f is fns[0]:
                assert _prims(jaxpr).count("mask_select") == 1, jaxpr
            assert bits(np.asarray(got)) == bits(np.asarray(f(x))), f
            assert bits(np.asarray(got)) == bits(np.asarray(want))


def test_two_masks_are_not_mixed(rng):
    a, b = np.eye(20), np.fliplr(np.eye(20))
    x = rng.standard_normal(20)
    f = lambda x: (a * x) * (b * x) + a * 2.0 - b      # noqa: E731
    got, want, _ = with_and_without(f, x)
    assert bits(got) == bits(want) == bits(f(x))


def test_results_are_fresh_arrays(rng):
    x = rng.standard_normal(30)
    h = fd.jit(fd.hessian(quartic))
    first = h(x)
    keep = first.copy()
    first[:] = 7.0                  # the caller owns its result...
    assert bits(h(x)) == bits(keep)  # ...and the next call does not see the write


def test_small_constants_and_big_branches_are_left_alone(rng):
    small = np.eye(4)
    x = rng.standard_normal(4)
    _, _, jaxpr = with_and_without(lambda x: small * x + 1.0, x)
    assert "mask_select" not in _prims(jaxpr)
    eye = np.eye(30)
    y = rng.standard_normal((30, 30))    # a full-size operand: nothing to save
    got, _, jaxpr = with_and_without(lambda y: eye * y + 1.0, y)
    assert "mask_select" not in _prims(jaxpr)
    assert bits(got) == bits(eye * y + 1.0)


@pytest.mark.parametrize("mask", [np.eye(5, dtype=bool), ~np.eye(5, dtype=bool),
                                  np.zeros((3, 1, 4), bool) | (np.arange(4) == 2)])
@pytest.mark.parametrize("branch_shape", [(1, 1), (1, 5), (5, 1), ()])
def test_mask_index_select_is_where(mask, branch_shape, rng):
    shape = (2,) + (branch_shape if len(branch_shape) == mask.ndim or not branch_shape
                    else (1,) * (mask.ndim - len(branch_shape)) + branch_shape)
    if mask.ndim == 3 and branch_shape in ((1, 5), (5, 1)):
        shape = (2, 1, 1, 4)
    stack = rng.standard_normal(shape)
    got = MaskIndex(mask).select(stack)
    assert bits(got) == bits(np.where(mask, stack[1], stack[0]))


def test_the_pass_alone_under_the_interpreter(rng):
    x = rng.standard_normal(40)
    closed = passes.optimize(fd.make_jaxpr(fd.hessian(quartic))(x))
    out = lift_two_valued(closed)
    assert "mask_select" in _prims(out.jaxpr)
    assert bits(fd.eval_jaxpr(out.jaxpr, out.consts, x)[0]) == \
        bits(fd.eval_jaxpr(closed.jaxpr, closed.consts, x)[0])
