"""Random programs through every transform (tests/strategies.py builds them).

Each test draws well-typed programs of 1-30 ops (elementwise on safe domains, broadcasting,
reductions, dot_general, indexing, shape ops, where/select, control flow, jit/checkpoint/
custom_jvp calls) over float32/float64 inputs and checks one property against an
independent oracle:

* every transform's output IR passes ``check_jaxpr``;
* jit == the interpreter == eager NumPy (values, shapes, dtypes);
* jvp == finite differences (Richardson-extrapolated central differences, float64, only
  where the example is away from every kink);
* vjp agrees with jvp (the dot-product identity ``<vjp(u), v> == <u, jvp(v)>``);
* second order: the Hessian is symmetric and jvp-of-grad == grad-of-jvp;
* vmap == a Python loop over the examples;
* checkpoint == no checkpoint (values and gradients, with and without a policy);
* float32 in gives float32 out (values, jit, jvp tangents, gradients).

The jit check runs three times: NumPy code only, cache-blocked fusion of every eligible
group (threshold 0, blocks of 3 elements, so tails and block boundaries are hit), and
(when numexpr is installed) numexpr fusion of every eligible elementwise chain.

Profiles: ``ci`` (tests/conftest.py: derandomized, bounded) keeps this file well under
three minutes on two cores; ``pytest --hypothesis-profile=soak`` draws many more programs.
"""
from __future__ import annotations

import contextlib
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2

from strategies import CONTROL_FLOW_OPS, OPS, Draw, programs

# The ci profile's default max_examples is shared by the whole suite; these tests set
# their own smaller counts (each example runs many transforms) unless the profile asks
# for more (soak).
_N = settings().max_examples


def budget(n):
    return settings(max_examples=max(n, _N) if _N > 25 else n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _quiet():
    """NumPy's floating-point warnings off; a derivative cut (DerivativeCutWarning) an
    error in every test here (see ``test_no_derivative_is_cut``)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("error", fd.DerivativeCutWarning)
        yield


def _outs(x):
    """Output leaves: programs return a value or a tuple; eval_jaxpr returns a list."""
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _tol(dtype):
    return (2e-5, 2e-5) if np.dtype(dtype) == np.float32 else (1e-10, 1e-10)


def _assert_same(got, want, dtype, what, atol_scale=1.0, check_dtype=True):
    got, want = _outs(got), _outs(want)
    assert len(got) == len(want), what
    rtol, atol = _tol(dtype)
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: output {i} shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype or not check_dtype, \
            f"{what}: output {i} dtype {g.dtype} != {w.dtype}"
        scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale * atol_scale,
                                   err_msg=what)


def _weights(prog, xs):
    """Random fixed output weights, so ``g = sum_i <w_i, out_i>`` is a scalar loss."""
    rng = np.random.default_rng(prog.seed + 7)
    return [rng.standard_normal(a.shape).astype(a.dtype)
            for a in fd.make_jaxpr(prog)(*xs).out_avals]


def _scalar(prog, ws):
    def g(*xs):
        return sum(fnp.sum(o * w) for o, w in zip(_outs(prog(*xs)), ws))
    return g


def _f64(prog):
    return prog.inputs(dtype=np.float64)


def _directions(prog, xs, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(np.shape(x)).astype(np.asarray(x).dtype) for x in xs)


def _vdot(a, b):
    return float(sum(np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64))
                     for x, y in zip(a, b)))


# --- IR ---------------------------------------------------------------------------------

@budget(250)
@given(programs())
def test_every_transform_output_type_checks(prog):
    xs = prog.inputs()
    ws = _weights(prog, xs)
    g = _scalar(prog, ws)
    vs = _directions(prog, xs, 1)
    cts = tuple(_weights(prog, xs))
    batched = prog.inputs(batch=2)
    jaxprs = {
        "f": fd.make_jaxpr(prog)(*xs),
        "jvp": fd.make_jaxpr(lambda *a: fd.jvp(prog, a[:len(xs)], a[len(xs):]))(*xs, *vs),
        "vjp": fd.make_jaxpr(lambda *a: fd.vjp(prog, *a)[1](
            cts[0] if len(cts) == 1 else cts))(*xs),
        "grad": fd.make_jaxpr(fd.grad(g, argnums=tuple(range(len(xs)))))(*xs),
        "jit.lower": fd.jit(prog).lower(*xs).jaxpr,
        "jit(grad).lower": fd.jit(fd.grad(g)).lower(*xs).jaxpr,
        "vmap": fd.make_jaxpr(fd.vmap(prog))(*batched),
        "checkpoint": fd.make_jaxpr(fd.grad(fd.checkpoint(g)))(*xs),
        "hvp": fd.make_jaxpr(lambda x, v: fd.jvp(fd.grad(g), (x,) + xs[1:],
                                                 (v,) + tuple(np.zeros_like(u)
                                                              for u in xs[1:]))[1])(
            xs[0], vs[0]),
    }
    for name, j in jaxprs.items():
        try:
            fd.check_jaxpr(j)
        except Exception as e:  # noqa: BLE001 - re-raised with the program
            raise AssertionError(f"{name}: {e}\n{j}") from e


# --- jit == interpreter == NumPy ------------------------------------------------------

_FUSED: list = []     # whether numexpr programs really fused something (checked below)
_BLOCKED: list = []   # whether blocked programs really had a block loop (checked below)

try:
    import numexpr  # noqa: F401
    HAS_NUMEXPR = True
except ImportError:
    HAS_NUMEXPR = False


@contextlib.contextmanager
def _codegen(fusion):
    """jit with NumPy code only, or with numexpr fusion of every eligible chain (the size
    threshold lowered to 0, so the small arrays of random programs fuse too)."""
    from funcdiff.jit.passes import fuse
    with mock.patch.object(fd.config, "numexpr_fusion", fusion == "numexpr"), \
            mock.patch.object(fuse, "FUSE_MIN_SIZE", 0 if fusion == "numexpr" else
                              fuse.FUSE_MIN_SIZE), \
            mock.patch.object(fd.config, "blocked_fusion", fusion == "blocked"), \
            mock.patch.object(fd.config, "_blocked_fusion_min_size", 0), \
            mock.patch.object(fd.config, "_blocked_fusion_block_size", 3):
        yield


@pytest.mark.parametrize("fusion", [
    "numpy", "blocked", pytest.param("numexpr", marks=pytest.mark.skipif(
        not HAS_NUMEXPR, reason="numexpr not installed (the test/fast extras)"))])
@budget(500)
@given(prog=programs())
def test_jit_matches_interpreter_and_numpy(prog, fusion):
    xs = prog.inputs()
    eager = prog(*xs)                       # funcdiff.numpy outside transforms: NumPy
    closed = fd.make_jaxpr(prog)(*xs)
    interp = fd.eval_jaxpr(closed.jaxpr, closed.consts, *xs)
    with _codegen(fusion):
        jitted = fd.jit(prog)(*xs)
        if fusion == "numexpr" and prog.dtype == np.float64:
            src = fd.jit(prog).lower(*xs).source
            if any(e.primitive.name in ("sin", "tanh", "mul") for e in closed.eqns):
                _FUSED.append("evaluate(" in src)
        if fusion == "blocked":
            _BLOCKED.append("_rt.blocks(" in fd.jit(prog).lower(*xs).source)
    # (NumPy 1.x promotes 0-d values by value, even in its NEP 50 mode where np.where
    # takes Python floats strongly: there only the values are compared)
    _assert_same(interp, eager, prog.dtype, "interpreter vs eager NumPy",
                 check_dtype=NUMPY2)
    _assert_same(jitted, interp, prog.dtype, "jit vs interpreter")
    with _codegen(fusion):
        again = fd.jit(prog)(*xs)
    _assert_same(again, jitted, prog.dtype, "jit called twice")
    for o in _outs(jitted):
        assert type(o) in (np.ndarray,) or isinstance(o, np.generic), type(o)


def test_blocked_variant_really_blocked():
    """(Runs after the jit test) the blocked variant did produce block loops."""
    assert _BLOCKED and sum(_BLOCKED) >= 5, _BLOCKED


@pytest.mark.skipif(not HAS_NUMEXPR, reason="numexpr not installed")
def test_numexpr_variant_really_fused():
    """(Runs after the jit test) the numexpr variant did produce fused code."""
    assert _FUSED and any(_FUSED), _FUSED


@budget(250)
@given(programs(dtypes=(np.float64,)))
def test_jit_of_grad_matches_grad(prog):
    xs = prog.inputs()
    g = _scalar(prog, _weights(prog, xs))
    argnums = tuple(range(len(xs)))
    want = fd.grad(g, argnums=argnums)(*xs)
    got = fd.jit(fd.grad(g, argnums=argnums))(*xs)
    also = fd.grad(fd.jit(g), argnums=argnums)(*xs)
    _assert_same(got, want, np.float64, "jit(grad) vs grad", atol_scale=1e3)
    _assert_same(also, want, np.float64, "grad(jit) vs grad", atol_scale=1e3)


# --- derivatives -------------------------------------------------------------------------

def _richardson_jvp(prog, xs, vs, h):
    """Central differences at h and h/2, Richardson-extrapolated (O(h^4) error), and
    their spread |D(h/2) - D(h)| per output (an error estimate)."""
    def d(step):
        plus = _outs(prog(*[x + step * v for x, v in zip(xs, vs)]))
        minus = _outs(prog(*[x - step * v for x, v in zip(xs, vs)]))
        return [(np.asarray(p) - np.asarray(m)) / (2 * step) for p, m in zip(plus, minus)]
    d1, d2 = d(h), d(h / 2)
    return [(4 * b - a) / 3 for a, b in zip(d1, d2)], [np.max(np.abs(b - a), initial=0)
                                                        for a, b in zip(d1, d2)]


def _finite_differences(prog, xs, vs):
    """Richardson differences with the step shrunk until they settle: strongly curved
    programs (sinc(x**8), say) need steps far below 1e-3."""
    for h in (1e-3, 1e-4, 1e-5):
        num, spread = _richardson_jvp(prog, xs, vs, h)
        if all(s <= 1e-4 * max(1.0, float(np.max(np.abs(n), initial=0)))
               for n, s in zip(num, spread)):
            break
    return num, spread


@budget(600)
@given(programs())
def test_jvp_matches_finite_differences(prog):
    xs = _f64(prog)
    vs = _directions(prog, xs, 3)
    _, t_out = fd.jvp(prog, xs, vs)
    if not prog.smooth:
        return  # near a kink: finite differences are meaningless (checked elsewhere)
    fd_t, spread = _finite_differences(prog, xs, vs)
    for i, (t, n, s) in enumerate(zip(_outs(t_out), fd_t, spread)):
        t = np.asarray(t)
        assert t.shape == n.shape and t.dtype == np.float64
        scale = max(1.0, float(np.max(np.abs(n), initial=0)))
        # the spread bounds the extrapolated difference's error (it is much smaller)
        np.testing.assert_allclose(t, n, rtol=1e-5, atol=1e-6 * scale + s,
                                   err_msg=f"jvp vs finite differences, output {i}\n{prog!r}")


@budget(500)
@given(programs())
def test_vjp_matches_jvp(prog):
    """The dot-product identity <vjp(u), v> == <u, jvp(v)>: exact linear algebra, so it
    holds at kinks too."""
    xs = _f64(prog)
    vs = _directions(prog, xs, 4)
    out, vjp_fn = fd.vjp(prog, *xs)
    us = _directions(prog, _outs(out), 5)
    cts = vjp_fn(us[0] if len(us) == 1 else us)
    _, t_out = fd.jvp(prog, xs, vs)
    assert len(cts) == len(xs)
    for c, x in zip(cts, xs):
        assert np.shape(c) == np.shape(x) and np.asarray(c).dtype == np.float64
    lhs, rhs = _vdot(cts, vs), _vdot(us, _outs(t_out))
    scale = max(1.0, abs(lhs), abs(rhs))
    assert abs(lhs - rhs) <= 1e-9 * scale, (lhs, rhs)


@budget(300)
@given(programs(max_ops=15))
def test_second_order(prog):
    """Hessian symmetric; forward-over-reverse == reverse-over-forward."""
    xs = _f64(prog)
    g = _scalar(prog, [w.astype(np.float64) for w in _weights(prog, xs)])
    x0, rest = xs[0], xs[1:]

    def g0(x):
        return g(x, *rest)

    v = _directions(prog, (x0,), 6)[0]
    jvp_of_grad = fd.jvp(fd.grad(g0), (x0,), (v,))[1]
    grad_of_jvp = fd.grad(lambda x: fd.jvp(g0, (x,), (v,))[1])(x0)
    _assert_same(jvp_of_grad, grad_of_jvp, np.float64, "jvp(grad) vs grad(jvp)",
                 atol_scale=1e4)
    if 0 < x0.size <= 12:
        h = np.asarray(fd.hessian(g0)(x0)).reshape(x0.size, x0.size)
        scale = max(1.0, float(np.max(np.abs(h))))
        np.testing.assert_allclose(h, h.T, rtol=1e-7, atol=1e-7 * scale,
                                   err_msg=f"Hessian not symmetric\n{prog!r}")
        hv = h @ v.reshape(-1)
        np.testing.assert_allclose(hv, np.asarray(jvp_of_grad).reshape(-1), rtol=1e-7,
                                   atol=1e-7 * scale, err_msg="hessian @ v vs hvp")


# --- no silent cuts ---------------------------------------------------------------------

@budget(150)
@given(programs())
def test_no_derivative_is_cut(prog):
    """A guard against new silent cuts: random programs through grad (eager, under jit,
    through checkpoint) and jvp with DerivativeCutWarning an error, so a new path that
    turns a traced value into a Python number or a NumPy array fails loudly here.  The
    gradient also agrees with jvp along a random direction (a cut would make it zero)."""
    xs = _f64(prog)
    g = _scalar(prog, _weights(prog, xs))
    argnums = tuple(range(len(xs)))
    vs = _directions(prog, xs, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fd.DerivativeCutWarning)
        grads = fd.grad(g, argnums=argnums)(*xs)
        jitted = fd.jit(fd.grad(g, argnums=argnums))(*xs)
        ck = fd.grad(fd.checkpoint(g), argnums=argnums)(*xs)
        _, dg = fd.jvp(g, xs, vs)
    lhs, rhs = _vdot(grads, vs), float(dg)
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs), abs(rhs)), (lhs, rhs)
    _assert_same(jitted, grads, np.float64, "jit(grad) vs grad", atol_scale=1e3)
    _assert_same(ck, grads, np.float64, "grad(checkpoint) vs grad", atol_scale=1e3)


# --- vmap == loop --------------------------------------------------------------------

@budget(500)
@given(programs(), st.data())
def test_vmap_matches_loop(prog, data):
    n = data.draw(st.integers(1, 3), label="batch size")
    in_axes = tuple(data.draw(st.sampled_from([None, 0] + list(range(-len(s) - 1, len(s) + 1))),
                              label=f"in_axes[{i}]")
                    for i, s in enumerate(prog.in_shapes))
    if all(a is None for a in in_axes):
        in_axes = (0,) + in_axes[1:]
    examples = [prog.inputs(seed=prog.seed + k) for k in range(n)]
    args = []
    for i, ax in enumerate(in_axes):
        if ax is None:
            args.append(examples[0][i])
        else:
            args.append(np.stack([e[i] for e in examples], axis=ax))
    got = fd.vmap(prog, in_axes=in_axes)(*args)
    per = [prog(*[e[i] if ax is not None else examples[0][i]
                  for i, ax in enumerate(in_axes)]) for e in examples]
    want = [np.stack([_outs(p)[j] for p in per]) for j in range(len(_outs(per[0])))]
    # Unmapped inputs stay concrete under vmap (as in JAX), so the program's NumPy code
    # runs on them as plain NumPy; NumPy 1.x promotes a 0-d float32 by value there
    # (``1.0 + f32(0.5)`` is float64), funcdiff's traced values as NumPy 2 does: on
    # NumPy 1.x the dtypes may then differ for reasons outside funcdiff (values may not).
    legacy_scalars = not NUMPY2 and any(ax is None and np.ndim(x) == 0
                                        for ax, x in zip(in_axes, args))
    _assert_same(got if isinstance(got, tuple) else got, tuple(want) if len(want) > 1
                 else want[0], prog.dtype, f"vmap vs loop (in_axes={in_axes})",
                 atol_scale=10, check_dtype=not legacy_scalars)


# --- checkpoint == no checkpoint --------------------------------------------------------

@budget(300)
@given(programs(dtypes=(np.float64,)),
       st.sampled_from([None, "dots_saveable", "nothing_saveable", "everything_saveable"]))
def test_checkpoint_matches_plain(prog, policy):
    xs = prog.inputs()
    pol = None if policy is None else getattr(fd.checkpoint_policies, policy)
    ck = fd.checkpoint(prog, policy=pol)
    _assert_same(ck(*xs), prog(*xs), np.float64, "checkpoint(f) vs f")
    g = _scalar(prog, _weights(prog, xs))
    argnums = tuple(range(len(xs)))
    want = fd.grad(g, argnums=argnums)(*xs)
    got = fd.grad(fd.checkpoint(g, policy=pol), argnums=argnums)(*xs)
    _assert_same(got, want, np.float64, f"grad(checkpoint(g, {policy})) vs grad(g)",
                 atol_scale=1e3)
    jitted = fd.jit(fd.grad(fd.checkpoint(g, policy=pol), argnums=argnums))(*xs)
    _assert_same(jitted, want, np.float64, "jit(grad(checkpoint))", atol_scale=1e3)


# --- float32 stays float32 --------------------------------------------------------------

@budget(400)
@given(programs(dtypes=(np.float32,)))
def test_float32_in_float32_out(prog):
    xs = prog.inputs()
    assert all(x.dtype == np.float32 for x in xs)
    ref = prog(*[x.astype(np.float64) for x in xs])
    outs = {"jit": fd.jit(prog)(*xs),
            "interpreter": fd.eval_jaxpr(*(lambda c: (c.jaxpr, c.consts))(
                fd.make_jaxpr(prog)(*xs)), *xs)}
    if NUMPY2:   # outside transforms funcdiff.numpy is NumPy, and NumPy 1.x promotes a
        outs["eager"] = prog(*xs)   # 0-d float32 with a Python float to float64
    vs = _directions(prog, xs, 8)
    p_out, t_out = fd.jvp(prog, xs, vs)
    outs["jvp primal"] = p_out
    outs["jvp tangent"] = t_out
    for name, o in outs.items():
        for leaf in _outs(o) if not isinstance(o, list) else o:
            assert np.asarray(leaf).dtype == np.float32, f"{name}: {np.asarray(leaf).dtype}"
    if prog.smooth:     # (near a kink float32 rounding may take the other side)
        for leaf, r in zip(_outs(outs["jit"]), _outs(ref)):
            scale = max(1.0, float(np.max(np.abs(r), initial=0)))
            # 30 float32 ops may amplify rounding: a loose check that it is the same
            # function computed in float32
            np.testing.assert_allclose(leaf, r, rtol=2e-2, atol=2e-2 * scale)
    ws = _weights(prog, xs)
    assert all(w.dtype == np.float32 for w in ws)
    g = _scalar(prog, ws)
    grads = fd.grad(g, argnums=tuple(range(len(xs))))(*xs)
    for gr, x in zip(grads, xs):
        assert gr.dtype == np.float32 and gr.shape == x.shape
    _, vjp_fn = fd.vjp(prog, *xs)
    cts = vjp_fn(tuple(ws) if len(ws) > 1 else ws[0])
    assert all(np.asarray(c).dtype == np.float32 for c in cts)


# --- coverage of the primitive registry ---------------------------------------------------

# Differentiable primitives random programs must reach.  Deliberately excluded: linalg
# and fft (their own tests, domain-specific inputs), complex numbers, integer/bitwise and
# comparison ops (reached only as helpers), scatter_max/min, while_lin* (internal to
# reverse mode through while_loop: reached via grad of while_loop).
REQUIRED = {
    "sin", "cos", "tanh", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt",
    "cbrt", "pow", "atan", "asin", "acos", "atanh", "acosh", "asinh", "sinh", "cosh", "tan",
    "logistic", "erf", "abs", "sign", "floor", "max", "min", "add", "sub", "mul", "div",
    "neg", "square", "reciprocal", "logaddexp", "hypot", "atan2", "select",
    "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "cumsum", "cumprod", "argmax",
    "dot_general", "broadcast_to", "reshape", "transpose", "rev", "slice", "concatenate",
    "pad", "gather", "scatter", "scatter_add", "scatter_mul", "convert_element_type",
    "stop_gradient", "cond", "while_loop", "scan", "jit_call", "checkpoint",
    "custom_jvp_call", "sort",
}


def _prims(jaxpr, acc):
    for e in jaxpr.eqns:
        acc.add(e.primitive.name)
        for p in e.params.values():
            for sub in (p if isinstance(p, (tuple, list)) else (p,)):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    _prims(inner, acc)
    return acc


def test_ops_cover_the_primitive_registry():
    """Every op of the strategy applies to some input and is traced; together they reach
    every REQUIRED primitive (so a primitive dropped from the strategies is noticed)."""
    from funcdiff.core.primitive import registry
    assert REQUIRED <= set(registry), REQUIRED - set(registry)
    seen, traced = set(), set()
    shapes = [(3, 3), (2, 3, 3), (4,), (), (2, 1, 3)]
    rng = np.random.default_rng(0)
    for seed in range(6):
        d = Draw(seed)
        for name, o in OPS.items():
            for s in shapes:
                args = [rng.standard_normal(s) for _ in range(o.arity)]
                params = {"c": 0.5} if name == "scale" else o.params(d, [s] * o.arity)
                if params is None:
                    continue
                try:
                    closed = fd.make_jaxpr(lambda *a: o.apply(list(a), params))(*args)
                except (ValueError, IndexError, TypeError):
                    continue
                _prims(closed.jaxpr, seen)
                traced.add(name)
                break
    unused = set(OPS) - traced
    assert not unused, f"ops never applicable: {sorted(unused)}"
    missing = REQUIRED - seen
    assert not missing, f"primitives no op reaches: {sorted(missing)}"
    assert set(CONTROL_FLOW_OPS) <= set(OPS)
