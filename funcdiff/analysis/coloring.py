"""Coloring a sparsity pattern, so that one Jacobian-vector product per color gives
every entry (Curtis, Powell and Reid; Gebremedhin, Manne and Pothen, "What color is
your Jacobian?", SIAM Review 2005).

* ``color_columns(P)``: greedy distance-1 coloring of the column intersection graph:
  two columns sharing a row get different colors, so the product of the Jacobian with
  the sum of one color's unit vectors holds each of their entries alone in its row.
  ``color_rows(P)`` colors rows the same way, for vector-Jacobian products.
* ``star_coloring(P)``: for a symmetric pattern (a Hessian), a distance-1 coloring of
  the adjacency graph in which every path on four vertices has at least three colors.
  It needs fewer colors than coloring the columns, and each entry ``H[i, j]`` is read
  directly from ``H @ S`` at row ``i`` or, by symmetry, at row ``j``
  (``recovery_index``).  ``hessian_coloring(P)`` is it, or the column coloring when
  that needs no more colors (valid for direct recovery as well).

Greedy colorings visit the columns in natural order and in largest-first order and keep
the one with fewer colors (natural order is optimal for banded patterns).  Both are
pure Python over CSR arrays, O(sum of squared row lengths) (O(sum of cubed degrees) for
the star coloring); patterns too dense for a budget of a few million steps get one
color per column, which is what a dense evaluation costs anyway.
"""
from __future__ import annotations

import numpy as np

from .sparsity import Pattern

__all__ = ["color_columns", "color_rows", "star_coloring", "hessian_coloring",
           "recovery_index", "symmetrize"]

_WORK_LIMIT = 3_000_000      # inner-loop steps allowed per greedy pass (~1 s)


def _trivial(n):
    return np.arange(n, dtype=np.int64)


def _greedy(P: Pattern, order):
    """Distance-1 coloring of the column intersection graph of ``P`` visiting columns
    in ``order``."""
    n = P.shape[1]
    T = P.transpose()
    col_ptr, col_rows = T.indptr.tolist(), T.indices.tolist()
    row_ptr, row_cols = P.indptr.tolist(), P.indices.tolist()
    colors = [-1] * n
    forbidden = [-1] * (n + 1)
    for j in order:
        for t in range(col_ptr[j], col_ptr[j + 1]):
            r = col_rows[t]
            for s in range(row_ptr[r], row_ptr[r + 1]):
                c = colors[row_cols[s]]
                if c >= 0:
                    forbidden[c] = j
        c = 0
        while forbidden[c] == j:
            c += 1
        colors[j] = c
    return np.asarray(colors, np.int64)


def color_columns(P: Pattern):
    """Colors of the columns of ``P`` (an int array): no two columns of one color
    have an entry in the same row.  The number of colors is ``colors.max() + 1``."""
    n = P.shape[1]
    if n == 0:
        return np.zeros(0, np.int64)
    lens = P.row_lengths()
    if int(np.sum(lens * lens)) > _WORK_LIMIT or int(lens.max(initial=0)) == n:
        return _trivial(n)        # (a full row needs n colors anyway)
    col_counts = np.bincount(P.indices, minlength=n)
    best = None
    for order in (range(n), np.argsort(-col_counts, kind="stable").tolist()):
        colors = _greedy(P, order)
        if best is None or colors.max() < best.max():
            best = colors
    return best


def color_rows(P: Pattern):
    """Colors of the rows of ``P``: no two rows of one color share a column."""
    return color_columns(P.transpose())


def symmetrize(P: Pattern) -> Pattern:
    """``P`` or its transpose (a square pattern)."""
    return P.union(P.transpose())


def hessian_coloring(P: Pattern):
    """The coloring for a symmetric pattern's direct recovery (``recovery_index``): a
    star coloring, or the column coloring when that needs no more colors or the
    pattern is too dense for the star coloring's budget (a column coloring is valid for
    direct recovery too, without using symmetry)."""
    cols = color_columns(P)
    star = star_coloring(P)
    if star is None or (cols.size and star.max() >= cols.max()):
        return cols
    return star


def star_coloring(P: Pattern):
    """A star coloring of the adjacency graph of the symmetric pattern ``P`` (square;
    the diagonal is ignored): adjacent vertices differ, and every path on four vertices
    has three colors or more (after Gebremedhin, Manne and Pothen 2005).  None when the
    pattern is too dense for the budget."""
    n = P.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    rows = P.rows()
    off = rows != P.indices
    A = Pattern.from_coo(rows[off], P.indices[off], (n, n))
    deg = A.row_lengths()
    t = np.bincount(A.rows(), weights=deg[A.indices], minlength=n)
    work = float(np.bincount(A.rows(), weights=t[A.indices], minlength=n).sum())
    if work > _WORK_LIMIT:
        return None
    ptr, adj = A.indptr.tolist(), A.indices.tolist()
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    for v in range(n):
        for a in range(ptr[v], ptr[v + 1]):
            w = adj[a]
            cw = color[w]
            if cw >= 0:
                forbidden[cw] = v
            for b in range(ptr[w], ptr[w + 1]):
                x = adj[b]
                cx = color[x]
                if x == v or cx < 0:
                    continue
                if cw < 0:
                    forbidden[cx] = v            # keep v's future neighbors apart
                    continue
                # coloring v with cx would make v-w-x-y two-colored if x has a
                # neighbor y != w colored cw
                for d in range(ptr[x], ptr[x + 1]):
                    y = adj[d]
                    if y != w and color[y] == cw:
                        forbidden[cx] = v
                        break
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return np.asarray(color, np.int64)


def recovery_index(P: Pattern, colors):
    """For each entry ``(i, j)`` of the square symmetric pattern ``P`` (CSR order),
    where to read it in ``B = H @ S`` (``S[k, colors[k]] = 1``): ``(row, color)``
    with ``H[i, j] = B[row, color]``.  Row ``i`` at ``colors[j]`` when ``j`` is the
    only column of its color in row ``i``; else row ``j`` at ``colors[i]`` (symmetry);
    a star coloring makes one of the two hold for every entry."""
    n = P.shape[0]
    rows, cols = P.rows(), P.indices
    n_colors = int(colors.max()) + 1 if n else 0
    # how many columns of each color every row has
    count = np.bincount(rows * n_colors + colors[cols], minlength=n * n_colors)
    direct = count[rows * n_colors + colors[cols]] == 1
    mirror = count[cols * n_colors + colors[rows]] == 1
    if not np.all(direct | mirror):       # not a star coloring of P: a bug here
        raise AssertionError("recovery_index: the coloring is not a star coloring")
    out_row = np.where(direct, rows, cols)
    out_color = np.where(direct, colors[cols], colors[rows])
    return out_row, out_color
