"""``funcdiff.lax``: structured control flow that traces, compiles and differentiates.

``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan`` (and ``map``) take Python
functions on pytrees.  Each function is traced once, abstractly, into a jaxpr held by one
primitive (see ``funcdiff/higher_order/``), so:

* outside ``jit`` they run at once, eagerly (the loop runs compiled NumPy code);
* under ``jit`` they compile into the generated program, whatever the trip count;
* under ``grad``/``jvp``/``vjp`` they differentiate, ``while_loop`` in reverse mode too.

Loop carries keep their type: a carry that starts as a Python scalar (weakly typed) takes
the dtype the body gives it; any other change of shape or dtype is a ``TypeError`` naming
the leaf and both types.
"""
from __future__ import annotations

from ..api.custom_derivatives import stop_gradient
from ._control import cond, fori_loop, map, scan, switch, while_loop  # noqa: A004
from ._slicing import (dynamic_index_in_dim, dynamic_slice, dynamic_slice_in_dim,
                       dynamic_update_slice, select)
from ._solves import custom_linear_solve, custom_root

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "stop_gradient",
           "custom_root", "custom_linear_solve", "select", "dynamic_slice",
           "dynamic_slice_in_dim", "dynamic_update_slice", "dynamic_index_in_dim"]


def __dir__():
    return sorted(__all__)   # dir() shows the public names only
