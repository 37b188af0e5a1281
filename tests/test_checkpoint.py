"""checkpoint / remat: never changes values or derivatives; saves what its policy says;
recomputes in the backward pass (also under jit, where nothing may merge the replay with
the forward pass); checkpoint_sequential; print_saved_residuals."""
from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.checkpoint import saved_residuals
from funcdiff.higher_order.checkpoint import checkpoint_p, name_p, optimization_barrier_p
from _helpers import DEFAULT, assert_same, measured_peak

cp = fd.checkpoint_policies
POLICIES = [None, cp.nothing_saveable, cp.everything_saveable, cp.dots_saveable,
            cp.dots_with_no_batch_dims_saveable, cp.save_only_these_names("h"),
            cp.save_any_names_but_these("h"), cp.all_but_cheap_elementwise_saveable,
            cp.save_from_both_policies(cp.dots_saveable, cp.save_only_these_names("h"))]


def _close(a, b, rtol=1e-10, atol=1e-12):
    assert_same(a, b, tols={DEFAULT: (rtol, atol)}, pytree=True)


# --- a small random program generator -------------------------------------------------

UNARY = [fnp.sin, fnp.tanh, fnp.cos, lambda x: x * x, lambda x: fnp.exp(-x * x),
         lambda x: fd.checkpoint_name(x * 1.5, "h"), lambda x: fnp.maximum(x, 0.1 * x)]


def _program(ops):
    """ops: list of (kind, arg) steps acting on (x, W)."""
    def f(x, W):
        for kind, a in ops:
            if kind == "u":
                x = UNARY[a](x)
            elif kind == "dot":
                x = x @ W
            elif kind == "addin":
                x = x + W.sum(0) * a
            else:  # "bdot": a batched dot (einsum with a batch dim)
                x = fnp.einsum("bi,bi->bi", x, x) * 0.5
        return x
    return f


step = st.one_of(st.tuples(st.just("u"), st.integers(0, len(UNARY) - 1)),
                 st.tuples(st.just("dot"), st.just(0)),
                 st.tuples(st.just("addin"), st.floats(-2, 2)),
                 st.tuples(st.just("bdot"), st.just(0)))


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(step, min_size=1, max_size=6),
       split=st.integers(0, 6),
       policy=st.sampled_from(POLICIES),
       nested=st.booleans(), use_jit=st.sampled_from(["none", "outer", "inner"]),
       b=st.integers(1, 3), n=st.integers(1, 4))
def test_checkpoint_never_changes_values_or_gradients(ops, split, policy, nested, use_jit,
                                                      b, n):
    rng = np.random.default_rng(len(ops) * 7 + b * 3 + n)
    x = rng.standard_normal((b, n))
    W = rng.standard_normal((n, n)) / math.sqrt(n)
    head, tail = _program(ops[:split]), _program(ops[split:])

    def plain(x, W):
        return (tail(head(x, W), W) ** 2).sum()

    h = fd.jit(head) if use_jit == "inner" else head
    inner = fd.checkpoint(h, policy=policy)
    if nested:
        outer = fd.checkpoint(lambda x, W: tail(inner(x, W), W), policy=policy)

        def ck(x, W):
            return (outer(x, W) ** 2).sum()
    else:
        def ck(x, W):
            return (tail(inner(x, W), W) ** 2).sum()

    wrap = fd.jit if use_jit == "outer" else (lambda f: f)
    v0, g0 = fd.value_and_grad(plain, (0, 1))(x, W)
    v1, g1 = wrap(fd.value_and_grad(ck, (0, 1)))(x, W)
    _close(v0, v1)
    _close(g0, g1)
    # forward mode and the plain value too
    _close(fd.jvp(plain, (x, W), (x, W))[1], fd.jvp(ck, (x, W), (x, W))[1])
    _close(plain(x, W), ck(x, W))


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_second_order_through_checkpoint(policy, rng):
    def body(x, W):
        h = fd.checkpoint_name(fnp.sin(x @ W), "h")
        return fnp.tanh(h) * fnp.exp(-x)

    def f(x, W):
        return (fd.checkpoint(body, policy=policy)(x, W) ** 2).sum()

    x, W = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    fd.check_grads(f, (x, W), order=2)

    def g(x, W):
        return (body(x, W) ** 2).sum()
    _close(fd.hessian(f)(x, W), fd.hessian(g)(x, W), rtol=1e-9)
    _close(fd.jit(fd.grad(lambda x, W: fd.grad(f)(x, W).sum(), 1))(x, W),
           fd.grad(lambda x, W: fd.grad(g)(x, W).sum(), 1)(x, W), rtol=1e-9)
    _close(fd.jacrev(lambda x: fd.checkpoint(body, policy=policy)(x, W))(x),
           fd.jacfwd(lambda x: body(x, W))(x), rtol=1e-9)


def test_outside_transforms_checkpoint_is_the_function():
    calls = []

    def f(x, y=1.0):
        calls.append(1)
        return {"a": x * y, "b": [x]}
    x = np.arange(3.0)
    out = fd.checkpoint(f)(x, y=2.0)
    assert calls == [1]
    np.testing.assert_array_equal(out["a"], x * 2.0)
    assert out["b"][0] is x
    assert fd.checkpoint_name(x, "x") is x


def test_pytrees_kwargs_static_argnums_and_python_control_flow(rng):
    def f(params, x, n, scale=1.0):
        for _ in range(n):          # static
            if x.sum() > 0:         # concrete under grad (not under jit)
                x = fnp.tanh(x @ params["W"]) * scale
            else:
                x = fnp.sin(x @ params["W"]) * scale
        return x

    params = {"W": rng.standard_normal((3, 3))}
    x = rng.standard_normal((2, 3))
    ck = fd.checkpoint(f, static_argnums=(2,))

    def loss(p, x, ckpt):
        return ((ck if ckpt else f)(p, x, 3, scale=0.5) ** 2).sum()
    _close(fd.grad(loss)(params, x, True), fd.grad(loss)(params, x, False))
    # under jit the same function without Python control flow on values
    g = fd.checkpoint(lambda p, x: fnp.tanh(x @ p["W"]), policy=cp.dots_saveable)
    _close(fd.jit(fd.grad(lambda p, x: g(p, x).sum()))(params, x),
           fd.grad(lambda p, x: fnp.tanh(x @ p["W"]).sum())(params, x))


def test_decorator_forms_and_remat_alias(rng):
    @fd.checkpoint
    def f(x):
        return fnp.sin(x) * x

    @fd.remat(policy=cp.everything_saveable)
    def g(x):
        return fnp.sin(x) * x
    x = rng.standard_normal(4)
    _close(fd.grad(lambda x: f(x).sum())(x), fd.grad(lambda x: g(x).sum())(x))
    _close(fd.grad(lambda x: f(x).sum())(x), np.cos(x) * x + np.sin(x))
    assert fd.remat is fd.checkpoint


def test_bad_policy_is_a_type_error():
    with pytest.raises(TypeError, match="policy"):
        fd.checkpoint(lambda x: x, policy="dots")


def test_checkpoint_eqn_in_jaxpr_and_check_jaxpr(rng):
    x = rng.standard_normal(3)
    closed = fd.make_jaxpr(lambda x: fd.checkpoint(fnp.sin)(x) * 2)(x)
    assert [e.primitive for e in closed.eqns][0] is checkpoint_p
    fd.check_jaxpr(closed)
    assert "checkpoint[" in str(closed) and "nothing_saveable" in str(closed)
    g = fd.make_jaxpr(fd.grad(lambda x: fd.checkpoint(fnp.sin)(x).sum()))(x)
    fd.check_jaxpr(g)


def test_vmap_of_checkpoint(rng):
    def f(x):
        return fd.checkpoint(lambda x: fnp.tanh(fd.checkpoint_name(x * 2, "h")))(x).sum()
    xs = rng.standard_normal((5, 3))
    _close(fd.vmap(fd.grad(f))(xs), 2 * (1 - np.tanh(2 * xs) ** 2))


# --- saving: what the policy says ----------------------------------------------------

def _inter(res):
    return [r for r in res if r.kind == "intermediate"]


def _body(x, W1, W2):
    h = fd.checkpoint_name(x @ W1, "h")         # dot, named
    z = fnp.sin(h)
    return fnp.tanh(z @ W2)                     # dot, not named


def test_saved_residuals_follow_the_policy(rng):
    x = rng.standard_normal((4, 3))
    W1, W2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))

    def loss(policy):
        return lambda x, W1, W2: fd.checkpoint(_body, policy=policy)(x, W1, W2).sum()

    nothing = _inter(saved_residuals(loss(None), x, W1, W2))
    assert nothing == []
    dots = _inter(saved_residuals(loss(cp.dots_saveable), x, W1, W2))
    # both dots' outputs are saved (h @ ... and z @ W2); nothing else
    assert sorted(r.shape for r in dots) == [(4, 2), (4, 5)]
    assert all("dot_general" in r.description for r in dots)
    names = _inter(saved_residuals(loss(cp.save_only_these_names("h")), x, W1, W2))
    assert [r.shape for r in names] == [(4, 5)]
    assert "named 'h'" in names[0].description
    everything = _inter(saved_residuals(loss(cp.everything_saveable), x, W1, W2))
    plain = _inter(saved_residuals(lambda x, W1, W2: _body(x, W1, W2).sum(), x, W1, W2))
    assert sorted(r.nbytes for r in everything) == sorted(r.nbytes for r in plain)
    assert sum(r.nbytes for r in plain) > sum(r.nbytes for r in names) > 0
    # arguments are listed as arguments (the checkpoint keeps its inputs)
    assert {r.kind for r in saved_residuals(loss(None), x, W1, W2)} == {"argument"}


def test_saved_residuals_argnums(rng):
    x = rng.standard_normal((4, 3))
    W1, W2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    f = lambda x, W1, W2: _body(x, W1, W2).sum()  # noqa: E731
    all_res = saved_residuals(f, x, W1, W2)
    only_w2 = saved_residuals(f, x, W1, W2, argnums=2)
    assert sum(r.nbytes for r in only_w2) < sum(r.nbytes for r in all_res)


def test_print_saved_residuals_names_the_user_line(rng):
    x = rng.standard_normal((4, 3))
    W1, W2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    buf = io.StringIO()
    fd.print_saved_residuals(lambda x, W1, W2: _body(x, W1, W2).sum(), x, W1, W2,
                             file=buf)
    text = buf.getvalue()
    assert "test_checkpoint.py" in text and "_body" in text
    assert "f64[4,5]" in text and "total saved" in text
    n_inter = len(_inter(saved_residuals(lambda x, W1, W2: _body(x, W1, W2).sum(),
                                         x, W1, W2)))
    assert f"in {n_inter} array(s)" in text


def test_checkpoint_every_layer_saves_each_layers_input(rng):
    """Checkpointing each layer of a chain keeps each layer's input: visible, and about
    what plain reverse mode keeps anyway (no promise of a saving)."""
    Ws = [rng.standard_normal((4, 4)) for _ in range(6)]
    x = rng.standard_normal((2, 4))

    def chain(layer_wrap):
        def f(Ws, x):
            for W in Ws:
                x = layer_wrap(lambda x, W: fnp.tanh(x @ W))(x, W)
            return x.sum()
        return f
    per_layer = _inter(saved_residuals(chain(fd.checkpoint), Ws, x))
    # the inputs of layers 2..6 (layer 1's input is an argument)
    assert len(per_layer) == 5 and all(r.shape == (2, 4) for r in per_layer)
    assert all("checkpoint" in r.description for r in per_layer)


# --- recomputation really happens, also under jit ------------------------------------

def _count(jaxpr, name):
    n = 0
    for e in jaxpr.eqns:
        if e.primitive.name == name:
            n += 1
        for p in e.params.values():
            if hasattr(p, "eqns"):
                n += _count(p, name)
    return n


def test_jit_keeps_the_replay_separate(rng):
    Ws = [rng.standard_normal((4, 4)) for _ in range(4)]
    x = rng.standard_normal((3, 4))

    def loss(Ws, x, ck):
        layer = (lambda x, W: fnp.tanh(x @ W))
        layer = fd.checkpoint(layer) if ck else layer
        for W in Ws:
            x = layer(x, W)
        return (x ** 2).sum()
    jg = fd.jit(fd.grad(loss), static_argnums=2)
    plain = jg.lower(Ws, x, False).jaxpr
    ck = jg.lower(Ws, x, True).jaxpr
    # without checkpoint: 4 tanh; with: 4 in the forward + 4 replayed in the backward
    assert _count(plain.jaxpr, "tanh") == 4
    assert _count(ck.jaxpr, "tanh") == 8
    assert _count(ck.jaxpr, "optimization_barrier") == 4
    _close(jg(Ws, x, True), jg(Ws, x, False))
    # the replay runs in the backward half: after the first cotangent is computed
    names = [e.primitive.name for e in ck.jaxpr.eqns]
    assert names.index("optimization_barrier") > names.index("checkpoint")


def test_eager_grad_reuses_the_forward_values(rng, monkeypatch):
    """Eager grad traces the checkpointed function with concrete values (so its Python
    control flow works) and its jvp rule reuses those primal outputs: the checkpoint's
    forward is not bound a second time, only its tangent half."""
    mod = sys.modules["funcdiff.higher_order.checkpoint"]
    hits = []
    orig = mod._memo_hit

    def spy(*a):
        out = orig(*a)
        hits.append(out is not None)
        return out
    monkeypatch.setattr(mod, "_memo_hit", spy)
    Ws = [rng.standard_normal((4, 4)) for _ in range(3)]
    x = rng.standard_normal((2, 4))

    def loss(Ws, x):
        for W in Ws:
            x = fd.checkpoint(lambda x, W: fnp.tanh(x @ W))(x, W)
        return (x ** 2).sum()
    fd.grad(loss)(Ws, x)
    assert hits == [True] * 3
    hits.clear()
    fd.jit(fd.grad(loss))(Ws, x)     # abstract: nothing to reuse
    assert not any(hits)


# --- checkpoint_sequential ------------------------------------------------------------

def _layers(rng, n, w):
    Ws = [rng.standard_normal((w, w)) / math.sqrt(w) for _ in range(n)]
    return Ws


def _seq_loss(segments, **kw):
    def loss(Ws, x):
        fns = [lambda h, W=W: fnp.tanh(h @ W) for W in Ws]
        if segments is None:
            for f in fns:
                x = f(x)
        else:
            x = fd.checkpoint_sequential(fns, segments, **kw)(x)
        return (x ** 2).sum()
    return loss


@pytest.mark.parametrize("segments", [1, 2, 3, 4, 9, 20])
def test_checkpoint_sequential_values_and_gradients(segments, rng):
    Ws = _layers(rng, 9, 5)
    x = rng.standard_normal((3, 5))
    v0, g0 = fd.value_and_grad(_seq_loss(None))(Ws, x)
    v1, g1 = fd.value_and_grad(_seq_loss(segments))(Ws, x)
    _close(v0, v1)
    _close(g0, g1)
    _close(fd.jit(fd.grad(_seq_loss(segments)))(Ws, x), g0)


def test_checkpoint_sequential_segments():
    f = fd.checkpoint_sequential([lambda x: x] * 10, None)
    assert f.segments == [3, 4, 3]     # round(sqrt(10)) = 3 segments
    assert fd.checkpoint_sequential([lambda x: x] * 7, 3).segments == [2, 3, 2]
    assert fd.checkpoint_sequential([lambda x: x + 1] * 4, 10)(0.0) == 4.0
    assert fd.checkpoint_sequential([], 3)(5.0) == 5.0
    with pytest.raises(ValueError, match="segments"):
        fd.checkpoint_sequential([lambda x: x], 0)


def test_checkpoint_sequential_saves_sqrt_n_memory(rng):
    n, w, b = 16, 8, 32
    Ws = _layers(rng, n, w)
    x = rng.standard_normal((b, w))
    plain = sum(r.nbytes for r in _inter(saved_residuals(_seq_loss(None), Ws, x)))
    seq = sum(r.nbytes for r in _inter(saved_residuals(_seq_loss(4), Ws, x)))
    act = b * w * 8
    # plain keeps one array per layer (each tanh output: the backward pass rebuilds
    # 1 - y**2 from it); 4 segments keep 3 segment inputs plus the last
    # (uncheckpointed) segment's n / 4 layer outputs
    assert plain >= n * act
    assert seq <= (3 + n // 4) * act < plain / 2
    c_plain = fd.cost_analysis(fd.grad(_seq_loss(None)))(Ws, x)
    c_seq = fd.cost_analysis(fd.grad(_seq_loss(4)))(Ws, x)
    assert c_seq["peak_bytes"] < 0.6 * c_plain["peak_bytes"]
    assert c_seq["flops"] > c_plain["flops"]          # the replay costs compute


def test_checkpoint_sequential_lowers_measured_peak_under_jit(rng):
    n, w, b = 24, 32, 256
    Ws = _layers(rng, n, w)
    x = rng.standard_normal((b, w))
    peaks = {}
    for segs in (None, 5):
        peaks[segs] = measured_peak(fd.jit(fd.value_and_grad(_seq_loss(segs))), Ws, x)
    assert peaks[5] < 0.5 * peaks[None]


def test_policy_saved_checkpoint_replays_layer_by_layer_under_jit(rng):
    """checkpoint(whole chain, dots_saveable): the backward pass replays each layer's
    tanh right before it needs it, so peak memory follows the saved matmul outputs,
    not all replayed activations at once."""
    n, w, b = 16, 16, 64
    Ws = _layers(rng, n, w)
    x = rng.standard_normal((b, w))

    def chain(Ws, h):
        for W in Ws:
            h = fnp.tanh(h @ W)
        return h

    def loss(policy):
        if policy is False:
            return lambda Ws, x: (chain(Ws, x) ** 2).sum()
        return lambda Ws, x: (fd.checkpoint(chain, policy=policy)(Ws, x) ** 2).sum()
    plain = fd.jit(fd.grad(loss(False))).lower(Ws, x).cost_analysis()
    dots = fd.jit(fd.grad(loss(cp.dots_saveable))).lower(Ws, x).cost_analysis()
    act = b * w * 8
    assert plain["peak_bytes"] >= 1.8 * n * act      # tanh out and 1 - tanh^2 per layer
    assert dots["peak_bytes"] <= 0.65 * plain["peak_bytes"]
    _close(fd.grad(loss(cp.dots_saveable))(Ws, x), fd.grad(loss(False))(Ws, x))


# --- loops: checkpoint around scan bodies and checkpointing schedules ------------------

from funcdiff import lax  # noqa: E402
from funcdiff.checkpoint import (checkpoint_fori_loop, checkpoint_scan,  # noqa: E402
                                 scan_schedule)

_Wl = np.random.default_rng(1).standard_normal((5, 5)) / 3


def _step(c, x):
    c = {"h": c["h"] + 0.1 * fnp.tanh(c["h"] @ _Wl + x), "s": c["s"] * 0.99}
    return c, (c["h"] ** 2).sum(axis=-1) * c["s"]


def _loop_loss(sched, reverse=False):
    def loss(h0, xs):
        init = {"h": h0, "s": 1.0 + 0 * h0.sum()}
        if sched == "plain":
            c, ys = lax.scan(_step, init, xs, reverse=reverse)
        elif sched == "body":
            c, ys = lax.scan(fd.checkpoint(_step), init, xs, reverse=reverse)
        else:
            c, ys = checkpoint_scan(_step, init, xs, reverse=reverse, schedule=sched)
        return ys.sum() + (c["h"] ** 2).sum() + c["s"]
    return loss


SCHEDULES = ["body", "every", None, ("every", 1), ("every", 3), ("every", 7),
             ("snapshots", 4), ("snapshots", 9), ("binomial", 6), 5]


@settings(max_examples=20, deadline=None)
@given(T=st.integers(1, 40), sched=st.sampled_from(SCHEDULES), reverse=st.booleans(),
       use_jit=st.booleans())
def test_checkpointed_loops_match_plain_scan(T, sched, reverse, use_jit):
    rng = np.random.default_rng(T)
    h0, xs = rng.standard_normal((2, 5)), rng.standard_normal((T, 2, 5))
    v0, g0 = fd.value_and_grad(_loop_loss("plain", reverse), (0, 1))(h0, xs)
    vg = fd.value_and_grad(_loop_loss(sched, reverse), (0, 1))
    v1, g1 = (fd.jit(vg) if use_jit else vg)(h0, xs)
    _close(v0, v1)
    _close(g0, g1)


def test_checkpoint_scan_without_xs_and_fori_loop(rng):
    x = rng.standard_normal(4)

    def f(x, sched):
        c, ys = checkpoint_scan(lambda c, _: (fnp.sin(c) + x, None), x, None, length=13,
                                schedule=sched)
        assert ys is None
        return c.sum()

    def plain(x):
        return lax.fori_loop(0, 13, lambda i, c: fnp.sin(c) + x, x).sum()
    for sched in ("every", ("every", 4), ("snapshots", 5)):
        _close(fd.grad(f)(x, sched), fd.grad(plain)(x))
        _close(f(x, sched), plain(x))

    def g(x, sched):
        return checkpoint_fori_loop(2, 11, lambda i, c: fnp.cos(c) * i, x,
                                    schedule=sched).sum()

    def g_plain(x):
        return lax.fori_loop(2, 11, lambda i, c: fnp.cos(c) * i, x).sum()
    for sched in ("every", ("every", 2), ("snapshots", 4)):
        _close(fd.grad(g)(x, sched), fd.grad(g_plain)(x))


def test_scan_schedule_plans():
    assert scan_schedule("every", 100) == ([], True)
    assert scan_schedule(None, 100) == ([], False)
    assert scan_schedule(("every", 10), 100) == ([10], False)
    assert scan_schedule(10, 100) == ([10], False)
    assert scan_schedule(("snapshots", 200), 100) == ([], False)   # everything fits
    sizes, _ = scan_schedule(("snapshots", 60), 10_000)
    assert sizes == [1000, 100, 10]                  # 4 levels of 10: 40 <= 60 states
    sizes, _ = scan_schedule(("snapshots", 20), 10_000)
    b = sizes[-1]
    assert b ** (len(sizes) + 1) >= 10_000
    for bad in ("sometimes", ("every", 0), ("sideways", 3), ("every", 2.5)):
        with pytest.raises(ValueError, match="schedule"):
            scan_schedule(bad, 10)


def test_long_integrator_differentiates_in_snapshot_memory(rng):
    """1,000 steps: the plain reverse pass keeps every step's residuals; a snapshot
    schedule keeps O(snapshots) states (predicted and measured under jit)."""
    T, n = 1000, 64
    W = rng.standard_normal((n, n)) / 8
    h0 = rng.standard_normal(n)

    def loss(sched):
        def step(h, _):
            return h + 0.01 * fnp.tanh(W @ h), None

        def f(h0):
            if sched == "plain":
                h, _ = lax.scan(step, h0, None, length=T)
            else:
                h, _ = checkpoint_scan(step, h0, None, length=T, schedule=sched)
            return (h ** 2).sum()
        return f
    peaks, meas = {}, {}
    for sched in ("plain", "every", ("snapshots", 30)):
        jg = fd.jit(fd.grad(loss(sched)))
        peaks[sched] = jg.lower(h0).cost_analysis()["peak_bytes"]
        meas[sched] = measured_peak(jg, h0)
    state = n * 8
    assert peaks["plain"] >= T * state              # >= 1 residual array per step
    assert peaks["every"] >= T * state              # one carry per step
    assert peaks[("snapshots", 30)] <= 40 * state   # O(snapshots)
    assert meas[("snapshots", 30)] < meas["plain"] / 10
    _close(fd.grad(loss(("snapshots", 30)))(h0), fd.grad(loss("plain"))(h0))


def _check_all(jaxpr):
    """check_jaxpr on a jaxpr and on every sub-jaxpr it holds."""
    from funcdiff.core.ir import ClosedJaxpr, Jaxpr
    fd.check_jaxpr(jaxpr if isinstance(jaxpr, ClosedJaxpr) else ClosedJaxpr(jaxpr, []))
    j = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    n = 0
    for e in j.eqns:
        for p in e.params.values():
            subs = p if isinstance(p, (tuple, list)) else [p]
            for s in subs:
                if isinstance(s, (Jaxpr, ClosedJaxpr)):
                    n += 1 + _check_all(s)
    return n


@pytest.mark.parametrize("policy", [None, cp.dots_saveable, cp.everything_saveable],
                         ids=repr)
def test_transformed_jaxprs_check(policy, rng):
    x, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))

    def f(x, W):
        g = fd.checkpoint(lambda x, W: fnp.tanh(x @ W) * fnp.sin(x), policy=policy)
        h = fd.checkpoint(lambda x, W: g(g(x, W), W), policy=policy)
        c, _ = checkpoint_scan(lambda c, _: (g(c, W), None), h(x, W), None, length=5,
                               schedule=("every", 2))
        return (c ** 2).sum()
    # (vmap maps over the rows of x: each example is a (4,) vector)
    for t in (fd.grad(f, (0, 1)), fd.jacfwd(f), fd.hessian(f),
              fd.vmap(fd.grad(f), (0, None))):
        assert _check_all(fd.make_jaxpr(t)(x, W)) > 0
    lowered = fd.jit(fd.grad(f, (0, 1))).lower(x, W)
    assert _check_all(lowered.jaxpr) > 0
    xs = np.stack([x, x + 1])
    _close(fd.vmap(fd.grad(f), (0, None))(xs, W),
           np.stack([fd.grad(f)(x, W), fd.grad(f)(x + 1, W)]))


def test_all_but_cheap_elementwise_policy_keeps_one_array_a_layer(rng):
    """Replaying the cheap square-and-subtract of tanh's derivative from the kept
    tanh(h) keeps one array a layer at no flop cost: inside a checkpoint by the policy,
    and in plain reverse mode by the eager split itself (``partial_eval_lean``)."""
    Ws = _layers(rng, 8, 16)
    x = rng.standard_normal((64, 16))

    def chain(Ws, h):
        for W in Ws:
            h = fnp.tanh(h @ W)
        return h

    def plain(Ws, x):
        return (chain(Ws, x) ** 2).sum()

    def cheap(Ws, x):
        pol = cp.all_but_cheap_elementwise_saveable
        return (fd.checkpoint(chain, policy=pol)(Ws, x) ** 2).sum()
    r_plain = _inter(saved_residuals(plain, Ws, x))
    r_cheap = _inter(saved_residuals(cheap, Ws, x))
    act = 64 * 16 * 8
    for r in (r_plain, r_cheap):
        assert not any("output of sub" in x.description for x in r)
        assert sum(x.nbytes for x in r) <= 9 * act      # 8 layers (+ the chain input)
    c_plain = fd.jit(fd.grad(plain)).lower(Ws, x).cost_analysis()
    c_cheap = fd.jit(fd.grad(cheap)).lower(Ws, x).cost_analysis()
    assert c_cheap["flops"] == c_plain["flops"]
    assert c_cheap["transcendentals"] == c_plain["transcendentals"]
    assert c_cheap["peak_bytes"] < 0.7 * c_plain["peak_bytes"]
    _close(fd.grad(cheap)(Ws, x), fd.grad(plain)(Ws, x))
