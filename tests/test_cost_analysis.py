"""cost_analysis: exact flops on hand-countable programs, the same numbers from
jit(f).lower().cost_analysis(), peak_bytes against tracemalloc, saved_bytes against the
listed residuals, forward vs reverse Jacobian costs, and jacobian's choice."""
from __future__ import annotations

import io
import math
from contextlib import redirect_stdout

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.analysis.cost import jaxpr_cost
from funcdiff.checkpoint import saved_residuals
from _helpers import measured_peak

dims = st.integers(1, 7)


@settings(max_examples=25, deadline=None)
@given(m=dims, k=dims, n=dims, dtype=st.sampled_from([np.float32, np.float64]))
def test_flops_matmul_elementwise_and_reductions(m, k, n, dtype):
    a = np.ones((m, k), dtype)
    b = np.ones((k, n), dtype)

    def f(a, b):
        c = a @ b                  # 2 m n k
        d = fnp.sin(c) * c         # m n transcendental + m n
        return d.sum()             # m n
    c = fd.cost_analysis(f)(a, b)
    assert c["flops"] == 2 * m * n * k + 3 * m * n
    assert c["transcendentals"] == m * n
    assert c["n_eqns"] == 4
    size = np.dtype(dtype).itemsize
    assert c["input_bytes"] == (m * k + k * n) * size
    assert c["output_bytes"] == size
    # bytes: dot reads a, b, writes c; sin reads c writes s; mul reads s, c writes d;
    # sum reads d writes a scalar
    mn = m * n * size
    assert c["bytes_accessed"] == (m * k + k * n) * size + mn + 2 * mn + 3 * mn + mn + size


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 4), m=dims, k=dims, n=dims)
def test_flops_batched_dot_and_exp(b, m, k, n):
    x = np.ones((b, m, k))
    y = np.ones((b, k, n))
    c = fd.cost_analysis(lambda x, y: fnp.exp(fnp.matmul(x, y)))(x, y)
    assert c["flops"] == 2 * b * m * n * k + b * m * n
    assert c["transcendentals"] == b * m * n


def test_flops_of_calls_add_up_their_bodies():
    x = np.ones((3, 4))
    inner = fd.jit(lambda x: fnp.tanh(x) + 1.0)
    ck = fd.checkpoint(lambda x: fnp.tanh(x) + 1.0)
    c0 = fd.cost_analysis(lambda x: fnp.tanh(x) + 1.0)(x)
    c2 = fd.cost_analysis(lambda x: ck(x))(x)
    assert c2["flops"] == c0["flops"] == 24
    assert c2["transcendentals"] == 12
    assert c2["n_eqns"] == 1 and c2["n_eqns_total"] == 3   # the call and its 2 eqns
    c1 = fd.cost_analysis(lambda x: inner(inner(x)))(x)     # inlined by jit's passes
    assert c1["flops"] == 48


def test_shape_ops_cost_nothing_and_move_no_bytes():
    x = np.ones((4, 6))
    c = fd.cost_analysis(lambda x: x.T.reshape(3, 8)[1:])(x)
    assert c["flops"] == 0 and c["bytes_accessed"] == 0 and c["peak_bytes"] == 0


FUNS = {
    "mlp": lambda W, x: fnp.tanh(x @ W).sum(),
    "grad_mlp": fd.grad(lambda W, x: fnp.tanh(x @ W).sum()),
    "jacfwd": fd.jacfwd(lambda W, x: fnp.sin(x @ W)),
    "jacrev": fd.jacrev(lambda W, x: fnp.sin(x @ W)),
    "ckpt": fd.grad(lambda W, x: fd.checkpoint(lambda W, x: fnp.exp(x @ W))(W, x).sum()),
}


@pytest.mark.parametrize("name", sorted(FUNS))
def test_cost_analysis_equals_jit_lower(name, rng):
    W, x = rng.standard_normal((3, 3)), rng.standard_normal((5, 3))
    f = FUNS[name]
    a = fd.cost_analysis(f)(W, x)
    b = fd.jit(f).lower(W, x).cost_analysis()
    assert a == b
    assert isinstance(a["saved_bytes"], int)
    for key in ("flops", "transcendentals", "bytes_accessed", "peak_bytes", "saved_bytes",
                "n_eqns"):
        assert key in a


def test_saved_bytes_survive_jit_fusion(rng):
    """jit may fuse large elementwise chains into primitives without derivatives
    (numexpr): saved_bytes still comes from linearizing the program before that."""
    W, x = rng.standard_normal((300, 300)) / 20, rng.standard_normal((400, 300))

    def f(W, x):
        h = fnp.tanh(x @ W)
        return (fnp.exp(-h * h) * h + 1.0).sum()
    vg = fd.value_and_grad(f)
    c = fd.jit(vg).lower(W, x).cost_analysis()
    assert c == fd.cost_analysis(vg)(W, x)
    assert isinstance(c["saved_bytes"], int) and c["saved_bytes"] > 0
    assert fd.cost_analysis(f)(W, x)["saved_bytes"] >= 400 * 300 * 8


def test_saved_bytes_is_what_the_residual_listing_says(rng):
    Ws = [rng.standard_normal((6, 6)) for _ in range(5)]
    x = rng.standard_normal((4, 6))

    def f(Ws, x):
        for W in Ws:
            x = fnp.tanh(x @ W)
        return (x ** 2).sum()
    res = saved_residuals(f, Ws, x)
    expected = sum(r.nbytes for r in res if r.kind == "intermediate")
    assert fd.cost_analysis(f)(Ws, x)["saved_bytes"] == expected
    # every layer keeps at least its (4, 6) float64 output
    assert expected >= len(Ws) * 4 * 6 * 8
    # a function of integers alone has nothing to save
    assert fd.cost_analysis(lambda i: i * 2)(np.arange(3))["saved_bytes"] == 0


def _chain(depth, segments=None):
    def loss(Ws, x):
        fns = [lambda h, W=W: fnp.tanh(h @ W) for W in Ws]
        if segments:
            x = fd.checkpoint_sequential(fns, segments)(x)
        else:
            for f in fns:
                x = f(x)
        return (x ** 2).sum()
    return loss


@pytest.mark.parametrize("kind", ["forward", "value_and_grad", "checkpointed"])
def test_peak_bytes_within_20_percent_of_tracemalloc_on_a_deep_chain(kind, rng):
    depth, b, w = 40, 256, 64
    Ws = [rng.standard_normal((w, w)) / math.sqrt(w) for _ in range(depth)]
    x = rng.standard_normal((b, w))
    f = {"forward": _chain(depth), "value_and_grad": fd.value_and_grad(_chain(depth)),
         "checkpointed": fd.value_and_grad(_chain(depth, 6))}[kind]
    jf = fd.jit(f)
    predicted = jf.lower(Ws, x).cost_analysis()["peak_bytes"]
    measured = measured_peak(jf, Ws, x)
    assert abs(measured - predicted) <= 0.2 * measured, (predicted, measured)


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_predicted_peak_is_the_measured_peak_at_every_size(n, rng):
    """cost_analysis follows jit's memory model (funcdiff.jit.memory), the one its code
    generator follows: below INPLACE_MIN_SIZE elements every op gets a new buffer, above
    it results go ``out=`` into dying operands (or one numexpr expression, when
    installed).  tracemalloc sees, besides, the arrays' Python headers and numexpr's
    scratch space: a few kB whatever n.  (A model without the in-place threshold
    predicted one array too few at n=1,000.)"""
    x = rng.standard_normal(n)
    jf = fd.jit(lambda x: fnp.exp(fnp.sin(fnp.cos(x))) + 1)
    predicted = jf.lower(x).cost_analysis()["peak_bytes"]
    measured = measured_peak(jf, x)
    assert predicted <= measured <= predicted + 4096, (n, predicted, measured)


def _two_layer(x, B, C):
    return C @ fnp.tanh(B @ x)


def _jac_flops(mode, n, m, h=16):
    rng = np.random.default_rng(n * 1000 + m)
    x, B, C = rng.standard_normal(n), rng.standard_normal((h, n)), rng.standard_normal((m, h))
    jac = fd.jacfwd(_two_layer) if mode == "fwd" else fd.jacrev(_two_layer)
    return fd.cost_analysis(jac)(x, B, C)["flops"]


def test_forward_mode_flops_grow_with_n_reverse_with_m():
    ns = [2, 8, 32]
    fwd_n = [_jac_flops("fwd", n, 8) for n in ns]
    rev_m = [_jac_flops("rev", 8, m) for m in ns]
    assert fwd_n[0] < fwd_n[1] < fwd_n[2]
    assert rev_m[0] < rev_m[1] < rev_m[2]
    # roughly linear: the per-direction work dominates for large n / m
    assert fwd_n[2] > 2.5 * fwd_n[1] and rev_m[2] > 2.5 * rev_m[1]
    # and forward mode barely cares about m, reverse mode about n (beyond the forward
    # pass itself, which costs O(h (n + m)))
    fwd_m = [_jac_flops("fwd", 8, m) for m in ns]
    rev_n = [_jac_flops("rev", n, 8) for n in ns]
    assert fwd_m[2] < 2 * fwd_n[2] and rev_n[2] < 2 * rev_m[2]
    assert fwd_n[2] > rev_n[2] and rev_m[2] > fwd_m[2]


@pytest.mark.parametrize("n,m,expected", [(2, 60, "fwd"), (60, 2, "rev")])
def test_jacobian_chooses_the_cheaper_mode(n, m, expected, rng):
    x, B, C = rng.standard_normal(n), rng.standard_normal((16, n)), rng.standard_normal((m, 16))
    jac = fd.jacobian(_two_layer)
    J = jac(x, B, C)
    np.testing.assert_allclose(J, fd.jacfwd(_two_layer)(x, B, C), rtol=1e-12, atol=1e-12)
    rep = jac.last_report
    assert rep.choice == expected and (rep.n_in, rep.n_out) == (n, m)
    cheaper = rep.fwd if expected == "fwd" else rep.rev
    dearer = rep.rev if expected == "fwd" else rep.fwd
    assert cheaper["flops"] < dearer["flops"]
    assert rep.fwd == fd.cost_analysis(fd.jacfwd(_two_layer))(x, B, C)
    report = fd.jacobian(_two_layer, mode="report")(x, B, C)
    assert report.choice == expected
    buf = io.StringIO()
    with redirect_stdout(buf):
        J2 = fd.jacobian(_two_layer, explain=True)(x, B, C)
    text = buf.getvalue()
    assert ("forward mode" if expected == "fwd" else "reverse mode") in \
        text.split("choice:")[1]
    assert f"n={n}" in text and f"m={m}" in text and "flop" in text
    np.testing.assert_allclose(J2, J)


def test_jacobian_modes_argnums_and_errors(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)

    def f(x, y):
        return fnp.sin(x) * y
    for mode in ("fwd", "rev", "auto"):
        J = fd.jacobian(f, argnums=(0, 1), mode=mode)(x, y)
        np.testing.assert_allclose(J[0], np.diag(np.cos(x) * y), atol=1e-14)
        np.testing.assert_allclose(J[1], np.diag(np.sin(x)), atol=1e-14)
    with pytest.raises(ValueError, match="mode"):
        fd.jacobian(f, mode="sideways")
    # the choice is made once per input signature
    jac = fd.jacobian(f)
    jac(x, y)
    first = jac.last_report
    jac(x + 1, y)
    assert jac.last_report is first
