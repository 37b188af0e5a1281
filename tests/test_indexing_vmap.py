"""vmap through indexing: the batch rules of ``gather`` and the scatters behind ``.at``.

The oracle is vmap's definition: a Python loop over the examples, each computed eagerly
(by NumPy itself), stacked.  Hypothesis draws the per-example array shape, an index
mixing every kind (ints, slices, None, Ellipsis, integer arrays passed as arguments,
static lists, boolean masks), the batch size, which of operand / index arrays / updates
are mapped and along which axis.  Then: vmap of grad through indexing, jacobians
(vmap inside), jit(vmap(...)) against the interpreter with check_jaxpr, and the
NumPy spelling of the emitted code.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp

import _helpers
from _helpers import DEFAULT, traced, values as _values

OPS = ["get", "set", "add", "subtract", "multiply", "min", "max"]
FEW = settings(max_examples=15, deadline=None)


# --- a per-example index, with each integer array drawn once per example ----------------

@st.composite
def batched_case(draw, kinds=("int", "slice", "array", "list", "mask"), dtypes=(np.float64,)):
    """``(shape, template, arrays, size, dtype, rng)``: a per-example shape, an index
    template (static entries and ``("arr", k)`` holes), per-example integer arrays
    ``arrays[k]`` stacked over a leading batch axis of length ``size`` (the same array
    repeated if the draw leaves it unmapped: ``mapped[k]`` says)."""
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    n_cons = draw(st.integers(0, ndim))
    ell = draw(st.booleans())
    if ell:
        n_before = draw(st.integers(0, n_cons))
        axes = list(range(n_before)) + list(range(ndim - (n_cons - n_before), ndim))
    else:
        n_before, axes = n_cons, list(range(n_cons))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    size = draw(st.integers(1, 3))
    bshape = draw(st.sampled_from([(), (2,), (3,), (2, 1), (2, 3)]))
    template, arrays = [], []
    for ax in axes:
        n = shape[ax]
        kind = draw(st.sampled_from([k for k in kinds if k in ("slice", "mask") or n > 0]))
        if kind == "int":
            template.append(("static", int(rng.integers(-n, n))))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-6, 6))
            step = draw(st.one_of(st.none(), st.sampled_from([1, 2, -1, -2])))
            template.append(("static", slice(draw(bound), draw(bound), step)))
        elif kind == "array":
            s = [1 if draw(st.booleans()) else d for d in bshape]
            s = tuple(s[draw(st.integers(0, len(s))):])
            template.append(("arr", len(arrays)))
            arrays.append(rng.integers(-n, n, size=(size,) + s))
        elif kind == "list":
            template.append(("static", rng.integers(-n, n, size=2).tolist()))
        else:
            template.append(("static", rng.random(n) > 0.4))
    if ell:
        template.insert(n_before, ("static", Ellipsis))
    for _ in range(draw(st.integers(0, 2))):
        template.insert(draw(st.integers(0, len(template))), ("static", None))
    as_tuple = len(template) != 1 or draw(st.booleans())
    try:
        idx = _rebuild((template, as_tuple), [a[0] for a in arrays])
        np.empty(shape)[idx]
    except (IndexError, ValueError):
        assume(False)
    dtype = draw(st.sampled_from(dtypes))
    return shape, (template, as_tuple), arrays, size, dtype, rng


def _rebuild(template, arrays):
    tpl, as_tuple = template
    out = tuple(arrays[v] if k == "arr" else v for k, v in tpl)
    return out if as_tuple or len(out) != 1 else out[0]


def _draw_mapping(data, args_per_example, size, rng, never=()):
    """For each argument (per-example values, or already stacked on axis 0 when the
    entry is a ``("stacked", value)`` pair): mapped or not (never for the positions in
    ``never``), along which axis.  Returns ``(in_axes, batched_args, example(b) ->
    per-example args)``."""
    n = len(args_per_example)
    can = [k for k in range(n) if k not in never]
    mapped = [k in can and data.draw(st.booleans()) for k in range(n)]
    if not any(mapped):
        mapped[data.draw(st.sampled_from(can))] = True
    in_axes, batched, stacks = [], [], []
    for (kind, v), m in zip(args_per_example, mapped):
        stack = v
        if not m:
            one = v[0] if kind == "stacked" else v
            in_axes.append(None)
            batched.append(one)
            stacks.append((None, one))
            continue
        if kind != "stacked":   # a fresh value per example
            stack = np.stack([v] + [_values(rng, np.shape(v), np.asarray(v).dtype)
                                    for _ in range(size - 1)])
        ax = data.draw(st.integers(-stack.ndim, stack.ndim - 1))
        in_axes.append(ax)
        batched.append(np.moveaxis(stack, 0, ax))
        stacks.append((0, stack))

    def example(b):
        return [one if d is None else np.asarray(one[b]) for d, one in stacks]

    return tuple(in_axes), batched, example


def _loop(f, example, size):
    outs = [f(*example(b)) for b in range(size)]
    return np.stack([np.asarray(o) for o in outs])


#: when not exact: rtol 1e-12, atol 1e-14 for every dtype
TOLS = {DEFAULT: (1e-12, 1e-14)}


def _same(got, want, exact=True):
    """Same shape and dtype; values equal, or (not ``exact``) allclose to TOLS."""
    _helpers.assert_same(got, want, exact, TOLS, exact_kinds="")


def _check_jit_and_jaxpr(vf, batched, want, exact=True):
    (got,) = traced(vf, *batched)
    _same(got, want, exact)
    _same(fd.jit(vf)(*batched), want, exact)


# --- getitem and every .at method, every mapping ------------------------------------------

@given(batched_case(dtypes=(np.float64, np.int32)), st.data())
def test_getitem_vmap_matches_loop(case, data):
    shape, template, arrays, size, dtype, rng = case
    x = _values(rng, shape, dtype)

    def f(x, *arrs):
        return fnp.asarray(x)[_rebuild(template, list(arrs))]

    in_axes, batched, example = _draw_mapping(
        data, [("x", x)] + [("stacked", a) for a in arrays], size, rng)
    vf = fd.vmap(f, in_axes)
    want = _loop(lambda x, *a: x[_rebuild(template, list(a))], example, size)
    _same(vf(*batched), want)
    _check_jit_and_jaxpr(vf, batched, want)


@given(batched_case(), st.sampled_from(OPS), st.data())
@settings(max_examples=40, deadline=None)
def test_at_methods_vmap_matches_loop(case, op, data):
    """operand, index arrays and updates each mapped or not (hypothesis decides),
    along any axis."""
    shape, template, arrays, size, dtype, rng = case
    x = _values(rng, shape, dtype)
    ishape = np.empty(shape)[_rebuild(template, [a[0] for a in arrays])].shape
    vshape = [1 if data.draw(st.booleans()) else d for d in ishape]
    v = _values(rng, tuple(vshape[data.draw(st.integers(0, len(vshape))):]), dtype)

    def f(x, v, *arrs):
        ref = fnp.asarray(x).at[_rebuild(template, list(arrs))]
        return ref.get() if op == "get" else getattr(ref, op)(v)

    def numpy_f(x, v, *arrs):
        idx = _rebuild(template, list(arrs))
        out = x.copy()
        if op == "get":
            return x[idx]
        if op == "set":
            out[idx] = v
        else:
            ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                     "min": np.minimum, "max": np.maximum}[op]
            ufunc.at(out, idx, v)
        return out

    in_axes, batched, example = _draw_mapping(
        data, [("x", x), ("v", v)] + [("stacked", a) for a in arrays], size, rng,
        never=(1,) if op == "get" else ())
    vf = fd.vmap(f, in_axes)
    want = _loop(numpy_f, example, size)
    exact = op not in ("add", "subtract", "multiply")
    _same(vf(*batched), want, exact)
    _check_jit_and_jaxpr(vf, batched, want, exact)


COMBOS = [(dx, di, du) for dx in (0, None) for di in (0, None) for du in (0, None)
          if (dx, di, du) != (None, None, None)]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dims", COMBOS, ids=str)
def test_every_mapping_combination(op, dims):
    """Operand, index array and updates mapped or not, all seven ways, on an index whose
    advanced entries are separated by a slice (their result axes go first) and another
    with them adjacent after a slice."""
    rng = np.random.default_rng(9)
    B = 3
    x = rng.standard_normal((B, 4, 5, 6))
    separated = (lambda i: (i, slice(None), 1), (2,))       # advanced result axes first
    adjacent = (lambda i: (slice(None), i, 2), (2, 1))      # advanced block stays in place
    for idx, ishape in (separated, adjacent):
        i = rng.integers(-4, 4, (B,) + ishape)
        per_shape = np.empty((4, 5, 6))[idx(i[0])].shape
        u = rng.standard_normal((B,) + per_shape)

        def f(x, i, u):
            ref = fnp.asarray(x).at[idx(i)]
            return ref.get() if op == "get" else getattr(ref, op)(u)

        def ref(x, i, u):
            out = x.copy()
            if op == "get":
                return x[idx(i)]
            if op == "set":
                out[idx(i)] = u
            else:
                {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                 "min": np.minimum, "max": np.maximum}[op].at(out, idx(i), u)
            return out

        args = [a if d is not None else a[0] for a, d in zip((x, i, u), dims)]
        want = np.stack([ref(*(a[b] if d is not None else a for a, d in zip(args, dims)))
                         for b in range(B)])
        _same(fd.vmap(f, dims)(*args), want, exact=op not in ("add", "subtract", "multiply"))
        _same(fd.jit(fd.vmap(f, dims))(*args), want,
              exact=op not in ("add", "subtract", "multiply"))


def test_duplicates_per_example_under_vmap():
    """Each example has its own repeated positions: .add accumulates, .set keeps the
    last update (NumPy's order), .max takes the max -- per example, never across."""
    x = np.zeros((3, 4))
    i = np.array([[0, 0, 1], [2, 2, 2], [3, 0, 3]])
    v = np.arange(9.0).reshape(3, 3) + 1
    for op in ("set", "add", "multiply", "min", "max"):
        f = lambda x, i, v: getattr(fnp.asarray(x).at[i], op)(v)  # noqa: E731
        want = np.stack([f(x[b] + 1, i[b], v[b]) for b in range(3)])
        _same(fd.vmap(f)(x + 1, i, v), want)
        _same(fd.jit(fd.vmap(f))(x + 1, i, v), want)
        # a shared update vector, per-example indices
        want = np.stack([f(x[b] + 1, i[b], v[0]) for b in range(3)])
        _same(fd.vmap(f, (0, 0, None))(x + 1, i, v[0]), want)


def test_advanced_index_placement():
    """NumPy moves the result axes of advanced indices separated by a slice (or None, or
    an ellipsis) to the front; adjacent ones stay in place (integers count as advanced
    next to arrays): the batch axis has to land where the loop puts it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5, 6))
    i = rng.integers(0, 4, (3, 2))
    j = rng.integers(-5, 5, (3, 2))
    cases = [lambda x, i, j: x[i, :, j],             # separated: advanced first
             lambda x, i, j: x[:, j, i],             # adjacent, in the middle
             lambda x, i, j: x[1, i, :],             # int + array adjacent, then a slice
             lambda x, i, j: x[0, :, i],             # int and array separated
             lambda x, i, j: x[None, :, j, None, i],
             lambda x, i, j: x[..., i[:1], j],
             lambda x, i, j: x[i, ..., j],
             lambda x, i, j: x[i[:, None], j]]
    for f in cases:
        g = lambda x, i, j: f(fnp.asarray(x), i, j)  # noqa: E731
        for in_axes in [(0, 0, 0), (None, 0, 0), (0, None, 0), (0, 0, None), (2, None, None),
                        (None, 0, None), (-1, 0, None)]:
            xs = np.moveaxis(x, 0, in_axes[0]) if in_axes[0] is not None else x[0]
            args = [xs, i if in_axes[1] is not None else i[0],
                    j if in_axes[2] is not None else j[0]]
            want = np.stack([f(*(a if d is None else np.moveaxis(a, d, 0)[b]
                                 for a, d in zip(args, in_axes))) for b in range(3)])
            _same(fd.vmap(g, in_axes)(*args), want)
            _same(fd.jit(fd.vmap(g, in_axes))(*args), want)


def test_scalar_index_per_example_and_out_axes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    n = np.array([0, 3, -1, 2, -4])
    want = x[np.arange(5), n]
    _same(fd.vmap(lambda r, i: fnp.asarray(r)[i])(x, n), want)
    _same(fd.vmap(lambda r, i: fnp.asarray(r)[i], (1, 0))(x, n[:4]),
          np.stack([x[:, b][n[b]] for b in range(4)]))
    # one row, many indices; out_axes=1
    got = fd.vmap(lambda r, i: fnp.asarray(r)[None, i], (None, 0), 1)(x[0], n)
    _same(got, np.stack([x[0][None, n[b]] for b in range(5)], axis=1))
    got = fd.vmap(lambda r, i, v: fnp.asarray(r).at[i].add(v), (0, 0, None), 1)(x, n, 2.5)
    _same(got, np.stack([np.asarray(fnp.asarray(x[b]).at[n[b]].add(2.5)) for b in range(5)],
                        axis=1))


def test_take_and_take_along_axis_under_vmap():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5))
    ind = rng.integers(-5, 5, (3, 4, 2))
    got = fd.vmap(lambda a, i: fnp.take_along_axis(a, i % 5, axis=1))(x, ind)
    _same(got, np.stack([np.take_along_axis(x[b], ind[b] % 5, axis=1) for b in range(3)]))
    got = fd.vmap(lambda a, i: fnp.take(a, i, axis=0, mode="wrap"), (None, 0))(x[0], ind)
    _same(got, np.stack([np.take(x[0], ind[b], axis=0, mode="wrap") for b in range(3)]))
    got = fd.vmap(lambda a: np.take(a, [3, 0, 3], axis=-1))(x)
    _same(got, np.take(x, [3, 0, 3], axis=-1))


def test_nested_vmap():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6))
    i = rng.integers(0, 6, (2, 3, 4))
    v = rng.standard_normal((2, 3, 4))
    f = lambda r, j, u: fnp.asarray(r).at[j].add(u)[j[::-1]]  # noqa: E731
    got = fd.vmap(fd.vmap(f))(x, i, v)
    want = np.stack([np.stack([np.asarray(f(x[a, b], i[a, b], v[a, b])) for b in range(3)])
                     for a in range(2)])
    _same(got, want, exact=False)
    got = fd.vmap(fd.vmap(f, (0, None, 0)), (None, 0, 0))(x[0], i[:, 0], v)
    want = np.stack([np.stack([np.asarray(f(x[0, b], i[a, 0], v[a, b])) for b in range(3)])
                     for a in range(2)])
    _same(got, want, exact=False)


# --- derivatives under vmap ------------------------------------------------------------------

@given(batched_case(kinds=("int", "slice", "array", "list")),
       st.sampled_from(OPS), st.data())
@FEW
def test_vmap_of_grad_through_indexing(case, op, data):
    shape, template, arrays, size, _, rng = case
    x = rng.permutation(np.arange(int(np.prod(shape)), dtype=float)).reshape(shape) * 0.3
    x = x + 0.1
    ishape = np.empty(shape)[_rebuild(template, [a[0] for a in arrays])].shape
    v = rng.uniform(0.5, 1.5, ishape) * rng.choice([-1.0, 1.0], ishape)

    def f(x, v, *arrs):
        ref = fnp.asarray(x).at[_rebuild(template, list(arrs))]
        y = ref.get() * v if op == "get" else getattr(ref, op)(v)
        return fnp.sum(fnp.sin(y) * fnp.arange(1.0, y.size + 1.0).reshape(y.shape))

    g = fd.grad(f, argnums=(0, 1))
    in_axes, batched, example = _draw_mapping(
        data, [("x", x), ("v", v)] + [("stacked", a) for a in arrays], size, rng)
    got = fd.vmap(g, in_axes)(*batched)
    per = [g(*example(b)) for b in range(size)]
    for k in range(2):
        want = np.stack([p[k] for p in per])
        np.testing.assert_allclose(got[k], want, rtol=1e-10, atol=1e-12)
    closed = fd.make_jaxpr(fd.vmap(g, in_axes))(*batched)
    fd.check_jaxpr(closed)
    jitted = fd.jit(fd.vmap(g, in_axes))(*batched)
    for k in range(2):
        np.testing.assert_allclose(jitted[k], got[k], rtol=1e-12, atol=1e-14)


def test_grad_of_vmap_and_jacobians():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5))
    i = np.array([[0, 4, 0], [1, 1, 2], [3, 2, 4]])

    def f(row, j):
        r = fnp.asarray(row)
        return r.at[j].multiply(r[j[::-1]] + 2.0)[j] ** 2

    g = fd.grad(lambda x: fnp.sum(fd.vmap(f)(x, i) * np.arange(9.0).reshape(3, 3)))(x)
    want = np.stack([fd.grad(lambda r: fnp.sum(f(r, i[b]) * np.arange(3.0 * b, 3.0 * b + 3)))(
        x[b]) for b in range(3)])
    np.testing.assert_allclose(g, want, rtol=1e-12)
    for jac in (fd.jacfwd, fd.jacrev):
        J = jac(lambda r: f(r, i[0]))(x[0])
        cols = [fd.jvp(lambda r: f(r, i[0]), (x[0],), (e,))[1] for e in np.eye(5)]
        np.testing.assert_allclose(J, np.stack(cols, axis=1), rtol=1e-12)
    H = fd.hessian(lambda r: fnp.sum(fnp.asarray(r).at[i[1]].max(r[::-1][:3]) ** 3))(x[0])
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    fd.check_jaxpr(fd.make_jaxpr(fd.jacrev(lambda r: f(r, i[0])))(x[0]))


def test_vmap_of_jvp_of_scatter_set_credits_each_examples_winner():
    x = np.zeros((2, 4))
    i = np.array([[1, 1, 3], [0, 2, 0]])
    v = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    tv = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])

    def f(x, i, v, t):
        return fd.jvp(lambda v: fnp.asarray(x).at[i].set(v), (v,), (t,))

    out, t = fd.vmap(f)(x, i, v, tv)
    for b in range(2):
        o, tt = f(x[b], i[b], v[b], tv[b])
        _same(out[b], o)
        _same(t[b], tt)


# --- the generated code ------------------------------------------------------------------------

def test_emitted_numpy_spelling():
    x = np.arange(24.0).reshape(2, 3, 4)
    i = np.array([[0, 2], [1, 1]])
    src = fd.jit(lambda x, i: fnp.asarray(x)[:, i, -1]).lower(x, i).source
    assert "a0[:, a1, -1]" in src and "impl_gather" not in src
    src = fd.jit(lambda x, i, v: fnp.asarray(x).at[i, ::-1, None].add(v)).lower(
        x, i, np.ones((1, 4))).source
    assert "scatter_add" in src and "np.s_[a1, ::-1, None]" in src
    assert "impl_scatter_add" not in src
    for op in ("set", "multiply", "min", "max"):
        f = lambda x, i: getattr(fnp.asarray(x).at[..., i[0]], op)(2.0)  # noqa: E731
        lowered = fd.jit(f).lower(x, i)
        assert "np.s_[..., " in lowered.source
        np.testing.assert_array_equal(fd.jit(f)(x, i), f(fnp.asarray(x), i))
    vf = fd.vmap(lambda x, i: fnp.asarray(x)[i])
    assert "impl_gather" not in fd.jit(vf).lower(x, i).source
    # run-time index errors from generated code are still IndexErrors naming the op
    with pytest.raises(IndexError, match="scatter_add"):
        fd.jit(lambda x, i: fnp.asarray(x).at[i].add(1.0))(x, np.array([5]))
    with pytest.raises(IndexError):
        fd.jit(lambda x, i: fnp.asarray(x)[i])(x, np.array([5]))


def test_cost_of_batched_indexing():
    x = np.ones((4, 10))
    i = np.zeros((4, 3), np.intp)
    cost = fd.cost_analysis(fd.vmap(lambda r, j: fnp.asarray(r).at[j].add(1.0)))(x, i)
    assert cost["n_eqns"] >= 1 and cost["flops"] >= 12
