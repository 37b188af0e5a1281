"""A branch-free binary search on sorted 1-d values (traced or not): the interval
lookups of ``interpolate.RegularGridInterpolator`` and ``spatial.transform.Slerp``."""
from __future__ import annotations

import math

import numpy as np

from .. import numpy as fnp
from ..numpy._core import aval


def count_sorted(grid, x, side="right"):
    """How many entries of the sorted 1-d ``grid`` are ``<= x`` (``side='right'``) or
    ``< x`` (``'left'``), elementwise: ``numpy.searchsorted(grid, x, side)``, as
    ``ceil(log2(n + 1))`` vectorized halving steps (gathers and selects; integer
    results, no derivative)."""
    grid = fnp.asarray(grid)          # (a NumPy grid indexed by traced positions)
    n = aval(grid).shape[0]
    lo = fnp.zeros(aval(x).shape, np.intp)
    hi = fnp.full(aval(x).shape, n, np.intp)
    for _ in range(max(1, math.ceil(math.log2(n + 1)))):
        active = lo < hi
        mid = (lo + hi) // 2
        g = grid[fnp.minimum(mid, n - 1)]
        go_right = (g <= x) if side == "right" else (g < x)
        lo = fnp.where(active & go_right, mid + 1, lo)
        hi = fnp.where(active & ~go_right, mid, hi)
    return lo


def interval(grid, x, side="right"):
    """The interval index ``i`` of ``x`` in ``grid`` (``grid[i] <= x < grid[i + 1]``
    for ``side='right'``, ``grid[i] < x <= grid[i + 1]`` for ``'left'``), clipped to
    ``[0, len(grid) - 2]``."""
    n = aval(fnp.asarray(grid)).shape[0]
    return fnp.clip(count_sorted(grid, x, side) - 1, 0, max(n - 2, 0))
