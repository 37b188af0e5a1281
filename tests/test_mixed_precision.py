"""checkpoint_policies.save_in: residuals stored in a lower precision.  Saved bytes drop
(as reported by saved_residuals / cost_analysis), gradients stay in the compute dtype and
close to full precision (compared with a hand-written NumPy backward pass), eagerly,
under jit (whose source shows the casts) and vmap; integer, boolean and complex
residuals are never cast; a float16 overflow is refused, not turned into inf."""
from __future__ import annotations

import io

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.ir import ClosedJaxpr, Jaxpr
from funcdiff.higher_order.checkpoint import save_cast_p
from _helpers import DEFAULT, assert_same, measured_peak

try:
    import ml_dtypes
except ImportError:     # the optional `lowp` extra
    ml_dtypes = None

cp = fd.checkpoint_policies
needs_ml_dtypes = pytest.mark.skipif(ml_dtypes is None,
                                     reason="bfloat16 needs ml_dtypes (the lowp extra)")
LOWP = [np.float16, pytest.param("bfloat16", marks=needs_ml_dtypes)]


def _net_params(rng, depth, n=48, b=16):
    Ws = [(rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
          for _ in range(depth)]
    return Ws, rng.standard_normal((b, n)).astype(np.float32)


def net(Ws, x):
    h = x
    for W in Ws:
        h = fnp.tanh(h @ W)
    return fnp.sum(h ** 2)


def np_net_grad(Ws, x):
    """The gradient of ``net`` w.r.t. ``Ws``, by hand in float64 (the reference)."""
    hs = [x.astype(np.float64)]
    for W in Ws:
        hs.append(np.tanh(hs[-1] @ W.astype(np.float64)))
    g = 2 * hs[-1]
    out = []
    for W, h_in, h_out in zip(reversed(Ws), reversed(hs[:-1]), reversed(hs[1:])):
        pre = g * (1 - h_out ** 2)
        out.append(h_in.T @ pre)
        g = pre @ W.astype(np.float64).T
    return out[::-1]


def _rel(got, want):
    return max(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b)
               for a, b in zip(got, want))


def _intermediate_bytes(f, *args):
    return sum(r.nbytes for r in fd.saved_residuals(f, *args) if r.kind == "intermediate")


@pytest.mark.parametrize("dtype", LOWP)
def test_eight_layer_network_target(dtype, rng):
    """The issue's target: saved bytes <= 0.55x of saving everything, gradients within
    1e-2 relative of the exact ones, still float32."""
    Ws, x = _net_params(rng, 8)
    full = fd.checkpoint(net, policy=cp.everything_saveable)
    low = fd.checkpoint(net, policy=cp.save_in(dtype))
    b_full = fd.cost_analysis(full)(Ws, x)["saved_bytes"]
    b_low = fd.cost_analysis(low)(Ws, x)["saved_bytes"]
    assert b_full == _intermediate_bytes(full, Ws, x) > 0
    assert b_low == _intermediate_bytes(low, Ws, x)
    assert b_low <= 0.55 * b_full
    want = np_net_grad(Ws, x)
    for g in (fd.grad(low)(Ws, x), fd.jit(fd.grad(low))(Ws, x)):
        assert all(a.dtype == np.float32 for a in g)
        assert _rel(g, want) < 1e-2
    # and the casts do change the numbers (a check that would pass without them fails)
    assert _rel(fd.grad(low)(Ws, x), want) > _rel(fd.grad(full)(Ws, x), want)


def test_peak_memory_drops_too(rng):
    """Not only the bytes handed from forward to backward: each value is cast right after
    it is made, so the full-precision copies do not pile up in the forward pass (the
    measured peak of jit(grad) follows cost_analysis's prediction)."""
    Ws, x = _net_params(rng, 12, n=128, b=256)
    full = fd.jit(fd.grad(fd.checkpoint(net, policy=cp.everything_saveable)))
    low = fd.jit(fd.grad(fd.checkpoint(net, policy=cp.save_in(np.float16))))
    assert measured_peak(low, Ws, x) <= 0.7 * measured_peak(full, Ws, x)
    predicted = [fd.cost_analysis(fd.grad(fd.checkpoint(net, policy=p)))(Ws, x)["peak_bytes"]
                 for p in (cp.everything_saveable, cp.save_in(np.float16))]
    assert predicted[1] <= 0.7 * predicted[0]


def test_residual_listing_shows_the_storage_dtype(rng):
    Ws, x = _net_params(rng, 2)
    low = fd.checkpoint(net, policy=cp.save_in(np.float16))
    res = [r for r in fd.saved_residuals(low, Ws, x) if r.kind == "intermediate"]
    assert res and all(r.dtype == np.float16 for r in res)
    assert all(r.nbytes == np.prod(r.shape) * 2 for r in res)
    assert any("output of tanh, stored as f16" in r.description for r in res)
    buf = io.StringIO()
    fd.print_saved_residuals(low, Ws, x, file=buf)
    total = sum(r.nbytes for r in res)
    assert f"{total / 1024:.1f} kB in {len(res)} array(s)" in buf.getvalue()


def test_jit_source_has_the_casts_and_matches_eager(rng):
    Ws, x = _net_params(rng, 3)
    low = fd.checkpoint(net, policy=cp.save_in(np.float16))
    src = fd.jit(fd.grad(low)).lower(Ws, x).source
    assert src.count("_save_cast") >= 3          # the forward half stores in float16
    assert "astype(np.float32)" in src           # the backward half casts back
    assert_same(fd.jit(fd.grad(low))(Ws, x), fd.grad(low)(Ws, x), pytree=True,
                tols={DEFAULT: (1e-6, 1e-7)})


def test_vmap_of_grad(rng):
    Ws, _ = _net_params(rng, 3)
    xs = rng.standard_normal((4, 5, 48)).astype(np.float32)
    low = fd.checkpoint(net, policy=cp.save_in(np.float16))
    got = fd.vmap(fd.grad(low), in_axes=(None, 0))(Ws, xs)
    for i in range(4):
        want = np_net_grad(Ws, xs[i])
        assert _rel([g[i] for g in got], want) < 1e-2
    assert all(g.dtype == np.float32 for g in got)


def test_transformed_jaxprs_check(rng):
    Ws, x = _net_params(rng, 2)
    low = fd.checkpoint(net, policy=cp.save_in(np.float16))
    jaxprs = [fd.make_jaxpr(fd.grad(low))(Ws, x),
              fd.make_jaxpr(fd.vmap(fd.grad(low), in_axes=(None, 0)))(Ws, x[None]),
              fd.make_jaxpr(fd.hessian(lambda v: low(Ws, v[None])))(x[0])]
    for j in jaxprs:
        assert _check_all(j) > 1
        assert save_cast_p in _prims(j)


def _check_all(jaxpr):
    fd.check_jaxpr(jaxpr if isinstance(jaxpr, ClosedJaxpr) else ClosedJaxpr(jaxpr, []))
    j = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    n = 1
    for e in j.eqns:
        for p in e.params.values():
            for s in (p if isinstance(p, (tuple, list)) else [p]):
                if isinstance(s, (Jaxpr, ClosedJaxpr)):
                    n += _check_all(s)
    return n


def _prims(jaxpr):
    j = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    out = []
    for e in j.eqns:
        out.append(e.primitive)
        for p in e.params.values():
            for s in (p if isinstance(p, (tuple, list)) else [p]):
                if isinstance(s, (Jaxpr, ClosedJaxpr)):
                    out += _prims(s)
    return out


def test_only_real_floating_residuals_are_cast(rng):
    """Integer indices, boolean masks and complex values are saved as they are."""
    def h(x, i):
        return (fnp.sum(fnp.abs(fnp.exp(1j * x) * x)) + fnp.sum(fnp.take(x, i) ** 2)
                + fnp.sum(fnp.where(x > 1.5, x, 0.0) ** 2))

    x = np.array([1.0, 2.0, 3.0], np.float32)
    i = np.array([0, 2])
    g = fd.checkpoint(h, policy=cp.save_in(np.float16))
    dts = {str(r.dtype) for r in fd.saved_residuals(g, x, i) if r.kind == "intermediate"}
    assert {"complex64", "bool", "float16"} <= dts and "float32" not in dts
    # d/dx |e^{ix} x| = sign(x); take: 2 x at 0 and 2; where: 2 x where x > 1.5
    want = np.ones(3) + np.array([2.0, 0.0, 6.0]) + np.array([0.0, 4.0, 6.0])
    got = fd.grad(g)(x, i)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=1e-3)


def test_float64_program_saved_in_float32(rng):
    x = rng.standard_normal(6)
    g = fd.checkpoint(lambda x: fnp.sum(fnp.sin(x) ** 3), policy=cp.save_in(np.float32))
    assert {r.dtype for r in fd.saved_residuals(g, x) if r.kind == "intermediate"} == \
        {np.dtype(np.float32)}
    got = fd.grad(g)(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, 3 * np.sin(x) ** 2 * np.cos(x), rtol=1e-6, atol=1e-7)


def test_never_upcasts():
    """A residual already as narrow as the storage dtype is left alone."""
    x = np.linspace(0.1, 1.0, 4).astype(np.float16)
    g = fd.checkpoint(lambda x: fnp.sum(fnp.sin(x) ** 2), policy=cp.save_in(np.float32))
    res = [r for r in fd.saved_residuals(g, x) if r.kind == "intermediate"]
    assert res and all(r.dtype == np.float16 for r in res)
    assert save_cast_p not in _prims(fd.make_jaxpr(fd.grad(g))(x))


def test_composes_with_a_base_policy(rng):
    """base decides what is saved (the rest recomputed), save_in how it is stored."""
    W, x = rng.standard_normal((4, 4)).astype(np.float32), np.ones(4, np.float32)

    def f(W, x):
        return fnp.sum(fnp.sin(fnp.tanh(W @ x)))

    dots = fd.checkpoint(f, policy=cp.save_in(np.float16, base=cp.dots_saveable))
    res = [r for r in fd.saved_residuals(dots, W, x) if r.kind == "intermediate"]
    assert [(r.dtype, "dot_general" in r.description) for r in res] == \
        [(np.dtype(np.float16), True)]
    none = fd.checkpoint(f, policy=cp.save_in(np.float16, base=cp.nothing_saveable))
    assert _intermediate_bytes(none, W, x) == 0
    h = np.tanh(W.astype(np.float64) @ x)
    want = np.outer(np.cos(h) * (1 - h ** 2), x)
    for g in (dots, none):
        np.testing.assert_allclose(fd.grad(g)(W, x), want, rtol=2e-3, atol=1e-3)
    # a save_in as base of save_in: the outer dtype wins
    assert cp.save_in(np.float16, base=cp.save_in(np.float32)) == cp.save_in(np.float16)
    # a union with a save_in policy would lose the cast: refused, saying what to do
    with pytest.raises(fd.FuncdiffTypeError, match=r"base=save_from_both_policies"):
        cp.save_from_both_policies(cp.save_in(np.float16), cp.dots_saveable)
    both = cp.save_in(np.float16, base=cp.save_from_both_policies(
        cp.dots_saveable, cp.save_only_these_names("h")))
    assert [r.dtype for r in fd.saved_residuals(fd.checkpoint(f, policy=both), W, x)
            if r.kind == "intermediate"] == [np.dtype(np.float16)]


def test_second_order_forward_over_reverse():
    f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)))  # noqa: E731
    g = fd.checkpoint(f, policy=cp.save_in(np.float16))
    x = np.linspace(0.2, 1.2, 3).astype(np.float32)
    x64 = x.astype(np.float64)
    want = -np.sin(np.sin(x64)) * np.cos(x64) ** 2 - np.cos(np.sin(x64)) * np.sin(x64)
    got = fd.hessian(g)(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.diag(got), want, rtol=5e-3, atol=1e-3)


def softplus_sum(x):
    return fnp.sum(fnp.log1p(fnp.exp(x)))


def softplus_grad(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)))


def test_float16_overflow_is_refused_not_inf():
    """exp(12) = 1.6e5 > 65504: stored in float16 it would be inf and the gradient
    inf/nan.  Eagerly, under jit and vmap the forward pass raises instead."""
    f = softplus_sum
    g = fd.checkpoint(f, policy=cp.save_in(np.float16))
    x = np.array([1.0, 12.0], np.float32)
    for fn in (fd.grad(g), fd.jit(fd.grad(g)), fd.vmap(fd.grad(g))):
        with pytest.raises(fd.FuncdiffValueError, match=r"65504.*bfloat16"):
            fn(x)
    # just inside the range is fine, and an inf that was there already is no overflow
    x = np.array([1.0, np.log(60000.0)], np.float32)
    np.testing.assert_allclose(fd.grad(g)(x), softplus_grad(x), rtol=2e-3)
    k = lambda x: fnp.sum(fnp.minimum(x * x, 3.0))  # noqa: E731
    xi = np.array([np.inf, 1.0], np.float32)
    with np.errstate(invalid="ignore"):
        assert_same(fd.grad(fd.checkpoint(k, policy=cp.save_in(np.float16)))(xi),
                    fd.grad(k)(xi))


@needs_ml_dtypes
def test_bfloat16_has_float32_range():
    g = fd.checkpoint(softplus_sum, policy=cp.save_in("bfloat16"))
    x = np.array([1.0, 12.0], np.float32)
    want = softplus_grad(x)
    for fn in (fd.grad(g), fd.jit(fd.grad(g))):
        got = fn(x)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-2)
    assert {r.dtype.name for r in fd.saved_residuals(g, x) if r.kind == "intermediate"} \
        == {"bfloat16"}


def test_bad_dtypes_are_refused():
    for bad in (np.int8, np.float64, np.complex64, "float8"):
        with pytest.raises(fd.FuncdiffTypeError, match="save_in: dtype must be"):
            cp.save_in(bad)


@pytest.mark.skipif(ml_dtypes is not None, reason="ml_dtypes is installed")
def test_bfloat16_without_ml_dtypes_says_what_to_install():
    with pytest.raises(fd.FuncdiffTypeError, match=r"ml_dtypes.*funcdiff\[lowp\]"):
        cp.save_in("bfloat16")
