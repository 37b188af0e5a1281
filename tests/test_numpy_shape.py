"""funcdiff.numpy shape functions (``_shape.py``): values against NumPy, eagerly (the
fast path is NumPy itself) and traced (``make_jaxpr`` + ``eval_jaxpr``, with
``check_jaxpr``); NumPy's errors; derivatives (``check_grads``, order 2, float64).

Shape functions do no arithmetic (except ``pad`` with ``reflect_type='odd'``), so the
traced values must equal NumPy's exactly: same values, shape and dtype."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.trace import Tracer
from funcdiff.test_util import check_grads

from _helpers import DEFAULT, assert_same, traced as run_traced, values as _values

DTYPES = [np.float64, np.float32, np.int32, np.int64, np.bool_]


# --- helpers --------------------------------------------------------------------------------

#: when not exact: single precision to 1e-5, the rest to 1e-12 (integers included)
TOLS = {np.float32: 1e-5, np.complex64: 1e-5, DEFAULT: 1e-12}


def _assert_same(got, want, exact=True):
    """Leaf by leaf: same shape and dtype; values equal, or (not ``exact``) to TOLS."""
    assert_same(got, want, exact, TOLS, exact_kinds="", tree=True)


def check(name, args, *, exact=True, **kwargs):
    """``fnp.<name>(*args, **kwargs)`` equals ``np.<name>`` eagerly and traced (every
    ndarray argument traced, the others static)."""
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    want = np_fn(*args, **kwargs)
    _assert_same(fn(*args, **kwargs), want, exact=True)
    traced = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def f(*arrays):
        full = list(args)
        for i, a in zip(traced, arrays):
            full[i] = a
        return fn(*full, **kwargs)

    got = run_traced(f, *[args[i] for i in traced])
    _assert_same(got, want, exact)
    return want


def check_fn(f, np_f, *args, exact=True):
    """A traced function ``f`` (calling funcdiff.numpy) against its NumPy twin."""
    want = np_f(*args)
    _assert_same(run_traced(f, *args), want, exact)
    return want


def raises_both(exc, f, *args):
    """The error NumPy raises, raised eagerly and when traced."""
    with pytest.raises(exc):
        f(*args)
    with pytest.raises(exc):
        run_traced(f, *args)


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
dtypes = st.sampled_from(DTYPES)
seeds = st.integers(0, 2 ** 32 - 1)


# --- reshape, ravel, transpose --------------------------------------------------------------

@st.composite
def reshape_case(draw):
    shape = draw(shapes)
    size = int(np.prod(shape))
    cands = [(size,), (-1,), shape[::-1], (1,) + shape + (1,), size]
    if shape:
        i = draw(st.integers(0, len(shape) - 1))
        cands.append(shape[:i] + (-1,) + shape[i + 1:])
    if size and size % 2 == 0:
        cands += [(2, -1), (-1, 2, 1)]
    return shape, draw(st.sampled_from(cands))


@given(reshape_case(), dtypes, seeds, st.sampled_from(["C", "F", "A"]))
def test_reshape(case, dtype, seed, order):
    shape, new = case
    x = _values(np.random.default_rng(seed), shape, dtype)
    try:
        np.reshape(x, new)
    except ValueError:  # e.g. (-1, 0) of an empty array is ambiguous
        raises_both(ValueError, lambda a: fnp.reshape(a, new, order=order), x)
        return
    check("reshape", (x, new), order=order)
    check("ravel", (x,), order=order)
    # the method form, with the shape as separate ints
    if isinstance(new, tuple) and new:
        check_fn(lambda a: a.reshape(*new), lambda a: a.reshape(*new), x)


def test_reshape_errors_and_keywords():
    x = np.arange(6.0)
    raises_both(ValueError, lambda a: fnp.reshape(a, (4, -1)), x)
    raises_both(ValueError, lambda a: fnp.reshape(a, (-1, -1)), x)
    raises_both(ValueError, lambda a: fnp.reshape(a, (5,)), x)
    check_fn(lambda a: fnp.reshape(a, shape=(3, 2)), lambda a: np.reshape(a, (3, 2)), x)
    # a Python scalar becomes a (strong) float64 array, as np.reshape gives
    check_fn(lambda a: fnp.reshape(2.0, (1,)) * a, lambda a: np.reshape(2.0, (1,)) * a,
             x.astype(np.float32))


@given(shapes, dtypes, seeds, st.data())
def test_transpose_swapaxes_moveaxis(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    check("transpose", (x,))
    perm = data.draw(st.permutations(range(n)))
    perm = tuple(p - n if data.draw(st.booleans()) else p for p in perm)
    check("transpose", (x, perm))
    check_fn(lambda a: a.T, lambda a: a.T, x)
    if n:
        i, j = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
        check("swapaxes", (x, i, j))
        check("moveaxis", (x, i, j))
        k = data.draw(st.integers(0, n))
        src = data.draw(st.permutations(range(n)))[:k]
        dst = data.draw(st.permutations(range(n)))[:k]
        check("moveaxis", (x, tuple(src), tuple(dst)))


def test_transpose_errors():
    x = np.zeros((2, 3))
    raises_both(ValueError, lambda a: fnp.transpose(a, (0,)), x)
    raises_both(ValueError, lambda a: fnp.transpose(a, (0, 0)), x)
    raises_both(np.exceptions.AxisError, lambda a: fnp.transpose(a, (0, 2)), x)
    raises_both(ValueError, lambda a: fnp.moveaxis(a, (0, 1), (0,)), x)


@given(shapes, dtypes, seeds, st.data())
def test_expand_dims_squeeze(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    ax = data.draw(st.integers(-n - 1, n))
    check("expand_dims", (x, ax))
    k = data.draw(st.integers(1, 3))
    axes = tuple(data.draw(st.permutations(range(n + k)))[:k])
    axes = tuple(a - (n + k) if data.draw(st.booleans()) else a for a in axes)
    check("expand_dims", (x, axes))
    y = np.expand_dims(x, axes)
    check("squeeze", (y,))
    check("squeeze", (y, axes))
    check("squeeze", (y, axes[0]))
    check_fn(lambda a: a.squeeze(), lambda a: a.squeeze(), y)


def test_squeeze_error():
    x = np.zeros((1, 3))
    raises_both(ValueError, lambda a: fnp.squeeze(a, 1), x)
    raises_both(ValueError, lambda a: fnp.expand_dims(a, (0, 0)), x)


# --- joining --------------------------------------------------------------------------------

@st.composite
def concat_case(draw):
    shape = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    k = draw(st.integers(1, 4))
    shapes_ = []
    for _ in range(k):
        s = list(shape)
        s[axis] = draw(st.integers(0, 3))
        shapes_.append(tuple(s))
    dts = [draw(dtypes) for _ in range(k)]
    return shapes_, axis, dts


@given(concat_case(), seeds)
def test_concatenate(case, seed):
    shapes_, axis, dts = case
    rng = np.random.default_rng(seed)
    xs = [_values(rng, s, d) for s, d in zip(shapes_, dts)]
    want = np.concatenate(xs, axis=axis)
    _assert_same(fnp.concatenate(xs, axis=axis), want)
    check_fn(lambda *a: fnp.concatenate(list(a), axis=axis),
             lambda *a: np.concatenate(a, axis=axis), *xs)
    check_fn(lambda *a: fnp.concatenate(a, axis=None),
             lambda *a: np.concatenate(a, axis=None), *xs)
    # a list mixing traced values and constants
    check_fn(lambda a: fnp.concatenate([a] + xs[1:], axis=axis),
             lambda a: np.concatenate([a] + xs[1:], axis=axis), xs[0])
    check_fn(lambda *a: fnp.concatenate(a, axis=axis, dtype=np.float64),
             lambda *a: np.concatenate(a, axis=axis, dtype=np.float64), *xs)
    # plain NumPy on traced values dispatches to funcdiff
    check_fn(lambda *a: np.concatenate(a, axis=axis),
             lambda *a: np.concatenate(a, axis=axis), *xs)


def test_concatenate_errors():
    raises_both(ValueError, lambda a, b: fnp.concatenate([a, b]), np.zeros((2, 3)),
                np.zeros((2, 4)))
    raises_both(ValueError, lambda a, b: fnp.concatenate([a, b]), np.zeros(()),
                np.zeros(()))
    raises_both(ValueError, lambda a, b: fnp.concatenate([a, b]), np.zeros((2, 3)),
                np.zeros(3))
    raises_both(TypeError, lambda a: fnp.concatenate([a, a], dtype=np.int32),
                np.zeros(3))
    with pytest.raises(ValueError, match="(2, 3)"):
        run_traced(lambda a, b: fnp.concatenate([a, b]), np.zeros((2, 3)), np.zeros((2, 4)))


@given(st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple), st.integers(1, 3),
       dtypes, seeds, st.data())
def test_stack_family(shape, k, dtype, seed, data):
    rng = np.random.default_rng(seed)
    xs = [_values(rng, shape, dtype) for _ in range(k)]
    n = len(shape)
    axis = data.draw(st.integers(-n - 1, n))
    check_fn(lambda *a: fnp.stack(a, axis=axis), lambda *a: np.stack(a, axis=axis), *xs)
    for name in ["hstack", "vstack", "dstack", "column_stack"]:
        try:
            want = getattr(np, name)(xs)
        except ValueError:
            with pytest.raises(ValueError):
                run_traced(lambda *a: getattr(fnp, name)(a), *xs)
            continue
        check_fn(lambda *a: getattr(fnp, name)(list(a)), lambda *a: want, *xs)
    # a traced array is a sequence of its rows
    if n:
        for name in ["stack", "vstack", "concatenate", "hstack", "dstack", "column_stack"]:
            ax = data.draw(st.integers(-n, n - 1)) if name in ("stack",
                                                              "concatenate") else None
            kw = {} if ax is None else {"axis": ax}
            try:
                want = getattr(np, name)(xs[0], **kw)
            except ValueError as e:
                with pytest.raises(type(e)):
                    run_traced(lambda a: getattr(fnp, name)(a, **kw), xs[0])
                continue
            check_fn(lambda a: getattr(fnp, name)(a, **kw), lambda a: want, xs[0])


def test_stack_mixed_and_errors():
    x = np.arange(3.0)
    check_fn(lambda a: fnp.stack([a, 2 * a, x], axis=1),
             lambda a: np.stack([a, 2 * a, x], axis=1), x)
    check_fn(lambda a: fnp.vstack([a, x.astype(np.int32)]),
             lambda a: np.vstack([a, x.astype(np.int32)]), x.astype(np.float32))
    raises_both(ValueError, lambda a: fnp.stack([a, a[:2]]), x)
    raises_both(ValueError, lambda a: fnp.stack([]), x)


@given(shapes, st.integers(1, 3), dtypes, seeds)
def test_append(shape, k, dtype, seed):
    rng = np.random.default_rng(seed)
    x, v = _values(rng, shape, dtype), _values(rng, (k,), dtype)
    check("append", (x, v))
    if shape:
        check("append", (x, x), axis=-1)


# --- splitting ------------------------------------------------------------------------------

@given(nonempty_shapes.filter(lambda s: len(s) <= 3), dtypes, seeds, st.data())
def test_split(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    axis = data.draw(st.integers(-n, n - 1))
    d = shape[axis]
    sections = data.draw(st.integers(1, d + 2))
    check("array_split", (x, sections), axis=axis)
    divisors = [s for s in range(1, d + 1) if d % s == 0]
    check("split", (x, data.draw(st.sampled_from(divisors))), axis=axis)
    idx = data.draw(st.lists(st.integers(-d - 1, d + 2), max_size=4))
    check("split", (x, idx), axis=axis)
    check("array_split", (x, idx), axis=axis)
    if n >= 1:
        check("hsplit", (x, [1]))
    if n >= 2:
        check("vsplit", (x, [1]))
    if n >= 3:
        check("dsplit", (x, [1]))


def test_split_errors():
    x = np.arange(5.0)
    raises_both(ValueError, lambda a: fnp.split(a, 2), x)
    raises_both(ValueError, lambda a: fnp.array_split(a, 0), x)


# --- tile, repeat ---------------------------------------------------------------------------

@given(shapes.filter(lambda s: len(s) <= 3), dtypes, seeds,
       st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=4).map(tuple)))
def test_tile(shape, dtype, seed, reps):
    x = _values(np.random.default_rng(seed), shape, dtype)
    check("tile", (x, reps))


@given(shapes.filter(lambda s: len(s) <= 3), dtypes, seeds, st.data())
def test_repeat(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    r = data.draw(st.integers(0, 3))
    check("repeat", (x, r))
    check_fn(lambda a: a.repeat(r), lambda a: a.repeat(r), x)
    if shape:
        ax = data.draw(st.integers(-len(shape), len(shape) - 1))
        check("repeat", (x, r), axis=ax)
        counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[ax],
                                    max_size=shape[ax]))
        check("repeat", (x, counts), axis=ax)
        c32 = np.array(counts, np.int32)
        check_fn(lambda a: fnp.repeat(a, c32, axis=ax), lambda a: np.repeat(a, c32, axis=ax),
                 x)
        check("repeat", (x, [r]), axis=ax)
    counts = data.draw(st.lists(st.integers(0, 2), min_size=x.size, max_size=x.size))
    check("repeat", (x, counts))


def test_repeat_many_runs_gathers():
    """Counts with many runs lower to one gather instead of a slice per run."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 20))
    counts = np.arange(20) % 3
    check_fn(lambda a: fnp.repeat(a, counts, axis=1), lambda a: np.repeat(a, counts, axis=1), x)
    closed = fd.make_jaxpr(lambda a: fnp.repeat(a, counts, axis=1))(x)
    assert len(closed.jaxpr.eqns) < 5
    check_grads(lambda a: fnp.repeat(a, counts, axis=1) ** 2, (x,), order=2)


def test_repeat_counts_must_be_concrete():
    x, c = np.arange(3.0), np.array([1, 0, 2])
    with pytest.raises(fd.ConcretizationError):
        run_traced(lambda a, r: fnp.repeat(a, r), x, c)
    # under grad the counts are concrete values: that works
    g = fd.grad(lambda a, r: fnp.sum(fnp.repeat(a, r) ** 2))(x, c)
    np.testing.assert_allclose(g, 2 * x * c)


def test_repeat_errors():
    x = np.arange(3.0)
    raises_both(ValueError, lambda a: fnp.repeat(a, [1, 2]), x)
    raises_both(ValueError, lambda a: fnp.repeat(a, -1), x)
    raises_both(TypeError, lambda a: fnp.repeat(a, np.array([1.0, 1.0, 1.0])), x)
    raises_both(ValueError, lambda a: fnp.repeat(a, []), x)
    # Python numbers convert as int() does
    check_fn(lambda a: fnp.repeat(a, [1.5, 0, 2]), lambda a: np.repeat(a, [1.5, 0, 2]), x)


# --- broadcasting ---------------------------------------------------------------------------

@st.composite
def broadcastable(draw, k_max=3):
    out = draw(st.lists(st.integers(0, 3), max_size=4).map(tuple))
    res = []
    for _ in range(draw(st.integers(1, k_max))):
        lead = draw(st.integers(0, len(out)))
        res.append(tuple(1 if draw(st.booleans()) else d for d in out[lead:]))
    return out, res


@given(broadcastable(), dtypes, seeds)
def test_broadcast(case, dtype, seed):
    out, ins = case
    rng = np.random.default_rng(seed)
    xs = [_values(rng, s, dtype) for s in ins]
    check("broadcast_to", (xs[0], out))
    check("broadcast_arrays", tuple(xs))
    assert type(fnp.broadcast_arrays(*xs)) is type(np.broadcast_arrays(*xs))


def test_broadcast_errors():
    raises_both(ValueError, lambda a: fnp.broadcast_to(a, (2, 4)), np.zeros(3))
    raises_both(ValueError, lambda a, b: fnp.broadcast_arrays(a, b), np.zeros(3),
                np.zeros(4))


# --- flip, roll, rot90 ----------------------------------------------------------------------

@given(shapes, dtypes, seeds, st.data())
def test_flip_roll(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    check("flip", (x,))
    sh = data.draw(st.integers(-7, 7))
    check("roll", (x, sh))
    if n:
        ax = data.draw(st.integers(-n, n - 1))
        check("flip", (x,), axis=ax)
        axes = tuple(data.draw(st.permutations(range(n)))[:data.draw(st.integers(0, n))])
        check("flip", (x,), axis=axes)
        check("roll", (x, sh), axis=ax)
        shifts = tuple(data.draw(st.integers(-5, 5)) for _ in axes)
        check("roll", (x, shifts), axis=axes)
        # shifts on a repeated axis add up; a scalar shift broadcasts over the axes
        check("roll", (x, (sh, 1)), axis=(ax, ax))
        check("roll", (x, sh), axis=axes)
        check("flipud", (x,))
    if n >= 2:
        check("fliplr", (x,))
        k = data.draw(st.integers(-5, 5))
        a0, a1 = data.draw(st.permutations(range(n)))[:2]
        check("rot90", (x, k), axes=(a0, a1))


def test_flip_errors():
    raises_both(ValueError, lambda a: fnp.fliplr(a), np.zeros(3))
    raises_both(ValueError, lambda a: fnp.flipud(a), np.zeros(()))


# --- atleast_nd -----------------------------------------------------------------------------

@given(st.lists(shapes, min_size=1, max_size=3), dtypes, seeds)
def test_atleast(shapes_, dtype, seed):
    rng = np.random.default_rng(seed)
    xs = [_values(rng, s, dtype) for s in shapes_]
    for name in ["atleast_1d", "atleast_2d", "atleast_3d"]:
        want = check(name, tuple(xs))
        got = getattr(fnp, name)(*xs)
        assert type(got) is type(want)
        if len(xs) > 1:
            def f(*a):
                out = getattr(fnp, name)(*a)
                assert type(out) is type(want)
                return out
            run_traced(f, *xs)


# --- pad ------------------------------------------------------------------------------------

@st.composite
def pad_width(draw, ndim):
    w = st.integers(0, 4)
    form = draw(st.sampled_from(["int", "1", "pair", "per_axis", "per_axis1", "dict"]))
    if form == "int":
        return draw(w)
    if form == "1":
        return (draw(w),)
    if form == "pair":
        return (draw(w), draw(w))
    if form == "per_axis1":
        return tuple((draw(w),) for _ in range(ndim))
    if form == "dict" and np.lib.NumpyVersion(np.__version__) >= "2.3.0" and ndim:
        return {draw(st.integers(-ndim, ndim - 1)): (draw(w), draw(w))}
    return tuple((draw(w), draw(w)) for _ in range(ndim))


@given(st.lists(st.integers(0, 3), max_size=3).map(tuple), dtypes, seeds, st.data())
def test_pad(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    pw = data.draw(pad_width(n))
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    kwargs = {}
    if mode == "constant":
        cv = data.draw(st.sampled_from(["none", "scalar", "pair", "per_axis"]))
        if cv == "scalar":
            kwargs["constant_values"] = data.draw(st.integers(-3, 3))
        elif cv == "pair":
            kwargs["constant_values"] = (1.5, -2)
        elif cv == "per_axis":
            kwargs["constant_values"] = tuple((i + 1, -i - 1) for i in range(n))
    if mode in ("reflect", "symmetric") and dtype != np.bool_:
        kwargs["reflect_type"] = data.draw(st.sampled_from(["even", "odd"]))
    try:
        want = np.pad(x, pw, mode, **kwargs)
    except (ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            run_traced(lambda a: fnp.pad(a, pw, mode, **kwargs), x)
        return
    _assert_same(fnp.pad(x, pw, mode, **kwargs), want)
    check_fn(lambda a: fnp.pad(a, pw, mode, **kwargs), lambda a: want, x)


def test_pad_wide_reflections():
    x = np.arange(1.0, 4.0)
    for mode in ["reflect", "symmetric", "wrap", "edge"]:
        for rt in (["even", "odd"] if mode in ("reflect", "symmetric") else [None]):
            kw = {} if rt is None else {"reflect_type": rt}
            for pw in [(7, 2), (0, 11), (9, 9)]:
                check_fn(lambda a: fnp.pad(a, pw, mode, **kw),
                         lambda a: np.pad(a, pw, mode, **kw), x)
    y = np.arange(6.0).reshape(2, 3)
    check_fn(lambda a: fnp.pad(a, ((3, 4), (5, 1)), "reflect", reflect_type="odd"),
             lambda a: np.pad(a, ((3, 4), (5, 1)), "reflect", reflect_type="odd"), y)


def test_pad_traced_constant():
    """The padding value may be a traced value, and is differentiated."""
    x = np.arange(6.0).reshape(2, 3)
    check_fn(lambda a, c: fnp.pad(a, 1, constant_values=c),
             lambda a, c: np.pad(a, 1, constant_values=c), x, np.float64(2.5))
    check_fn(lambda a, c: fnp.pad(a, 1, constant_values=c),
             lambda a, c: np.pad(a, 1, constant_values=c), x, np.array([[1.0, 2.0],
                                                                         [3.0, 4.0]]))
    check_grads(lambda a, c: fnp.pad(a, 1, constant_values=c) ** 2,
                (x, np.array([[1.0, 2.0], [3.0, 4.0]])), order=2)
    check_grads(lambda a, c: fnp.pad(a, (1, 2), constant_values=c) ** 2,
                (x, np.float64(-1.5)), order=2)


def test_pad_errors():
    x = np.zeros((2, 0))
    raises_both(ValueError, lambda a: fnp.pad(a, 1, "edge"), x)
    raises_both(ValueError, lambda a: fnp.pad(a, -1), np.zeros(2))
    raises_both(TypeError, lambda a: fnp.pad(a, 1.5), np.zeros(2))
    raises_both(ValueError, lambda a: fnp.pad(a, 1, "edge", constant_values=1), np.zeros(2))
    with pytest.raises(ValueError, match="mode"):
        run_traced(lambda a: fnp.pad(a, 1, "median"), np.zeros(2))


# --- shape queries --------------------------------------------------------------------------

@given(shapes, dtypes)
def test_shape_ndim_size(shape, dtype):
    x = np.zeros(shape, dtype)
    seen = {}

    def f(a):
        seen["shape"], seen["ndim"], seen["size"] = fnp.shape(a), fnp.ndim(a), fnp.size(a)
        seen["np"] = (np.shape(a), np.ndim(a), np.size(a))
        if shape:
            seen["size0"] = fnp.size(a, -1)
        return a

    run_traced(f, x)
    assert seen["shape"] == np.shape(x) and type(seen["shape"]) is tuple
    assert seen["ndim"] == x.ndim and type(seen["ndim"]) is int
    assert seen["size"] == x.size and type(seen["size"]) is int
    assert seen["np"] == (x.shape, x.ndim, x.size)
    if shape:
        assert seen["size0"] == shape[-1]
    assert fnp.shape(x) == x.shape and fnp.size(x) == x.size


def test_traced_results_are_tracers():
    seen = []

    def f(a):
        seen.append(fnp.reshape(a, (-1,)))
        seen.append(fnp.pad(a, 1))
        return a

    run_traced(f, np.zeros((2, 2)))
    assert all(type(t) is Tracer for t in seen)


# --- derivatives ----------------------------------------------------------------------------

GRAD_CASES = [
    ("reshape", lambda x: fnp.reshape(x, (-1,)) * fnp.reshape(x, (-1,), order="F")),
    ("transpose", lambda x: fnp.transpose(x) ** 2),
    ("swapaxes", lambda x: fnp.swapaxes(x, 0, -1) ** 2),
    ("moveaxis", lambda x: fnp.moveaxis(x, 0, -1) ** 2),
    ("expand_squeeze", lambda x: fnp.squeeze(fnp.expand_dims(x, (0, -1))) ** 2),
    ("concatenate", lambda x: fnp.concatenate([x, 2 * x, x ** 2], axis=-1)),
    ("concatenate_none", lambda x: fnp.concatenate([x, x ** 2], axis=None)),
    ("stack", lambda x: fnp.stack([x, x ** 2], axis=1)),
    ("hstack", lambda x: fnp.hstack([x, x ** 2])),
    ("vstack", lambda x: fnp.vstack([x, x ** 3])),
    ("split", lambda x: fnp.array_split(x ** 2, 2, axis=-1)),
    ("tile", lambda x: fnp.tile(x, (2, 1, 3)) ** 2),
    ("repeat", lambda x: fnp.repeat(x, 2, axis=0) ** 2),
    ("repeat_counts", lambda x: fnp.repeat(x ** 2, np.arange(x.size) % 3, axis=None)),
    ("broadcast_to", lambda x: fnp.broadcast_to(x, (2,) + x.shape) ** 2),
    ("flip", lambda x: fnp.flip(x) * x),
    ("roll", lambda x: fnp.roll(x, 1, axis=-1) * x),
    ("ravel", lambda x: fnp.ravel(x) ** 2),
    ("pad_constant", lambda x: fnp.pad(x, 1, constant_values=1.0) ** 2),
    ("pad_edge", lambda x: fnp.pad(x, (1, 2), "edge") ** 2),
    ("pad_reflect", lambda x: fnp.pad(x, 2, "reflect", reflect_type="odd") ** 2),
    ("pad_symmetric", lambda x: fnp.pad(x, 3, "symmetric") ** 2),
    ("pad_wrap", lambda x: fnp.pad(x, 4, "wrap") ** 2),
]


@pytest.mark.parametrize("name,f", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
@settings(max_examples=4)
@given(st.lists(st.integers(2, 3), min_size=2, max_size=3).map(tuple), seeds)
def test_grads(name, f, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grads(f, (x,), order=2)


@settings(max_examples=5)
@given(broadcastable(k_max=2), seeds)
def test_grads_broadcast_arrays(case, seed):
    _, ins = case
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in ins]
    check_grads(lambda *a: [b ** 2 for b in fnp.broadcast_arrays(*a)], tuple(xs), order=2)
