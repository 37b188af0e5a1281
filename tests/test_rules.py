"""Every primitive's derivative rules, table-driven.

``RULES`` maps each differentiable primitive of ``funcdiff.core.primitive.registry`` to
a spec: a generator of operands and static params (hypothesis-chosen shapes, with
broadcasting where the primitive broadcasts, and values from the primitive's domain),
which operands are differentiated, and the order to check.  For each primitive:

* ``check_grads`` (forward mode: jvp vs central finite differences; reverse mode: the
  dot-product identity ``<vjp(ct), t> == <ct, jvp(t)>``), to order 2 where smooth;
* every transformed jaxpr passes ``check_jaxpr``: ``make_jaxpr`` of ``jvp``, of
  ``vjp_fn`` and of ``grad``, and the jaxprs the transforms build internally (the jvp
  jaxpr, the linear jaxpr and its transpose).

Primitives with non-float outputs (comparisons, argmax, ...) are in ``NONFLOAT``: their
tangents must be zero and they must not break differentiation of what surrounds them.
``NOT_HERE`` lists, with a reason, the primitives deliberately not covered here;
``test_every_primitive_is_covered`` fails when a new primitive is in none of the three.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcdiff as fd
import funcdiff.numpy  # noqa: F401 - registers everything funcdiff.numpy needs
from funcdiff.core.primitive import registry


def _import_all_primitives():
    """Import every module that may define primitives, so the registry is complete."""
    import funcdiff.higher_order as higher
    import funcdiff.primitives as prims
    for pkg in (prims, higher):
        for m in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{m.name}")
    for pkg in ("funcdiff.jit", "funcdiff.lax", "funcdiff.scipy"):
        try:
            importlib.import_module(pkg)
        except ModuleNotFoundError as e:
            if e.name != pkg:
                raise


_import_all_primitives()

# soak profiles run more examples; each example here is a full order-2 check
N_EXAMPLES = max(4, settings.default.max_examples // 3)


def P(name):
    return registry[name]


# --- drawing operands ----------------------------------------------------------------------

def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def _shape(data, min_dims=0, max_dims=3, min_side=1, max_side=3):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                                      min_side=min_side, max_side=max_side), label="shape")


def _bshapes(data, n=2, min_dims=0, max_dims=3):
    """Mutually broadcastable shapes (size-0 sides included now and then)."""
    s = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3),
        label="shapes")
    return s.input_shapes


def _uniform(rng, shape, lo, hi):
    return rng.uniform(lo, hi, shape)


def _away(rng, shape, lo, hi):
    """Magnitude in [lo, hi] with a random sign (keeps clear of 0)."""
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def _frac(rng, shape, lo=0.15, hi=0.35, span=3):
    """Integer + a fraction in [lo, hi]: clear of the jumps of floor/ceil/round/trunc."""
    return rng.integers(-span, span + 1, shape) + rng.uniform(lo, hi, shape) * \
        rng.choice([-1.0, 1.0], shape)


def _complex(rng, shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)


# --- the table ------------------------------------------------------------------------------

class Spec(NamedTuple):
    """``make(data) -> (operands, params)``; ``diff`` = indices of the differentiated
    operands (None: all floating ones); ``post`` maps the primitive's outputs to what is
    checked (e.g. sign-invariant eigenvectors)."""
    make: Callable
    order: int = 2
    diff: tuple | None = None
    post: Callable | None = None
    atol: float | None = None
    rtol: float | None = None
    call: Callable | None = None   # (operands, params) -> out, instead of prim.bind
    rev_over_rev: bool = True      # False: a documented limitation (while_loop)


def unary(lo=-2.0, hi=2.0, *, away=False, dtypes=("f",), order=2, min_side=1):
    def make(data):
        rng = _rng(data)
        shape = _shape(data, min_side=min_side)
        kind = data.draw(st.sampled_from(dtypes), label="dtype")
        if kind == "c":
            return [_complex(rng, shape, lo, hi)], {}
        return [(_away if away else _uniform)(rng, shape, lo, hi)], {}
    return Spec(make, order=order)


def binary(x=(-2.0, 2.0), y=(-2.0, 2.0), *, y_away=False, x_away=False, dtypes=("f",),
           order=2, relate=None):
    def make(data):
        rng = _rng(data)
        sx, sy = _bshapes(data)
        kind = data.draw(st.sampled_from(dtypes), label="dtype")
        if kind == "c":
            return [_complex(rng, sx, *x), _complex(rng, sy, *y)], {}
        a = (_away if x_away else _uniform)(rng, sx, *x)
        b = (_away if y_away else _uniform)(rng, sy, *y)
        if relate is not None:
            a, b = relate(rng, a, b)
        return [a, b], {}
    return Spec(make, order=order)


def nary(*domains, diff=None, order=2, atol=None, rtol=None):
    """Broadcasting n-ary primitive; ``domains[i] = (lo, hi)`` (or ``("int", lo, hi)`` for
    an integer operand); ``diff`` = the differentiated operands (others are parameters
    such as a Bessel order)."""
    def make(data):
        rng = _rng(data)
        shapes = _bshapes(data, len(domains))
        ops = []
        for dom, shape in zip(domains, shapes):
            if dom[0] == "int":
                ops.append(rng.integers(dom[1], dom[2] + 1, shape))
            else:
                ops.append(rng.uniform(dom[0], dom[1], shape))
        return ops, {}
    return Spec(make, order=order, diff=diff, atol=atol, rtol=rtol)


def _distinct(rng, a, b):
    """Operands that never tie, whatever broadcasts against what (maximum/minimum):
    a = k + [0.2, 0.4], b = k' + [0.6, 0.8]."""
    a = rng.integers(-2, 2, np.shape(a)) + rng.uniform(0.2, 0.4, np.shape(a))
    b = rng.integers(-2, 2, np.shape(b)) + rng.uniform(0.6, 0.8, np.shape(b))
    return a, b


def _rem_domain(rng, a, b):
    """x / y clear of integers for every broadcast pair (rem/fmod/floor_divide jump
    there): y in {+-0.5, +-1, +-2} and x = +-(k + [0.1, 0.4])."""
    y = rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], np.shape(b))
    x = (rng.integers(0, 3, np.shape(a)) + rng.uniform(0.1, 0.4, np.shape(a))) * \
        rng.choice([-1.0, 1.0], np.shape(a))
    return x, y


def _sq_dist(rng, a, b):
    """(a, b) clear of the origin (atan2, hypot)."""
    return _away(rng, np.shape(a), 0.3, 2.0), _away(rng, np.shape(b), 0.3, 2.0)


def _cmp_pair(data):
    rng = _rng(data)
    sx, sy = _bshapes(data)
    a = rng.uniform(-2, 2, sx).round(1)   # rounding makes ties (eq/le/ge) likely
    b = rng.uniform(-2, 2, sy).round(1)
    return [a, b], {}


def _select(data):
    rng = _rng(data)
    sp, sx, sy = _bshapes(data, 3)
    return [rng.random(sp) < 0.5, rng.uniform(-2, 2, sx), rng.uniform(-2, 2, sy)], {}


def _convert(data):
    rng = _rng(data)
    shape = _shape(data)
    case = data.draw(st.sampled_from(["f64->f64", "f64->c128", "f32->f64"]), label="case")
    if case == "f64->f64":
        return [rng.uniform(-2, 2, shape)], dict(dtype=np.dtype(np.float64), weak_type=False)
    if case == "f64->c128":
        return [rng.uniform(-2, 2, shape)], dict(dtype=np.dtype(np.complex128),
                                                 weak_type=False)
    return [rng.uniform(-2, 2, shape).astype(np.float32)], dict(
        dtype=np.dtype(np.float64), weak_type=False)


def _complex_from_parts(data):
    rng = _rng(data)
    sx, sy = _bshapes(data)
    return [rng.uniform(-2, 2, sx), rng.uniform(-2, 2, sy)], {}


def _real_part(data):
    rng = _rng(data)
    shape = _shape(data)
    kind = data.draw(st.sampled_from(["c", "f"]), label="dtype")
    return [_complex(rng, shape) if kind == "c" else rng.uniform(-2, 2, shape)], {}


# shape primitives -------------------------------------------------------------------

def _broadcast_to(data):
    rng = _rng(data)
    shape = _shape(data, max_dims=2)
    target = list(shape)
    for i, d in enumerate(target):
        if d == 1 and data.draw(st.booleans(), label="grow"):
            target[i] = data.draw(st.integers(2, 3))
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2), label="lead")
    return [rng.uniform(-2, 2, shape)], dict(shape=tuple(lead) + tuple(target))


def _reshape(data):
    rng = _rng(data)
    shape = _shape(data)
    n = int(np.prod(shape))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = data.draw(st.sampled_from(divisors), label="split")
    new = data.draw(st.sampled_from([(n,), (d, n // d), (n // d, 1, d), ()] if n == 1
                                    else [(n,), (d, n // d), (n // d, 1, d)]), label="new")
    return [rng.uniform(-2, 2, shape)], dict(shape=tuple(new))


def _transpose(data):
    rng = _rng(data)
    shape = _shape(data)
    perm = data.draw(st.permutations(range(len(shape))), label="perm")
    return [rng.uniform(-2, 2, shape)], dict(perm=tuple(perm))


def _rev(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    axes = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1), label="axes")
    return [rng.uniform(-2, 2, shape)], dict(axes=tuple(sorted(axes)))


def _pad(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1, max_dims=2)
    config = []
    for d in shape:
        lo, hi = data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2))
        it = data.draw(st.integers(0, 2))
        config.append((lo, hi, it))
    assume(all(lo + hi + d + max(d - 1, 0) * it >= 0 and min(lo, 0) + d > 0
               for d, (lo, hi, it) in zip(shape, config)))
    return [rng.uniform(-2, 2, shape), np.float64(rng.uniform(-1, 1))], dict(
        config=tuple(config))


def _slice(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1, max_side=5)
    start, limit, strides = [], [], []
    for d in shape:
        a = data.draw(st.integers(0, d - 1))
        b = data.draw(st.integers(a + 1, d))
        start.append(a)
        limit.append(b)
        strides.append(data.draw(st.integers(1, 3)))
    return [rng.uniform(-2, 2, shape)], dict(start=tuple(start), limit=tuple(limit),
                                             strides=tuple(strides))


def _concatenate(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    k = data.draw(st.integers(2, 3), label="k")
    xs = []
    for _ in range(k):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        xs.append(rng.uniform(-2, 2, s))
    return xs, dict(axis=axis)


# reductions -----------------------------------------------------------------------------

def _axes(data, ndim, min_size=1):
    return tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=min_size),
                                  label="axes")))


def reduction(values="uniform"):
    def make(data):
        rng = _rng(data)
        shape = _shape(data, min_dims=1)
        if values == "distinct":   # max/min: no ties
            x = rng.permutation(np.arange(int(np.prod(shape)), dtype=float)).reshape(shape)
            x = x * 0.5 + rng.uniform(-0.1, 0.1, shape)
        elif values == "prod":      # bounded products, some entries negative
            x = _away(rng, shape, 0.5, 1.5)
        else:
            x = rng.uniform(-2, 2, shape)
        return [x], dict(axes=_axes(data, len(shape)))
    return make


def _cumulative(values="uniform"):
    def make(data):
        rng = _rng(data)
        shape = _shape(data, min_dims=1, max_side=4)
        x = _away(rng, shape, 0.5, 1.5) if values == "prod" else rng.uniform(-2, 2, shape)
        return [x], dict(axis=data.draw(st.integers(0, len(shape) - 1)),
                         reverse=data.draw(st.booleans()))
    return make


def _argreduce(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    return [rng.uniform(-2, 2, shape)], dict(axis=data.draw(st.integers(0, len(shape) - 1)),
                                             index_dtype=np.dtype(np.int64))


def _dot_general(data):
    rng = _rng(data)
    nb, nc = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 2))
    nl, nr = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))
    size = st.integers(1, 3)
    b = [data.draw(size) for _ in range(nb)]
    c = [data.draw(size) for _ in range(nc)]
    fl = [data.draw(size) for _ in range(nl)]
    fr = [data.draw(size) for _ in range(nr)]
    lhs = [("b", i) for i in range(nb)] + [("c", i) for i in range(nc)] + \
        [("f", i) for i in range(nl)]
    rhs = [("b", i) for i in range(nb)] + [("c", i) for i in range(nc)] + \
        [("f", i) for i in range(nr)]
    lhs = data.draw(st.permutations(lhs), label="lhs order")
    rhs = data.draw(st.permutations(rhs), label="rhs order")
    dims = {"b": b, "c": c}

    def shape(order, free):
        return tuple(free[i] if k == "f" else dims[k][i] for k, i in order)

    lc = tuple(lhs.index(("c", i)) for i in range(nc))
    rc = tuple(rhs.index(("c", i)) for i in range(nc))
    lb = tuple(lhs.index(("b", i)) for i in range(nb))
    rb = tuple(rhs.index(("b", i)) for i in range(nb))
    x = rng.uniform(-2, 2, shape(lhs, fl))
    y = rng.uniform(-2, 2, shape(rhs, fr))
    return [x, y], dict(dimension_numbers=((lc, rc), (lb, rb)))


# linear algebra ---------------------------------------------------------------------------

def _batch_n(data):
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1), label="batch"))
    return batch, data.draw(st.integers(1, 3), label="n")


def _spd(rng, batch, n):
    m = rng.uniform(-1, 1, batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _well_conditioned(rng, batch, n):
    return rng.uniform(-1, 1, batch + (n, n)) + 3 * np.eye(n)


def _cholesky(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [_spd(rng, batch, n)], {}


def _triangular_solve(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    k = data.draw(st.integers(1, 2), label="k")
    params = dict(lower=data.draw(st.booleans()), transpose_a=data.draw(st.booleans()),
                  unit_diagonal=data.draw(st.booleans()))
    return [_well_conditioned(rng, batch, n), rng.uniform(-1, 1, batch + (n, k))], params


def _solve(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    k = data.draw(st.integers(1, 2), label="k")
    return [_well_conditioned(rng, batch, n), rng.uniform(-1, 1, batch + (n, k))], dict(
        check=True)


def _inv(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [_well_conditioned(rng, batch, n)], dict(check=True)


def _expm(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [rng.uniform(-1, 1, batch + (n, n))], {}


def _expm_frechet(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [rng.uniform(-1, 1, batch + (n, n)), rng.uniform(-1, 1, batch + (n, n))], {}


def _sqrtm(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [_well_conditioned(rng, batch, n)], {}


def _sylvester(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    m = data.draw(st.integers(1, 3), label="m")
    return [_well_conditioned(rng, batch, n), _well_conditioned(rng, batch, m),
            rng.uniform(-1, 1, batch + (n, m))], {}


def _eigh(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    # symmetric with well-separated eigenvalues: Q diag(w) Q^T
    q, _ = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    w = np.arange(n) * 1.5 + rng.uniform(-0.3, 0.3, batch + (n,))
    a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    params = dict(lower=data.draw(st.booleans()), compute_v=True)
    # funcdiff.scipy.linalg's LAPACK driver and eigenpair subset (all eigenpairs' in dV)
    driver = data.draw(st.sampled_from([None, "evr", "evd"]), label="driver")
    subset = data.draw(st.sampled_from([None, (0, 0), (n - 1, n - 1), (0, n - 1)]),
                       label="subset") if driver != "evd" else None
    if driver is not None or subset is not None:
        params.update(driver=driver, subset=subset)
    return [a], params


def _eigh_post(outs):
    w, v = outs
    # eigenvectors are defined up to sign: check v[:, j] * v[0, j], which is smooth and
    # sign-invariant
    return w, v * v[..., :1, :]


def _slogdet(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [_well_conditioned(rng, batch, n) * rng.choice([-1.0, 1.0])], {}


def _distinct_sv(rng, batch, m, n):
    """U diag(s) V^T with distinct singular values in [1, 3] (well separated)."""
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(batch + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(batch + (n, k)))
    sv = 1.0 + 2.0 * (np.arange(k)[::-1] + rng.uniform(0.1, 0.4, batch + (k,))) / k
    return (u * sv[..., None, :]) @ np.swapaxes(v, -1, -2)


def _svd(data):
    rng = _rng(data)
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1), label="batch"))
    m, n = data.draw(st.integers(1, 3), label="m"), data.draw(st.integers(1, 3), label="n")
    return [_distinct_sv(rng, batch, m, n)], dict(
        full_matrices=False, compute_uv=data.draw(st.booleans(), label="compute_uv"))


def _svd_post(outs):
    if len(outs) == 1:
        return outs
    s, u, vh = outs
    # each pair (u_i, v_i) is defined up to a joint sign: check sign-invariant products
    return s, u * u[..., :1, :], vh * vh[..., :, :1]


def _eig(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    p = rng.uniform(-1, 1, batch + (n, n)) + 2 * np.eye(n)          # well conditioned
    w = np.arange(n) * 1.5 + rng.uniform(-0.3, 0.3, batch + (n,))    # distinct, real
    a = (p * w[..., None, :]) @ np.linalg.inv(p)
    return [a], dict(compute_v=data.draw(st.booleans(), label="compute_v"))


def _eig_post(outs):
    import funcdiff.numpy as fnp
    if len(outs) == 1:
        return outs
    w, v = outs
    # eigenvectors are defined up to a phase: v[:, j] * conj(v[0, j]) is phase-invariant
    return w, v * fnp.conj(v[..., :1, :])


def _qr(data):
    rng = _rng(data)
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1), label="batch"))
    m, n = data.draw(st.integers(1, 3), label="m"), data.draw(st.integers(1, 3), label="n")
    return [_distinct_sv(rng, batch, m, n)], dict(full_matrices=False)


def _lu(data):
    rng = _rng(data)
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1), label="batch"))
    m, n = data.draw(st.integers(1, 4), label="m"), data.draw(st.integers(1, 4), label="n")
    a = rng.uniform(-1, 1, batch + (m, n)) + 3 * np.eye(m, n)     # pivots stay put nearby
    return [a], {}


def _square_distinct_sv(data):
    rng = _rng(data)
    batch, n = _batch_n(data)
    return [_distinct_sv(rng, batch, n, n) * rng.choice([-1.0, 1.0])], {}


def _fft(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1, max_dims=3, max_side=4)
    nd = len(shape)
    axes = tuple(data.draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                    unique=True), label="axes"))
    kind = data.draw(st.sampled_from(["fft", "ifft", "rfft", "irfft"]), label="fft_type")
    norm = data.draw(st.sampled_from(["backward", "ortho", "forward"]), label="norm")
    if kind == "rfft":
        x = rng.uniform(-1, 1, shape)
        lengths = tuple(shape[a] for a in axes)
    elif kind == "irfft":
        n = data.draw(st.integers(1, 5), label="n out")
        shape = list(shape)
        shape[axes[-1]] = n // 2 + 1
        x = _complex(rng, tuple(shape))
        lengths = tuple(shape[a] for a in axes[:-1]) + (n,)
    else:
        x = _complex(rng, shape)
        lengths = tuple(shape[a] for a in axes)
    return [x], dict(fft_type=kind, axes=axes, lengths=lengths, norm=norm)


# identities and calls (primitives that hold a jaxpr are reached through their API) ---------

def _name(data):
    rng = _rng(data)
    return [rng.uniform(-2, 2, _shape(data))], dict(name="h")


def _barrier(data):
    rng = _rng(data)
    k = data.draw(st.integers(1, 3), label="k")
    return [rng.uniform(-2, 2, _shape(data)) for _ in range(k)], {}


def _call_body(x, y):
    """Linear and nonlinear parts, a dot, a captured constant, two outputs."""
    import funcdiff.numpy as fnp
    return fnp.sin(x) * y + _CALL_CONST, fnp.dot(x, y) * x - y ** 2


_CALL_CONST = np.array([0.5, -1.0, 2.0])


def _call_operands(data):
    rng = _rng(data)
    policy = data.draw(st.sampled_from(["none", "dots"]), label="policy")
    return [rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)], dict(policy=policy)


def _checkpoint_call(operands, params):
    policy = None if params["policy"] == "none" else fd.checkpoint_policies.dots_saveable
    return fd.checkpoint(_call_body, policy=policy)(*operands)


def _jit_call(operands, params):
    return fd.jit(_call_body)(*operands)


# control flow (through funcdiff.lax) -------------------------------------------------------

def _cf_operands(data):
    rng = _rng(data)
    n = data.draw(st.integers(1, 3), label="n")
    return [rng.uniform(-1, 1, n), rng.uniform(0.5, 1.0, n)], dict(
        branch=data.draw(st.sampled_from(["pos", "neg"]), label="branch"),
        reverse=data.draw(st.booleans(), label="reverse"))


def _cond_call(operands, params):
    import funcdiff.numpy as fnp
    x, y = operands
    s = fnp.sum(x)
    pred = s > -1e3 if params["branch"] == "pos" else s < -1e3   # traced predicate
    return fd.lax.cond(pred, lambda x, y: (fnp.sin(x) * y, fnp.sum(x * x)),
                       lambda x, y: (fnp.cos(y) * x, fnp.sum(y) * 2.0), x, y)


def _while_call(operands, params):
    import funcdiff.numpy as fnp
    x, y = operands

    def body(c):
        i, x, y = c
        return i + 1, fnp.sin(x) * y + 0.5 * x, y * 0.9 + 0.1 * fnp.tanh(x)

    _, x, y = fd.lax.while_loop(lambda c: c[0] < 3, body, (0, x, y))
    return x, y


def _scan_call(operands, params):
    import funcdiff.numpy as fnp
    x, y = operands

    def step(c, yt):
        c = fnp.sin(c) * yt + 0.3 * c
        return c, c * yt

    return fd.lax.scan(step, x, fnp.stack([y, y * y, 1.0 - y]),
                       reverse=params["reverse"])


def _root_call(operands, params):
    """custom_root: x + y tanh(x) = a (monotone), by Newton; elementwise, so the tangent
    solve divides by the Jacobian's diagonal."""
    import funcdiff.numpy as fnp
    a, y = operands

    def f(x):
        return x + y * fnp.tanh(x) - a

    def newton(f, x0):
        return fd.lax.fori_loop(0, 40, lambda i, x: x - f(x) / (1 + y / fnp.cosh(x) ** 2),
                                x0)
    return fd.lax.custom_root(f, fnp.zeros_like(a), newton, lambda g, b: b / g(fnp.ones_like(b)))


def _linear_solve_call(operands, params):
    """custom_linear_solve: a symmetric positive-definite operator built from both
    operands, solved densely."""
    import funcdiff.numpy as fnp
    x, y = operands
    A = fnp.diag(2.0 + y) + 0.1 * fnp.outer(x, x)
    solve = (lambda mv, b: fnp.linalg.solve(fd.jacfwd(mv)(b), b))
    if params["reverse"]:     # the transposed system spelled out instead of symmetric=True
        return fd.lax.custom_linear_solve(lambda v: A @ v, x * y, solve,
                                          transpose_solve=solve)
    return fd.lax.custom_linear_solve(lambda v: A @ v, x * y, solve, symmetric=True)


# indexing ---------------------------------------------------------------------------------

def _gather(data):
    from funcdiff.primitives.indexing import make_indexer
    rng = _rng(data)
    case = data.draw(st.sampled_from(["array", "slice+array", "int+slice", "array2"]),
                     label="case")
    x = rng.uniform(-2, 2, (4, 3))
    if case == "array":
        idx = rng.integers(-4, 4, data.draw(st.sampled_from([(), (2,), (5,), (2, 2)])))
        return [x, idx], dict(indexer=make_indexer([("array", 0)]))
    if case == "slice+array":
        idx = rng.integers(0, 3, (4,))
        return [x, idx], dict(indexer=make_indexer([("slice", 1, None, None),
                                                    ("array", 0)]))
    if case == "int+slice":
        return [x], dict(indexer=make_indexer([("int", -1), ("slice", None, None, 2)]))
    i0 = rng.integers(0, 4, (3, 1))
    i1 = rng.integers(0, 3, (1, 2))
    return [x, i0, i1], dict(indexer=make_indexer([("array", 0), ("array", 1)]))


def scatter_spec(values="uniform", order=2):
    def make(data):
        from funcdiff.primitives.indexing import make_indexer
        rng = _rng(data)
        x = (_away(rng, (5, 3), 0.5, 1.5) if values == "away"
             else rng.uniform(-2, 2, (5, 3)))
        n = data.draw(st.integers(1, 6), label="n updates")
        idx = rng.integers(-5, 5, (n,))          # duplicates likely
        bshape = data.draw(st.sampled_from([(n, 3), (3,), (n, 1), ()]), label="updates")
        u = (_away(rng, bshape, 0.5, 1.5) if values == "away"
             else rng.uniform(-2, 2, bshape))
        return [x, idx, u], dict(indexer=make_indexer([("array", 0)]))
    return Spec(make, order=order, diff=(0, 2))


def _sort(data):
    """Operands of one shape, the first key free of ties (finite differences see one
    permutation); more operands and keys now and then."""
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    n = int(np.prod(shape))
    k = data.draw(st.integers(1, 3), label="operands")
    key = rng.permutation(np.arange(n, dtype=float)).reshape(shape) * 0.5 + \
        rng.uniform(-0.1, 0.1, shape)
    ops = [key] + [rng.uniform(-2, 2, shape) for _ in range(k - 1)]
    return ops, dict(dimension=data.draw(st.integers(0, len(shape) - 1), label="dim"),
                     num_keys=data.draw(st.integers(1, k), label="num_keys"))


RULES: dict[str, Spec] = {
    # arithmetic (broadcasting; complex where holomorphic or simply real-linear)
    "add": binary(dtypes=("f", "c")),
    "sub": binary(dtypes=("f", "c")),
    "mul": binary(dtypes=("f", "c")),
    "div": binary(y=(0.5, 2.0), y_away=True, dtypes=("f", "c")),
    "neg": unary(dtypes=("f", "c")),
    # transcendental
    "sin": unary(dtypes=("f", "c")),
    "cos": unary(dtypes=("f", "c")),
    "tan": unary(-1.2, 1.2),
    "asin": unary(-0.9, 0.9),
    "acos": unary(-0.9, 0.9),
    "atan": unary(),
    "sinh": unary(dtypes=("f", "c")),
    "cosh": unary(dtypes=("f", "c")),
    "tanh": unary(dtypes=("f", "c")),
    "asinh": unary(),
    "acosh": unary(1.2, 3.0),
    "atanh": unary(-0.9, 0.9),
    "exp": unary(dtypes=("f", "c")),
    "exp2": unary(),
    "expm1": unary(),
    "log": unary(0.3, 3.0),
    "log2": unary(0.3, 3.0),
    "log10": unary(0.3, 3.0),
    "log1p": unary(-0.7, 2.0),
    "sqrt": unary(0.3, 3.0),
    "cbrt": unary(0.3, 2.0, away=True),
    "square": unary(dtypes=("f", "c")),
    "reciprocal": unary(0.4, 2.0, away=True, dtypes=("f",)),
    "abs": unary(0.3, 2.0, away=True),
    "erf": unary(),
    "logistic": unary(-4.0, 4.0),
    # piecewise constant: derivative 0, checked away from the jumps
    "sign": unary(0.3, 2.0, away=True),
    "floor": Spec(lambda d: ([_frac(_rng(d), _shape(d))], {})),
    "ceil": Spec(lambda d: ([_frac(_rng(d), _shape(d))], {})),
    "round": Spec(lambda d: ([_frac(_rng(d), _shape(d))], {})),
    "trunc": Spec(lambda d: ([_frac(_rng(d), _shape(d))], {})),
    "floor_divide": binary(relate=_rem_domain),
    # binary math
    "max": binary(relate=_distinct),
    "min": binary(relate=_distinct),
    "pow": binary(x=(0.4, 2.0), y=(-2.0, 2.0)),
    "atan2": binary(relate=_sq_dist),
    "rem": binary(relate=_rem_domain),
    "fmod": binary(relate=_rem_domain),
    "logaddexp": binary(x=(-3.0, 3.0), y=(-3.0, 3.0)),
    "hypot": binary(relate=_sq_dist),
    "select": Spec(_select, diff=(1, 2)),
    # complex parts
    "real": Spec(_real_part),
    "imag": Spec(_real_part),
    "conj": unary(dtypes=("c",)),
    "complex": Spec(_complex_from_parts),
    "convert_element_type": Spec(_convert, atol=1e-3, rtol=1e-3),
    # shapes
    "broadcast_to": Spec(_broadcast_to),
    "reshape": Spec(_reshape),
    "transpose": Spec(_transpose),
    "rev": Spec(_rev),
    "pad": Spec(_pad),
    "slice": Spec(_slice),
    "concatenate": Spec(_concatenate),
    # reductions
    "reduce_sum": Spec(reduction()),
    "reduce_max": Spec(reduction("distinct")),
    "reduce_min": Spec(reduction("distinct")),
    "reduce_prod": Spec(reduction("prod")),
    "cumsum": Spec(_cumulative()),
    "cumprod": Spec(_cumulative("prod")),
    "dot_general": Spec(_dot_general),
    # linear algebra
    "cholesky": Spec(_cholesky),
    "triangular_solve": Spec(_triangular_solve),
    "solve": Spec(_solve),
    "inv": Spec(_inv),
    "eigh": Spec(_eigh, post=_eigh_post, atol=1e-4, rtol=1e-4),
    "slogdet": Spec(_slogdet),
    "svd": Spec(_svd, post=_svd_post, atol=1e-4, rtol=1e-4),
    "eig": Spec(_eig, post=_eig_post, atol=1e-4, rtol=1e-4),
    "qr": Spec(_qr, atol=1e-4, rtol=1e-4),
    "lu": Spec(_lu, post=lambda outs: outs[0]),     # the pivots are integers
    "det": Spec(_square_distinct_sv),
    "adjugate": Spec(_square_distinct_sv, atol=1e-4, rtol=1e-4),
    "expm": Spec(_expm),
    "expm_frechet": Spec(_expm_frechet),
    "sqrtm": Spec(_sqrtm),
    "sylvester": Spec(_sylvester),
    "fft": Spec(_fft),
    # indexing
    "gather": Spec(_gather, diff=(0,)),
    "scatter_add": scatter_spec(),
    "scatter": scatter_spec(),
    "scatter_mul": scatter_spec("away"),
    "scatter_min": scatter_spec(),
    "scatter_max": scatter_spec(),
    # sorting
    "sort": Spec(_sort),
    # identities and calls
    "name": Spec(_name),
    "optimization_barrier": Spec(_barrier),
    "checkpoint": Spec(_call_operands, call=_checkpoint_call),
    "jit_call": Spec(_call_operands, call=_jit_call),
    # control flow
    "cond": Spec(_cf_operands, call=_cond_call),
    "while_loop": Spec(_cf_operands, call=_while_call),
    "scan": Spec(_cf_operands, call=_scan_call),
    # special functions (when present)
    "gammaln": unary(0.3, 4.0),
    "digamma": unary(0.5, 4.0),
    "erfc": unary(),
    "gamma": unary(0.3, 4.0),
    "rgamma": unary(0.3, 4.0),
    "beta": nary((0.5, 3.0), (0.5, 3.0)),
    "betaln": nary((0.5, 3.0), (0.5, 3.0)),
    # incomplete gamma/beta, Student's t: differentiable in x only (the shape
    # parameters raise a GradientError by design)
    "gammainc": nary((0.5, 3.0), (0.2, 3.0), diff=(1,)),
    "gammaincc": nary((0.5, 3.0), (0.2, 3.0), diff=(1,)),
    "betainc": nary((0.5, 3.0), (0.5, 3.0), (0.1, 0.9), diff=(2,)),
    "betaincc": nary((0.5, 3.0), (0.5, 3.0), (0.1, 0.9), diff=(2,)),
    "stdtr": nary((1.0, 10.0), (-3.0, 3.0), diff=(1,)),
    "erfinv": unary(-0.9, 0.9),
    "erfcinv": unary(0.1, 1.9),
    # Bessel functions: differentiable in x; the order is a parameter
    "i0": unary(-3.0, 3.0),
    "i1": unary(-3.0, 3.0),
    "iv": nary((0.0, 3.0), (0.2, 3.0), diff=(1,)),
    "ive": nary((0.0, 3.0), (0.2, 3.0), diff=(1,)),
    "j0": unary(-5.0, 5.0),
    "j1": unary(-5.0, 5.0),
    "jv": nary((0.0, 3.0), (0.2, 5.0), diff=(1,)),
    "y0": unary(0.5, 5.0),
    "y1": unary(0.5, 5.0),
    "yn": nary(("int", 0, 3), (0.5, 5.0), diff=(1,)),
    "polygamma": Spec(lambda d: ([_rng(d).uniform(0.5, 3.0, _shape(d))],
                                 dict(n=d.draw(st.integers(1, 3), label="n")))),
    # more NumPy ufuncs: nextafter (slope 1 in x, 0 in y), ldexp (linear in x)
    "nextafter": binary(),
    "ldexp": nary((-2.0, 2.0), ("int", -3, 3), diff=(0,)),
    # implicit solves (funcdiff.lax): derivatives from the equations, not the iterations
    "custom_root": Spec(_cf_operands, call=_root_call),
    "custom_linear_solve": Spec(_cf_operands, call=_linear_solve_call),
    # the rest of scipy.special (special_more): complex where SciPy has complex loops
    "erfcx": unary(dtypes=("f", "c")),
    "wofz": unary(0.2, 2.0, dtypes=("c",)),
    "dawsn": unary(dtypes=("f", "c")),
    "exp1": unary(0.2, 3.0, dtypes=("f", "c")),
    "expi": unary(0.2, 3.0, away=True, dtypes=("f", "c")),
    "expn": nary(("int", 0, 4), (0.3, 3.0), diff=(1,)),
    "hyp1f1": nary((0.2, 2.0), (0.5, 2.0), (-2.0, 2.0), diff=(2,)),
    "hyp2f1": nary((0.2, 2.0), (0.2, 2.0), (1.5, 3.0), (-0.8, 0.8), diff=(3,)),
    "hurwitz_zeta": nary((1.5, 4.0), (0.5, 3.0), diff=(1,)),
    "poch": nary((0.5, 3.0), (-0.4, 2.0)),
    "loggamma": unary(0.3, 3.0, dtypes=("f", "c")),
    "spence": unary(0.3, 3.0, dtypes=("f", "c")),
    "si": unary(-3.0, 3.0, dtypes=("f", "c")),
    "ci": unary(0.3, 3.0, dtypes=("f", "c")),
    "fresnel_s": unary(dtypes=("f", "c")),
    "fresnel_c": unary(dtypes=("f", "c")),
    "owens_t": nary((-2.0, 2.0), (-2.0, 2.0)),
    "sph_harm_y": nary(("int", 2, 4), ("int", -2, 2), (0.2, 2.9), (-3.0, 3.0), diff=(2, 3)),
}

# non-float outputs: the tangent is zero and differentiation through them still works
NONFLOAT: dict[str, Callable] = {
    "eq": _cmp_pair, "ne": _cmp_pair, "lt": _cmp_pair, "le": _cmp_pair,
    "gt": _cmp_pair, "ge": _cmp_pair,
    "isfinite": lambda d: ([np.where(_rng(d).random(s := _shape(d)) < 0.3, np.inf,
                                     _rng(d).uniform(-1, 1, s))], {}),
    "isnan": lambda d: ([np.where(_rng(d).random(s := _shape(d)) < 0.3, np.nan,
                                  _rng(d).uniform(-1, 1, s))], {}),
    "isinf": lambda d: ([np.where(_rng(d).random(s := _shape(d)) < 0.3, -np.inf,
                                  _rng(d).uniform(-1, 1, s))], {}),
    "argmax": _argreduce,
    "argmin": _argreduce,
    # the zero-derivative NumPy ufuncs with floating operands (the integer ones --
    # gcd, lcm, shifts, bitwise_count -- never carry a tangent)
    "ufunc": lambda d: ([_rng(d).uniform(-2, 2, _shape(d))],
                        dict(name=d.draw(st.sampled_from(["signbit", "spacing"]),
                                         label="name"))),
}

# registered primitives not covered above, each with the reason
NOT_HERE: dict[str, str] = {
    "debug_callback": "no outputs (an effect): tests/test_debug_print.py checks that it "
                      "leaves derivatives unchanged and runs on the forward pass",
    "full": "no array operands (creation): nothing to differentiate",
    "iota": "no array operands (creation): nothing to differentiate",
    "and": "boolean operands only: never carries a tangent",
    "or": "boolean operands only: never carries a tangent",
    "xor": "boolean operands only: never carries a tangent",
    "not": "boolean operands only: never carries a tangent",
    "bitwise_and": "integer/boolean operands only: never carries a tangent",
    "bitwise_or": "integer/boolean operands only: never carries a tangent",
    "bitwise_xor": "integer/boolean operands only: never carries a tangent",
    "invert": "integer/boolean operands only: never carries a tangent",
    "reduce_and": "boolean operands only: never carries a tangent",
    "reduce_or": "boolean operands only: never carries a tangent",
    "stop_gradient": "derivative zero by definition: tests/test_autodiff.py (stop_gradient)",
    "custom_jvp_call": "user rules: tests/test_autodiff.py (custom_jvp)",
    "custom_vjp_call": "user rules: tests/test_autodiff.py (custom_vjp)",
    "custom_lin": "internal to custom_vjp (no jvp rule): tests/test_autodiff.py",
    "while_lin": "internal to while_loop's reverse mode: the while_loop row's order-2 "
                 "checks run it (test_internal_primitives_are_reached)",
    "while_lin_transpose": "internal to while_loop's reverse mode: as while_lin",
    "while_sweeps": "internal to reverse-over-reverse through while_loop: the while_loop "
                    "row's order-2 checks run it (test_internal_primitives_are_reached); "
                    "it has no derivative itself (GradientError: tests/test_while_rev_rev.py)",
    "save_cast": "rounds to float16/bfloat16 by design, so finite differences cannot check "
                 "it: tests/test_mixed_precision.py checks save_in's gradients (first and "
                 "second order) against exact ones",
    "no_derivative": "a tangent that raises GradientError by design (a derivative with no "
                     "closed form, e.g. gammainc in a): tests/test_scipy_special.py "
                     "(test_parameter_derivatives_raise_gradient_error)",
    "lu_pivots_to_permutation": "integer operands only: never carries a tangent",
    "schur": "no derivative by design (as in JAX: the factors are not unique); its tangents "
             "are no_derivative: tests/test_scipy_linalg_more.py "
             "(test_no_derivative_for_schur_hessenberg_rsf2csf)",
    "hessenberg": "no derivative by design, as schur",
    "rsf2csf": "no derivative by design, as schur",
    "funm": "no rule of its own (it cannot differentiate a Python func): "
            "funcdiff.scipy.linalg.funm's custom_jvp, tests/test_scipy_linalg_more.py "
            "(test_grads[funm_*])",
    "host_call": "no derivative by design: runs SciPy's optimizer on NumPy values inside "
                 "minimize's custom_root solver, which is never differentiated: "
                 "tests/test_scipy_optimize.py",
    "numexpr_fused": "made only by jit's fusion pass in optimized programs, which are "
                     "never differentiated (no jvp rule): jit tests",
    "blocked": "made only by jit's blocked-fusion pass in optimized programs, which are "
               "never differentiated (no jvp rule): tests/test_jit_blocked.py",
    "mask_select": "made only by jit's two-valued-constant pass in optimized programs, "
                   "which are never differentiated (no jvp rule): tests/test_jit_masks.py",
    "zeta": "Riemann zeta: its one argument's derivative has no closed form (GradientError "
            "by design): tests/test_scipy_special_more.py",
}


# --- the tests -------------------------------------------------------------------------------

def _in_library(prim):
    """Defined by funcdiff (not a throwaway primitive some test module registers)."""
    for rule in (prim.impl, prim.abstract_eval, prim.jvp):
        mod = getattr(rule, "__module__", None)
        if mod is not None:
            return mod.startswith("funcdiff")
    return True


def test_every_primitive_is_covered():
    missing = sorted(n for n, p in registry.items() if n not in RULES and n not in NONFLOAT
                     and n not in NOT_HERE and _in_library(p))
    assert not missing, (
        f"primitives with no derivative test: {missing}.  Add each to RULES (with its "
        "domain), NONFLOAT, or NOT_HERE with a reason.")
    overlap = set(RULES) & set(NONFLOAT) | set(RULES) & set(NOT_HERE) | \
        set(NONFLOAT) & set(NOT_HERE)
    assert not overlap, overlap
    for name in RULES:
        if name in registry:
            assert registry[name].jvp is not None, f"{name} is in RULES but has no jvp rule"


def _fun(prim, operands, params, diff, post, call=None):
    """``f(*differentiated operands)``: the primitive with the other operands fixed."""
    def f(*d):
        args = list(operands)
        for i, v in zip(diff, d):
            args[i] = v
        if call is not None:
            out = call(args, params)
        else:
            out = prim.bind(*args, **params)
        if prim.multiple_results:
            out = tuple(out)
        return post(out) if post is not None else out
    return f


def _diff_indices(operands, spec_diff):
    if spec_diff is not None:
        return tuple(spec_diff)
    return tuple(i for i, x in enumerate(operands) if np.asarray(x).dtype.kind in "fc")


def _leaves(tree):
    return fd.tree_util.tree_leaves(tree)


def _rand_like(rng, x):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(
            x.dtype)
    return rng.standard_normal(x.shape).astype(x.dtype)


def _real_scalar(out):
    """A real scalar from any output pytree (for grad)."""
    import funcdiff.numpy as fnp
    total = 0.0
    for leaf in _leaves(out):
        if np.dtype(leaf.dtype).kind == "c":
            leaf = fnp.real(leaf) + 0.5 * fnp.imag(leaf)
        total = total + fnp.sum(fnp.sin(leaf))
    return total


def _check_transformed_jaxprs(f, args, rng):
    from funcdiff.api._flat import flatten_args, flatten_fun, leaf_aval
    from funcdiff.transforms.jvp import jvp_jaxpr
    from funcdiff.api.executor import linearize_flat

    tangents = tuple(_rand_like(rng, a) for a in args)
    out = f(*args)
    ct = fd.tree_util.tree_map(lambda o: _rand_like(rng, o), out)
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    jv, _ = jvp_jaxpr(closed, [True] * len(args))
    fd.check_jaxpr(jv)
    fd.check_jaxpr(fd.make_jaxpr(lambda *a: fd.jvp(f, a, tangents))(*args))
    fd.check_jaxpr(fd.make_jaxpr(lambda *a: fd.vjp(f, *a)[1](ct))(*args))
    fd.check_jaxpr(fd.make_jaxpr(fd.grad(lambda *a: _real_scalar(f(*a)),
                                         argnums=tuple(range(len(args)))))(*args))
    leaves, tree = flatten_args(args)
    flat_f, _ = flatten_fun(f, tree)
    lin = linearize_flat(flat_f, leaves, [leaf_aval(x) for x in leaves])
    fd.check_jaxpr(lin.lin_jaxpr)
    fd.check_jaxpr(lin.backward())


# primitives owned by other parts of the library are included once they exist
@pytest.mark.parametrize("name", sorted(n for n in RULES if n in registry))
@settings(max_examples=N_EXAMPLES)
@given(data=st.data())
def test_rule(name, data):
    prim, spec = registry[name], RULES[name]
    operands, params = spec.make(data)
    diff = _diff_indices(operands, spec.diff)
    f = _fun(prim, operands, params, diff, spec.post, spec.call)
    args = tuple(operands[i] for i in diff)
    # the row really exercises its primitive
    assert name in {e.primitive.name for e in fd.make_jaxpr(f)(*args).eqns}
    with np.errstate(all="raise", under="ignore"):
        if spec.rev_over_rev or spec.order < 2:
            fd.check_grads(f, args, order=spec.order, modes=("fwd", "rev"),
                           atol=spec.atol, rtol=spec.rtol)
        else:
            _check_all_but_rev_over_rev(f, args, spec)
    _check_transformed_jaxprs(f, args, np.random.default_rng(0))


def _check_all_but_rev_over_rev(f, args, spec):
    """Order-2 checks without reverse-over-reverse: fwd, fwd-over-fwd, rev, fwd-over-rev.
    (Reverse-over-forward: test_while_loop_reverse_over_forward.)"""
    tol = dict(atol=spec.atol, rtol=spec.rtol)
    fd.check_grads(f, args, order=2, modes=("fwd",), **tol)
    fd.check_grads(f, args, order=1, modes=("rev",), **tol)
    rng = np.random.default_rng(3)
    u = fd.tree_util.tree_map(lambda o: _rand_like(rng, o), f(*args))
    fd.check_grads(lambda *xs: fd.vjp(f, *xs)[1](u), args, order=1, modes=("fwd",), **tol)


def test_while_loop_reverse_over_forward():
    """vjp of a jvp through while_loop (e.g. jacrev(jacfwd(f))): only reverse-over-reverse
    is documented as unsupported (docs/control-flow.md)."""
    x, y = np.array([0.3, -0.2]), np.array([0.8, 0.6])
    t = (np.array([1.0, 0.5]), np.array([-0.3, 0.2]))

    def f(x, y):
        return _while_call([x, y], {})

    fd.check_grads(lambda *xs: fd.jvp(f, xs, t)[1], (x, y), order=1, modes=("rev",))
    h = fd.jacrev(fd.jacfwd(lambda x: fnp_sum(f(x, y)[0])))(x)
    np.testing.assert_allclose(h, fd.hessian(lambda x: fnp_sum(f(x, y)[0]))(x), rtol=1e-10)


def fnp_sum(x):
    import funcdiff.numpy as fnp
    return fnp.sum(x)


@pytest.mark.parametrize("name", sorted(NONFLOAT))
@settings(max_examples=N_EXAMPLES)
@given(data=st.data())
def test_nonfloat_output_rule(name, data):
    import funcdiff.numpy as fnp
    prim = registry[name]
    operands, params = NONFLOAT[name](data)
    diff = _diff_indices(operands, None)
    f = _fun(prim, operands, params, diff, None)
    args = tuple(operands[i] for i in diff)
    want = prim.impl(*operands, **params)
    # the jvp rule runs (the inputs carry tangents) and gives a zero tangent
    rng = np.random.default_rng(1)
    out, t_out = fd.jvp(f, args, tuple(_rand_like(rng, a) for a in args))
    np.testing.assert_array_equal(out, want)
    t_out = np.asarray(t_out)
    assert t_out.shape == np.shape(want)
    assert t_out.dtype == fd.float0 or not np.any(t_out), t_out

    # differentiating *through* a function that uses it: the output acts as a constant
    # (non-finite inputs of isfinite/isnan/isinf are masked out of the smooth part)
    finite = np.isfinite(args[0])

    def loss(*xs):
        c = fnp.asarray(f(*xs)).astype(np.float64)
        x0 = fnp.where(finite, xs[0], 0.0)
        return fnp.sum(c) * fnp.sum(x0 * x0)

    with np.errstate(invalid="raise"):
        grads = fd.grad(loss, argnums=tuple(range(len(args))))(*args)
    np.testing.assert_allclose(grads[0], np.sum(want) * 2 * np.where(finite, args[0], 0.0))
    for g in grads[1:]:
        np.testing.assert_array_equal(g, 0.0)
    _check_transformed_jaxprs(loss, args, rng)


def test_internal_primitives_are_reached():
    """The primitives listed in NOT_HERE as internal do occur in the transformed jaxprs
    the RULES rows check (so they are checked there, not skipped)."""
    x, y = np.array([0.3, -0.2]), np.array([0.8, 0.6])

    def loss(x, y):
        a, b = _while_call([x, y], {})
        return _real_scalar((a, b))

    seen = set()
    for closed in (fd.make_jaxpr(fd.grad(loss, argnums=(0, 1)))(x, y),
                   fd.make_jaxpr(lambda x, y: fd.jvp(fd.grad(loss), (x, y),
                                                     (y, x)))(x, y),
                   fd.make_jaxpr(fd.grad(lambda x, y: fd.grad(loss)(x, y) @ y))(x, y)):
        fd.check_jaxpr(closed)
        seen |= _all_prims(closed.jaxpr)
    assert {"while_lin", "while_lin_transpose", "while_sweeps"} <= seen, seen

    @fd.custom_vjp
    def f(x):
        return x * 2.0

    f.defvjp(lambda x: (x * 2.0, None), lambda r, g: (g * 2.0,))
    assert "custom_lin" in _all_prims(fd.make_jaxpr(fd.grad(lambda x: f(x) ** 2))(1.0).jaxpr) \
        or "custom_lin" in _all_prims(fd.make_jaxpr(
            lambda x: fd.vjp(f, x)[1](1.0))(1.0).jaxpr) or _custom_lin_in_linearization(f)


def _custom_lin_in_linearization(f):
    from funcdiff.api._flat import flatten_args, flatten_fun, leaf_aval
    from funcdiff.api.executor import linearize_flat
    leaves, tree = flatten_args((1.0,))
    flat_f, _ = flatten_fun(f, tree)
    lin = linearize_flat(flat_f, leaves, [leaf_aval(x) for x in leaves])
    return "custom_lin" in _all_prims(lin.lin_jaxpr)


def _all_prims(jaxpr):
    """Names of every primitive in a jaxpr, nested jaxprs in params included."""
    from funcdiff.core.ir import ClosedJaxpr, Jaxpr
    out, stack = set(), [jaxpr]
    while stack:
        j = stack.pop()
        j = j.jaxpr if isinstance(j, ClosedJaxpr) else j
        for e in j.eqns:
            out.add(e.primitive.name)
            for p in e.params.values():
                for sub in (p if isinstance(p, (tuple, list)) else (p,)):
                    if isinstance(sub, (Jaxpr, ClosedJaxpr)):
                        stack.append(sub)
    return out
