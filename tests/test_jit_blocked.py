"""Cache-blocked fusion (funcdiff/jit/passes/block.py): jit's block loops equal the
unblocked program, the interpreter and NumPy -- at block boundaries and tails, around
the size threshold, with broadcasting, NaN/inf, strided and Fortran-ordered inputs,
aliased arguments, hostile names and literals, and from several threads at once."""
from __future__ import annotations

import threading
from unittest import mock

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.jit.passes.block import blocked_fusion

from _helpers import blocking, run_blocking as run, assert_same, measured_peak, nep50
from test_jit_hostile import (HOSTILE, _assert_clean, _hostile_function, bits,
                              nan_with_payload)

BLOCK = 7


def blocked_and_plain(f, *args, **kw):
    """jit(f) blocked (asserting a block loop was made) and unblocked."""
    got, src = run(f, *args, **kw)
    assert "_rt.blocks(" in src, src
    want, plain_src = run(f, *args, on=False)
    assert "_rt.blocks(" not in plain_src
    return got, want


def f_grad(x):
    return fnp.sum(fnp.tanh(x) ** 2 + fnp.sin(x) * x)


def close_sum(got, want, x):
    """A reassociated sum within NumPy's own rounding: a few eps times sum(|x|)
    (pairwise summation's error bound grows with log n; this is far above it and far
    below any wrong answer)."""
    eps = np.finfo(np.asarray(want).dtype).eps
    assert abs(got - want) <= 8 * eps * np.sum(np.abs(x), dtype=np.float64) + 1e-300


# --- equal to the unblocked program, the interpreter and NumPy ------------------------

@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 1,
                               5 * BLOCK - 1, 100])
def test_value_and_grad_at_block_boundaries_and_tails(n, rng):
    x = rng.standard_normal(n)
    vg = fd.value_and_grad(f_grad)
    (v, g), (v0, g0) = blocked_and_plain(vg, x)
    assert_same(g, g0, exact=True)          # elementwise: the same ufunc calls
    close_sum(v, v0, np.tanh(x) ** 2 + np.sin(x) * x)
    closed = fd.make_jaxpr(vg)(x)
    vi, gi = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    assert_same(g, gi, exact=True)
    close_sum(v, vi, np.tanh(x) ** 2 + np.sin(x) * x)
    assert type(v) is type(v0) and np.asarray(v).dtype == np.asarray(v0).dtype


@pytest.mark.parametrize("n", [999, 1000, 1001])
def test_sizes_around_the_threshold(n, rng):
    x = rng.standard_normal(n)
    f = fd.grad(f_grad)
    got, src = run(f, x, min_size=1000, block=64)
    assert ("_rt.blocks(" in src) == (n >= 1000)
    want, _ = run(f, x, on=False)
    assert_same(got, want, exact=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_,
                                   np.complex128])
def test_dtypes_are_exact(dtype, rng):
    x = (rng.standard_normal(50) * 10).astype(dtype)
    y = (rng.standard_normal(50) * 10).astype(dtype)

    def f(x, y):
        if dtype == np.bool_:
            z = (x ^ y) | x
            return z & ~y, fnp.sum(z), fnp.max(z)
        a = x * y + x
        b = a - y * x
        return b, fnp.sum(b * a), fnp.max(fnp.real(b) if dtype == np.complex128 else b)

    got, want = blocked_and_plain(f, x, y)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.shape(g) == np.shape(w)
        if np.asarray(w).dtype.kind in "fc" and np.ndim(w) == 0:
            np.testing.assert_allclose(g, w, rtol=1e-5 if dtype == np.float32 else 1e-12)
        else:
            assert_same(g, w, exact=True)


def test_float32_sum_is_as_accurate_as_numpys(rng):
    """A float32 sum over 10^6 elements: the blocked sum's error against the exact
    (float64) sum is no worse than NumPy's own float32 sum's, give or take its own
    size (both pairwise)."""
    x = (rng.standard_normal(1_000_000) + 0.5).astype(np.float32)
    f = lambda x: fnp.sum(x * x + x)        # noqa: E731
    got, src = run(f, x, min_size=1, block=8192)
    assert "_rt.blocks(" in src and got.dtype == np.float32
    want = np.sum(x * x + x)
    exact = np.sum(x.astype(np.float64) ** 2 + x.astype(np.float64))
    err_blocked, err_numpy = abs(float(got) - exact), abs(float(want) - exact)
    assert err_blocked <= 2 * err_numpy + 4 * np.spacing(np.float32(exact)), (
        err_blocked, err_numpy)


def test_nan_and_inf_inside_blocks(rng):
    x = rng.standard_normal(40)
    x[[0, 6, 7, 13, 39]] = [np.nan, np.inf, -np.inf, nan_with_payload(7), np.inf]
    fns = [lambda x: (fnp.sum(x * 2.0 + 1.0), fnp.max(x * 1.0 - 1.0),
                      fnp.min(x + 0.5), x * x - x),
           lambda x: fnp.max(fnp.where(x > 0, x, 0.0) * 2.0 + 1.0)]
    with np.errstate(all="ignore"):
        for f in fns:
            got, want = blocked_and_plain(f, x) if f is fns[0] else (
                run(f, x)[0], run(f, x, on=False)[0])
            for g, w in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                            np.atleast_1d(want) if not isinstance(want, tuple) else want):
                assert_same(np.asarray(g), np.asarray(w), exact=True)
        # max/min propagate NaN from any block; a NaN-free max is exact
        y = x.copy()
        y[~np.isfinite(y)] = 0.0
        got, _ = run(lambda x: fnp.max(x * 3.0 - 1.0), y)
        assert got == np.max(y * 3.0 - 1.0)


def test_zero_size_is_not_blocked():
    x = np.zeros(0)
    got, src = run(lambda x: (fnp.sum(fnp.sin(x) * 2.0), fnp.cos(x) + 1.0), x, min_size=0)
    assert "_rt.blocks(" not in src
    assert got[0] == 0.0 and got[1].shape == (0,)


# --- layouts, broadcasting, aliasing -----------------------------------------------------

@pytest.mark.parametrize("layout", ["strided", "fortran", "transposed", "negative_stride",
                                    "readonly"])
def test_input_layouts(layout, rng):
    base = rng.standard_normal((12, 10))
    x = {"strided": base[::2, ::3], "fortran": np.asfortranarray(base),
         "transposed": base.T, "negative_stride": base[::-1, ::-2],
         "readonly": base.copy()}[layout]
    if layout == "readonly":
        x.flags.writeable = False
    y = rng.standard_normal(x.shape)
    f = lambda x, y: (fnp.sin(x) * y + x, fnp.sum(x * y - 1.0))    # noqa: E731
    (a, s), (a0, s0) = blocked_and_plain(f, x, y)
    assert_same(a, a0, exact=True)
    assert a.flags.c_contiguous and a.flags.writeable
    close_sum(s, s0, x * y - 1.0)
    np.testing.assert_allclose(a, np.sin(x) * y + x, rtol=0)


def test_broadcasting_size_one_axes_and_scalars(rng):
    x = rng.standard_normal((20, 3))
    one = np.array([[2.5]])        # (1, 1): broadcasts against every block
    s = np.float64(-1.5)
    f = lambda x, one, s: fnp.tanh(x * one + s) - one * x   # noqa: E731
    got, want = blocked_and_plain(f, x, one, s)
    assert_same(got, want, exact=True)


def test_other_broadcasting_is_left_unblocked(rng):
    x, row = rng.standard_normal((20, 3)), rng.standard_normal(3)
    f = lambda x, r: fnp.sin(x + r) * r     # noqa: E731 - (3,) against (20, 3)
    got, src = run(f, x, row)
    assert "_rt.blocks(" not in src
    assert_same(got, np.sin(x + row) * row, exact=True)


def test_same_array_passed_twice_and_outputs_independent(rng):
    x = rng.standard_normal(30)
    f = lambda x, y: (x * y + 1.0, fnp.sin(x) - y, x * 2.0 + y)     # noqa: E731
    got, want = blocked_and_plain(f, x, x)
    for g, w in zip(got, want):
        assert_same(g, w, exact=True)
        assert not np.shares_memory(g, x)
    assert not np.shares_memory(got[0], got[1]) and not np.shares_memory(got[1], got[2])
    with blocking():
        j = fd.jit(f)
        first = j(x, x)
        keep = [a.copy() for a in first]
        j(x + 1.0, x)                  # a second call must not write into the first results
    for a, b in zip(first, keep):
        assert_same(a, b, exact=True)


def test_donated_argument_keeps_the_right_answer(rng):
    x = rng.standard_normal(30)
    x0 = x.copy()
    with blocking():
        j = fd.jit(lambda x: fnp.sin(x) * 2.0 + x, donate_argnums=0)
        got = j(x)
    assert_same(got, np.sin(x0) * 2.0 + x0, exact=True)


def test_a_member_read_by_an_outside_eqn_cuts_the_group(rng):
    """cumsum (not elementwise) reads y between the group's members: the group is cut
    there, the rest grouped again; the result is unchanged."""
    x = rng.standard_normal(50)

    def f(x):
        y = fnp.sin(x) * 2.0
        c = fnp.cumsum(y)
        return fnp.cos(x) * c + y * y
    got, want = blocked_and_plain(f, x)
    assert_same(got, want, exact=True)


def test_a_reduction_read_inside_its_group_stays_outside(rng):
    x = rng.standard_normal(50)
    f = lambda x: fnp.exp(x * 0.5) - fnp.sum(x * 0.5)     # noqa: E731
    got, want = blocked_and_plain(f, x)
    assert_same(got, want, exact=True)


def test_grad_of_a_2d_function_and_the_interpreter(rng):
    x = rng.standard_normal((9, 11))
    f = fd.grad(lambda x: fnp.sum(fnp.exp(fnp.sin(x)) * x ** 3))
    got, want = blocked_and_plain(f, x)
    assert_same(got, want, exact=True)


# --- hostile names and literals through the block loop -----------------------------------

@pytest.mark.parametrize("lit", [2 ** 100, 2 ** 53 + 1, 3, -0.0, np.float64(-2.5), np.inf,
                                 -np.inf, np.nan, nan_with_payload(5), 1 + 2j, True,
                                 np.float32(0.5)], ids=repr)
def test_literals(lit):
    x = np.linspace(-1.5, 1.5, 40)
    for f in (lambda x: (x * lit + 1.0) * 0.5, lambda x: (lit - x) / 3.0 - x):
        with np.errstate(all="ignore"):
            with nep50():   # NumPy 1.x makes a huge Python int an object array
                want = f(x)
            got, _ = run(f, x)
        assert bits(got) == bits(want), (lit, got[:3], want[:3])


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: ascii(h[:12]))
def test_hostile_names(hostile):
    f = _hostile_function("def f(x):\n    return fnp.sum(fnp.sin(x) * 2.0 + x * x)\n",
                          hostile, hostile)
    x = np.linspace(0.1, 0.9, 40)
    for g in (f, fd.grad(f)):
        got, src = run(g, x)
        assert "_rt.blocks(" in src
        _assert_clean(src)
        want, _ = run(g, x, on=False)
        np.testing.assert_allclose(got, want, rtol=1e-14)


# --- threads, the source, the cost model, the knobs ----------------------------------------

def test_threads_do_not_share_scratch(rng):
    xs = [rng.standard_normal(5000) * (i + 1) for i in range(8)]
    want = [np.tanh(x) * np.cos(x) + x for x in xs]
    with blocking(block=64):
        j = fd.jit(lambda x: fnp.tanh(x) * fnp.cos(x) + x)
        j(xs[0])
        errors = []

        def work(i):
            for _ in range(20):
                got = j(xs[i])
                if not np.array_equal(got, want[i]):
                    errors.append(i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors


def test_source_shows_the_block_loop(rng):
    x = rng.standard_normal(100)
    with blocking(block=16):
        src = fd.jit(fd.value_and_grad(f_grad)).lower(x).source
    assert "for k, b, (" in src and "_rt.blocks(100, 16," in src
    assert "out=s" in src and "np.add.reduce(" in src
    compile(src, "<check>", "exec")   # readable *and* valid Python


def test_blocked_is_the_interpreter_under_the_pass(rng):
    """The pass alone: the rewritten program, run by the interpreter (blocked's impl),
    equals the original."""
    x = rng.standard_normal(30)
    closed = fd.make_jaxpr(fd.grad(f_grad))(x)
    with blocking():
        out = blocked_fusion(closed)
    assert "blocked" in [e.primitive.name for e in out.jaxpr.eqns]
    fd.check_jaxpr(out.jaxpr)
    assert_same(fd.eval_jaxpr(out.jaxpr, out.consts, x)[0],
                fd.eval_jaxpr(closed.jaxpr, closed.consts, x)[0], exact=True)


def test_predicted_peak_is_the_measured_peak(rng):
    x = rng.standard_normal(200_000)
    with blocking(min_size=1000, block=8192):
        j = fd.jit(lambda x: fnp.exp(fnp.sin(fnp.cos(x))) + 1)
        predicted = j.lower(x).cost_analysis()["peak_bytes"]
        measured = measured_peak(j, x)
    assert "_rt.blocks(" in j.lower(x).source
    assert predicted <= measured <= predicted + 4096, (predicted, measured)
    assert predicted < 2 * x.nbytes      # the output and the scratch, no temporaries


@pytest.mark.parametrize("name,value", [("blocked_fusion_block_size", 0),
                                        ("blocked_fusion_block_size", 2.5),
                                        ("blocked_fusion_min_size", -1),
                                        ("blocked_fusion_min_size", True)])
def test_bad_knob_values_are_refused(name, value):
    with pytest.raises(fd.FuncdiffValueError, match=name):
        fd.config.update(name, value)


def test_inside_loops_vmap_and_grad_of_jit(rng):
    """Bodies of control flow and jit calls under other transforms compile through the
    same pipeline: blocked there too, same results."""
    from funcdiff import lax
    x = rng.standard_normal(30)

    def body(i, x):
        return fnp.sin(x) * 0.5 + x * 0.25

    loop = lambda x: lax.fori_loop(0, 3, body, x)       # noqa: E731
    got, _ = run(loop, x)
    want, _ = run(loop, x, on=False)
    assert_same(got, want, exact=True)
    xs = rng.standard_normal((4, 30))
    with blocking():
        j = fd.jit(lambda x: fnp.sum(fnp.tanh(x) * x))
        vm = fd.vmap(fd.grad(j))(xs)
        gj = fd.grad(j)(x)
    np.testing.assert_allclose(
        vm, np.stack([fd.grad(lambda x: fnp.sum(fnp.tanh(x) * x))(r) for r in xs]),
        rtol=1e-14)
    t = np.tanh(x)
    np.testing.assert_allclose(gj, (1 - t * t) * x + t, rtol=1e-14)


def test_views_of_blocked_results_and_inputs_as_outputs(rng):
    x = rng.standard_normal((6, 9))

    def f(x):
        y = fnp.sin(x) * 2.0 + x
        return x, y, y.T, y[::2], fnp.reshape(y, (-1,))
    got, want = blocked_and_plain(f, x)
    for g, w in zip(got, want):
        assert_same(g, w, exact=True)
    xin, y, yt, ys, yr = got
    assert not np.shares_memory(xin, x)            # an input returned is a copy
    assert np.shares_memory(y, yt) == np.shares_memory(want[1], want[2])
    xin[:] = 0.0
    y[0, 0] = 99.0                                  # writing the results: no error...
    assert x[0, 0] != 0.0                           # ...and the argument is untouched


def test_blocking_never_holds_a_deep_networks_residuals_twice(rng):
    """A derivative's ``1 - tanh(z)**2`` is made in the forward pass and read in the
    backward one: blocked fusion leaves it where the rest of jit puts it (numexpr, when
    installed, computes it at its reader from tanh(z), kept anyway) instead of writing
    it out full-size beside tanh(z) in every layer -- that doubled the peak of a deep
    network's jit(value_and_grad).  Peaks compared in one process (tracemalloc), at
    the default threshold."""
    Ws = [rng.standard_normal((256, 256)) / 16 for _ in range(12)]
    x = rng.standard_normal((512, 256))        # 131,072 elements: blocked by default

    def loss(Ws, x):
        h = x
        for W in Ws:
            h = fnp.tanh(h @ W)
        return 0.5 * fnp.sum(h * h)

    peaks = {}
    for on in (False, True):
        with mock.patch.object(fd.config, "blocked_fusion", on):
            f = fd.jit(fd.value_and_grad(loss))
            if on:
                assert "_rt.blocks" in f.lower(Ws, x).source     # blocking happened
            peaks[on] = measured_peak(f, Ws, x)
    assert peaks[True] <= 1.1 * peaks[False], peaks
