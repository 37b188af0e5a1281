"""The subgradient table of docs/subgradients.md: one row, one test, and forward and
reverse mode must agree on every row (both follow the same convention)."""
import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
import funcdiff.scipy.special as sp

Z3 = np.zeros(3)
A3 = np.array([1.0, 0.5, 2.0])
ROWS = [
    # (row name, function, point, expected derivative)
    ("linalg.norm at 0", lambda x: fnp.linalg.norm(x), Z3, Z3),
    ("sqrt(sum(x**2)) at 0", lambda x: fnp.sqrt(fnp.sum(x ** 2)), Z3, Z3),
    ("sum(x**2)**0.5 at 0", lambda x: fnp.sum(x ** 2) ** 0.5, Z3, Z3),
    ("sqrt at 0", fnp.sqrt, 0.0, 0.0),
    ("abs at 0", fnp.abs, 0.0, 0.0),
    ("sign everywhere", fnp.sign, 0.0, 0.0),
    ("maximum at a tie", lambda x: fnp.maximum(x, 0.0), 0.0, 0.5),
    ("minimum at a tie", lambda x: fnp.minimum(x, 0.0), 0.0, 0.5),
    ("relu = maximum(x, 0) at 0", lambda x: fnp.maximum(x, 0.0), 0.0, 0.5),
    ("clip at the lower bound", lambda x: fnp.clip(x, 0.0, 1.0), 0.0, 0.5),
    ("clip at the upper bound", lambda x: fnp.clip(x, 0.0, 1.0), 1.0, 0.5),
    ("abs = maximum(x, -x) at 0", lambda x: fnp.maximum(x, -x), 0.0, 0.0),
    ("max over tied elements", lambda x: fnp.max(x), np.array([1.0, 1.0, 0.0]),
     np.array([0.5, 0.5, 0.0])),
    ("floor, ceil, round", lambda x: fnp.floor(x) + fnp.ceil(x) + fnp.round(x), 0.5, 0.0),
    ("logsumexp of all -inf", lambda x: sp.logsumexp(x), np.full(3, -np.inf), Z3),
    ("logsumexp with all weights 0", lambda b: sp.logsumexp(A3, b=b), Z3, Z3),
    ("logsumexp w.r.t. a zero weight", lambda b: sp.logsumexp(A3, b=b),
     np.array([1.0, -0.5, 0.0]), np.exp(A3 - np.log(np.exp(1.0) - 0.5 * np.exp(0.5)))),
    ("sinc at 0", fnp.sinc, 0.0, 0.0),
    ("xlogy(x, 2) at x = 0", lambda x: sp.xlogy(x, 2.0), 0.0, np.log(2.0)),
    ("xlogy(0, y) in y", lambda y: sp.xlogy(0.0, y), 2.0, 0.0),
    ("xlogy(x, 0) at x = 0", lambda x: sp.xlogy(x, 0.0), 0.0, 0.0),
    ("xlogy(x, -1) at x = 0", lambda x: sp.xlogy(x, -1.0), 0.0, 0.0),
    ("xlogy(x, inf) at x = 0", lambda x: sp.xlogy(x, np.inf), 0.0, 0.0),
    ("xlogy(0, y) in y at y = 0", lambda y: sp.xlogy(0.0, y), 0.0, 0.0),
    ("xlogy(x, x) at 0 (both at once)", lambda x: sp.xlogy(x, x), 0.0, 0.0),
    ("xlog1py(x, 1) at x = 0", lambda x: sp.xlog1py(x, 1.0), 0.0, np.log(2.0)),
    ("xlog1py(x, -1) at x = 0", lambda x: sp.xlog1py(x, -1.0), 0.0, 0.0),
    ("xlog1py(0, y) in y", lambda y: sp.xlog1py(0.0, y), 1.0, 0.0),
    ("entr at 0", sp.entr, 0.0, 0.0),
    ("logaddexp(x, 0) at x = 800", lambda x: fnp.logaddexp(x, 0.0), 800.0, 1.0),
    ("logaddexp(x, 0) at x = -800", lambda x: fnp.logaddexp(x, 0.0), -800.0, 0.0),
    ("softplus at 800", lambda x: fnp.logaddexp(0.0, x), 800.0, 1.0),
    ("expit at 800", sp.expit, 800.0, 0.0),
    ("expit at -800", sp.expit, -800.0, 0.0),
    ("where: untaken branch is ignored (double-where)",
     lambda x: fnp.where(x > 0, fnp.sqrt(fnp.where(x > 0, x, 1.0)), 0.0), -1.0, 0.0),
    ("ptp with tied extrema", lambda x: fnp.ptp(x), np.array([3.0, 1.0, 3.0, 1.0]),
     np.array([0.5, -0.5, 0.5, -0.5])),
    ("unwrap at its jumps", lambda x: fnp.unwrap(x), np.array([0.0, 3.0, 6.5, 0.5]),
     np.ones(4)),
    ("corrcoef on its diagonal", lambda x: fnp.diagonal(fnp.corrcoef(x)),
     np.array([[0.1, 0.7, 0.2], [0.9, 0.3, 0.4]]), np.zeros((2, 3))),
    ("trim_zeros keeps the nonzero span", lambda x: fnp.trim_zeros(x),
     np.array([0.0, 2.0, 0.0, 3.0, 0.0]), np.array([0.0, 1.0, 1.0, 1.0, 0.0])),
    ("resize repeats elements", lambda x: fnp.resize(x, 5), np.array([1.0, 2.0]),
     np.array([3.0, 2.0])),
    # sorting and order statistics (a stable sort: ties go to the earlier element)
    ("sort at a tie", lambda x: np.sort(x)[0], np.array([1.0, 1.0, 2.0]),
     np.array([1.0, 0.0, 0.0])),
    ("max of sort at a tie", lambda x: np.sort(x)[-1], np.array([2.0, 1.0, 2.0]),
     np.array([0.0, 0.0, 1.0])),
    ("median at a tie", np.median, np.array([1.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])),
    ("median of an even count", np.median, np.array([0.0, 3.0, 1.0, 2.0]),
     np.array([0.0, 0.0, 0.5, 0.5])),
    ("quantile, linear interpolation", lambda x: np.quantile(x, 0.25),
     np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.25, 0.75, 0.0, 0.0])),
    ("quantile on an order statistic", lambda x: np.quantile(x, 1 / 3),
     np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0, 0.0])),
    ("quantile, discrete method", lambda x: np.quantile(x, 0.4, method="nearest"),
     np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0, 0.0])),
    ("searchsorted, digitize (piecewise constant)",
     lambda x: x * np.searchsorted(np.array([0.0, 1.0, 2.0]), x)
     + x * np.digitize(x, np.array([0.0, 1.0])), 1.0, 3.0),
    ("interp at an interior knot: the right segment",
     lambda x: np.interp(x, np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0])), 1.0, 2.0),
    ("interp at the last knot: the left segment",
     lambda x: np.interp(x, np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0])), 2.0, 2.0),
    ("interp outside the knots",
     lambda x: np.interp(x, np.array([0.0, 1.0]), np.array([0.0, 1.0])), 1.5, 0.0),
    ("nan* reductions at NaN", lambda x: np.nansum(x) + np.nanmax(x) + np.nanmedian(x),
     np.array([1.0, np.nan, 3.0]), np.array([1.5, 0.0, 2.5])),
    ("unique: the first occurrence", lambda x: np.unique(x)[0],
     np.array([2.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0])),
    ("histogram counts", lambda x: x * np.histogram(x, bins=2, range=(0, 2))[0],
     np.array([0.5, 1.5]), np.array([1.0, 1.0])),
]


@pytest.mark.parametrize("name,f,x,expected", ROWS, ids=[r[0] for r in ROWS])
def test_subgradient_row(name, f, x, expected):
    with np.errstate(all="ignore"):
        g_rev = fd.grad(lambda v: fnp.sum(f(v)))(x)
        _, g_fwd = fd.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(g_rev, expected, atol=1e-12)
    # forward mode with an all-ones tangent gives the same numbers for elementwise rows
    np.testing.assert_allclose(np.sum(g_fwd), np.sum(expected), atol=1e-12)
    assert np.all(np.isfinite(g_rev)) and np.all(np.isfinite(g_fwd))


def test_where_multiplies_nothing_by_the_mask():
    # the naive version: the untaken sqrt branch's derivative is 0 * inf at x = 0, which
    # a mask-multiply would turn into NaN; select keeps the taken branch's tangent only
    with np.errstate(all="ignore"):
        g = fd.grad(lambda x: fnp.where(x > 0, x ** 2, 3.0 * x))(-1.0)
    assert g == 3.0


# --- selection (docs/subgradients.md, "Selection"): eager, jvp, jit and vmap agree -----------

X4 = np.array([-1.0, 0.0, 0.5, 2.0])
SELECTION_ROWS = [
    ("select: the first true condition wins",
     lambda x: fnp.select([x >= 0, x <= 0], [2 * x, 3 * x]), X4, [3.0, 2.0, 2.0, 2.0]),
    ("select at a boundary",
     lambda x: fnp.select([x < 0, x >= 0], [-x, x]), X4, [-1.0, 1.0, 1.0, 1.0]),
    ("piecewise: the last true condition wins",
     lambda x: fnp.piecewise(x, [x >= 0, x <= 0], [lambda v: 2 * v, lambda v: 3 * v]), X4,
     [3.0, 3.0, 2.0, 2.0]),
    ("piecewise at a boundary",
     lambda x: fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v]), X4,
     [-1.0, 1.0, 1.0, 1.0]),
    ("piecewise: sqrt is not differentiated outside its piece",
     lambda x: fnp.piecewise(x, [x > 0], [fnp.sqrt, 0.0]), X4,
     [0.0, 0.0, 0.5 / np.sqrt(0.5), 0.5 / np.sqrt(2.0)]),
    ("choose: only the chosen array",
     lambda x: fnp.choose(np.array([1, 0, 1, 0]), [x ** 2, 5 * x]), X4, [5.0, 0.0, 5.0, 4.0]),
    ("mask indexing: the selected entries",
     lambda x: fnp.concatenate([x[np.array([True, False, True, True])] * 2.0, x[:1]]), X4,
     [3.0, 0.0, 2.0, 2.0]),
    ("compress with size=: the selected entries, padding from fill_value",
     lambda x: fnp.compress(np.array([False, True, True, False]), x, size=3,
                            fill_value=0.0), X4, [0.0, 1.0, 1.0, 0.0]),
    ("extract", lambda x: fnp.extract(np.array([True, False, False, True]), x ** 2), X4,
     [-2.0, 0.0, 0.0, 4.0]),
    ("put: a repeated index keeps the last write",
     lambda x: fnp.put(fnp.zeros(3), [0, 2, 0], x[:3] * 10, inplace=False) + x[3], X4,
     [0.0, 10.0, 10.0, 3.0]),
    ("place: written values and kept entries",
     lambda x: fnp.place(x, np.array([True, False, True, False]), x[2:] * 3,
                         inplace=False), X4, [0.0, 1.0, 3.0, 4.0]),
    ("nonzero: integer results, no derivative",
     lambda x: x * fnp.flatnonzero(np.array([1, 0, 2, 3]), size=4), X4, [0.0, 2.0, 3.0, 0.0]),
]


@pytest.mark.parametrize("name,f,x,expected", SELECTION_ROWS,
                         ids=[r[0] for r in SELECTION_ROWS])
def test_selection_row(name, f, x, expected):
    """grad (eager and jit), jvp with an all-ones tangent, and vmap of grad agree."""
    with np.errstate(all="ignore"):
        g = fd.grad(lambda v: fnp.sum(f(v)))(x)
        g_jit = fd.jit(fd.grad(lambda v: fnp.sum(f(v))))(x)
        _, t = fd.jvp(f, (x,), (np.ones_like(x),))
        _, t_jit = fd.jvp(fd.jit(f), (x,), (np.ones_like(x),))
        g_vmap = fd.vmap(fd.grad(lambda v: fnp.sum(f(v))))(np.stack([x, x]))
    for got in (g, g_jit, g_vmap[0], g_vmap[1]):
        np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(np.sum(t), np.sum(expected), atol=1e-12)
    np.testing.assert_allclose(np.sum(t_jit), np.sum(expected), atol=1e-12)
