"""Reliability: tracer leaks, NaN debugging, threads, scale, state after errors, inputs
never mutated, and regressions for bugs these tests found.

* Leaks: a traced value stored outside its transform (global, attribute, closure, list)
  and used later raises ``TracerLeakError`` naming the op and line that created it, the
  transform, and the line of the late use.
* NaNs: ``funcdiff.config.debug_nans`` (attribute and context manager) raises
  ``FloatingPointNaNError`` at the first primitive making a NaN from NaN-free inputs --
  forward, forward-mode and backward, eager, under ``grad``, under ``jit`` (by re-running
  the jaxpr op by op) and through jit calls -- naming the primitive and the user line.
* Threads: 8 threads calling the same jitted and un-jitted transforms at once get their
  own correct results (no cross-talk through the jit caches or the eager linearize
  cache), and nothing deadlocks.
* Scale: a 100,000-eqn program through jvp, vjp, jit and checkpoint, in time linear in
  its size; 1,000 nested jit calls.
* State: KeyboardInterrupt or any exception in user code mid-trace leaves funcdiff
  usable; transforms never write to their inputs (read-only arrays work).
"""
from __future__ import annotations

import functools
import sys
import threading
import time

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp
from funcdiff.core.debug import FloatingPointNaNError
from funcdiff.core.trace import state

HERE = __file__


def _line():
    """The caller's line number (to assert messages name it)."""
    return sys._getframe(1).f_lineno


def _loc(line):
    return f"{HERE}:{line}"


# --- regressions ---------------------------------------------------------------------------

def test_jit_of_partial_and_callable_objects():
    """jit(functools.partial(...)) used to fail: JittedFunction read ``__name__``, which
    partials and callable objects do not have."""
    def f(x, a):
        return fnp.sin(x) * a

    class Scale:
        def __call__(self, x):
            return x * 3.0

    x = np.linspace(0.0, 1.0, 4)
    p = fd.jit(functools.partial(f, a=2.0))
    np.testing.assert_allclose(p(x), np.sin(x) * 2.0)
    assert "partial" in p.lower(x).source
    np.testing.assert_allclose(fd.jit(Scale())(x), x * 3.0)
    np.testing.assert_allclose(fd.grad(lambda y: fnp.sum(p(y)))(x), 2.0 * np.cos(x))


# --- tracer leaks ---------------------------------------------------------------------------

_LATE_USES = {
    "operator": lambda t: t + 1.0,
    "funcdiff.numpy": lambda t: fnp.sin(t),
    "numpy ufunc": lambda t: np.sin(t),
    "numpy function": lambda t: np.sum(t),
    "method": lambda t: t.sum(),
    "indexing": lambda t: t[0],
    "float": lambda t: float(t[0]),
    "numpy.asarray": lambda t: np.asarray(t),
    "in grad": lambda t: fd.grad(lambda x: fnp.sum(x * t))(np.ones(3)),
    "in jit": lambda t: fd.jit(lambda x: x * t)(np.ones(3)),
    "in vmap": lambda t: fd.vmap(lambda x: x * t)(np.ones((2, 3))),
    "in jvp": lambda t: fd.jvp(lambda x: x * t, (np.ones(3),), (np.ones(3),)),
}


def _leak_via(how, store):
    """Run a transform whose function stores a traced value in ``store``; returns the
    line that created it."""
    created = []

    def f(x):
        created.append(_line() + 1)
        y = fnp.sin(x) * 2.0
        store(y)
        return fnp.sum(y)

    x = np.linspace(0.1, 1.0, 3)
    {"grad": lambda: fd.grad(f)(x),
     "jit": lambda: fd.jit(f)(x),
     "vmap": lambda: fd.vmap(f)(np.stack([x, x])),
     "jvp": lambda: fd.jvp(f, (x,), (x,)),
     "vjp": lambda: fd.vjp(f, x),
     "linearize": lambda: fd.linearize(f, x),
     "make_jaxpr": lambda: fd.make_jaxpr(f)(x),
     "checkpoint": lambda: fd.grad(fd.checkpoint(f))(x),
     "hessian": lambda: fd.hessian(f)(x),
     "scan body": lambda: lax.scan(lambda c, xi: (c + f(xi[None]), c), 0.0, x),
     }[how]()
    return created[0]


LEAK_SITES = ["grad", "jit", "vmap", "jvp", "vjp", "linearize", "make_jaxpr",
              "checkpoint", "hessian", "scan body"]


@pytest.mark.parametrize("how", LEAK_SITES)
@pytest.mark.parametrize("use", list(_LATE_USES))
def test_leaked_tracer_raises_naming_its_creation(how, use):
    saved = []
    created = _leak_via(how, saved.append)
    leaked = saved[-1]
    with pytest.raises(fd.TracerLeakError) as info:
        _LATE_USES[use](leaked)
    msg = str(info.value)
    assert "escaped the transform" in msg
    assert f"created by `mul` at {_loc(created)}" in msg, msg
    assert "Return values from the transformed function" in msg
    # the late use is located too: the lambda in _LATE_USES (or funcdiff's own line for
    # uses nested inside another transform's machinery, which still name this file)
    assert HERE in msg.split("It was created")[0], msg


class _Model:
    pass


def test_leak_through_attribute_and_closure():
    model = _Model()
    cell = []

    def f(x):
        h = fnp.tanh(x)
        model.hidden = h                 # attribute
        cell.append(lambda: h * 2.0)     # closure
        return fnp.sum(h)

    fd.jit(f)(np.ones(2))
    with pytest.raises(fd.TracerLeakError, match="created by `tanh`"):
        model.hidden * 3.0
    with pytest.raises(fd.TracerLeakError, match=r"jit trace started at .*test_reliability"):
        cell[0]()
    # the leaked value's repr says it leaked instead of failing
    assert "leaked" in repr(model.hidden)


def test_leaked_tracer_inside_another_active_trace_is_an_error_not_a_capture():
    saved = []
    fd.grad(lambda x: (saved.append(x * 3.0), fnp.sum(x))[1])(np.ones(2))

    def g(y):
        return fnp.sum(y * saved[0])     # saved[0] belongs to a finished trace

    for t in (fd.grad, fd.jit, lambda f: functools.partial(fd.jvp, f)):
        with pytest.raises(fd.TracerLeakError):
            out = t(g)
            out(np.ones(2)) if not isinstance(out, functools.partial) else \
                out((np.ones(2),), (np.ones(2),))
    assert state.stack == []


def test_outer_tracer_in_inner_transform_is_not_a_leak():
    """Closing over a live outer tracer is capture (perturbation is tracked), not a leak."""
    def outer(x):
        return fd.grad(lambda y: fnp.sum(fnp.sin(x * y)))(np.float64(1.0))

    x = 0.7
    got = fd.grad(outer)(x)
    # d/dx [x cos(x)] = cos(x) - x sin(x)
    np.testing.assert_allclose(got, np.cos(x) - x * np.sin(x), rtol=1e-12)


# --- NaN debugging --------------------------------------------------------------------------

def _nan_fwd(x):
    return fnp.sum(fnp.log(x - 2.0))                         # NaN for x < 2


_NAN_FWD_LINE = _nan_fwd.__code__.co_firstlineno + 1


def _nan_bwd(x):
    return fnp.sum(fnp.where(x > 0, fnp.log(x), 0.0))        # backward: 0 * (1/0) at x=0


_NAN_BWD_LINE = _nan_bwd.__code__.co_firstlineno + 1


def _nan_tangent(x):
    return fnp.arcsin(x) * 0.0                               # tangent: inf * 0 at x=1


_NAN_TAN_LINE = _nan_tangent.__code__.co_firstlineno + 1


def _expect_nan(fun, prim, line, phase=None):
    with pytest.raises(FloatingPointNaNError) as info:
        fun()
    msg = str(info.value)
    assert f"`{prim}` produced a NaN" in msg, msg
    assert _loc(line) in msg, msg
    if phase is not None:
        assert phase in msg, msg
    assert isinstance(info.value, fd.FuncdiffError)
    assert isinstance(info.value, FloatingPointError)
    return msg


_FWD_CASES = {
    "eager funcdiff.numpy": (lambda x: _nan_fwd(x), "funcdiff.numpy.log"),
    "grad": (lambda x: fd.grad(_nan_fwd)(x), "log"),
    "value_and_grad": (lambda x: fd.value_and_grad(_nan_fwd)(x), "log"),
    "jvp": (lambda x: fd.jvp(_nan_fwd, (x,), (x,)), "log"),
    "jit": (lambda x: fd.jit(_nan_fwd)(x), "log"),
    # under jit only the outputs are checked: value_and_grad returns the NaN value
    "jit(value_and_grad)": (lambda x: fd.jit(fd.value_and_grad(_nan_fwd))(x), "log"),
    "grad(jit)": (lambda x: fd.grad(fd.jit(_nan_fwd))(x), "log"),
    "vmap": (lambda x: fd.vmap(_nan_fwd)(np.stack([x, x])), "log"),
    "jit(vmap)": (lambda x: fd.jit(fd.vmap(_nan_fwd))(np.stack([x, x])), "log"),
    "checkpoint": (lambda x: fd.grad(fd.checkpoint(_nan_fwd))(x), "log"),
}


@pytest.mark.parametrize("case", list(_FWD_CASES))
def test_debug_nans_forward(case):
    run, prim = _FWD_CASES[case]
    x = np.array([3.0, 1.0, 4.0])
    with fd.config.debug_nans_enabled():
        for _ in range(2):       # second call: compiled / cached paths
            _expect_nan(lambda: run(x), prim, _NAN_FWD_LINE)
        # no NaN: no error, same values as without the check
        ok = np.array([3.0, 2.5, 4.0])
        with np.errstate(all="ignore"):
            got = run(ok)
    assert fd.config.debug_nans is False
    for a, b in zip(fd.tree_util.tree_leaves(got), fd.tree_util.tree_leaves(run(ok))):
        np.testing.assert_allclose(a, b, rtol=1e-12)


_BWD_CASES = {
    "grad": lambda x: fd.grad(_nan_bwd)(x),
    "vjp": lambda x: fd.vjp(_nan_bwd, x)[1](1.0),
    "jit(grad)": lambda x: fd.jit(fd.grad(_nan_bwd))(x),
    "grad(jit)": lambda x: fd.grad(fd.jit(_nan_bwd))(x),
    "grad(checkpoint)": lambda x: fd.grad(fd.checkpoint(_nan_bwd))(x),
    "jacrev": lambda x: fd.jacrev(_nan_bwd)(x),
}


@pytest.mark.parametrize("case", list(_BWD_CASES))
def test_debug_nans_backward(case):
    """The forward pass is NaN-free; the backward pass divides 0 by 0."""
    x = np.array([0.0, 1.0, 2.0])
    run = _BWD_CASES[case]
    with np.errstate(all="ignore"):
        assert np.isnan(np.asarray(run(x))).any()      # the NaN really is there
    fd.config.debug_nans = True
    try:
        for _ in range(2):
            msg = _expect_nan(lambda: run(x), "div", _NAN_BWD_LINE)
            if case in ("grad", "vjp"):
                assert "backward pass" in msg
    finally:
        fd.config.debug_nans = False
    assert not fd.config.debug_nans


@pytest.mark.parametrize("case", ["jvp", "linearize", "jacfwd", "jit(jvp)"])
def test_debug_nans_forward_mode(case):
    """The primal is NaN-free; the tangent is inf * 0 (jacfwd: its basis vectors' zeros
    already give 0 / 0 in arcsin's derivative)."""
    x = np.array([1.0, 0.5])
    t = np.ones(2)
    run = {"jvp": lambda: fd.jvp(_nan_tangent, (x,), (t,))[1],
           "linearize": lambda: fd.linearize(_nan_tangent, x)[1](t),
           "jacfwd": lambda: fd.jacfwd(_nan_tangent)(x),
           "jit(jvp)": lambda: fd.jit(lambda a, b: fd.jvp(_nan_tangent, (a,), (b,))[1])(
               x, t)}[case]
    with np.errstate(all="ignore"):
        assert np.isnan(run()).any()
    with fd.config.debug_nans_enabled():
        for _ in range(2):
            _expect_nan(run, "div" if case == "jacfwd" else "mul", _NAN_TAN_LINE)


def test_debug_nans_names_the_op_inside_jit_calls_and_branches():
    inner = fd.jit(lambda x: fnp.sqrt(x - 5.0))

    def f(x):
        return lax.cond(fnp.sum(x) > 0, lambda y: fnp.arccos(y), lambda y: y, x)

    line = f.__code__.co_firstlineno + 1

    with fd.config.debug_nans_enabled():
        _expect_nan(lambda: fd.jit(lambda x: inner(x) * 2.0)(np.ones(2)), "sqrt",
                    inner.__wrapped__.__code__.co_firstlineno)
        _expect_nan(lambda: fd.grad(lambda x: fnp.sum(inner(x)))(np.ones(2)), "sqrt",
                    inner.__wrapped__.__code__.co_firstlineno)
        _expect_nan(lambda: fd.jit(f)(np.full(2, 3.0)), "acos", line)
        _expect_nan(lambda: f(np.full(2, 3.0)), "acos", line)


def test_debug_nans_ignores_nans_that_come_in():
    x = np.array([np.nan, 1.0])
    with fd.config.debug_nans_enabled():
        assert np.isnan(fnp.sin(x)).any()
        assert np.isnan(fd.jit(fnp.sin)(x)).any()
        assert np.isnan(fd.grad(lambda v: fnp.sum(fnp.sin(v)))(x)).any()


def test_debug_nans_context_manager_restores_on_error():
    assert not fd.config.debug_nans
    with pytest.raises(FloatingPointNaNError):
        with fd.config.debug_nans_enabled():
            assert fd.config.debug_nans
            fd.jit(_nan_fwd)(np.ones(2))
    assert not fd.config.debug_nans
    with fd.config.debug_nans_enabled(False):
        assert not fd.config.debug_nans
    # off: NaNs flow through silently
    with np.errstate(all="ignore"):
        assert np.isnan(fd.jit(_nan_fwd)(np.ones(2)))
    assert state.stack == []


# --- threads --------------------------------------------------------------------------------

def _model(x, k):
    return fnp.sum(fnp.sin(x * k) ** 2) + lax.fori_loop(0, 2, lambda i, c: c * 0.5,
                                                         fnp.sum(x))


_jit_model = fd.jit(_model)
_grad_model = fd.grad(_model)
_jit_grad_model = fd.jit(fd.grad(_model))


def _expected(x, k):
    value = np.sum(np.sin(x * k) ** 2) + 0.25 * np.sum(x)
    grad = 2 * np.sin(x * k) * np.cos(x * k) * k + 0.25
    return value, grad


def _run_threads(n, target, timeout=120):
    errors = []
    barrier = threading.Barrier(n, timeout=timeout)

    def wrap(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append((i, e))

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} threads still running: deadlock?"
    assert not errors, errors


def test_eight_threads_same_transforms_no_cross_talk():
    results = {}

    def work(tid):
        rng = np.random.default_rng(tid)
        for it in range(12):
            n = 2 + (it + tid) % 3                  # shared cache entries and retraces
            x = rng.standard_normal(n)
            k = float(tid + 1)                      # static per thread: distinct results
            value, grad = _expected(x, k)
            checks = {
                "jit": (_jit_model(x, k), value),
                "grad": (_grad_model(x, k), grad),
                "jit(grad)": (_jit_grad_model(x, k), grad),
                "value_and_grad": (fd.value_and_grad(_model)(x, k)[1], grad),
                "vjp": (fd.vjp(lambda v: _model(v, k), x)[1](1.0)[0], grad),
                "jvp": (fd.jvp(lambda v: _model(v, k), (x,), (np.ones(n),))[1], grad.sum()),
                "vmap": (fd.vmap(_model, in_axes=(0, None))(np.stack([x, 2 * x]), k),
                         np.array([value, _expected(2 * x, k)[0]])),
                "hessian": (np.trace(fd.hessian(_model)(x, k)),
                            np.sum(2 * k * k * np.cos(2 * x * k))),
            }
            for name, (got, want) in checks.items():
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12,
                                           err_msg=f"thread {tid} iter {it} {name}")
            assert state.stack == []
        results[tid] = True

    _run_threads(8, work)
    assert sorted(results) == list(range(8))
    # one entry per input shape (k is a traced weak float): 3 shapes, however many threads
    assert _jit_model.cache_info().entries == 3


def test_threads_share_the_eager_linearize_cache_without_cross_talk():
    """grad of one function at 8 different inputs at once: the linearization recipe is
    shared (same IR structure) but each call's residuals are its own."""
    from funcdiff.api import executor as lin

    def f(x):
        return fnp.sum(fnp.exp(fnp.sin(x)) * x)

    def df(x):
        return np.exp(np.sin(x)) * (np.cos(x) * x + 1)

    fd.grad(f)(np.ones(4))                           # populate the cache
    n_cached = len(lin._CACHE)
    out = {}

    def work(tid):
        x = np.full(4, 0.1 * tid)
        for _ in range(40):
            out[tid] = fd.grad(f)(x)
            np.testing.assert_allclose(out[tid], df(x), rtol=1e-12)

    _run_threads(8, work)
    assert len(lin._CACHE) == n_cached      # every call reused the one recipe


def test_thread_tracing_does_not_leak_into_other_threads():
    """While thread A is inside a transform (blocked in user code), thread B's eager
    funcdiff.numpy calls are plain NumPy and its transforms are independent."""
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def f(x):
        inside.set()
        assert release.wait(30)
        return fnp.sum(x * x)

    def a():
        seen["a"] = fd.grad(f)(np.ones(3))

    t = threading.Thread(target=a, daemon=True)
    t.start()
    assert inside.wait(30)
    try:
        y = fnp.sin(np.ones(2))
        assert type(y) is np.ndarray
        seen["b"] = fd.jit(fd.grad(lambda x: fnp.sum(x ** 3)))(np.ones(2))
    finally:
        release.set()
    t.join(30)
    assert not t.is_alive()
    np.testing.assert_allclose(seen["a"], 2 * np.ones(3))
    np.testing.assert_allclose(seen["b"], 3 * np.ones(2))


def test_mutually_calling_jitted_functions_do_not_deadlock():
    """Regression: each jitted function held its lock while tracing, so two threads
    first-calling two jitted functions that call each other deadlocked."""
    started = threading.Barrier(2, timeout=30)

    def fa(x, n):
        if n == 3:
            started.wait()      # both threads are now inside a trace
            time.sleep(0.05)
        return x if n == 0 else jg(x, n - 1) + 1.0

    def fb(x, n):
        if n == 3:
            started.wait()
            time.sleep(0.05)
        return x if n == 0 else jf(x, n - 1) * 2.0

    jf = fd.jit(fa, static_argnums=1)
    jg = fd.jit(fb, static_argnums=1)
    res = {}
    ts = [threading.Thread(target=lambda: res.__setitem__("f", jf(np.ones(2), 3)),
                           daemon=True),
          threading.Thread(target=lambda: res.__setitem__("g", jg(np.ones(2), 3)),
                           daemon=True)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not any(t.is_alive() for t in ts), "deadlock"
    np.testing.assert_allclose(res["f"], np.full(2, 5.0))    # ((1 + 1) * 2) + 1
    np.testing.assert_allclose(res["g"], np.full(2, 6.0))    # ((1 * 2) + 1) * 2


def test_concurrent_first_calls_trace_consistently():
    calls = []

    @fd.jit
    def f(x):
        calls.append(1)
        time.sleep(0.02)
        return fnp.cos(x) * 2.0

    out = {}

    def work(tid):
        out[tid] = f(np.full(3, float(tid)))

    _run_threads(8, work)
    for tid, v in out.items():
        np.testing.assert_allclose(v, np.cos(np.full(3, float(tid))) * 2.0)
    info = f.cache_info()
    assert info.entries == 1
    assert info.hits + info.misses == 8
    assert 1 <= len(calls) <= 8


# --- scale ----------------------------------------------------------------------------------

def _chain(n_eqns):
    """A program of n_eqns primitives (two a step)."""
    def f(x):
        for _ in range(n_eqns // 2):
            x = x * 0.5 + 1.0
        return x
    return f


def _timed(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def _chain_value(x, n_eqns):
    # x_{k+1} = x_k / 2 + 1 -> 2 + (x - 2) / 2**k
    k = n_eqns // 2
    return 2.0 + (x - 2.0) * 0.5 ** k


@pytest.fixture(scope="module")
def big():
    from funcdiff.api import executor as linearize
    n = 100_000
    f = _chain(n)
    x = np.linspace(-1.0, 1.0, 3)
    closed = fd.make_jaxpr(f)(x)
    assert len(closed.eqns) == n
    del closed
    yield f, x, n
    linearize._CACHE.clear()    # drop the 100k-eqn recipes (they slow every later gc)


def test_scale_jvp_100k_and_linear_time(big):
    f, x, n = big
    (out, t), t_big = _timed(lambda: fd.jvp(f, (x,), (np.ones(3),)))
    np.testing.assert_allclose(out, _chain_value(x, n))
    np.testing.assert_allclose(t, np.zeros(3) + 0.5 ** (n // 2), atol=1e-300)
    small = _chain(n // 10)
    _, t_small = _timed(lambda: fd.jvp(small, (x,), (np.ones(3),)))
    assert t_big / max(t_small, 1e-3) < 25, (t_small, t_big)


def test_scale_vjp_100k(big):
    f, x, n = big
    out, vjp_fn = fd.vjp(f, x)
    (g,) = vjp_fn(np.ones(3))
    np.testing.assert_allclose(out, _chain_value(x, n))
    assert g.shape == (3,) and np.all(g == 0.5 ** (n // 2))


def test_scale_jit_100k_and_linear_time(big):
    f, x, n = big
    out, t_big = _timed(lambda: fd.jit(f)(x))
    np.testing.assert_allclose(out, _chain_value(x, n))
    small = _chain(n // 10)
    _, t_small = _timed(lambda: fd.jit(small)(x))
    # linear: 10x the eqns in about 10x the time (generous bound for noisy machines)
    assert t_big / max(t_small, 1e-3) < 25, (t_small, t_big)


def test_scale_checkpoint_100k(big):
    f, x, n = big
    g = fd.grad(lambda v: fnp.sum(fd.checkpoint(f)(v)))(x)
    np.testing.assert_allclose(g, np.full(3, 0.5 ** (n // 2)))


def _in_big_stack(fn, recursion=30_000):
    """Run fn in a thread with a large stack and recursion limit: tracing 1,000 nested
    jitted *user* functions recurses through the user's own calls (as in JAX)."""
    result, errors = [], []
    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size(512 * 1024 * 1024)

    def run():
        try:
            result.append(fn())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    sys.setrecursionlimit(recursion)
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]
    return result[0]


def test_thousand_nested_jit_calls():
    depth = 1000
    f = fnp.sin
    for _ in range(depth):
        f = fd.jit(functools.partial(lambda x, g: g(x) * 1.001, g=f))
    x = np.linspace(0.0, 1.0, 3)
    want = np.sin(x) * 1.001 ** depth

    def check():
        closed = fd.make_jaxpr(f)(x)
        nest, j = 0, closed.jaxpr
        while j.eqns and j.eqns[0].primitive.name == "jit_call":
            nest, j = nest + 1, j.eqns[0].params["jaxpr"]
        assert nest == depth
        fd.check_jaxpr(closed)
        text, t_print = _timed(lambda: str(closed))
        assert text.count("jit_call") == depth
        assert t_print < 10, t_print     # was cubic in the depth (35 s), now linear
        np.testing.assert_allclose(f(x), want)
        np.testing.assert_allclose(fd.eval_jaxpr(closed.jaxpr, closed.consts, x)[0], want)
        np.testing.assert_allclose(fd.jvp(f, (x,), (np.ones(3),))[1],
                                   np.cos(x) * 1.001 ** depth)
        g = fd.grad(lambda v: fnp.sum(f(v)))
        np.testing.assert_allclose(g(x), np.cos(x) * 1.001 ** depth)
        np.testing.assert_allclose(fd.jit(g)(x), np.cos(x) * 1.001 ** depth)
        np.testing.assert_allclose(fd.vmap(f)(np.stack([x, x])), np.stack([want, want]))
        return True

    assert _in_big_stack(check)


# --- state after errors and interrupts ----------------------------------------------------------

class _Boom(Exception):
    pass


_TRANSFORMS = {
    "grad": lambda f, x: fd.grad(lambda v: fnp.sum(f(v)))(x),
    "jit": lambda f, x: fd.jit(f)(x),
    "jit(grad)": lambda f, x: fd.jit(fd.grad(lambda v: fnp.sum(f(v))))(x),
    "vmap": lambda f, x: fd.vmap(f)(np.stack([x, x])),
    "jvp": lambda f, x: fd.jvp(f, (x,), (x,)),
    "vjp": lambda f, x: fd.vjp(f, x),
    "jacfwd": lambda f, x: fd.jacfwd(f)(x),
    "hessian": lambda f, x: fd.hessian(lambda v: fnp.sum(f(v)))(x),
    "checkpoint": lambda f, x: fd.grad(lambda v: fnp.sum(fd.checkpoint(f)(v)))(x),
    "scan body": lambda f, x: lax.scan(lambda c, xi: (c + f(xi), c), x[0], x),
    "cond branch": lambda f, x: fd.jit(lambda v: lax.cond(v[0] > 0, f, lambda u: u, v))(x),
    "while body": lambda f, x: fd.grad(lambda v: fnp.sum(lax.while_loop(
        lambda s: s[0] < 2, lambda s: (s[0] + 1, f(s[1])), (0, v))[1]))(x),
    "custom_jvp rule": lambda f, x: fd.grad(lambda v: fnp.sum(_custom(f)(v)))(x),
}


def _custom(f):
    @fd.custom_jvp
    def c(x):
        return fnp.sin(x)

    @c.defjvp
    def c_jvp(primals, tangents):
        return c(primals[0]), f(primals[0]) * tangents[0]
    return c


@pytest.mark.parametrize("exc", [KeyboardInterrupt, _Boom, ValueError])
@pytest.mark.parametrize("where", list(_TRANSFORMS))
def test_interrupt_mid_trace_leaves_funcdiff_usable(where, exc):
    x = np.array([0.5, 1.5])
    armed = [True]

    def f(v):
        w = fnp.sin(v) * 2.0
        if armed[0]:
            raise exc("interrupted")
        return w

    with pytest.raises(exc):
        _TRANSFORMS[where](f, x)
    assert state.stack == [] and state.memo is None and state.source_override is None
    # the same transform now works, on the same function (no poisoned cache) ...
    armed[0] = False
    _TRANSFORMS[where](f, x)
    # ... and so does everything else
    np.testing.assert_allclose(fd.grad(lambda v: fnp.sum(v * v))(x), 2 * x)
    np.testing.assert_allclose(fd.jit(lambda v: v + 1.0)(x), x + 1.0)
    assert state.stack == []


def test_jit_retries_after_a_failed_trace():
    fail = [True]

    @fd.jit
    def f(x):
        if fail[0]:
            raise KeyboardInterrupt
        return x * 2.0

    with pytest.raises(KeyboardInterrupt):
        f(np.ones(2))
    assert f.cache_info().entries == 0
    fail[0] = False
    np.testing.assert_allclose(f(np.ones(2)), 2.0)
    assert f.cache_info().entries == 1


def test_interrupt_inside_backward_pass_and_vjp_fn_reusable():
    calls = [0]

    @fd.custom_vjp
    def g(x):
        return x * 3.0

    def g_fwd(x):
        return g(x), None

    def g_bwd(_, ct):
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt
        return (ct * 3.0,)

    g.defvjp(g_fwd, g_bwd)
    out, vjp_fn = fd.vjp(lambda v: fnp.sin(g(v)), np.ones(2))
    with pytest.raises(KeyboardInterrupt):
        vjp_fn(np.ones(2))
    assert state.stack == []
    np.testing.assert_allclose(vjp_fn(np.ones(2))[0], 3.0 * np.cos(3.0 * np.ones(2)))


# --- inputs are never mutated ---------------------------------------------------------------

def _readonly(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def _f_inputs(x, y):
    return fnp.sum(fnp.tanh(x @ y) * x[:, :1]) + fnp.sum(fnp.sin(y))


_MUT_TRANSFORMS = {
    "eager": lambda x, y: _f_inputs(x, y),
    "grad": lambda x, y: fd.grad(_f_inputs, argnums=(0, 1))(x, y),
    "value_and_grad": lambda x, y: fd.value_and_grad(_f_inputs)(x, y),
    "jit": lambda x, y: fd.jit(_f_inputs)(x, y),
    "jit(grad)": lambda x, y: fd.jit(fd.grad(_f_inputs, argnums=(0, 1)))(x, y),
    "jvp": lambda x, y: fd.jvp(_f_inputs, (x, y), (x, y)),
    "vjp": lambda x, y: fd.vjp(lambda a, b: fnp.tanh(a @ b), x, y)[1](
        _readonly(np.ones((x.shape[0], y.shape[1])))),
    "linearize": lambda x, y: fd.linearize(_f_inputs, x, y)[1](x, y),
    "vmap": lambda x, y: fd.vmap(_f_inputs, in_axes=(None, 0))(x, np.stack([y, y])),
    "vmap(x)": lambda x, y: fd.vmap(lambda r: fnp.tanh(r) * 2.0)(x),
    "jacfwd": lambda x, y: fd.jacfwd(_f_inputs)(x, y),
    "jacrev": lambda x, y: fd.jacrev(_f_inputs, argnums=1)(x, y),
    "hessian": lambda x, y: fd.hessian(_f_inputs)(x, y),
    "checkpoint": lambda x, y: fd.grad(fd.checkpoint(_f_inputs))(x, y),
    "scan": lambda x, y: fd.grad(lambda a: fnp.sum(lax.scan(
        lambda c, r: (c * 0.5 + r, c), a[0], a)[1]))(x),
    "at.set": lambda x, y: fd.grad(lambda a: fnp.sum(a.at[0].set(1.0) * a))(x),
    "jit identity": lambda x, y: fd.jit(lambda a: a)(x),
}


_JACOBIANS = ("jacfwd", "jacrev", "hessian")


@pytest.mark.parametrize("big", [False, True], ids=["small", "large"])
@pytest.mark.parametrize("name", list(_MUT_TRANSFORMS))
def test_transforms_never_write_to_inputs(name, big):
    """Read-only inputs work, writable ones are left unchanged, and no output shares a
    buffer with an input.  Large arrays (4,900 elements) take jit's in-place (out=) code
    paths (Jacobians of them would be too big: small only)."""
    if big and name in _JACOBIANS:
        return
    rng = np.random.default_rng(0)
    n = 70 if big else 3
    x0, y0 = rng.standard_normal((n, n)), rng.standard_normal((n, 2)) * 0.1
    out_ro = _MUT_TRANSFORMS[name](_readonly(x0), _readonly(y0))
    x, y = x0.copy(), y0.copy()
    out = _MUT_TRANSFORMS[name](x, y)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    leaves = fd.tree_util.tree_leaves(out)
    for a, b in zip(leaves, fd.tree_util.tree_leaves(out_ro)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for leaf in leaves:
        if isinstance(leaf, np.ndarray):
            assert not np.shares_memory(leaf, x) and not np.shares_memory(leaf, y), name
