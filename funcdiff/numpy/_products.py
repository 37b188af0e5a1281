"""Products and contractions: dot, matmul, vdot, inner, outer, tensordot, einsum, trace,
diag, diagonal, kron, cross.

Every contraction lowers to the one ``dot_general`` primitive (plus ``transpose``,
``reshape``, ``broadcast_to`` and ``reduce_sum``); nothing here adds a primitive.
Diagonals (``diagonal``, ``trace``, ``einsum('ii->i')``) are exact and O(n): the two
axes are merged with ``reshape`` and the diagonal is a strided ``slice`` (stride
``m + 1``), whose transpose is an interior ``pad``.  ``diag`` of a vector is that
interior ``pad``.

dtypes follow NumPy: Python scalars are converted as ``numpy.asarray`` does (these
functions are not ufuncs, so NumPy does not treat them weakly), mixed dtypes promote
with ``numpy.result_type``, products of integer arrays stay integer.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .._np_compat import NUMPY2
from ..core.errors import FuncdiffTypeError, ShapeError
from ..primitives import base as pb, shape as sp
from ..primitives.dot import dot_general
from ..primitives.base import conj, convert_element_type, neg, reduce_sum
from ..primitives.elementwise import mul, sub
from ._core import aval, canonical_axis, implements
from ._shape import _arr, _moveaxis, _reshape, _slice_axis

__all__ = ["dot", "matmul", "vdot", "inner", "outer", "tensordot", "einsum", "trace",
           "diag", "diagonal", "kron", "cross"]


def _shape(x):
    return aval(x).shape


def _ndim(x):
    return len(aval(x).shape)


def _dtype(x):
    return aval(x).dtype


def _cast(x, dtype):
    return x if _dtype(x) == dtype else convert_element_type(x, dtype=dtype)


def _no_out(name, out):
    if out is not None:
        raise FuncdiffTypeError(f"`{name}`: out= is not supported on traced values: arrays "
                                "are immutable under transforms.  Use the returned value.")


def _dot(x, y, contract_x, contract_y, batch_x=(), batch_y=()):
    """dot_general with the result in NumPy's dtype (``result_type`` of the operands)."""
    dt = np.result_type(_dtype(x), _dtype(y))
    return _cast(dot_general(x, y, ((tuple(contract_x), tuple(contract_y)),
                                    (tuple(batch_x), tuple(batch_y)))), dt)


def _mul(x, y):
    dt = np.result_type(_dtype(x), _dtype(y))
    return _cast(mul(x, y), dt)


# --- dot, vdot, inner, outer -----------------------------------------------------------------

@implements(np.dot)
def dot(a, b, out=None):
    """NumPy's ``dot``: a product with a scalar, the inner product of vectors, or a sum
    over the last axis of ``a`` and the second-to-last of ``b``."""
    _no_out("dot", out)
    x, y = _arr(a), _arr(b)
    sx, sy = _shape(x), _shape(y)
    if not sx or not sy:
        return _mul(x, y)
    ky = 0 if len(sy) == 1 else len(sy) - 2
    if sx[-1] != sy[ky]:
        raise ShapeError(f"`dot`: shapes {sx} and {sy} not aligned: {sx[-1]} (dim "
                         f"{len(sx) - 1}) != {sy[ky]} (dim {ky}).  dot contracts the last "
                         "axis of the first operand with the second-to-last axis of the "
                         "second (the only axis of a vector): transpose or reshape an "
                         "operand so those agree.")
    return _dot(x, y, (len(sx) - 1,), (ky,))


@implements(np.vdot)
def vdot(a, b, /):
    """NumPy's ``vdot``: flatten both, conjugate the first, inner product."""
    x, y = _reshape(_arr(a), (-1,)), _reshape(_arr(b), (-1,))
    if _shape(x) != _shape(y):
        raise ShapeError(f"`vdot`: vectors have different lengths ({_shape(x)[0]} and "
                         f"{_shape(y)[0]} elements)")
    if _dtype(x).kind == "c":
        x = conj(x)
    return _dot(x, y, (0,), (0,))


@implements(np.inner)
def inner(a, b, /):
    """NumPy's ``inner``: a sum over the last axes of both."""
    x, y = _arr(a), _arr(b)
    sx, sy = _shape(x), _shape(y)
    if not sx or not sy:
        return _mul(x, y)
    if sx[-1] != sy[-1]:
        raise ShapeError(f"`inner`: shapes {sx} and {sy} not aligned: last dimensions "
                         f"{sx[-1]} != {sy[-1]}")
    return _dot(x, y, (len(sx) - 1,), (len(sy) - 1,))


@implements(np.outer)
def outer(a, b, out=None):
    """NumPy's ``outer``: ``ravel(a)[:, None] * ravel(b)[None, :]``."""
    _no_out("outer", out)
    x, y = _reshape(_arr(a), (-1,)), _reshape(_arr(b), (-1,))
    return _mul(pb.reshape(x, (_shape(x)[0], 1)), pb.reshape(y, (1, _shape(y)[0])))


# --- matmul ----------------------------------------------------------------------------------

@implements(np.matmul)
def matmul(x1, x2, /, out=None, *, casting="same_kind", order="K", dtype=None, subok=True,
           signature=None, axes=None, axis=None):
    """NumPy's ``matmul`` (``@``): batch axes broadcast, a 1-d operand is a row (left)
    or column (right) vector whose axis is removed from the result."""
    _no_out("matmul", out)
    if axes is not None or axis is not None or signature is not None:
        raise FuncdiffTypeError("`matmul`: axes=, axis= and signature= are not supported "
                                "on traced values; use moveaxis or einsum")
    x, y = _arr(x1), _arr(x2)
    if dtype is not None:
        dtype = np.dtype(dtype)
        for i, v in enumerate((x, y)):
            if not np.can_cast(_dtype(v), dtype, casting=casting):
                raise FuncdiffTypeError(f"`matmul`: cannot cast operand {i} from "
                                        f"{_dtype(v)} to {dtype} with casting={casting!r}")
        x, y = _cast(x, dtype), _cast(y, dtype)
    sx, sy = _shape(x), _shape(y)
    for i, s in enumerate((sx, sy)):
        if not s:
            raise ShapeError(f"matmul: Input operand {i} does not have enough dimensions "
                             f"(has 0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) "
                             f"requires 1); shapes {sx} and {sy}")
    kx = len(sx) - 1
    ky = 0 if len(sy) == 1 else len(sy) - 2
    if sx[kx] != sy[ky]:
        raise ShapeError(f"matmul: Input operand 1 has a mismatch in its core dimension "
                         f"0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size "
                         f"{sy[ky]} is different from {sx[kx]}); shapes {sx} and {sy}")
    if len(sx) == 1 or len(sy) <= 2:
        # no batch axes on one side: dot_general's (x free, y free) order is NumPy's
        # when y is 1-d or 2-d, or x is 1-d
        return _dot(x, y, (kx,), (ky,))
    if len(sx) == 2:
        # (n, k) @ (..., k, m): dot_general gives (n, ..., m); move n next to m
        r = _dot(x, y, (1,), (ky,))
        nb = len(sy) - 2
        return pb.transpose(r, tuple(range(1, nb + 1)) + (0, nb + 1))
    bx, by = sx[:-2], sy[:-2]
    try:
        bs = np.broadcast_shapes(bx, by)
    except ValueError:
        raise ShapeError(f"matmul: the batch dimensions of shapes {sx} and {sy} do not "
                         "broadcast together") from None
    if bx != bs:
        x = pb.broadcast_to(x, bs + sx[-2:])
    if by != bs:
        y = pb.broadcast_to(y, bs + sy[-2:])
    nb = len(bs)
    return _dot(x, y, (nb + 1,), (nb,), tuple(range(nb)), tuple(range(nb)))


# --- tensordot -------------------------------------------------------------------------------

@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """NumPy's ``tensordot``: ``axes`` an int N (last N of ``a`` with first N of ``b``)
    or a pair of axis sequences."""
    x, y = _arr(a), _arr(b)
    sx, sy = _shape(x), _shape(y)
    try:
        iter(axes)
    except TypeError:
        n = int(axes)
        if n < 0:
            raise ValueError("tensordot: axes must be a non-negative integer") from None
        ax, ay = list(range(len(sx) - n, len(sx))), list(range(n))
        if n > len(sx) or n > len(sy):
            raise ShapeError(f"tensordot: shape-mismatch for sum (axes={n} for shapes "
                             f"{sx} and {sy})") from None
    else:
        ax, ay = axes
        ax = [ax] if np.ndim(ax) == 0 else list(ax)
        ay = [ay] if np.ndim(ay) == 0 else list(ay)
        if len(ax) != len(ay):
            raise ShapeError(f"tensordot: shape-mismatch for sum (axes {ax} and {ay})")
        ax = [canonical_axis(i, len(sx)) for i in ax]
        ay = [canonical_axis(i, len(sy)) for i in ay]
    for i, j in zip(ax, ay):
        if sx[i] != sy[j]:
            raise ShapeError(f"tensordot: shape-mismatch for sum: axis {i} of shape {sx} "
                             f"and axis {j} of shape {sy}")
    return _dot(x, y, ax, ay)


# --- diagonal, trace, diag -------------------------------------------------------------------

def _diag_last2(x, offset):
    """The ``offset`` diagonal of the last two axes, as a new last axis: reshape them into
    one and take a strided slice (exact, linear, O(n))."""
    shp = _shape(x)
    lead, (n, m) = shp[:-2], shp[-2:]
    if offset >= 0:
        count, start = max(0, min(n, m - offset)), offset
    else:
        count, start = max(0, min(n + offset, m)), -offset * m
    flat = pb.reshape(x, lead + (n * m,))
    k = len(lead)
    if count == 0:
        return sp.slice_(flat, (0,) * (k + 1), lead + (0,))
    stop = start + (count - 1) * (m + 1) + 1
    return sp.slice_(flat, (0,) * k + (start,), lead + (stop,), (1,) * k + (m + 1,))


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """NumPy's ``diagonal``: the diagonal of axes (axis1, axis2), appended as the last
    axis of the result."""
    x = _arr(a)
    n = _ndim(x)
    if n < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    i, j = canonical_axis(axis1, n), canonical_axis(axis2, n)
    if i == j:
        raise ValueError("axis1 and axis2 cannot be the same")
    perm = [k for k in range(n) if k not in (i, j)] + [i, j]
    return _diag_last2(pb.transpose(x, perm), int(offset))


@functools.lru_cache(maxsize=None)
def _trace_dtype(dtype):
    return np.trace(np.ones((1, 1), dtype)).dtype


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """NumPy's ``trace``: the sum of ``diagonal`` (integers sum as ``numpy.sum`` does)."""
    _no_out("trace", out)
    d = diagonal.traced(a, offset, axis1, axis2)
    dt = np.dtype(dtype) if dtype is not None else _trace_dtype(_dtype(d))
    d = _cast(d, dt)
    return reduce_sum(d, (_ndim(d) - 1,))


@implements(np.diag)
def diag(v, k=0):
    """NumPy's ``diag``: a 1-d ``v`` becomes a 2-d array with ``v`` on diagonal ``k``;
    a 2-d ``v`` gives its ``k``-th diagonal."""
    x = _arr(v)
    shp = _shape(x)
    k = int(k)
    if len(shp) == 2:
        return _diag_last2(x, k)
    if len(shp) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = shp[0]
    N = n + abs(k)
    zero = np.zeros((), _dtype(x))[()]
    if n == 0:
        flat = sp.pad(x, zero, [(N * N, 0, 0)])
    else:
        lo = k if k >= 0 else -k * N
        used = lo + (n - 1) * (N + 1) + 1
        # interior padding N between elements puts them N + 1 apart: the diagonal
        flat = sp.pad(x, zero, [(lo, N * N - used, N)])
    return pb.reshape(flat, (N, N))


# --- einsum ----------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_to_str(sub):
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        else:
            s = int(s)
            if not 0 <= s < 52:
                raise ValueError("subscript is not within the valid range [0, 52)")
            out.append(_LETTERS[s])
    return "".join(out)


def _parse_term(term, where):
    """A subscripts term as (letters before '...', has '...', letters after)."""
    if term.count("...") > 1 or (term.replace("...", "").count(".")):
        raise ValueError(f"einstein sum subscripts string contains a '.' that is not part "
                         f"of an ellipsis ('...') in {where}")
    pre, ell, post = term.partition("...")
    for c in pre + post:
        if c not in _LETTERS:
            raise ValueError(f"invalid subscript '{c}' in einstein sum subscripts string, "
                             "subscripts must be letters")
    return list(pre), bool(ell), list(post)


def _einsum_parse(subscripts, shapes):
    """Input label lists (ints for ellipsis axes, from the left of the broadcast
    ellipsis shape) and the output label list."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, _, out = s.partition("->")
        if "->" in out or "-" in out or ">" in out:
            raise ValueError("einstein sum subscript string does not contain proper "
                             "'->' output specified")
    else:
        if "-" in s or ">" in s:
            raise ValueError("einstein sum subscript string does not contain proper "
                             "'->' output specified")
        ins, out = s, None
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} subscript terms for {len(shapes)} "
                         "operands (more operands provided than subscripts, or fewer)")
    parsed = []
    ell_dims = []
    for k, (term, shp) in enumerate(zip(terms, shapes)):
        pre, ell, post = _parse_term(term, f"operand {k}")
        e = len(shp) - len(pre) - len(post)
        if (ell and e < 0) or (not ell and e > 0):
            raise ValueError(f"einsum: operand {k} has {len(shp)} dimensions but the "
                             f"subscripts {term!r} give {len(pre) + len(post)}"
                             + ("" if ell else ", and no '...' ellipsis is provided to "
                                "broadcast the extra dimensions"))
        if not ell and e < 0:
            raise ValueError(f"einsum: the subscripts {term!r} of operand {k} give more "
                             f"dimensions than its shape {shp} has")
        parsed.append((pre, e if ell else 0, post))
        ell_dims.append(e if ell else 0)
    E = max(ell_dims, default=0)
    labels = [pre + list(range(E - e, E)) + post for pre, e, post in parsed]
    if out is None:
        counts = {}
        for ls in labels:
            for lab in ls:
                if isinstance(lab, str):
                    counts[lab] = counts.get(lab, 0) + 1
        out_labels = list(range(E)) + sorted(c for c, n in counts.items() if n == 1)
    else:
        pre, ell, post = _parse_term(out, "the output")
        seen = set()
        for c in pre + post:
            if c in seen:
                raise ValueError("einstein sum subscripts string includes output "
                                 f"subscript '{c}' multiple times")
            seen.add(c)
            if not any(c in ls for ls in labels):
                raise ValueError(f"einstein sum subscripts string included output "
                                 f"subscript '{c}' which never appeared in an input")
        if not ell and E > 0:
            raise ValueError("output has more dimensions than subscripts given in "
                             "einstein sum, but no '...' ellipsis provided to broadcast "
                             "the extra dimensions.")
        out_labels = pre + list(range(E)) + post
    return labels, out_labels


def _einsum_sizes(labels, shapes):
    sizes = {}
    for k, (ls, shp) in enumerate(zip(labels, shapes)):
        own = {}
        for lab, d in zip(ls, shp):
            if lab in own and own[lab] != d:
                raise ShapeError(f"einsum: dimensions in operand {k} for collapsing index "
                                 f"'{lab}' don't match ({own[lab]} != {d})")
            own[lab] = d
        for lab, d in own.items():
            if sizes.get(lab, 1) == 1:
                sizes[lab] = d
            elif d != 1 and d != sizes[lab]:
                raise ShapeError(
                    "einsum: operands could not be broadcast together: shapes "
                    f"{', '.join(str(s) for s in shapes)} give index {lab!r} the sizes "
                    f"{sizes[lab]} and {d}")
    return sizes


def _sum_labels(x, ls, drop):
    axes = tuple(i for i, lab in enumerate(ls) if lab in drop)
    if not axes:
        return x, ls
    return reduce_sum(x, axes), [lab for lab in ls if lab not in drop]


def _einsum_prepare(x, ls, sizes, needed):
    """Per-operand work before any contraction: take diagonals of repeated labels,
    drop broadcast (size-1) axes, sum out labels nobody else needs."""
    while len(set(ls)) != len(ls):
        lab = next(lab for lab in ls if ls.count(lab) > 1)
        p = ls.index(lab)
        q = ls.index(lab, p + 1)
        rest = [i for i in range(len(ls)) if i not in (p, q)]
        x = _diag_last2(pb.transpose(x, rest + [p, q]), 0)
        ls = [ls[i] for i in rest] + [lab]
    shp = _shape(x)
    if any(d == 1 and sizes[lab] != 1 for lab, d in zip(ls, shp)):
        keep = [i for i, (lab, d) in enumerate(zip(ls, shp)) if not (d == 1 and
                                                                       sizes[lab] != 1)]
        x = pb.reshape(x, tuple(shp[i] for i in keep))
        ls = [ls[i] for i in keep]
    return _sum_labels(x, ls, {lab for lab in ls if lab not in needed})


def _einsum_pair(x, lx, y, ly, keep):
    lx_set, ly_set = set(lx), set(ly)
    x, lx = _sum_labels(x, lx, {lab for lab in lx if lab not in ly_set and lab not in keep})
    y, ly = _sum_labels(y, ly, {lab for lab in ly if lab not in lx_set and lab not in keep})
    both = [lab for lab in lx if lab in ly_set]
    batch = [lab for lab in both if lab in keep]
    contract = [lab for lab in both if lab not in keep]
    r = dot_general(x, y, ((tuple(lx.index(lab) for lab in contract),
                            tuple(ly.index(lab) for lab in contract)),
                           (tuple(lx.index(lab) for lab in batch),
                            tuple(ly.index(lab) for lab in batch))))
    lr = batch + [lab for lab in lx if lab not in ly_set] + \
        [lab for lab in ly if lab not in lx_set]
    return r, lr


def _einsum(xs, labels, out_labels, sizes):
    ops = []
    for k, (x, ls) in enumerate(zip(xs, labels)):
        needed = set(out_labels)
        for j, other in enumerate(labels):
            if j != k:
                needed.update(other)
        ops.append(_einsum_prepare(x, list(ls), sizes, needed))
    # greedy pairwise order: contract the pair whose result is smallest first
    while len(ops) > 1:
        best = None
        for i in range(len(ops)):
            for j in range(i + 1, len(ops)):
                keep = set(out_labels)
                for k, (_, ls) in enumerate(ops):
                    if k not in (i, j):
                        keep.update(ls)
                res = (set(ops[i][1]) | set(ops[j][1])) & keep
                cost = int(np.prod([sizes[lab] for lab in res], dtype=np.int64))
                if best is None or cost < best[0]:
                    best = (cost, i, j, keep)
        _, i, j, keep = best
        r = _einsum_pair(*ops[i], *ops[j], keep)
        ops = [op for k, op in enumerate(ops) if k not in (i, j)] + [r]
    x, ls = ops[0]
    x, ls = _sum_labels(x, ls, {lab for lab in ls if lab not in out_labels})
    return pb.transpose(x, tuple(ls.index(lab) for lab in out_labels))


@implements(np.einsum)
def einsum(*operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    """NumPy's ``einsum``: explicit ('ij,jk->ik') or implicit ('ij,jk') output,
    '...' broadcasting, repeated indices (traces and diagonals), and the interleaved
    ``einsum(op0, sublist0, op1, sublist1, ..., [sublistout])`` form.  Lowered to
    pairwise ``dot_general`` contractions in a greedy order; ``optimize`` is accepted
    and ignored."""
    _no_out("einsum", out)
    if not operands:
        raise ValueError("No input operands")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        arrays = list(operands[0::2])
        subs = list(operands[1::2])
        out_sub = None
        if len(operands) % 2:
            out_sub = arrays.pop()
        subscripts = ",".join(_sublist_to_str(s) for s in subs)
        if out_sub is not None:
            subscripts += "->" + _sublist_to_str(out_sub)
    xs = [_arr(a) for a in arrays]
    shapes = [_shape(x) for x in xs]
    labels, out_labels = _einsum_parse(subscripts, shapes)
    sizes = _einsum_sizes(labels, shapes)
    if dtype is not None:
        dt = np.dtype(dtype)
        for x in xs:
            if not np.can_cast(_dtype(x), dt, casting=casting):
                raise FuncdiffTypeError(f"einsum: cannot cast an operand of dtype "
                                        f"{_dtype(x)} to {dt} with casting={casting!r}")
    else:
        dt = np.result_type(*[_dtype(x) for x in xs])
    xs = [_cast(x, dt) for x in xs]
    return _cast(_einsum(xs, labels, out_labels, sizes), dt)


# --- kron, cross -----------------------------------------------------------------------------

@implements(np.kron)
def kron(a, b):
    """NumPy's ``kron``: the Kronecker product (interleave the axes, multiply, merge)."""
    x, y = _arr(a), _arr(b)
    nd = max(_ndim(x), _ndim(y))
    sx = (1,) * (nd - _ndim(x)) + _shape(x)
    sy = (1,) * (nd - _ndim(y)) + _shape(y)
    x2 = pb.reshape(x, tuple(v for d in sx for v in (d, 1)))
    y2 = pb.reshape(y, tuple(v for d in sy for v in (1, d)))
    return pb.reshape(_mul(x2, y2), tuple(p * q for p, q in zip(sx, sy)))


def _component(x, i):
    shp = _shape(x)
    return pb.reshape(_slice_axis(x, len(shp) - 1, i, i + 1), shp[:-1])


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """NumPy's ``cross`` for vectors of 3 (or, deprecated in NumPy 2, 2) components."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = _arr(a), _arr(b)
    if _ndim(x) == 0 or _ndim(y) == 0:
        raise ValueError("At least one array has zero dimension")
    x = _moveaxis(x, axisa, -1)
    y = _moveaxis(y, axisb, -1)
    nx, ny = _shape(x)[-1], _shape(y)[-1]
    if nx not in (2, 3) or ny not in (2, 3):
        raise ShapeError("incompatible dimensions for cross product\n(dimension must be "
                         "2 or 3)")
    if (nx == 2 or ny == 2) and NUMPY2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    dt = np.result_type(_dtype(x), _dtype(y))
    try:
        np.broadcast_shapes(_shape(x)[:-1], _shape(y)[:-1])
    except ValueError:
        raise ShapeError(f"`cross`: shapes {_shape(x)} and {_shape(y)} do not broadcast "
                         "together") from None
    a0, a1 = _component(x, 0), _component(x, 1)
    b0, b1 = _component(y, 0), _component(y, 1)
    cp2 = _cast(sub(mul(a0, b1), mul(a1, b0)), dt)
    if nx == 2 and ny == 2:
        return cp2
    if nx == 3 and ny == 3:
        a2, b2 = _component(x, 2), _component(y, 2)
        cp0 = sub(mul(a1, b2), mul(a2, b1))
        cp1 = sub(mul(a2, b0), mul(a0, b2))
    elif nx == 2:
        b2 = _component(y, 2)
        cp0 = mul(a1, b2)
        cp1 = neg(mul(a0, b2))
    else:
        a2 = _component(x, 2)
        cp0 = neg(mul(a2, b1))
        cp1 = mul(a2, b0)
    comps = [_cast(c, dt) for c in (cp0, cp1, cp2)]
    shp = _shape(comps[2])
    r = sp.concatenate([pb.reshape(c, shp + (1,)) for c in comps], len(shp))
    return _moveaxis(r, -1, axisc)

