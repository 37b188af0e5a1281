"""Jacobian sparsity patterns found from the IR, by structural dependency propagation.

A ``Pattern`` is a boolean matrix in CSR form: row ``r`` (one element of a value, in
C order) lists the input elements (columns) it may depend on.  ``jaxpr_sparsity``
walks a jaxpr once: the inputs start with given patterns (the identity, for a
Jacobian), constants and literals with empty ones, and each equation maps its
operands' patterns to its outputs' by the rule of its primitive's *family*.  The
family is a fact declared on the primitive (``Primitive.sparsity``, set where the
primitive is defined); the rules are the table ``RULES`` below, keyed on it:

==================  ===================================================================
``"elementwise"``   output element depends on the same element of each operand (NumPy
                    broadcasting: a broadcast operand element feeds many outputs)
``"zero"``          derivative zero (comparisons, floor, sign, ...): no dependence
``"copy"``          output elements are copies of operand elements (reshape, transpose,
                    broadcast_to, slice, rev, concatenate, pad, gather/scatter on known
                    indices): found by running the primitive's ``impl`` on element ids
``"gather"``        ``"copy"`` when the index operands are known, else every output
                    element depends on every operand element (dynamic indexing)
``"scatter"``       as ``"gather"`` (``"scatter_accumulate"``: ``scatter_add`` and
                    the like, which also keep the operand element)
``"reduce"``        an output element depends on its reduced slice (``axes``)
``"cumulative"``    on the elements up to it along ``axis`` (``reverse``)
``"contract"``      ``dot_general``: on its row and column of the operands; a *known*
                    constant operand contributes its nonzero structure, an unknown one
                    counts as dense
``"call"``          recurse into the called jaxpr (``called_jaxpr``)
``"cond"``          the union over the branches (the taken one if the index is known)
``"scan"``          unrolled for short scans, else a fixed point over the carry with
                    every iteration seeing all of ``xs``
``"while"``         a fixed point over the carry (the trip count is unknown)
``None``            unknown (custom rules, linear algebra, FFT, sort, ...): every
                    output element depends on every operand element
==================  ===================================================================

The result is conservative and never wrong: a pattern may hold entries that are zero
in every Jacobian (``select`` keeps both branches, ``reduce_max`` its whole slice, a
dense ``dot_general`` every entry), never miss one that the jvp can make nonzero.
Values of integer and boolean dtype carry no derivative, so their patterns are empty;
values computed only from constants are evaluated (``impl``) as the walk goes, so index
arrays built in the program (``arange``, ``x[1:] - x[:-1]`` on constants) count as
known.  ``jaxpr_sparsity`` reports which constants it read, for callers caching a
pattern while the constants may change.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ..core.errors import FuncdiffValueError
from ..core.ir import Literal
from ..primitives.indexing import build_index

__all__ = ["Pattern", "jaxpr_sparsity", "RULES"]

# a boolean marker array up to this many entries dedupes faster than np.unique
_MARK_LIMIT = 1 << 26
# constant evaluation during the walk: only values up to this many elements
_KNOWN_LIMIT = 1 << 22
# scans up to this many iterations are unrolled (exact per iteration)
_UNROLL_LIMIT = 256
# the most entries a pattern may hold (8 bytes each, a few arrays of them at a time)
MAX_ENTRIES = 50_000_000
# rounds of a loop's fixed point before it is made dense over the loop's inputs
_ROUNDS = 8


class Pattern:
    """A boolean ``shape = (rows, cols)`` matrix in CSR form: the columns of row ``r``
    are ``indices[indptr[r]:indptr[r + 1]]``, sorted and unique.

    ``nnz`` is the number of entries; ``toarray()`` the dense boolean matrix;
    ``rows()`` the row index of every entry (COO with ``indices``)."""

    __slots__ = ("shape", "indptr", "indices")

    def __init__(self, shape, indptr, indices):
        self.shape = (int(shape[0]), int(shape[1]))
        self.indptr = np.asarray(indptr, np.int64)
        self.indices = np.asarray(indices, np.int64)

    @classmethod
    def empty(cls, rows, cols):
        return cls((rows, cols), np.zeros(rows + 1, np.int64), np.zeros(0, np.int64))

    @classmethod
    def identity(cls, n):
        return cls((n, n), np.arange(n + 1), np.arange(n))

    @classmethod
    def from_coo(cls, rows, cols, shape):
        """Entries at ``(rows[k], cols[k])``, duplicates merged."""
        nr, nc = int(shape[0]), int(shape[1])
        rows = np.asarray(rows, np.int64)
        cols = np.asarray(cols, np.int64)
        _check_size(rows.size)
        if rows.size == 0:
            return cls.empty(nr, nc)
        keys = rows * nc + cols
        if nr * nc <= _MARK_LIMIT:
            mark = np.zeros(nr * nc, bool)
            mark[keys] = True
            keys = np.flatnonzero(mark)
        else:
            keys = np.unique(keys)
        r, c = np.divmod(keys, nc)
        indptr = np.zeros(nr + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=nr), out=indptr[1:])
        return cls((nr, nc), indptr, c)

    @classmethod
    def from_dense(cls, mask):
        mask = np.asarray(mask, bool)
        r, c = np.nonzero(mask)
        return cls.from_coo(r, c, mask.shape)

    @property
    def nnz(self):
        return int(self.indices.size)

    def row_lengths(self):
        return np.diff(self.indptr)

    def rows(self):
        """The row of each entry (parallel to ``indices``)."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), self.row_lengths())

    def toarray(self):
        out = np.zeros(self.shape, bool)
        out[self.rows(), self.indices] = True
        return out

    def transpose(self):
        """The transposed pattern."""
        return Pattern.from_coo(self.indices, self.rows(), self.shape[::-1])

    def take_rows(self, src):
        """The pattern whose row ``o`` is row ``src[o]`` of this one (empty where
        ``src[o] < 0``)."""
        src = np.asarray(src, np.int64).ravel()
        ok = src >= 0
        s = np.where(ok, src, 0)
        lens = np.where(ok, self.indptr[s + 1] - self.indptr[s], 0) if self.shape[0] \
            else np.zeros(src.size, np.int64)
        indptr = np.zeros(src.size + 1, np.int64)
        np.cumsum(lens, out=indptr[1:])
        total = int(indptr[-1])
        _check_size(total)
        if total == 0:
            return Pattern.empty(src.size, self.shape[1])
        # entry k of the result comes from entry starts[o] + (k - indptr[o]) of this
        pos = np.arange(total, dtype=np.int64) + np.repeat(self.indptr[s] - indptr[:-1],
                                                           lens)
        return Pattern((src.size, self.shape[1]), indptr, self.indices[pos])

    def group_rows(self, group, n_groups):
        """Row ``g`` of the result: the union of the rows ``r`` with ``group[r] == g``
        (``group[r] < 0``: row ``r`` dropped)."""
        group = np.asarray(group, np.int64).ravel()
        r = self.rows()
        g = group[r]
        keep = g >= 0
        return Pattern.from_coo(g[keep], self.indices[keep], (n_groups, self.shape[1]))

    def union(self, other):
        if other.nnz == 0:
            return self
        if self.nnz == 0:
            return other
        return Pattern.from_coo(np.concatenate([self.rows(), other.rows()]),
                                np.concatenate([self.indices, other.indices]), self.shape)

    def equals(self, other):
        return (self.shape == other.shape and np.array_equal(self.indptr, other.indptr)
                and np.array_equal(self.indices, other.indices))

    def __repr__(self):
        return f"Pattern(shape={self.shape}, nnz={self.nnz})"


def _check_size(entries):
    if entries > MAX_ENTRIES:
        raise FuncdiffValueError(
            f"sparse Jacobian: the sparsity pattern would hold more than {MAX_ENTRIES:,} "
            "entries: the Jacobian is close to dense at this size, and coloring cannot "
            "save passes on it.  Use the dense jacobian/hessian (sparse=False).")


def _stack(pats, cols):
    """The rows of several patterns one after another (same column count)."""
    if len(pats) == 1:
        return pats[0]
    rows = sum(p.shape[0] for p in pats)
    indptr = np.zeros(rows + 1, np.int64)
    np.cumsum(np.concatenate([p.row_lengths() for p in pats]), out=indptr[1:])
    return Pattern((rows, cols), indptr, np.concatenate([p.indices for p in pats]))


def _union_all(pats, rows, cols):
    pats = [p for p in pats if p is not None and p.nnz]
    if not pats:
        return Pattern.empty(rows, cols)
    out = pats[0]
    for p in pats[1:]:
        out = out.union(p)
    return out


def _differentiable(aval):
    return np.issubdtype(aval.dtype, np.inexact)


# --- the walk ------------------------------------------------------------------------

class _Walk:
    """State of one propagation: the column count, and for known values the
    constants they were computed from (by ``id``; the values are kept alive), so that
    a rule reading a known value records which constants the pattern depends on."""

    def __init__(self, cols):
        self.cols = cols
        self.read_consts = set()
        self._from = {}

    def known(self, value, sources):
        """Register a known value computed from the constants ``sources``."""
        if sources:
            self._from[id(value)] = (value, frozenset(sources))
        return value

    def sources(self, values):
        out = set()
        for v in values:
            if v is not None and id(v) in self._from:
                out |= self._from[id(v)][1]
        return out


def jaxpr_sparsity(jaxpr, in_patterns, consts=(), known_args=None):
    """Propagate ``in_patterns`` (one ``Pattern`` per invar, all with the same column
    count) through ``jaxpr``; ``consts`` are the values of its constvars (``None``:
    unknown).  Returns ``(out_patterns, read)``: one pattern per outvar, and the
    positions of the constants whose values the pattern depends on."""
    cols = in_patterns[0].shape[1] if in_patterns else 0
    walk = _Walk(cols)
    known = []
    for i, c in enumerate(consts):
        v = _as_known(c)
        known.append(None if v is None else walk.known(v, {i}))
    outs, _ = _run(walk, jaxpr, list(in_patterns), known,
                   known_args or [None] * len(jaxpr.invars))
    return outs, sorted(walk.read_consts)


def _as_known(c):
    if isinstance(c, (np.ndarray, np.generic, bool, int, float, complex)):
        return np.asarray(c)
    return None


def _run(walk, jaxpr, in_pats, const_vals, arg_vals):
    """Walk ``jaxpr``: returns the outvars' patterns and known values."""
    pat, val = {}, {}
    const_vals = list(const_vals) + [None] * (len(jaxpr.constvars) - len(const_vals))
    for v, c in zip(jaxpr.constvars, const_vals):
        pat[v] = Pattern.empty(v.aval.size, walk.cols)
        val[v] = c
    for v, p, x in zip(jaxpr.invars, in_pats, arg_vals):
        pat[v] = p if _differentiable(v.aval) else Pattern.empty(v.aval.size, walk.cols)
        val[v] = x

    def read(a):
        if type(a) is Literal:
            return Pattern.empty(a.aval.size, walk.cols), np.asarray(a.val)
        return pat[a], val.get(a)

    for eqn in jaxpr.eqns:
        got = [read(a) for a in eqn.invars]
        ins = [g[0] for g in got]
        vals = [g[1] for g in got]
        avals_in = [a.aval for a in eqn.invars]
        avals_out = [v.aval for v in eqn.outvars]
        outs_val = _fold(eqn, vals, avals_out)
        if outs_val is not None:
            src = walk.sources(vals)
            outs_val = [walk.known(x, src) for x in outs_val]
            outs = [Pattern.empty(a.size, walk.cols) for a in avals_out]
        else:
            outs_val = [None] * len(avals_out)
            if any(p.nnz for p in ins):
                rule = RULES.get(eqn.primitive.sparsity, _dense_rule)
                outs = rule(walk, eqn, ins, vals, avals_in, avals_out)
            else:      # no operand depends on the inputs
                outs = [Pattern.empty(a.size, walk.cols) for a in avals_out]
        for v, p, x in zip(eqn.outvars, outs, outs_val):
            pat[v] = p if _differentiable(v.aval) else Pattern.empty(v.aval.size, walk.cols)
            if x is not None:
                val[v] = x
    res = [read(a) for a in jaxpr.outvars]
    return [r[0] for r in res], [r[1] for r in res]


def _fold(eqn, vals, avals_out):
    """The outputs' values when every operand is known (a first-order primitive on
    small values), else None."""
    prim = eqn.primitive
    if (prim.impl is None or prim.effectful or not prim.cacheable
            or prim.called_jaxpr is not None
            or prim.sparsity in ("scan", "while", "cond", "call")
            or any(v is None for v in vals)
            or sum(a.size for a in avals_out) > _KNOWN_LIMIT):
        return None
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = prim.impl(*vals, **eqn.params)
    except Exception:  # noqa: BLE001 - not foldable: the pattern is found without it
        return None
    outs = list(out) if prim.multiple_results else [out]
    return [np.asarray(o) for o in outs]


def _mark_read(walk, vals):
    """A rule's result depends on these known values."""
    walk.read_consts |= walk.sources(vals)


# --- rules: (walk, eqn, in_patterns, known values, avals_in, avals_out) -> patterns ----

def _dense_rule(walk, eqn, ins, vals, avals_in, avals_out):
    """Unknown primitive: every output element depends on every operand element."""
    row = _union_all([p.group_rows(np.zeros(p.shape[0], np.int64), 1) for p in ins],
                     1, walk.cols)
    return [row.take_rows(np.zeros(a.size, np.int64)) for a in avals_out]


def _zero_rule(walk, eqn, ins, vals, avals_in, avals_out):
    return [Pattern.empty(a.size, walk.cols) for a in avals_out]


def _broadcast_src(shape, out_shape):
    """For each element of ``out_shape``, the element of a ``shape`` operand that NumPy
    broadcasting reads."""
    ids = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    return np.broadcast_to(ids, out_shape).ravel()


def _elementwise_rule(walk, eqn, ins, vals, avals_in, avals_out):
    out_shape = avals_out[0].shape
    parts = []
    for p, a in zip(ins, avals_in):
        if p.nnz == 0:
            continue
        parts.append(p if a.shape == out_shape else p.take_rows(_broadcast_src(a.shape,
                                                                               out_shape)))
    return [_union_all(parts, avals_out[0].size, walk.cols)] * len(avals_out)


def _copy_rule(walk, eqn, ins, vals, avals_in, avals_out):
    """Run ``impl`` on element ids: operand ``k``'s elements are numbered after those of
    operands ``0..k-1`` (from 1; 0 and negatives mean "a constant"), operands of
    integer dtype (indices) keep their known values.  Each output element then holds
    the id of the element it copies."""
    args, pats, offset = [], [], 1
    for p, a, v in zip(ins, avals_in, vals):
        if _differentiable(a):
            args.append(offset + np.arange(a.size, dtype=np.int64).reshape(a.shape))
            pats.append(p)
            offset += a.size
        elif v is not None:
            args.append(v)
            _mark_read(walk, [v])
        else:
            return _dense_rule(walk, eqn, ins, vals, avals_in, avals_out)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eqn.primitive.impl(*args, **eqn.params)
    except Exception:  # noqa: BLE001 - the impl wants other operands (or the indices
        # are out of bounds, which the run will report): be conservative
        return _dense_rule(walk, eqn, ins, vals, avals_in, avals_out)
    outs = list(out) if eqn.primitive.multiple_results else [out]
    allp = _stack([Pattern.empty(1, walk.cols)] + pats, walk.cols)   # row 0: "constant"
    res = []
    for o, a in zip(outs, avals_out):
        ids = np.asarray(o).ravel()
        if ids.size != a.size or not np.issubdtype(ids.dtype, np.integer):
            return _dense_rule(walk, eqn, ins, vals, avals_in, avals_out)
        ids = np.where((ids > 0) & (ids < offset), ids, 0)
        res.append(allp.take_rows(ids))
    return res


def _gather_rule(walk, eqn, ins, vals, avals_in, avals_out):
    if all(v is not None for v, a in zip(vals, avals_in) if not _differentiable(a)):
        return _copy_rule(walk, eqn, ins, vals, avals_in, avals_out)
    return _dense_rule(walk, eqn, ins, vals, avals_in, avals_out)   # dynamic indexing


def _scatter_rule(walk, eqn, ins, vals, avals_in, avals_out, overwrite=True):
    """``scatter`` (overwrite) on known indices is a copy; accumulating scatters
    (``scatter_add``, ``_mul``, ``_min``, ``_max``) add the operand element to it.
    Where indices repeat the copy sees only the last update, so positions written
    more than once (counted by ``np.add.at`` on ones) take every update; with unknown
    indices every output element depends on every update and its operand element."""
    x_a, u_a = avals_in[0], avals_in[-1]
    x_pat, u_pat = ins[0], ins[-1]
    idx = vals[1:-1]
    if any(v is None for v in idx):
        every = u_pat.group_rows(np.zeros(u_a.size, np.int64), 1)
        return [every.take_rows(np.zeros(x_a.size, np.int64)).union(x_pat)]
    _mark_read(walk, idx)
    index = build_index(eqn.params["indexer"], idx)
    where = np.zeros(x_a.shape, np.int64)      # the (last) update landing there, from 1
    counts = np.zeros(x_a.shape, np.int64)     # how many updates land there
    try:
        where[index] = 1 + np.arange(u_a.size, dtype=np.int64).reshape(u_a.shape)
        np.add.at(counts, index, np.ones(u_a.shape, np.int64))
    except IndexError:      # out of bounds: the run reports it; be conservative here
        return _scatter_rule(walk, eqn, ins, [None] * len(vals), avals_in, avals_out)
    where, counts = where.ravel(), counts.ravel()
    out = _stack([Pattern.empty(1, walk.cols), u_pat], walk.cols).take_rows(where)
    multi = counts > 1
    if multi.any():
        every = u_pat.group_rows(np.zeros(u_a.size, np.int64), 1)
        out = out.union(every.take_rows(np.where(multi, 0, -1)))
    if overwrite:     # an overwritten position forgets x
        x_pat = x_pat.take_rows(np.where(counts == 0, np.arange(x_a.size), -1))
    return [out.union(x_pat)]


def _reduce_rule(walk, eqn, ins, vals, avals_in, avals_out):
    (p,), (a,) = ins, avals_in
    axes = eqn.params["axes"]
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    axes = tuple(ax % max(a.ndim, 1) for ax in axes) if a.ndim else ()
    keep = [d for d in range(a.ndim) if d not in axes]
    kept_shape = tuple(a.shape[d] for d in keep)
    ids = np.arange(int(np.prod(kept_shape, dtype=np.int64)), dtype=np.int64).reshape(
        kept_shape)
    full = tuple(a.shape[d] if d in keep else 1 for d in range(a.ndim))
    group = np.broadcast_to(ids.reshape(full), a.shape).ravel()
    return [p.group_rows(group, ids.size)]


def _cumulative_rule(walk, eqn, ins, vals, avals_in, avals_out):
    (p,), (a,) = ins, avals_in
    if a.ndim == 0:
        return [p]
    axis = eqn.params["axis"] % a.ndim
    n = a.shape[axis]
    ids = np.moveaxis(np.arange(a.size, dtype=np.int64).reshape(a.shape), axis, -1)
    ids = ids.reshape(-1, n)                         # lines along the axis
    o, i = np.tril_indices(n)                         # out o reads in i <= o
    if eqn.params.get("reverse"):
        o, i = n - 1 - o, n - 1 - i
    out_rows = ids[:, o].ravel()
    in_rows = ids[:, i].ravel()
    return [_coo_apply(p, out_rows, in_rows, a.size)]


def _coo_apply(p, out_rows, in_rows, n_out):
    """Row ``o`` of the result: the union of rows ``i`` of ``p`` over the pairs
    ``(out_rows[k], in_rows[k])`` with ``o == out_rows[k]``."""
    taken = p.take_rows(in_rows)
    return taken.group_rows(out_rows, n_out)


def _contract_rule(walk, eqn, ins, vals, avals_in, avals_out):
    """``dot_general``: out[b, i, j] = sum_k lhs[b, i, k] rhs[b, k, j]."""
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    la, ra = avals_in
    lf = [d for d in range(la.ndim) if d not in lc and d not in lb]
    rf = [d for d in range(ra.ndim) if d not in rc and d not in rb]
    sz = lambda a, ds: int(np.prod([a.shape[d] for d in ds], dtype=np.int64))  # noqa: E731
    B, I, J, K = sz(la, lb), sz(la, lf), sz(ra, rf), sz(la, lc)
    # element ids of each operand laid out as (B, I, K) and (B, K, J)
    lid = np.transpose(np.arange(la.size, dtype=np.int64).reshape(la.shape),
                       list(lb) + lf + list(lc)).reshape(B, I, K)
    rid = np.transpose(np.arange(ra.size, dtype=np.int64).reshape(ra.shape),
                       list(rb) + list(rc) + rf).reshape(B, K, J)
    oid = np.arange(B * I * J, dtype=np.int64).reshape(B, I, J)
    lv, rv = vals
    parts = []
    if ins[0].nnz:
        if rv is not None:       # a known rhs: only its nonzeros connect lhs to out
            _mark_read(walk, [rv])
            rmask = np.transpose(np.asarray(rv), list(rb) + list(rc) + rf).reshape(
                B, K, J) != 0
            b, k, j = np.nonzero(rmask)
            o = oid[b, :, j]                   # (nnz, I)
            i_ = lid[b, :, k]
            parts.append(_coo_apply(ins[0], o.ravel(), i_.ravel(), B * I * J))
        else:                    # unknown rhs: out[b, i, :] reads all of lhs[b, i, :]
            grp = np.broadcast_to(np.arange(B * I).reshape(B, I, 1), (B, I, K))
            g = np.empty(la.size, np.int64)
            g[lid.ravel()] = grp.ravel()
            rows = ins[0].group_rows(g, B * I)
            parts.append(rows.take_rows(np.broadcast_to(
                np.arange(B * I).reshape(B, I, 1), (B, I, J)).ravel()))
    if ins[1].nnz:
        if lv is not None:
            _mark_read(walk, [lv])
            lmask = np.transpose(np.asarray(lv), list(lb) + lf + list(lc)).reshape(
                B, I, K) != 0
            b, i_, k = np.nonzero(lmask)
            o = oid[b, i_, :]                  # (nnz, J)
            r_ = rid[b, k, :]
            parts.append(_coo_apply(ins[1], o.ravel(), r_.ravel(), B * I * J))
        else:
            grp = np.broadcast_to(np.arange(B * J).reshape(B, 1, J), (B, K, J))
            g = np.empty(ra.size, np.int64)
            g[rid.ravel()] = grp.ravel()
            rows = ins[1].group_rows(g, B * J)
            parts.append(rows.take_rows(np.broadcast_to(
                np.arange(B * J).reshape(B, 1, J), (B, I, J)).ravel()))
    return [_union_all(parts, B * I * J, walk.cols)]


# --- higher-order primitives ---------------------------------------------------------

def _call_rule(walk, eqn, ins, vals, avals_in, avals_out):
    jaxpr, consts, args = eqn.primitive.called_jaxpr(eqn.params, list(zip(ins, vals)))
    outs, _ = _run(walk, jaxpr, [a[0] for a in args], list(consts) or
                   [None] * len(jaxpr.constvars), [a[1] for a in args])
    return outs


def _cond_rule(walk, eqn, ins, vals, avals_in, avals_out):
    branches = eqn.params["branches"]
    if vals[0] is not None:
        _mark_read(walk, vals[:1])
        k = int(np.clip(np.asarray(vals[0]).astype(np.int64), 0, len(branches) - 1))
        branches = branches[k:k + 1]
    per = [_run(walk, br, ins[1:], [None] * len(br.constvars), vals[1:])[0]
           for br in branches]
    return [_union_all(list(ps), a.size, walk.cols) for ps, a in zip(zip(*per), avals_out)]


def _fixed_point(step, carry, others):
    """Iterate ``carry <- carry | step(carry)`` until nothing changes (monotone on a
    finite lattice, so it stops).  A loop that spreads dependence slowly (a stencil)
    would take as many rounds as the array is long: after ``_ROUNDS`` rounds every carry
    element is given the union of all the loop's inputs (``carry`` and ``others``, the
    loop-invariant operands), which no step can leave."""
    for _ in range(_ROUNDS):
        new = [c.union(s) for c, s in zip(carry, step(carry))]
        if all(n.equals(c) for n, c in zip(new, carry)):
            return carry
        carry = new
    every = _union_all([p.group_rows(np.zeros(p.shape[0], np.int64), 1)
                        for p in list(carry) + list(others)], 1, carry[0].shape[1])
    return [every.take_rows(np.zeros(c.shape[0], np.int64)) for c in carry]


def _scan_rule(walk, eqn, ins, vals, avals_in, avals_out):
    p = eqn.params
    body, length, nc, nk = p["jaxpr"], p["length"], p["num_consts"], p["num_carry"]
    consts, carry, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    cvals = vals[:nc]
    x_avals = avals_in[nc + nk:]
    y_avals = avals_out[nk:]
    slice_sizes = [a.size // length if length else 0 for a in x_avals]
    none_x = [None] * len(xs)
    if length == 0:
        return list(carry) + [Pattern.empty(a.size, walk.cols) for a in y_avals]
    if length <= _UNROLL_LIMIT:
        ys = [[] for _ in y_avals]
        order = range(length - 1, -1, -1) if p["reverse"] else range(length)
        for t in order:
            x_t = [x.take_rows(t * s + np.arange(s)) for x, s in zip(xs, slice_sizes)]
            outs, _ = _run(walk, body, list(consts) + carry + x_t, [],
                           list(cvals) + [None] * nk + none_x)
            carry = outs[:nk]
            for acc, y in zip(ys, outs[nk:]):
                acc.append((t, y))
        ys_out = []
        for acc, a in zip(ys, y_avals):
            acc.sort(key=lambda ty: ty[0])
            ys_out.append(_stack([y for _, y in acc], walk.cols))
        return list(carry) + ys_out
    # long scans: every iteration sees the union over t of its x slice
    x_any = [x.group_rows(np.tile(np.arange(s), length), s) for x, s in
             zip(xs, slice_sizes)]

    def step(c):
        return _run(walk, body, list(consts) + c + x_any, [],
                    list(cvals) + [None] * nk + none_x)[0][:nk]
    carry = _fixed_point(step, list(carry), list(consts) + x_any)
    outs, _ = _run(walk, body, list(consts) + carry + x_any, [],
                   list(cvals) + [None] * nk + none_x)
    ys_out = [y.take_rows(np.tile(np.arange(y.shape[0]), length)) for y in outs[nk:]]
    return carry + ys_out


def _while_rule(walk, eqn, ins, vals, avals_in, avals_out):
    p = eqn.params
    body, nb, ncc = p["body_jaxpr"], p["body_nconsts"], p["cond_nconsts"]
    bconsts = ins[ncc:ncc + nb]
    bvals = vals[ncc:ncc + nb]
    init = ins[ncc + nb:]

    def step(c):
        return _run(walk, body, list(bconsts) + c, [], list(bvals) + [None] * len(c))[0]
    return _fixed_point(step, list(init), bconsts)


RULES = {
    "elementwise": _elementwise_rule,
    "zero": _zero_rule,
    "copy": _copy_rule,
    "gather": _gather_rule,
    "scatter": _scatter_rule,
    "scatter_accumulate": functools.partial(_scatter_rule, overwrite=False),
    "reduce": _reduce_rule,
    "cumulative": _cumulative_rule,
    "contract": _contract_rule,
    "call": _call_rule,
    "cond": _cond_rule,
    "scan": _scan_rule,
    "while": _while_rule,
    None: _dense_rule,
}
