"""Hostile inputs for issue 22's features: sparse Jacobians/Hessians by coloring,
mixed-precision residuals (``checkpoint_policies.save_in``), reverse-over-reverse
through ``while_loop``.

Every sparse result is compared with the dense ``jacfwd``/``hessian`` and with central
finite differences, and the detected pattern must cover every nonzero of the dense
Jacobian; the programs are chosen where structural sparsity is subtle (negative,
duplicate and out-of-order indices, scatters with repeated indices, cumulative ops,
sorts, both branches of ``where``, shape ops, broadcasting, partial reductions,
contractions with constant matrices holding zeros, kinks, loops, control flow) or where
the cached pattern could go stale.  Mixed-precision gradients are compared with full
precision; float16 overflow must raise wherever the residual is stored.  Second
derivatives through loops are compared with forward-over-reverse and finite
differences."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcdiff as fd
from funcdiff.transforms.vmap import BatchingError
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.core.errors import FuncdiffValueError, GradientError

RNG = np.random.default_rng(22)
X6 = RNG.normal(size=6)


def fd_jacobian(f, x, eps=1e-6):
    """Central finite differences, as an (out size, in size) matrix."""
    x = np.asarray(x, np.float64)
    y0 = np.asarray(f(x))
    J = np.zeros((y0.size, x.size))
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        e = e.reshape(x.shape)
        J[:, j] = (np.asarray(f(x + e)).ravel() - np.asarray(f(x - e)).ravel()) / (2 * eps)
    return J


def check_sparse_jacobian(f, x):
    J = fd.jacobian(f, sparse=True)(x)
    got = J.toarray()
    dense = np.asarray(fd.jacfwd(f)(x)).reshape(got.shape)
    np.testing.assert_allclose(got, dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, fd_jacobian(f, x), rtol=1e-5, atol=1e-6)
    pattern = J.pattern.toarray().astype(bool)
    assert not np.any((dense != 0) & ~pattern), "a nonzero outside the detected pattern"
    assert J.n_passes <= min(got.shape)
    return J


# --- 1. sparse Jacobians --------------------------------------------------------------

_A = np.diag(np.arange(1.0, 7.0))
_A[0, 5] = 3.0
_A[2, 2] = 0.0          # a zero on the diagonal: that column entry is structurally zero


def _sp(shape, p=0.4):
    return RNG.normal(size=shape) * (RNG.random(shape) < p)


_B, _C, _D = _sp((2, 3, 4)), _sp((3, 4)), _sp((4, 3, 2))
_I_DUP = np.array([0, 0, 3, 1, 0, 3])

JACOBIAN_CASES = {
    # indexing
    "negative": lambda x: x[-1] * x[-2] + x[::-1],
    "duplicate": lambda x: x[np.array([0, 0, 3, 5, 5])] ** 2,
    "out_of_order": lambda x: x[np.array([4, 1, 3])] * x[np.array([0, 5, 2])],
    "negative_fancy": lambda x: x[np.array([-1, -6, 2])] ** 3,
    "fancy_2d_broadcast": lambda x: x.reshape(2, 3)[np.array([[1], [0]]),
                                                    np.array([2, 0, 1])].ravel(),
    "bool_mask": lambda x: x[np.array([True, False, True, False, False, True])],
    "take_wrap": lambda x: fnp.take(x, np.array([7, -8, 2, 9]), mode="wrap"),
    "take_clip": lambda x: fnp.take(x, np.array([7, -8, 2, 9]), mode="clip"),
    "take_along_axis": lambda x: fnp.take_along_axis(x.reshape(2, 3),
                                                     np.array([[2, 0], [1, 1]]), axis=1),
    "dynamic_index": lambda x: x[fnp.argmax(x)] * x,
    "index_from_values": lambda x: x[(fnp.abs(x) * 2).astype(int) % 6],
    "dynamic_slice_clamped": lambda x: lax.dynamic_slice(x, (np.int32(5),), (3,)),
    "dynamic_update_clamped": lambda x: lax.dynamic_update_slice(x, x[:2] ** 2,
                                                                 (np.int32(5),)),
    # scatters with repeated indices
    "scatter_add_repeated": lambda x: fnp.zeros(4).at[_I_DUP].add(x),
    "scatter_set_repeated": lambda x: fnp.zeros(4).at[_I_DUP].set(x),
    "scatter_set_into_x": lambda x: fnp.asarray(x).at[np.array([1, 2, 1])].set(
        x[np.array([4, 5, 0])] ** 2),
    "scatter_multiply_repeated": lambda x: fnp.asarray(x).at[np.array([1, 1])].multiply(
        x[np.array([4, 5])]),
    "scatter_min_repeated": lambda x: fnp.asarray(x).at[np.array([1, 1])].min(
        x[np.array([4, 5])]),
    "scatter_in_fori": lambda x: lax.fori_loop(
        0, 6, lambda i, c: c.at[(i * 5) % 6].add(c[i]), x),
    # cumulative, sorting
    "cumsum_reversed": lambda x: fnp.cumsum(x[::-1]),
    "cumsum_axis0": lambda x: fnp.cumsum(x.reshape(2, 3), axis=0),
    "cumprod": lambda x: fnp.cumprod(x),
    "sort_rows": lambda x: fnp.sort(x.reshape(2, 3), axis=1),
    "argsort_gather": lambda x: x[fnp.argsort(x ** 2)],
    # both branches
    "where": lambda x: fnp.where(x > 0, x[::-1], x * 2),
    "select": lambda x: fnp.select([x > 0, x < -1], [x ** 2, x[::-1]], 0.0),
    "cond": lambda x: lax.cond(x[0] > 0, lambda y: y[::-1], lambda y: y * 2, x),
    # shape ops and broadcasting
    "reshape_transpose": lambda x: x.reshape(2, 3).T.reshape(-1) * fnp.arange(6.0),
    "concatenate": lambda x: fnp.concatenate([x[3:], x[:2], x]),
    "pad_reflect": lambda x: fnp.pad(x, 2, mode="reflect"),
    "pad_wrap": lambda x: fnp.pad(x, 2, mode="wrap"),
    "roll_2d": lambda x: fnp.roll(x.reshape(2, 3), 1, axis=1).ravel() * x,
    "flip": lambda x: fnp.flip(x.reshape(2, 3), axis=0).ravel() * x,
    "broadcast_size1": lambda x: (x.reshape(2, 1, 3) + x[:2].reshape(2, 1, 1)).ravel(),
    "outer": lambda x: (x.reshape(6, 1) * x.reshape(1, 6)).ravel(),
    # partial reductions
    "sum_axis0": lambda x: fnp.sum(x.reshape(2, 3), axis=0),
    "prod_axis1": lambda x: fnp.prod(x.reshape(2, 3), axis=1),
    "max_axis1": lambda x: fnp.max(x.reshape(2, 3), axis=1),
    "normalize_keepdims": lambda x: (x.reshape(2, 3) / fnp.sum(
        x.reshape(2, 3), axis=1, keepdims=True)).ravel(),
    # contractions with constant matrices holding zeros
    "matmul_const": lambda x: _A @ x,
    "matmul_const_right": lambda x: x @ _A,
    "matmul_zero_rows": lambda x: np.zeros((3, 6)) @ x + x[:3],
    "einsum_batch": lambda x: fnp.einsum("bij,bj->bi", _B, x.reshape(2, 4)[:, :4]).ravel(),
    "einsum_two_contractions": lambda x: fnp.einsum("kji,jk->i", _D, x.reshape(3, 4)),
    "tensordot": lambda x: fnp.tensordot(x.reshape(3, 4), _D, axes=([1, 0], [0, 1])),
    "linalg_solve": lambda x: fnp.linalg.solve(_A + np.eye(6), x),
    # kinks and powers
    "abs": lambda x: fnp.abs(x) * x[::-1],
    "integer_power": lambda x: x ** 3 + x[::-1] ** 2,
    "abs_pow_x": lambda x: fnp.abs(x) ** x[::-1],
    "clip": lambda x: fnp.clip(x, -0.5, 0.5),
    # loops
    "scan": lambda x: lax.scan(lambda c, a: (c + a, c * a), 0.0, x)[1],
    "scan_reverse": lambda x: lax.scan(lambda c, a: (c * a, c), 1.0, x, reverse=True)[1],
    "scan_carry_roll": lambda x: lax.scan(lambda c, a: (fnp.roll(c, 1) * a, c[0]), x, x)[1],
    "scan_index_xs": lambda x: lax.scan(lambda c, i: (c, c[i]), x, np.array([3, 0, 5]))[1],
    "fori_stencil": lambda x: lax.fori_loop(0, 3, lambda i, c: fnp.roll(c, 1) * c, x),
    "while_stencil": lambda x: lax.while_loop(
        lambda c: c[1] < 3, lambda c: (fnp.roll(c[0], 1) + c[0], c[1] + 1), (x, 0))[0],
}
_SIZES = {"einsum_batch": 8, "einsum_two_contractions": 12, "tensordot": 12}


@pytest.mark.parametrize("name", sorted(JACOBIAN_CASES))
def test_sparse_jacobian_matches_dense_and_finite_differences(name):
    x = RNG.normal(size=_SIZES.get(name, 6)) if name in _SIZES else X6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_sparse_jacobian(JACOBIAN_CASES[name], x)


def test_ties_at_kinks_agree_with_dense():
    """At a tie of ``maximum`` (and a zero of ``abs``) the sparse result is the dense
    one (the same one-sided derivative), not a different choice."""
    x = np.array([1.0, 1.0, 2.0, -2.0, 0.0, 3.0])
    for f in (lambda x: fnp.maximum(x, x[::-1]), fnp.abs):
        got = fd.jacobian(f, sparse=True)(x).toarray()
        np.testing.assert_array_equal(got, np.asarray(fd.jacfwd(f)(x)))


def test_custom_jvp_rule_coupling_elements():
    """The custom rule mixes elements the primal does not (and a straight-through
    estimator gives a derivative where round has none): the pattern must be the
    rule's, not the primal's."""
    @fd.custom_jvp
    def mix(x):
        return x * 1.0

    @mix.defjvp
    def _mix_jvp(p, t):
        return mix(p[0]), fnp.roll(t[0], 1)

    @fd.custom_jvp
    def ste(x):
        return fnp.round(x)

    @ste.defjvp
    def _ste_jvp(p, t):
        return ste(p[0]), t[0]

    np.testing.assert_array_equal(fd.jacobian(mix, sparse=True)(X6).toarray(),
                                  np.roll(np.eye(6), 1, axis=0))
    np.testing.assert_array_equal(fd.jacobian(lambda x: ste(x) * 2, sparse=True)(X6)
                                  .toarray(), 2 * np.eye(6))


def test_changed_constants_are_not_a_stale_pattern():
    """Arrays and Python values the pattern was read from change between calls."""
    A = np.eye(6)
    idx = np.array([0, 1, 2])
    mask = np.array([True, False, True, False, True, False])
    c = np.array(1.0)
    state = {"k": 1}
    fs = [lambda x: A @ x,
          lambda x: x[idx] * 2,
          lambda x: fnp.where(mask, x, x[::-1]),
          lambda x: lax.cond(c > 0, lambda y: y[::-1], lambda y: fnp.roll(y, 1), x),
          lambda x: fnp.roll(x, state["k"]),
          lambda x: lax.dynamic_slice(x, (state["k"],), (2,)),
          lambda x: lax.switch(state["k"], [lambda y: y, lambda y: y[::-1],
                                            lambda y: fnp.roll(y, 2)], x),
          lambda x: lax.fori_loop(0, state["k"], lambda i, y: fnp.roll(y, 1) * y, x)]
    jacs = [fd.jacobian(f, sparse=True) for f in fs]
    for J in jacs:
        J(X6)
    A[0, 5], A[3, 1] = 2.0, -1.0
    idx[:] = [5, 4, 3]
    mask[:] = ~mask
    c[...] = -1.0
    state["k"] = 2
    for f, J in zip(fs, jacs):
        np.testing.assert_array_equal(J(X6).toarray(),
                                      np.asarray(fd.jacfwd(f)(X6)).reshape(-1, 6))


def test_changed_constant_in_a_hessian():
    A = np.eye(5)
    x = np.linspace(0.1, 1.0, 5)
    f = lambda x: fnp.sum(fnp.sin(A @ x) ** 2)          # noqa: E731
    H = fd.hessian(f, sparse=True)
    H(x)
    A[0, 4], A[2, 1] = 2.0, 1.0
    np.testing.assert_allclose(H(x).toarray(), fd.hessian(f)(x), rtol=1e-12, atol=1e-12)


def test_one_function_many_shapes():
    f = lambda x: x[1:] * x[:-1]                         # noqa: E731
    J = fd.jacobian(f, sparse=True)
    for shape in [(3,), (5,), (3,), (1,), (2,), (2, 3)]:
        x = RNG.normal(size=shape)
        got = J(x).toarray()
        np.testing.assert_array_equal(got, np.asarray(fd.jacfwd(f)(x)).reshape(got.shape))
    assert J(np.ones(3, np.float32)).data.dtype == np.float32


def test_jit_and_vmap_of_the_sparse_jacobian():
    f = lambda x: x[1:] * x[:-1]                         # noqa: E731
    X = RNG.normal(size=(4, 6))
    want = np.stack([fd.jacfwd(f)(x) for x in X])
    np.testing.assert_allclose(fd.vmap(fd.jacobian(f, sparse=True))(X).toarray(), want)
    np.testing.assert_allclose(fd.jit(fd.vmap(fd.jacobian(f, sparse=True)))(X).toarray(),
                               want)
    np.testing.assert_allclose(fd.jit(fd.jacobian(f, sparse=True))(X[0]).toarray(), want[0])
    # a traced matrix closed over: its pattern is unknown, so the whole of it is kept
    As = _sp((4, 6, 6), 0.3)
    jac_of = lambda x, A: fd.jacobian(lambda y: A @ y, sparse=True)(x)   # noqa: E731
    np.testing.assert_allclose(fd.vmap(jac_of)(X, As).toarray(), As)
    np.testing.assert_allclose(fd.jit(jac_of)(X[0], As[0]).toarray(), As[0])
    # differentiating through the sparse Jacobian's entries
    np.testing.assert_allclose(
        fd.grad(lambda x: fnp.sum(fd.jacobian(f, sparse=True)(x).data ** 2))(X[0]),
        fd.grad(lambda x: fnp.sum(fd.jacfwd(f)(x) ** 2))(X[0]), rtol=1e-12)


def test_cached_plan_whose_constant_is_later_traced():
    """f reads a closed-over matrix that is concrete on one call and a tracer of an
    enclosing jit/vmap on the next: the cached plan's constant check used to call
    numpy.asarray on the tracer (TracerArrayConversionError on valid code).  The
    traced matrix has no known zeros, so that call keeps all of it; the plan made
    then is not cached, and a later concrete call gets its sparse pattern back."""
    holder = {}
    J = fd.jacobian(lambda y: holder["A"] @ y, sparse=True)
    H = fd.hessian(lambda y: fnp.sum(fnp.sin(holder["A"] @ y)), sparse=True)
    A0 = np.eye(6)
    X = RNG.normal(size=(4, 6))
    As = _sp((4, 6, 6), 0.4)
    holder["A"] = A0
    J(X[0])
    H(X[0])

    def jac(x, A):
        holder["A"] = A
        return J(x)

    def hess(x, A):
        holder["A"] = A
        return H(x)

    np.testing.assert_allclose(fd.vmap(jac)(X, As).toarray(), As)
    np.testing.assert_allclose(fd.jit(jac)(X[0], As[0]).toarray(), As[0])
    np.testing.assert_allclose(
        fd.vmap(hess)(X, As).toarray(),
        np.stack([fd.hessian(lambda y: fnp.sum(fnp.sin(A @ y)))(x) for x, A in zip(X, As)]),
        rtol=1e-12, atol=1e-12)
    holder["A"] = A0
    again = J(X[0])
    np.testing.assert_array_equal(again.toarray(), A0)
    assert again.nnz == 6


def test_toarray_refuses_entries_not_on_the_last_axis():
    """A SparseJacobian built by hand with its entries off the last axis: toarray says
    so (it used to fail inside NumPy's indexing); vmap never builds one (below)."""
    f = lambda x: x[1:] * x[:-1] + fnp.roll(x, 2)[1:]   # noqa: E731  15 entries
    J = fd.vmap(fd.jacobian(f, sparse=True), in_axes=1)(RNG.normal(size=(6, 4)))
    bad = fd.tree_util.tree_unflatten(fd.tree_util.tree_structure(J),
                                      [np.moveaxis(J.data, 0, 1)])
    with pytest.raises(FuncdiffValueError, match="out_axes=0"):
        bad.toarray()


def test_vmap_out_axes_1_of_a_sparse_jacobian_is_refused():
    """SparseJacobian's one pytree leaf is data (batch axes leading, entries last):
    vmap(out_axes=1) would put the batch axis behind the entries, and when the batch
    size equals nnz toarray() could not tell.  vmap refuses it, naming the type."""
    X = np.arange(16.0).reshape(4, 4)
    with pytest.raises(BatchingError, match="SparseJacobian.*out_axes=0"):
        fd.vmap(fd.jacobian(lambda x: x ** 2, sparse=True), in_axes=1, out_axes=1)(X)
    J = fd.vmap(fd.jacobian(lambda x: x ** 2, sparse=True), in_axes=1)(X)   # out_axes=0
    np.testing.assert_array_equal(J.toarray(),
                                  np.stack([np.diag(2 * X[:, b]) for b in range(4)]))


LONG = np.random.default_rng(7).normal(size=300)       # longer than the unroll limit


@pytest.mark.parametrize("name,f", [
    ("long_scan", lambda x: lax.scan(lambda c, a: (c * 0.5 + a, c * a), 0.0, x)[1]),
    ("long_scan_reverse", lambda x: lax.scan(lambda c, a: (c * 0.5 + a, c * a), 0.0, x,
                                             reverse=True)[1]),
    ("long_scan_index_xs", lambda x: lax.scan(lambda c, i: (c, c[i]), x,
                                              np.arange(300) % 7)[1]),
    ("long_while_stencil", lambda x: lax.while_loop(lambda c: c[1] < 50, lambda c: (
        0.5 * (fnp.roll(c[0], 1) + c[0]), c[1] + 1), (x, 0))[0]),
    ("inner_jit", lambda x: fd.jit(lambda y: y[::-1] * y)(x)),
    ("inner_vmap", lambda x: fd.vmap(lambda r: r[::-1] * r[0])(x.reshape(30, 10)).ravel()),
    ("inner_grad", lambda x: fd.grad(lambda y: fnp.sum(y[1:] * y[:-1]))(x)),
    ("checkpoint_save_in", lambda x: fd.checkpoint(
        lambda y: fnp.sin(y[::-1]) * y,
        policy=fd.checkpoint_policies.save_in(np.float32))(x)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_sparse_jacobian_of_long_loops_and_nested_transforms(name, f):
    x = LONG[:60] if name.startswith("long_while") else LONG
    J = fd.jacobian(f, sparse=True)(x)
    dense = np.asarray(fd.jacfwd(f)(x)).reshape(J.shape)
    np.testing.assert_allclose(J.toarray(), dense, rtol=1e-12, atol=1e-12)
    assert not np.any((dense != 0) & ~J.pattern.toarray().astype(bool))


def test_random_sparse_quadratics_and_linear_maps():
    """Star coloring (Hessians) and distance-1 coloring (Jacobians, both orientations)
    recover random sparse matrices exactly, zero diagonals and dense arrows included."""
    for seed in range(40):
        r = np.random.default_rng(seed)
        n = int(r.integers(2, 30))
        p = r.choice([0.05, 0.1, 0.3, 0.7])
        M = r.normal(size=(n, n)) * (r.random((n, n)) < p)
        H = M + M.T
        if seed % 3 == 0:
            np.fill_diagonal(H, 0.0)
        if seed % 5 == 0:
            H[0, :] = H[:, 0] = r.normal(size=n)
        x = r.normal(size=n)
        np.testing.assert_allclose(
            fd.hessian(lambda x, H=H: 0.5 * x @ (H @ x), sparse=True)(x).toarray(), H,
            rtol=1e-12, atol=1e-12)
        A = r.normal(size=(int(r.integers(1, 30)), n)) * (r.random((1, n)) < 2)
        A = A * (r.random(A.shape) < p)
        g = lambda x, A=A: fnp.tanh(A @ x)                 # noqa: E731
        want = np.asarray(fd.jacfwd(g)(x))
        for mode in ("fwd", "rev"):
            np.testing.assert_allclose(fd.jacobian(g, sparse=True, mode=mode)(x).toarray(),
                                       want, rtol=1e-12, atol=1e-12)


def fd_hessian(f, x, eps=1e-5):
    return fd_jacobian(lambda y: np.asarray(fd.grad(f)(y)), x, eps)


def _pairs_objective(seed):
    """Random mixed second derivatives: sum_k w_k sin(x_i_k) cos(x_j_k) + sum x**4."""
    r = np.random.default_rng(seed)
    pairs = r.integers(0, 10, size=(r.integers(3, 25), 2))
    i, j, w = pairs[:, 0].copy(), pairs[:, 1].copy(), r.normal(size=len(pairs))
    return lambda x: fnp.sum(w * fnp.sin(x[i]) * fnp.cos(x[j])) + fnp.sum(x ** 4)


HESSIAN_CASES = {
    "arrow": lambda x: fnp.sum(x[0] * x[1:] ** 2) + fnp.sum(fnp.exp(x)),
    "sort": lambda x: fnp.sum(fnp.sort(x) * fnp.arange(10.0) * x),
    "cumprod": lambda x: fnp.sum(fnp.cumprod(x)),
    "quadratic_const": lambda x: x @ (np.diag(np.arange(1.0, 11.0)) + np.eye(10, k=9)) @ x,
    "scatter_repeated": lambda x: fnp.sum(
        fnp.zeros(3).at[np.array([0, 0, 2, 1, 1, 0, 2, 2, 1, 0])].add(x) ** 3),
    "dynamic_index": lambda x: x[fnp.argmax(x)] * fnp.sum(x ** 2),
    "while": lambda x: fnp.sum(lax.while_loop(
        lambda c: c[1] < 2, lambda c: (c[0] * fnp.roll(c[0], 2), c[1] + 1), (x, 0))[0]),
    "cond": lambda x: lax.cond(x[0] > 0, lambda y: fnp.sum(y[1:] * y[:-1]),
                               lambda y: fnp.sum(y ** 3), x),
    "product_of_norms": lambda x: fnp.linalg.norm(x[:4]) * fnp.linalg.norm(x[4:]),
    **{f"random_pairs_{s}": _pairs_objective(s) for s in range(8)},
}


@pytest.mark.parametrize("name", sorted(HESSIAN_CASES))
def test_star_colored_hessian(name):
    f = HESSIAN_CASES[name]
    x = RNG.normal(size=10)
    H = fd.hessian(f, sparse=True)(x)
    got = H.toarray()
    dense = np.asarray(fd.hessian(f)(x))
    np.testing.assert_allclose(got, dense, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got, fd_hessian(f, x), rtol=1e-5, atol=1e-5)
    assert not np.any((dense != 0) & ~H.pattern.toarray().astype(bool))


def test_hessian_under_jit_and_vmap():
    f = lambda x: fnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)  # noqa
    X = RNG.normal(size=(3, 8))
    want = np.stack([fd.hessian(f)(x) for x in X])
    np.testing.assert_allclose(fd.vmap(fd.hessian(f, sparse=True))(X).toarray(), want,
                               rtol=1e-12)
    np.testing.assert_allclose(fd.jit(fd.hessian(f, sparse=True))(X[0]).toarray(), want[0],
                               rtol=1e-12)


def test_rev_mode_sparse_jacobian_of_a_gradient_through_a_loop():
    """mode='rev' on grad(f) is reverse-over-reverse through the while_loop."""
    def f(x):
        y = lax.while_loop(lambda c: c[1] < 3, lambda c: (
            fnp.sin(c[0]) * (x + fnp.roll(x, 1)), c[1] + 1), (x, 0))[0]
        return fnp.sum(y ** 2)
    x = np.linspace(0.1, 1.0, 8)
    want = np.asarray(fd.jacfwd(fd.grad(f))(x))
    np.testing.assert_allclose(fd.jacobian(fd.grad(f), sparse=True, mode="rev")(x)
                               .toarray(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fd.hessian(f, sparse=True)(x).toarray(), want, rtol=1e-10,
                               atol=1e-12)


# --- 2. mixed-precision residuals -----------------------------------------------------

F16 = fd.checkpoint_policies.save_in(np.float16)
BIG = np.array([12.0, 1.0], np.float32)            # exp(12) = 1.6e5 > 65504


def _sin_exp(x):
    return fnp.sum(fnp.sin(fnp.exp(x)))


_OVERFLOWS = {
    "grad": lambda: fd.grad(fd.checkpoint(_sin_exp, policy=F16))(BIG),
    "jit_grad": lambda: fd.jit(fd.grad(fd.checkpoint(_sin_exp, policy=F16)))(BIG),
    "vmap_grad_one_row": lambda: fd.jit(fd.vmap(fd.grad(fd.checkpoint(
        _sin_exp, policy=F16))))(np.stack([BIG * 0, BIG])),
    "negative_overflow": lambda: fd.grad(fd.checkpoint(
        lambda x: fnp.sum(fnp.sin(-fnp.exp(x))), policy=F16))(BIG),
    "vjp": lambda: fd.vjp(fd.checkpoint(lambda x: fnp.sin(fnp.exp(x)), policy=F16),
                          BIG)[1](np.ones(2, np.float32)),
    "jacfwd": lambda: fd.jacfwd(fd.checkpoint(lambda x: fnp.sin(fnp.exp(x)),
                                              policy=F16))(BIG),
    "hessian": lambda: fd.hessian(fd.checkpoint(_sin_exp, policy=F16))(BIG),
    "grad_grad": lambda: fd.grad(lambda x: fnp.sum(fd.grad(fd.checkpoint(
        _sin_exp, policy=F16))(x)))(BIG),
    "checkpoint_in_scan_under_jit": lambda: fd.jit(fd.grad(lambda x: lax.scan(
        lambda c, a: (c + fd.checkpoint(lambda a: fnp.sin(fnp.exp(a)), policy=F16)(a),
                      None), 0.0, x)[0]))(BIG),
    "scan_in_checkpoint": lambda: fd.grad(fd.checkpoint(lambda x: lax.scan(
        lambda c, a: (c + fnp.sin(fnp.exp(a)), None), 0.0, x)[0], policy=F16))(BIG),
    "cond_in_checkpoint": lambda: fd.grad(fd.checkpoint(lambda x: lax.cond(
        x[1] > 0, _sin_exp, fnp.sum, x), policy=F16))(BIG),
    "nested_inner_lowp": lambda: fd.grad(fd.checkpoint(lambda x: fnp.sum(fnp.cos(
        fd.checkpoint(lambda y: fnp.sin(fnp.exp(y)), policy=F16)(x) * 3.0)),
        policy=fd.checkpoint_policies.nothing_saveable))(BIG),
    "float64_program": lambda: fd.grad(fd.checkpoint(_sin_exp, policy=F16))(
        BIG.astype(np.float64)),
    "float64_to_float32": lambda: fd.grad(fd.checkpoint(
        _sin_exp, policy=fd.checkpoint_policies.save_in(np.float32)))(
        np.array([200.0, 1.0])),
    "just_past_the_rounding_edge": lambda: fd.grad(fd.checkpoint(     # 65520 rounds to inf
        lambda x: fnp.sum(fnp.log(x * 65520.0)), policy=F16))(np.ones(1, np.float32)),
}


@pytest.mark.parametrize("name", sorted(_OVERFLOWS))
def test_float16_overflow_raises_everywhere(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(FuncdiffValueError, match="beyond the largest"):
            _OVERFLOWS[name]()


@pytest.mark.parametrize("x", [np.array([3.4e38, 1.0], np.float32),   # > bf16's max
                               np.array([1e300, 1.0])])
def test_bfloat16_overflow_is_refused_too(x):
    """bfloat16's largest value (3.3895e38) is a little below float32's: float32
    residuals above it, and large float64 ones, would become inf."""
    pytest.importorskip("ml_dtypes")
    bf16 = fd.checkpoint_policies.save_in("bfloat16")
    f = lambda x: fnp.sum(fnp.log(x * 1.0))                             # noqa: E731
    for g in (fd.grad(fd.checkpoint(f, policy=bf16)),
              fd.jit(fd.grad(fd.checkpoint(f, policy=bf16)))):
        with pytest.raises(FuncdiffValueError, match="beyond the largest bfloat16"):
            g(x)


def test_largest_float16_values_are_accepted():
    """65504 and 65519 (which rounds down to 65504) are finite in float16."""
    for v in (65504.0, 65519.0):
        g = fd.grad(fd.checkpoint(lambda x: fnp.sum(fnp.log(x * v)), policy=F16))(
            np.ones(1, np.float32))
        np.testing.assert_allclose(g, [1.0], rtol=1e-3)


_MIXED = {
    "int_residual": lambda x: fnp.sum(x[fnp.argsort(fnp.sin(x))] ** 3),
    "mask_residual": lambda x: fnp.sum(fnp.where(x > 1.0, x ** 2, x ** 3)),
    "complex_residual": lambda x: fnp.real(fnp.sum(fnp.sin(fnp.exp(x * (1 + 1j))))),
    "fori_in_checkpoint": lambda x: fnp.sum(lax.fori_loop(
        0, 3, lambda i, c: fnp.sin(c) * 2.0, x)),
    "nested": lambda x: fnp.sum(fnp.cos(fd.checkpoint(
        lambda y: fnp.sin(fnp.exp(y)), policy=F16)(x) * 3.0)),
}


@pytest.mark.parametrize("name", sorted(_MIXED))
def test_mixed_precision_gradient_close_to_full_precision(name):
    f = _MIXED[name]
    x = np.linspace(0.5, 2.0, 5).astype(np.float32)
    want = np.asarray(fd.grad(f)(x))
    for g in (fd.grad(fd.checkpoint(f, policy=F16)),
              fd.jit(fd.grad(fd.checkpoint(f, policy=F16)))):
        got = g(x)
        assert got.dtype == np.float32
        assert np.linalg.norm(got - want) <= 1e-2 * np.linalg.norm(want)
    # and against finite differences of the full-precision function, in float64
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(fd.grad(fd.checkpoint(f, policy=F16))(x64),
                               fd_jacobian(f, x64).ravel(), rtol=1e-2, atol=1e-2)


def test_mixed_precision_under_vmap_of_scan():
    xs = RNG.normal(size=(3, 4)).astype(np.float32)
    s = lambda x: lax.scan(lambda c, a: (fnp.sin(c * a) + c, None), 1.0, x)[0]   # noqa
    want = fd.vmap(fd.grad(s))(xs)
    for g in (fd.vmap(fd.grad(fd.checkpoint(s, policy=F16))),
              fd.jit(fd.vmap(fd.grad(fd.checkpoint(s, policy=F16))))):
        np.testing.assert_allclose(g(xs), want, rtol=1e-2, atol=1e-3)


def test_float16_residuals_of_second_derivatives():
    f = lambda x: fnp.sum(fnp.sin(fnp.exp(x) * 3) * x)                  # noqa: E731
    x = np.linspace(0.5, 2.0, 5).astype(np.float32)
    g2 = lambda h: fd.grad(lambda y: fnp.sum(fd.grad(h)(y)))            # noqa: E731
    want = g2(f)(x)
    got = g2(fd.checkpoint(f, policy=F16))(x)
    assert np.linalg.norm(got - want) <= 1e-2 * np.linalg.norm(want)


def test_float16_underflow_of_a_divisor_is_not_a_silent_inf():
    """save_in(float16) stores a nonzero residual below float16's smallest subnormal
    (6e-8) as 0, and a backward pass dividing by it returns inf: not refused (tiny
    values flush harmlessly where they are multiplied), but said, eagerly and under
    jit."""
    x = np.array([1e-8, 3e-5], np.float32)
    f = lambda x: fnp.sum(fnp.log(x * 2.0))                             # noqa: E731
    for g_fn in (fd.grad(fd.checkpoint(f, policy=F16)),
                 fd.jit(fd.grad(fd.checkpoint(f, policy=F16)))):
        with np.errstate(divide="ignore"), \
                pytest.warns(fd.FuncdiffWarning, match=r"save_in\(f16\).*1 nonzero"):
            g = g_fn(x)
        np.testing.assert_allclose(g[1], 1.0 / x[1], rtol=1e-2)   # the other is inf
    with warnings.catch_warnings():                      # nothing lost: no warning
        warnings.simplefilter("error", fd.FuncdiffWarning)
        np.testing.assert_allclose(fd.grad(fd.checkpoint(f, policy=F16))(x[1:]),
                                   1.0 / x[1:], rtol=1e-2)


# --- 3. reverse-over-reverse through while_loop ---------------------------------------

@fd.custom_jvp
def _softplus(x):
    return fnp.log1p(fnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(p, t):
    return _softplus(p[0]), t[0] / (1 + fnp.exp(-p[0]))


@fd.custom_vjp
def _cube(x):
    return x ** 3


_cube.defvjp(lambda x: (x ** 3, x), lambda r, g: (3 * r * r * g,))


def _newton(a):
    return lax.while_loop(lambda c: c[1] < 20,
                          lambda c: (0.5 * (c[0] + a / c[0]), c[1] + 1), (a, 0))[0]


def _trip_depends_on_x(x):
    return lax.while_loop(lambda c: c[0] < 10.0,
                          lambda c: (c[0] * (1.0 + x * x), c[1] + c[0] * x), (1.0, x))[1]


RR_SCALAR = {
    "newton": (_newton, 2.0),
    "zero_trip_static": (lambda x: lax.while_loop(
        lambda c: c[1] < 0, lambda c: (c[0] ** 2, c[1] + 1), (x ** 3, 0))[0], 1.3),
    "zero_trip_dynamic": (lambda x: lax.while_loop(
        lambda c: c[0] > 100.0, lambda c: (c[0] ** 2, c[1] + 1), (x ** 3, 0))[0], 1.3),
    "trip_count_depends_on_x": (_trip_depends_on_x, 0.7),
    "predicate_reads_x": (lambda x: lax.while_loop(
        lambda c: c[0] * x < 5.0, lambda c: (c[0] + x, c[1] + c[0] * x), (x, 0.0))[1], 0.7),
    "integer_carry_used": (lambda x: lax.while_loop(
        lambda c: c[1] < 4, lambda c: (c[0] * fnp.sin(c[1] * x), c[1] + 1), (x, 0))[0], 0.9),
    "loop_in_cond": (lambda x: lax.cond(x > 0, lambda y: lax.while_loop(
        lambda c: c[1] < 3, lambda c: (c[0] * fnp.sin(y), c[1] + 1), (y, 0))[0],
        lambda y: y ** 3, x), 0.8),
    "cond_in_loop": (lambda x: lax.while_loop(lambda c: c[1] < 4, lambda c: (lax.cond(
        c[0] > 0.5, lambda y: y * x, lambda y: fnp.sin(y) + x, c[0]), c[1] + 1),
        (x, 0))[0], 0.9),
    "closure_over_two_values": (lambda x: (lambda a, b: lax.while_loop(
        lambda c: c[1] < 3, lambda c: (c[0] * a + b ** 2, c[1] + 1), (a * b, 0))[0])(
        fnp.sin(x), fnp.cos(x)), 0.7),
    "complex_carry": (lambda x: fnp.real(lax.while_loop(
        lambda c: c[1] < 3, lambda c: (c[0] * (x + 1j * x * x), c[1] + 1),
        (x + 0j, 0))[0]), 0.7),
    "custom_jvp_in_body": (lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (
        _softplus(c[0] * x), c[1] + 1), (x, 0))[0], 0.7),
    "custom_vjp_in_body": (lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (
        _cube(c[0]) * x, c[1] + 1), (x, 0))[0], 0.7),
    "checkpoint_in_body": (lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (
        fd.checkpoint(lambda y: fnp.sin(y) * x)(c[0]), c[1] + 1), (x, 0))[0], 0.7),
    "jit_in_body": (lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (
        fd.jit(lambda y: fnp.sin(y) * x)(c[0]), c[1] + 1), (x, 0))[0], 0.7),
    "grad_in_body": (lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (
        fd.grad(lambda y: fnp.sin(y) * y * x)(c[0]), c[1] + 1), (x, 0))[0], 0.7),
    "nested_outer_trip_depends_on_x": (lambda x: lax.while_loop(
        lambda c: c[0] < 4.0, lambda c: (lax.while_loop(
            lambda d: d[1] < 2, lambda d: (d[0] * (1 + x * x), d[1] + 1), (c[0], 0))[0],
            c[1] + c[0]), (1.0, x))[1], 0.6),
    "nested_while": (lambda x: lax.while_loop(lambda c: c[1] < 2, lambda c: (
        lax.while_loop(lambda d: d[1] < 3, lambda d: (fnp.cos(d[0]) * x, d[1] + 1),
                       (c[0], 0))[0] + c[0], c[1] + 1), (x, 0))[0], 0.6),
}


@pytest.mark.parametrize("name", sorted(RR_SCALAR))
def test_grad_grad_through_while(name):
    f, x = RR_SCALAR[name]
    want = fd.jvp(fd.grad(f), (x,), (1.0,))[1]
    for g in (fd.grad(fd.grad(f)), fd.jit(fd.grad(fd.grad(f))), fd.grad(fd.grad(fd.jit(f))),
              fd.grad(fd.jit(fd.grad(f)))):
        np.testing.assert_allclose(g(x), want, rtol=1e-9, atol=1e-12)
    eps = 1e-5
    fdiff = (fd.grad(f)(x + eps) - fd.grad(f)(x - eps)) / (2 * eps)
    np.testing.assert_allclose(want, fdiff, rtol=1e-5, atol=1e-6)


RR_VECTOR = {
    "trip_count_depends_on_sum": lambda x: fnp.sum(lax.while_loop(
        lambda c: fnp.sum(c) < 10.0, lambda c: c * x, x)),
    "dict_carry": lambda x: (lambda r: fnp.sum(r["a"] * r["b"]))(lax.while_loop(
        lambda c: c["i"] < 3, lambda c: {"a": c["a"] * c["b"], "b": fnp.cos(c["a"]),
                                         "i": c["i"] + 1},
        {"a": x, "b": x[::-1], "i": 0})),
    "loop_in_scan": lambda x: lax.scan(lambda s, a: (s + lax.while_loop(
        lambda c: c[0] < 5.0, lambda c: (c[0] * (1.5 + a * a), c[1] + 1),
        (1.0 + s * s, 0))[0], None), 0.3, x)[0],
    "scan_in_loop": lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (lax.scan(
        lambda s, a: (s * fnp.sin(a + s), None), c[0], x)[0], c[1] + 1), (1.0, 0))[0],
    "dynamic_index_set": lambda x: fnp.sum(lax.fori_loop(
        1, 3, lambda i, c: c.at[i].set(c[i - 1] * c[i]), x) ** 2),
    "dynamic_trip_fori": lambda x: fnp.sum(lax.fori_loop(
        0, (x[0] * 3).astype(int), lambda i, c: fnp.sin(c) * x, x)),
    "vmap_inside": lambda x: fnp.sum(fd.vmap(_trip_depends_on_x)(x) ** 2),
}


@pytest.mark.parametrize("name", sorted(RR_VECTOR))
def test_jacrev_jacrev_through_while(name):
    f = RR_VECTOR[name]
    x = np.array([0.5, 1.2, -0.4]) if name != "vmap_inside" else np.array([0.5, 2.0, 0.1])
    want = np.asarray(fd.jacfwd(fd.jacrev(f))(x))
    for g in (fd.jacrev(fd.jacrev(f)), fd.jit(fd.jacrev(fd.jacrev(f))), fd.hessian(f),
              fd.jit(fd.hessian(f))):
        np.testing.assert_allclose(g(x), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(want, fd_hessian(f, x), rtol=1e-5, atol=1e-6)


def test_jacrev_jacrev_vector_output():
    f = lambda x: lax.while_loop(lambda c: c[1] < 3, lambda c: (     # noqa: E731
        c[0] * fnp.sin(x) + fnp.roll(c[0], 1), c[1] + 1), (x, 0))[0]
    x = np.array([0.2, -0.5, 1.1])
    want = fd.jacfwd(fd.jacrev(f))(x)
    np.testing.assert_allclose(fd.jacrev(fd.jacrev(f))(x), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fd.jacrev(fd.jacfwd(f))(x), want, rtol=1e-10, atol=1e-12)


def test_vmap_of_rev_rev_with_per_example_trip_counts():
    X = np.array([0.5, 1.0, 2.0, 3.0, 0.1])       # 1 to 24 iterations
    want = np.array([fd.jvp(fd.grad(_trip_depends_on_x), (x,), (1.0,))[1] for x in X])
    for g in (fd.vmap(fd.grad(fd.grad(_trip_depends_on_x))),
              fd.jit(fd.vmap(fd.grad(fd.grad(_trip_depends_on_x)))),
              fd.vmap(fd.jit(fd.grad(fd.grad(_trip_depends_on_x))))):
        np.testing.assert_allclose(g(X), want, rtol=1e-9)


def test_rev_rev_mixed_argnums_and_float32():
    def two(a, b):
        return lax.while_loop(lambda c: c[1] < 4, lambda c: (c[0] * a + b, c[1] + 1),
                              (a * b, 0))[0]
    want = fd.jvp(lambda b: fd.grad(two, 0)(0.7, b), (1.3,), (1.0,))[1]
    np.testing.assert_allclose(fd.grad(fd.grad(two, 0), 1)(0.7, 1.3), want, rtol=1e-12)
    f = lambda x: lax.while_loop(lambda c: c[1] < 5, lambda c: (       # noqa: E731
        fnp.sin(c[0]) * x, c[1] + 1), (x, 0))[0]
    g32 = fd.grad(fd.grad(f))(np.float32(1.3))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fd.grad(fd.grad(f))(1.3), rtol=1e-5)


def test_rev_rev_of_a_mixed_precision_checkpointed_loop():
    f = lambda x: lax.while_loop(lambda c: c[1] < 5, lambda c: (       # noqa: E731
        fnp.sin(c[0]) * x, c[1] + 1), (x, 0))[0]
    want = fd.grad(fd.grad(f))(1.3)
    got = fd.grad(fd.grad(fd.checkpoint(
        f, policy=fd.checkpoint_policies.save_in(np.float32))))(1.3)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_third_reverse_order_refuses_clearly():
    with pytest.raises(GradientError, match="jacfwd"):
        fd.grad(fd.grad(fd.grad(_trip_depends_on_x)))(0.7)
