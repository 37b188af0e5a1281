"""``dot_general``: the one contraction primitive (matmul, dot, tensordot, einsum of two
operands, batched matmul).

``dimension_numbers = ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``; the
output's axes are the batch axes, then lhs's free axes, then rhs's free axes (as in
``jax.lax.dot_general``).  jvp is bilinear; the transposes are dot_generals again,
followed by a transpose to put the axes back (JAX's rule).  No conjugation: the
transpose of a complex linear map, not its adjoint, as in JAX.
"""
from __future__ import annotations

import numpy as np

from ..core.arraylib import asarray
from ..core.avals import ShapedArray
from ..core.errors import ShapeError
from ..core.trace import Primitive
from .base import (Zero, add_tangents, aval, cast_ct, fit_to, is_undefined, reshape,
                   result_dtype, shift_axes, transpose)
from .elementwise import mul

dot_general_p = Primitive("dot_general")
dot_general_p.sparsity = "contract"
dot_general_p.linear = True
dot_general_p.returns_new_array = True   # matmul / einsum / tensordot: new arrays
dot_general_p.owns_output = True


def dot_general(x, y, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(map(int, lc)), tuple(map(int, rc))), (tuple(map(int, lb)), tuple(map(int, rb))))
    return dot_general_p.bind(x, y, dimension_numbers=dn)


def _free(ndim, *used):
    used = set(used[0]) | set(used[1])
    return [i for i in range(ndim) if i not in used]


def _matmul_views(x_ndim, y_ndim, dimension_numbers):
    """For a product of vectors/matrices without batch axes and one contracted axis:
    ``(transpose x, transpose y)`` making it a plain ``x @ y``; else None."""
    (lc, rc), (lb, _) = dimension_numbers
    if lb or len(lc) != 1 or not (1 <= x_ndim <= 2 and 1 <= y_ndim <= 2):
        return None
    return x_ndim == 2 and lc[0] == 0, y_ndim == 2 and rc[0] == 1


def _dot_impl(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    x, y = asarray(x), asarray(y)
    if not lb:
        views = _matmul_views(x.ndim, y.ndim, dimension_numbers)
        if views is not None:
            # vectors and matrices: one BLAS call on (transposed) views, without
            # tensordot's Python-level reshaping
            return np.dot(x.T if views[0] else x, y.T if views[1] else y)
        return np.tensordot(x, y, axes=(lc, rc))
    lf, rf = _free(x.ndim, lc, lb), _free(y.ndim, rc, rb)
    bshape = [x.shape[i] for i in lb]
    mshape, nshape = [x.shape[i] for i in lf], [y.shape[i] for i in rf]
    k = int(np.prod([x.shape[i] for i in lc], dtype=np.int64))
    b, m, n = (int(np.prod(s, dtype=np.int64)) for s in (bshape, mshape, nshape))
    xt = x.transpose(list(lb) + lf + list(lc)).reshape(b, m, k)
    yt = y.transpose(list(rb) + list(rc) + rf).reshape(b, k, n)
    return np.matmul(xt, yt).reshape(bshape + mshape + nshape)


def _dot_abstract(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ShapeError(f"`dot_general`: dimension numbers {dimension_numbers} mismatched")
    for a, b, what in [(i, j, "contracting") for i, j in zip(lc, rc)] + \
                       [(i, j, "batch") for i, j in zip(lb, rb)]:
        if not (0 <= a < x.ndim and 0 <= b < y.ndim):
            raise ShapeError(f"`dot_general`: {what} axis out of range for shapes "
                             f"{x.shape} and {y.shape}")
        if x.shape[a] != y.shape[b]:
            raise ShapeError(
                f"`dot_general`: {what} dimensions do not match: shapes {x.shape} and "
                f"{y.shape} (axis {a} has size {x.shape[a]}, axis {b} has size "
                f"{y.shape[b]}).  For a matrix product the last axis of the left operand "
                "must equal the second-to-last axis of the right one.")
    shape = tuple([x.shape[i] for i in lb] + [x.shape[i] for i in _free(x.ndim, lc, lb)]
                  + [y.shape[i] for i in _free(y.ndim, rc, rb)])
    return ShapedArray(shape, result_dtype(np.multiply, x, y))


def _dot_jvp(primals, tangents, *, dimension_numbers):
    (x, y), (tx, ty) = primals, tangents
    out = dot_general_p.bind(x, y, dimension_numbers=dimension_numbers)
    oa = aval(out)
    t = Zero(oa.strengthen())
    if type(tx) is not Zero:
        t = add_tangents(t, dot_general_p.bind(tx, y, dimension_numbers=dimension_numbers))
    if type(ty) is not Zero:
        t = add_tangents(t, dot_general_p.bind(x, ty, dimension_numbers=dimension_numbers))
    return out, t if type(t) is Zero else fit_to(t, oa)


def _ranges_like(*xs):
    start = 0
    for x in xs:
        yield list(range(start, start + len(x)))
        start += len(x)


def _transpose_lhs(g, x_aval, y, dimension_numbers, swap_ans=False):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    y_ndim = aval(y).ndim
    x_kept = _free(x_aval.ndim, x_contract, x_batch)
    y_kept = _free(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(y_batch)))
    x_contract_sorted_by_y = [x_contract[i] for i in np.argsort(y_contract)]
    out_axes = np.argsort(list(x_batch) + x_kept + x_contract_sorted_by_y)
    x_bar = transpose(dot_general_p.bind(g, y, dimension_numbers=dims), tuple(out_axes))
    return cast_ct(x_bar, x_aval)


def _dot_transpose(ct, x, y, *, dimension_numbers):
    if is_undefined(x) and is_undefined(y):
        raise TypeError("transpose of `dot_general` with both operands linear")
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen()) if is_undefined(x) else None,
                Zero(aval(y).strengthen()) if is_undefined(y) else None]
    if is_undefined(x):
        return [_transpose_lhs(ct, aval(x), y, dimension_numbers), None]
    (lc, rc), (lb, rb) = dimension_numbers
    swapped = ((rc, lc), (rb, lb))
    return [None, _transpose_lhs(ct, aval(y), x, swapped, swap_ans=True)]


def _dot_cost(avals_in, avals_out, *, dimension_numbers):
    (lc, _), _ = dimension_numbers
    k = int(np.prod([avals_in[0].shape[i] for i in lc], dtype=np.int64))
    return {"flops": 2 * avals_out[0].size * k, "transcendentals": 0}


dot_general_p.impl = _dot_impl
dot_general_p.abstract_eval = _dot_abstract
dot_general_p.jvp = _dot_jvp
dot_general_p.transpose = _dot_transpose
dot_general_p.cost = _dot_cost
def _dot_emit(args, params, gen):
    """Matrix-vector and matrix-matrix products as one ``@``, a transposed operand as
    the view ``.T`` (BLAS reads it in place, no copy); the general case through the
    runtime (transpose + reshape + matmul)."""
    dims = params["dimension_numbers"]
    x, y = (v.aval for v in gen.eqn.invars)
    views = _matmul_views(x.ndim, y.ndim, dims)
    # (not vector . vector: `@` would give a NumPy scalar, not a 0-d result)
    if views is not None and x.ndim + y.ndim >= 3 and x.dtype == y.dtype and \
            x.dtype.kind in "fc":
        return " @ ".join(f"{a}.T" if t else a for a, t in zip(args, views))
    return f"_rt.dot_general({args[0]}, {args[1]}, {gen.param(params['dimension_numbers'])})"


dot_general_p.emit = _dot_emit


def _dot_batch(args, dims, *, dimension_numbers):
    """The batch axis becomes a dot_general batch dimension when both operands are
    mapped, and stays a free axis when only one is (no data movement either way)."""
    (x, y), (bx, by) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    lc2, lb2, rc2, rb2 = shift_axes(lc, bx), shift_axes(lb, bx), shift_axes(rc, by), \
        shift_axes(rb, by)
    if bx is not None and by is not None:
        if not lc:
            return _batched_outer(x, y, bx, by, lb2, rb2), 0
        return dot_general(x, y, ((lc2, rc2), ((bx,) + lb2, (by,) + rb2))), 0
    out = dot_general(x, y, ((lc2, rc2), (lb2, rb2)))
    if bx is not None:
        return out, len(lb) + _free(aval(x).ndim, lc2, lb2).index(bx)
    n_x_free = aval(x).ndim - len(lc) - len(lb)
    return out, len(lb) + n_x_free + _free(aval(y).ndim, rc2, rb2).index(by)


dot_general_p.batch = _dot_batch


def _batched_outer(x, y, bx, by, lb, rb):
    """A batch of products without contraction (per-example outer products, as in
    per-example weight gradients) as a broadcasting ``mul``: NumPy's batched matmul with
    an inner dimension of 1 is many times slower than the elementwise product."""
    xa, ya = aval(x), aval(y)
    xf, yf = _free(xa.ndim, (bx,), lb), _free(ya.ndim, (by,), rb)
    x = transpose(x, (bx,) + tuple(lb) + tuple(xf))
    y = transpose(y, (by,) + tuple(rb) + tuple(yf))
    lead = (xa.shape[bx],) + tuple(xa.shape[i] for i in lb)
    x = reshape(x, lead + tuple(xa.shape[i] for i in xf) + (1,) * len(yf))
    y = reshape(y, lead + (1,) * len(xf) + tuple(ya.shape[i] for i in yf))
    return mul(x, y)
